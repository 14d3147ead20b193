"""What is specific to gokart: its workspace of outputs named by unique ids, its failure
report, what a new setting or new data does to the ids, a crash right after a step's compute
and one inside gokart's own dump, its tree printer, what it reruns after each change the rerun
scenario makes (with and without serialized_task_definition_check), and a central luigid.
The contract every tool keeps is tests/conformance. Every run is checked for survivors and
for writes into HOME.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import signal
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.engine.services import Server
from bench.engine.session import execute
from bench.engine.workspace import Workspace, staged_settings
from bench.scenarios.catalog import SCENARIOS
from core import FORMATS, layout, stage
from core.contract import LAPTOP, TEAM
from core.params import Params
from impl_gokart.adapter import ADAPTER, DELIVERED
from tests.helpers import runner

STEPS = list(runner.STEPS)
TASKS = ("Load", "Preprocess", "Train", "Predict", "Evaluate")
STEP_OUTPUTS = {"load": ("train_raw.pkl", "test_raw.pkl"),
                "preprocess": ("train_features.pkl", "test_features.pkl"),
                "train": ("model.pkl",), "predict": ("predictions.csv", "predictions.pkl"),
                "evaluate": ("metrics.json", "metrics.pkl")}
# What gokart writes for every task it runs, beside the task's own output.
TASK_LOGS = {"task_log": "pkl", "task_params": "pkl", "random_seed": "pkl",
             "processing_time": "pkl", "module_versions": "txt"}
UNIQUE_ID = re.compile(r"_[0-9a-f]{32}(?=\.)")
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
root = pipeline.titanic(workdir, Params())
(workdir / layout.DATA).unlink()
sys.exit(build(root))
"""


def run(wd: Path, *, mode="pickles", fmt="parquet", scale=1, setup=LAPTOP, url=None,
        data=None, params=(), **inject) -> runner.Result:
    argv = ADAPTER.command(wd, mode, setup=setup, fmt=fmt, scale=scale, data=data,
                           service_url=url)
    for setting in params:
        argv += ["--param", setting]
    return run_argv(argv, wd, **inject)


def run_argv(argv, wd: Path, **inject) -> runner.Result:
    env = runner.base_env(wd)
    env.update(ADAPTER.environment(wd, "pickles", setup=LAPTOP, service_url=None,
                                   home=runner.home_of(wd)))
    result = runner.run(argv, wd, env=env, **inject)
    assert result.survivors == [], result.survivors
    assert list(runner.home_of(wd).iterdir()) == [], "the run wrote into HOME"
    return result


def delivered(wd: Path):
    return ADAPTER.deliverables(wd, staged_settings(wd))


def predictions_sha(wd: Path) -> str:
    return runner.sha256(delivered(wd).predictions)


def outputs(wd: Path) -> list[str]:
    """gokart's targets, unique ids included (not the temporary files of a killed write)."""
    return sorted(f for f in runner.files_in(wd)
                  if f.startswith("resources/titanic/") and UNIQUE_ID.search(f)
                  and "tmp" not in Path(f).name)


def outputs_of(wd: Path, step: str) -> list[str]:
    return [f for f in outputs(wd) if UNIQUE_ID.sub("", Path(f).name) in STEP_OUTPUTS[step]]


def ids_of(wd: Path, step: str) -> set[str]:
    return {UNIQUE_ID.search(f).group(0) for f in outputs_of(wd, step)}


def temp_files(wd: Path) -> list[str]:
    return sorted(f for f in runner.files_in(wd) if "tmp" in Path(f).name)


def lock_files() -> set[str]:
    return {p.name for p in LUIGI_LOCK_DIR.iterdir()} if LUIGI_LOCK_DIR.is_dir() else set()


def expected_files() -> set[str]:
    """A complete workdir, unique ids written as <id>."""
    names = {f"resources/titanic/{name.replace('.', '_<id>.')}"
             for names in STEP_OUTPUTS.values() for name in names}
    logs = {f"resources/log/{kind}/{task}_<id>.{ext}" for kind, ext in TASK_LOGS.items()
            for task in TASKS}
    return {layout.DATA, layout.PARAMS, DELIVERED} | names | logs


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
    wd, result, new_locks, workspace_in_cwd = clean_run(fmt)
    assert result.stdout == "" and result.stderr == ""  # gokart.build at CRITICAL: silent
    assert {UNIQUE_ID.sub("_<id>", f) for f in runner.files_in(wd)} == expected_files()
    assert new_locks == set()  # no pid lock in /tmp/luigi
    assert not workspace_in_cwd  # no ./resources in the directory the command ran from


def test_format_is_recorded_but_is_a_parameter_of_no_task(clean_run, baseline_outputs):
    """--format lands in params.yaml and nowhere else: every hand-off is a gokart pickle, so
    every format gives the same unique ids and the same predictions."""
    ids = set()
    for fmt in FORMATS:
        wd = clean_run(fmt)[0]
        assert f"format: {fmt}" in (wd / layout.PARAMS).read_text()
        assert not (wd / "interim").exists()
        ids.add(tuple(outputs(wd)))
        assert predictions_sha(wd) == baseline_outputs[fmt][0]
    assert len(ids) == 1
    assert not any(m.files for m in ADAPTER.modes)


def test_the_deliverables_are_gokart_targets_named_by_the_tasks_ids(clean_run):
    wd = clean_run("parquet")[0]
    found = delivered(wd)
    assert found.predictions.parent == found.metrics.parent == wd / "resources/titanic"
    assert UNIQUE_ID.search(found.predictions.name) and found.metrics.is_file()
    assert json.loads((wd / DELIVERED).read_text())["predictions"] == \
        found.predictions.relative_to(wd).as_posix()


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
    assert outputs_of(wd, step) == [] and temp_files(wd) == []
    assert not (wd / DELIVERED).exists()

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[STEPS.index(step):]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_a_missing_staged_input_fails_although_gokart_build_does_not_raise(tmp_path):
    """luigi reports a missing external input as pending, not failed, and gokart.build then
    returns normally: the command checks that the root completed."""
    wd = tmp_path / "wd"
    result = run_argv([runner.PY, "-c", BUILD_WITHOUT_DATA, str(wd)], wd)
    assert result.rc == 1 and result.steps == []
    assert result.stderr.startswith("error: gokart did not complete Evaluate[")
    assert "StagedData[" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_noop_rerun_executes_no_step_and_writes_nothing(clean_run, tmp_path, baseline_outputs):
    wd = copy_of_clean_run(clean_run, tmp_path)
    mtimes = {f: (wd / f).stat().st_mtime_ns for f in runner.files_in(wd)}
    rerun = runner.ok(run(wd))
    assert rerun.steps == [] and rerun.spans == []
    assert {f: (wd / f).stat().st_mtime_ns for f in runner.files_in(wd)} == mtimes
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_a_new_setting_gives_new_ids_from_the_task_that_takes_it(
        clean_run, tmp_path, baseline_outputs):
    """n_estimators is Train's parameter: Train, Predict and Evaluate get new unique ids and
    run, Load and Preprocess keep theirs; the old outputs stay, and switching back reuses them
    and delivers the earlier, right answer."""
    wd = copy_of_clean_run(clean_run, tmp_path)
    before = {step: ids_of(wd, step) for step in STEPS}
    assert runner.ok(run(wd, params=["n_estimators=50"])).steps == STEPS[2:]
    assert predictions_sha(wd) != baseline_outputs["parquet"][0]
    for step in STEPS:
        assert (ids_of(wd, step) == before[step]) is (step in ("load", "preprocess"))
    back = runner.ok(run(wd))
    assert back.steps == []
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_new_data_gives_every_task_new_ids(clean_run, tmp_path):
    """The staged file's md5 is a significant parameter of StagedData, so every task below it
    hashes the new content."""
    wd = copy_of_clean_run(clean_run, tmp_path)
    csv = tmp_path / "fewer.csv"
    lines = (wd / layout.DATA).read_text().splitlines(keepends=True)
    csv.write_text("".join(lines[:-10]))
    assert runner.ok(run(wd, data=str(csv))).steps == STEPS
    assert all(len(ids_of(wd, step)) == 2 for step in STEPS)


# -- hard crash -----------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["load", "predict"])
def test_crash_after_a_steps_compute_leaves_no_output_and_the_rerun_recovers(
        tmp_path, baseline_outputs, step):
    """gokart, not core, writes load..train's outputs, so BENCH_CRASH_AT kills the run right
    after their compute, before gokart dumped anything. Predict and evaluate write their
    deliverable through core, under a temporary name renamed into the target's place: killed
    halfway, only that temporary file is left. Either way the task has no output and the
    plain rerun redoes it."""
    wd = tmp_path / "wd"
    at = STEPS.index(step)
    crashed = run(wd, crash_at=step)
    assert crashed.rc == -signal.SIGKILL
    assert crashed.steps == STEPS[:at + 1]
    assert outputs_of(wd, step) == []
    assert all(outputs_of(wd, done) for done in STEPS[:at])
    leftovers = temp_files(wd)
    if step == "predict":
        assert len(leftovers) == 1 and re.search(r"/predictions_[0-9a-f]{32}\.csv-tmp-\d+$",
                                                 leftovers[0]), leftovers
    else:
        assert leftovers == []

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[at:]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert ADAPTER.recovery_commands(wd, "pickles", setup=LAPTOP, fmt="parquet", scale=1,
                                     data=None, service_url=None) == []


def test_crash_midway_through_gokarts_dump_leaves_a_temp_file_that_gokart_ignores(
        tmp_path, baseline_outputs):
    """Killed halfway through pickling preprocess's first output: gokart dumps through luigi's
    atomic LocalTarget, so the half-written bytes sit under a *-luigi-tmp-* name, never under
    the output's name that complete() checks, and the rerun redoes preprocess."""
    wd = tmp_path / "wd"
    crashed = run_argv([runner.PY, "-c", KILL_MID_DUMP, "--workdir", str(wd)], wd)
    assert crashed.rc == -signal.SIGKILL, crashed.stderr
    assert crashed.steps == ["load", "preprocess"]
    assert outputs_of(wd, "preprocess") == []
    leftovers = temp_files(wd)
    assert len(leftovers) == 1 and "/train_features_" in leftovers[0]
    assert "-luigi-tmp-" in leftovers[0]
    partial_bytes = (wd / leftovers[0]).stat().st_size

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[1:]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]
    # Nothing cleans up after a killed dump. The temp name comes from luigi's random.randrange,
    # and gokart seeds `random` per task, so the rerun may draw the very same name: then its
    # atomic write reuses and renames the leftover. Otherwise the leftover stays until a user
    # removes it. Either way no other temp file may remain.
    assert temp_files(wd) in ([], leftovers)
    train_features = next(f for f in outputs_of(wd, "preprocess") if "/train_features_" in f)
    assert leftovers[0].startswith(train_features + "-luigi-tmp-")
    assert 0 < partial_bytes < (wd / train_features).stat().st_size


# -- the DAG as gokart prints it --------------------------------------------------------------

def test_dag_command_prints_gokarts_tree_with_completion(clean_run, tmp_path):
    staged = tmp_path / "staged"
    stage.stage(staged, Params())
    complete = clean_run("parquet")[0]
    for wd, state in ((staged, "PENDING"), (complete, "COMPLETE")):
        tree = runner.ok(run_argv(ADAPTER.dag_command(wd, "pickles"), wd)).stdout
        for task in TASKS:
            assert re.search(rf"\({state}\) {task}\[[0-9a-f]{{32}}\]", tree), tree
        assert "(COMPLETE) StagedData[" in tree
        assert str(wd) not in tree
    # The ids in the tree are the ones naming the outputs.
    model_id = re.search(r"Train\[([0-9a-f]{32})\]", tree).group(1)
    assert f"resources/titanic/model_{model_id}.pkl" in outputs(complete)


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


# -- serialized_task_definition_check, the rerun switch ----------------------------------------

def test_the_definition_check_puts_the_tasks_source_into_every_id(clean_run, tmp_path,
                                                                  baseline_outputs):
    """Switched on, every unique id also hashes the task's methods: a workdir made without it
    has none of the ids, so the first run with it executes everything."""
    wd = copy_of_clean_run(clean_run, tmp_path)
    before = set(outputs(wd))
    assert runner.ok(run(wd, mode="defcheck")).steps == STEPS
    after = set(outputs(wd))
    assert before < after and len(after) == 2 * len(before)
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert runner.ok(run(wd, mode="defcheck")).steps == []
    with pytest.raises(ValueError):
        ADAPTER.command(wd, "nosuchmode", setup=LAPTOP, fmt="parquet", scale=1, data=None,
                        service_url=None)


# -- what gokart reruns after each change (the harness's rerun scenario) ---------------------

@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    adapters = registry.load(("core.adapter", "impl_gokart.adapter")).by_name()
    return Workspace(tmp_path_factory.mktemp("rerun"), "tools-gokart", adapters, QUICK)


def rerun_cell(ws: Workspace, change: str, mode: str):
    slot = plan.Slot("gokart", mode, "rerun", variant=change, selection="rerun")
    return execute(ws, SCENARIOS, plan.Execution(slot, round=1))


DOWNSTREAM = ("train", "predict", "evaluate")
# mode -> change -> (classification, steps executed, predictions right after the change)
RERUN = {
    "pickles": {
        "data": ("exact", tuple(STEPS), True),   # the md5 parameter: new ids everywhere
        "param": ("exact", DOWNSTREAM, True),
        "core_code": ("stale", (), False),       # code is in no id
        "wrapper_code": ("stale", (), False),
        "comment": ("exact", (), True),
        "touch": ("exact", (), True),
    },
    "defcheck": {
        "data": ("exact", tuple(STEPS), True),
        "param": ("exact", DOWNSTREAM, True),
        # "the scripts outside the class are not considered" (gokart docs)
        "core_code": ("stale", (), False),
        "wrapper_code": ("exact", DOWNSTREAM, True),  # Train.run's source is in its id
        "comment": ("over-eager", DOWNSTREAM, True),  # and so is a comment inside it
        "touch": ("exact", (), True),
    },
}
CELLS = [(mode, change) for mode, cells in RERUN.items() for change in sorted(cells)]


@pytest.mark.parametrize("mode,change", CELLS)
def test_rerun_after_a_change(ws, mode, change):
    klass, executed, right = RERUN[mode][change]
    rec = rerun_cell(ws, change, mode)
    assert rec.status == "ok", f"{rec.detail.error}\n{rec.stderr_tail}"
    assert (rec.detail.classification, rec.detail.executed) == (klass, executed)
    assert rec.verify["predictions_match"] is right
    # gokart prints nothing; its account is the outputs under new unique ids
    if executed:
        assert rec.detail.reason.startswith("gokart: outputs under new unique ids: ")
        assert ("model" in rec.detail.reason) is ("train" in executed)
    else:
        assert rec.detail.reason is None


# -- a central luigid, started and stopped as the harness does it ---------------------------

def _tasks(url: str, status: str) -> dict:
    query = urllib.parse.quote(json.dumps({"status": status}))
    with urllib.request.urlopen(f"{url}/api/task_list?data={query}", timeout=5) as reply:
        return json.load(reply)["response"]


def _start(root: Path, service) -> Server:
    server = Server(ADAPTER, service, root / "state", root / "logs", ADAPTER.env_prefixes)
    server.start()
    return server


@pytest.fixture(scope="module")
def luigid(tmp_path_factory):
    server = _start(tmp_path_factory.mktemp("luigid"), ADAPTER.service_for(TEAM))
    try:
        yield server
    finally:
        server.stop()
    assert server.info["stopped"] == "SIGTERM" and "survivors" not in server.info


def team(wd: Path, url: str, **kw) -> runner.Result:
    return run(wd, setup=TEAM, url=url, **kw)


def test_fresh_workspaces_seconds_apart_share_task_ids_and_the_teams_luigid_runs_both(
        luigid, tmp_path, baseline_outputs):
    """gokart's ids carry no workspace, so two fresh workdirs send luigid the same task ids;
    the team's luigid (stable_done_cooldown_secs = 0) grants the second its runs all the
    same."""
    for name in ("first", "second"):
        wd = tmp_path / name
        result = runner.ok(team(wd, luigid.url))
        assert result.steps == STEPS
        assert predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert outputs(tmp_path / "first") == outputs(tmp_path / "second")
    done = {t["name"] for t in _tasks(luigid.url, "DONE").values()}
    assert set(TASKS) <= done


def test_with_luigids_default_cooldown_the_second_fresh_workspace_is_refused(tmp_path):
    """Why the team set-up sets stable_done_cooldown_secs = 0: with luigid's default (10 s)
    the second workspace's pending tasks are ignored and nothing runs."""
    default = dataclasses.replace(ADAPTER.service_for(TEAM),
                                  environment=lambda state_dir, database_url: {})
    server = _start(tmp_path / "luigid", default)
    try:
        runner.ok(team(tmp_path / "first", server.url))
        start = time.monotonic()
        second = team(tmp_path / "second", server.url)
        if time.monotonic() - start > 8:  # a very loaded machine may outlast the cooldown
            pytest.skip("the second run started too late to meet luigid's 10 s cooldown")
        assert second.rc == 1 and second.steps == []
        assert "not granted run permission by the scheduler" in second.stderr, second.stderr
    finally:
        server.stop()


def test_luigid_rerun_after_failure_resumes(luigid, tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    failed = team(wd, luigid.url, fail_at="train")
    assert failed.rc == 1 and "InjectedFailure" in failed.stderr, failed.stderr
    assert failed.stderr.startswith("error: gokart task Train[")
    rerun = runner.ok(team(wd, luigid.url))
    assert rerun.steps == ["train", "predict", "evaluate"]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_luigid_refuses_a_crashed_task_until_it_lets_go_then_the_recovery_works(
        luigid, tmp_path, baseline_outputs):
    """After a SIGKILL luigid still believes the dead worker runs preprocess: the plain rerun
    is refused, luigi's summary saying why, until luigid drops the worker
    (worker_disconnect_delay plus its 60 s pruning cycle). The declared recovery waits for
    that and reruns."""
    wd = tmp_path / "wd"
    crashed = team(wd, luigid.url, crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL
    assert "Preprocess" in {t["name"] for t in _tasks(luigid.url, "RUNNING").values()}

    refused = team(wd, luigid.url)
    assert refused.rc == 1 and refused.steps == [], refused.stderr
    assert "were being run by another worker" in refused.stderr, refused.stderr

    commands = ADAPTER.recovery_commands(wd, "pickles", setup=TEAM, fmt="parquet", scale=1,
                                         data=None, service_url=luigid.url)
    assert len(commands) == 2
    results = [run_argv(argv, wd) for argv in commands]
    assert [r.rc for r in results] == [0, 0], results[-1].stderr
    assert results[-1].steps == STEPS[1:]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]
