"""What is specific to gokart: its workspace of pickles named by unique ids, its failure
report, what a new parameter does to the ids, a crash right after a step's compute and one
inside gokart's own dump, and its tree printer. The contract every tool keeps is
tests/conformance. Every run is checked for survivors and for writes into HOME.
"""
from __future__ import annotations

import re
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from core import FORMATS, layout, stage
from core.params import Params
from impl_gokart.adapter import ADAPTER
from tests.helpers import runner

STEPS = list(runner.STEPS)
TASKS = ("Load", "Preprocess", "Train", "Predict", "Evaluate")
STEP_PICKLES = {"load": ("train_raw", "test_raw"),
                "preprocess": ("train_features", "test_features"),
                "train": ("model",), "predict": ("predictions",), "evaluate": ("metrics",)}
# What gokart writes for every task it runs, beside the task's own output.
TASK_LOGS = {"task_log": "pkl", "task_params": "pkl", "random_seed": "pkl",
             "processing_time": "pkl", "module_versions": "txt"}
UNIQUE_ID = re.compile(r"_[0-9a-f]{32}\b")
LUIGI_LOCK_DIR = Path(tempfile.gettempdir()) / "luigi"
REPO_WORKSPACE = runner.REPO / "resources"  # gokart's default workspace, relative to the cwd

# The command with gokart's pickle writer cut halfway through the first preprocess output and
# the process group killed there: a crash inside gokart's own dump. BENCH_CRASH_AT cannot
# reach it, since it fires right after the compute, before gokart writes anything.
KILL_MID_DUMP = """
import sys
from gokart.file_processor.base import PickleFileProcessor
from core import instrument
from impl_gokart.__main__ import main

write = PickleFileProcessor._write

def write_half_then_die(buffer, file):
    if "/train_features_" in file.path:
        file.write(buffer[: len(buffer) // 2])
        file.flush()
        instrument.crash_now()
    write(buffer, file)

PickleFileProcessor._write = staticmethod(write_half_then_die)
sys.exit(main(sys.argv[1:]))
"""

# The graph built from a staged workdir whose data then disappears before gokart runs.
BUILD_WITHOUT_DATA = """
import sys
from pathlib import Path
from core import layout, stage
from core.params import Params
from impl_gokart import pipeline
from impl_gokart.launch import build

workdir = Path(sys.argv[1])
stage.stage(workdir, Params())
root = pipeline.titanic(workdir)
(workdir / layout.DATA).unlink()
sys.exit(build(root))
"""


def run(wd: Path, *, fmt="parquet", scale=1, data=None, **inject) -> runner.Result:
    argv = ADAPTER.command(wd, "local", fmt=fmt, scale=scale, data=data, service_url=None)
    return run_argv(argv, wd, **inject)


def run_argv(argv, wd: Path, **inject) -> runner.Result:
    env = runner.base_env(wd)
    env.update(ADAPTER.environment(wd, "local", service_url=None))
    result = runner.run(argv, wd, env=env, **inject)
    assert result.survivors == [], result.survivors
    assert list(runner.home_of(wd).iterdir()) == [], "the run wrote into HOME"
    return result


def pickles(wd: Path) -> list[str]:
    """gokart's outputs, unique ids included (not the temporary files of a killed dump)."""
    return sorted(f for f in runner.files_in(wd)
                  if f.startswith("resources/titanic/") and f.endswith(".pkl"))


def pickles_of(wd: Path, step: str) -> list[str]:
    return [f for f in pickles(wd) if UNIQUE_ID.sub("", Path(f).stem) in STEP_PICKLES[step]]


def temp_files(wd: Path) -> list[str]:
    return sorted(f for f in runner.files_in(wd) if "-luigi-tmp-" in f)


def lock_files() -> set[str]:
    return {p.name for p in LUIGI_LOCK_DIR.iterdir()} if LUIGI_LOCK_DIR.is_dir() else set()


def expected_files() -> set[str]:
    """A complete workdir, unique ids written as <id>."""
    outputs = {f"resources/titanic/{name}_<id>.pkl" for names in STEP_PICKLES.values()
               for name in names}
    logs = {f"resources/log/{kind}/{task}_<id>.{ext}" for kind, ext in TASK_LOGS.items()
            for task in TASKS}
    return {layout.DATA, layout.PARAMS, layout.PREDICTIONS, layout.METRICS} | outputs | logs


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """One complete run per format, made on first use and shared by the tests that only read
    it (or copy it before changing it)."""
    done: dict[str, tuple[Path, runner.Result, set[str], bool]] = {}

    def get(fmt: str):
        if fmt not in done:
            wd = tmp_path_factory.mktemp(f"gokart-{fmt}") / "wd"
            locks_before, workspace_before = lock_files(), REPO_WORKSPACE.exists()
            result = runner.ok(run(wd, fmt=fmt))
            done[fmt] = (wd, result, lock_files() - locks_before,
                         REPO_WORKSPACE.exists() and not workspace_before)
        return done[fmt]
    return get


def copy_of_clean_run(clean_run, tmp_path) -> Path:
    wd = tmp_path / "wd"
    shutil.copytree(clean_run("parquet")[0], wd)
    return wd


# -- the workspace ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_nothing_is_written_outside_the_workdir(clean_run, fmt):
    wd, _, new_locks, workspace_in_cwd = clean_run(fmt)
    assert {UNIQUE_ID.sub("_<id>", f) for f in runner.files_in(wd)} == expected_files()
    assert new_locks == set()  # no pid lock in /tmp/luigi
    assert not workspace_in_cwd  # no ./resources in the directory the command ran from


def test_format_is_recorded_but_the_hand_off_stays_gokarts_pickles(clean_run):
    """--format lands in params.yaml, and no file in that format appears: every hand-off is a
    gokart pickle (FORMAT_MODES is empty)."""
    for fmt in FORMATS:
        wd = clean_run(fmt)[0]
        assert f"format: {fmt}" in (wd / layout.PARAMS).read_text()
        assert all(f.endswith(".pkl") for f in pickles(wd))
        assert not (wd / "interim").exists()
    assert not any(m.files for m in ADAPTER.modes)


# -- resume after an exception -------------------------------------------------------------

@pytest.mark.parametrize("step", ["preprocess"])
def test_rerun_after_failure_runs_the_failed_step_and_after(tmp_path, baseline_outputs, step):
    wd = tmp_path / "wd"
    before = STEPS[:STEPS.index(step)]
    failed = run(wd, fail_at=step)
    assert failed.rc == 1, failed.stderr
    task = TASKS[STEPS.index(step)]
    # One short block: the failed task with its error, then luigi's execution summary.
    lines = failed.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: gokart task {task}[") and "InjectedFailure" in lines[0]
    assert "This progress looks :( because there were failed tasks" in failed.stderr
    assert "Traceback" not in failed.stderr and len(lines) < 25, failed.stderr
    assert failed.steps == before
    assert pickles_of(wd, step) == [] and temp_files(wd) == []

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[STEPS.index(step):]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_a_missing_staged_input_fails_although_gokart_build_does_not_raise(tmp_path):
    """luigi reports a missing external input as pending, not failed, and gokart.build then
    returns normally: the command checks that the root completed."""
    wd = tmp_path / "wd"
    result = run_argv([runner.PY, "-c", BUILD_WITHOUT_DATA, str(wd)], wd)
    assert result.rc == 1 and result.steps == []
    assert result.stderr.startswith("error: gokart did not complete Evaluate[")
    assert "StagedData[" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_noop_rerun_executes_no_step(clean_run, tmp_path, baseline_outputs):
    wd = copy_of_clean_run(clean_run, tmp_path)
    mtimes = {f: (wd / f).stat().st_mtime_ns for f in runner.files_in(wd)}
    rerun = runner.ok(run(wd))
    assert rerun.steps == [] and rerun.spans == []
    assert {f: (wd / f).stat().st_mtime_ns for f in runner.files_in(wd)} == mtimes
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_changed_parameters_give_new_unique_ids_and_keep_the_old_pickles(
        clean_run, tmp_path, baseline_outputs):
    """params.yaml's hash is in every unique id: a new format reruns every task, although
    gokart's hand-off does not depend on it; the old pickles stay, and switching back reuses
    them."""
    wd = copy_of_clean_run(clean_run, tmp_path)
    parquet_pickles = pickles(wd)
    assert runner.ok(run(wd, fmt="csv")).steps == STEPS
    assert runner.predictions_sha(wd) == baseline_outputs["csv"][0]
    assert len(pickles(wd)) == 2 * len(parquet_pickles)
    assert set(parquet_pickles) < set(pickles(wd))
    assert runner.ok(run(wd, fmt="parquet")).steps == []


def test_switching_back_to_earlier_parameters_leaves_the_deliverables_of_the_last_run(
        clean_run, tmp_path, baseline_outputs):
    """A finding, recorded as the tool behaves: out/predictions.csv and out/metrics.json are
    written by the predict and evaluate steps, not gokart outputs. Back at scale 1 gokart finds
    every pickle of that earlier run, executes nothing, and out/ still holds the scale-2
    predictions although params.yaml says scale 1."""
    wd = copy_of_clean_run(clean_run, tmp_path)
    assert runner.ok(run(wd, scale=2)).steps == STEPS
    scale_2 = runner.predictions_sha(wd)
    assert scale_2 != baseline_outputs["parquet"][0]  # scale changes the forest's bootstrap
    back = runner.ok(run(wd, scale=1))
    assert back.steps == []
    assert "scale: 1" in (wd / layout.PARAMS).read_text()
    assert runner.predictions_sha(wd) == scale_2 != baseline_outputs["parquet"][0]


# -- hard crash -----------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["load", "predict"])
def test_crash_after_a_steps_compute_leaves_no_output_and_the_rerun_recovers(
        tmp_path, baseline_outputs, step):
    """gokart, not core, writes each step's output, so BENCH_CRASH_AT kills the run right
    after the compute (predict and evaluate: halfway through writing their deliverable),
    before gokart dumped anything: the task has no pickle, and the plain rerun redoes it."""
    wd = tmp_path / "wd"
    at = STEPS.index(step)
    crashed = run(wd, crash_at=step)
    assert crashed.rc == -signal.SIGKILL
    assert crashed.steps == STEPS[:at + 1]
    assert pickles_of(wd, step) == [] and temp_files(wd) == []
    assert all(pickles_of(wd, done) for done in STEPS[:at])

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[at:]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert ADAPTER.recovery_commands(wd, "local", fmt="parquet", scale=1, data=None,
                                     service_url=None) == []


def test_crash_midway_through_gokarts_dump_leaves_a_temp_file_that_gokart_ignores(
        tmp_path, baseline_outputs):
    """Killed halfway through pickling preprocess's first output: gokart dumps through luigi's
    atomic LocalTarget, so the half-written bytes sit under a *-luigi-tmp-* name, never under
    the output's name that complete() checks, and the rerun redoes preprocess."""
    wd = tmp_path / "wd"
    crashed = run_argv([runner.PY, "-c", KILL_MID_DUMP, "--workdir", str(wd)], wd)
    assert crashed.rc == -signal.SIGKILL, crashed.stderr
    assert crashed.steps == ["load", "preprocess"]
    assert pickles_of(wd, "preprocess") == []
    leftovers = temp_files(wd)
    assert len(leftovers) == 1 and "/train_features_" in leftovers[0]
    partial_bytes = (wd / leftovers[0]).stat().st_size

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[1:]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    # Nothing cleans up after a killed dump. The temp name comes from luigi's random.randrange,
    # and gokart seeds `random` per task, so the rerun may draw the very same name: then its
    # atomic write reuses and renames the leftover. Otherwise the leftover stays until a user
    # removes it. Either way no other temp file may remain.
    assert temp_files(wd) in ([], leftovers)
    train_features = next(f for f in pickles_of(wd, "preprocess") if "/train_features_" in f)
    assert leftovers[0].startswith(train_features + "-luigi-tmp-")
    assert 0 < partial_bytes < (wd / train_features).stat().st_size


# -- the DAG as gokart prints it --------------------------------------------------------------

def test_dag_command_prints_gokarts_tree_with_completion(clean_run, tmp_path):
    staged = tmp_path / "staged"
    stage.stage(staged, Params())
    complete = clean_run("parquet")[0]
    for wd, state in ((staged, "PENDING"), (complete, "COMPLETE")):
        tree = runner.ok(run_argv(ADAPTER.dag_command(wd, "local"), wd)).stdout
        for task in TASKS:
            assert re.search(rf"\({state}\) {task}\[[0-9a-f]{{32}}\]", tree), tree
        for staged_input in ("StagedData", "StagedParams"):
            assert f"(COMPLETE) {staged_input}[" in tree
        assert str(wd) not in tree
    # The ids in the tree are the ones naming the pickles.
    model_id = re.search(r"Train\[([0-9a-f]{32})\]", tree).group(1)
    assert f"resources/titanic/model_{model_id}.pkl" in pickles(complete)


@pytest.mark.parametrize("extra,expected", [
    (["--format", "feather"], "invalid choice"),
    (["--scale", "0"], "--scale"),
])
def test_bad_options_get_one_line_and_nonzero_exit(tmp_path, extra, expected):
    wd = tmp_path / "wd"
    result = run_argv([runner.PY, "-m", "impl_gokart", "--workdir", str(wd), *extra], wd)
    assert result.rc != 0 and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not wd.exists()
