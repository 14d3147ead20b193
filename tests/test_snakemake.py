"""The snakemake implementation, run for real: equivalence, resume, crash, leaks, bad input."""
from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from core import layout, params, stage
from impl_snakemake import adapter
from tests import runner
from tests.inputs import kaggle_csv

pytestmark = pytest.mark.slow
FORMATS = ("csv", "pickle", "parquet")
DEFAULT_FORMAT = "parquet"


def run(argv: list[str], wd: Path, mode: str = "threads", *, with_adapter_env: bool = True,
        **kwargs) -> runner.Result:
    """Run like the harness, then check the run left nothing behind outside `wd`."""
    home = wd.parent / f"{wd.name}.home"
    env = runner.base_env(home)
    if with_adapter_env:
        env |= adapter.environment(wd, mode)
    r = runner.run(argv, wd, env=env, **kwargs)
    assert r.survivors == [], r.survivors
    assert sorted(p.name for p in home.iterdir()) == [], "the run wrote into HOME"
    assert not (runner.REPO / ".snakemake").exists(), "snakemake state outside the workdir"
    return r


def pipeline(wd: Path, mode: str = "threads", fmt: str = DEFAULT_FORMAT, **kwargs):
    return run(adapter.command(wd, mode, fmt=fmt, scale=1), wd, mode, **kwargs)


@pytest.fixture(scope="module")
def completed(tmp_path_factory) -> dict[str, tuple[Path, runner.Result]]:
    """One clean threads-mode run per format."""
    done = {}
    for fmt in FORMATS:
        wd = tmp_path_factory.mktemp(f"snakemake-{fmt}") / "wd"
        done[fmt] = wd, pipeline(wd, fmt=fmt)
    return done


@pytest.mark.parametrize("fmt", FORMATS)
def test_predictions_and_metrics_match_the_baseline(completed, baseline_outputs, fmt):
    wd, r = completed[fmt]
    assert r.rc == 0, r.stderr
    assert r.steps == list(runner.STEPS)
    assert runner.predictions_sha(wd) == baseline_outputs[fmt][0]
    assert (wd / layout.METRICS).read_text() == baseline_outputs[fmt][1]
    assert sorted(p.name for p in (wd / "interim").iterdir()) == sorted(
        Path(rel).name for rels in layout.outputs(fmt).values() for rel in rels
        if rel.startswith("interim/"))


def test_threads_mode_runs_every_step_in_the_snakemake_process(completed):
    _, r = completed[DEFAULT_FORMAT]
    assert len({s["pid"] for s in r.spans if s["kind"] == "compute"}) == 1


def test_processes_mode_matches_the_baseline_with_a_process_per_step(tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    r = pipeline(wd, "processes")
    assert r.rc == 0, r.stderr
    assert r.steps == list(runner.STEPS)
    assert runner.predictions_sha(wd) == baseline_outputs[DEFAULT_FORMAT][0]
    assert (wd / layout.METRICS).read_text() == baseline_outputs[DEFAULT_FORMAT][1]
    assert len({s["pid"] for s in r.spans if s["kind"] == "compute"}) == len(runner.STEPS)


def test_noop_rerun_executes_no_step_and_rewrites_nothing(completed):
    wd, _ = completed[DEFAULT_FORMAT]
    files = [wd / layout.DATA, wd / layout.PARAMS,
             *(wd / rel for rels in layout.outputs(DEFAULT_FORMAT).values() for rel in rels)]
    before = [f.stat().st_mtime_ns for f in files]
    r = pipeline(wd)
    assert r.rc == 0, r.stderr
    assert r.steps == []
    assert "Nothing to be done" in r.stdout + r.stderr
    assert [f.stat().st_mtime_ns for f in files] == before


@pytest.mark.parametrize("step", runner.STEPS)
def test_rerun_after_a_failure_executes_the_failed_step_and_those_after(
        tmp_path, baseline_outputs, step):
    wd = tmp_path / "wd"
    failed = pipeline(wd, fail_at=step)
    assert failed.rc == 1  # snakemake's own exit status
    assert "InjectedFailure" in failed.stderr and f"Error in rule {step}" in failed.stderr
    before = runner.STEPS.index(step)
    assert failed.steps == list(runner.STEPS[:before])
    rerun = pipeline(wd)
    assert rerun.rc == 0, rerun.stderr
    assert rerun.steps == list(runner.STEPS[before:])
    assert runner.predictions_sha(wd) == baseline_outputs[DEFAULT_FORMAT][0]


@pytest.mark.parametrize("mode", adapter.MODES)
def test_crash_is_refused_with_snakemakes_message_until_the_recovery_commands(
        tmp_path, baseline_outputs, mode):
    wd = tmp_path / "wd"
    crashed = pipeline(wd, mode, crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL
    partial = wd / layout.train_features(DEFAULT_FORMAT)
    assert partial.exists(), "the crash should leave a half-written output"
    assert list((wd / ".snakemake/incomplete").iterdir()), "snakemake marks it incomplete"
    assert list((wd / adapter.TMP_DIR).glob("snakemake*")), "killed temp dirs stay in the workdir"

    # What actually happens: snakemake refuses on the half-written file, rather than resuming.
    refused = pipeline(wd, mode)
    assert refused.rc == 1 and refused.steps == []
    assert "IncompleteFilesException" in refused.stderr
    assert str(layout.train_features(DEFAULT_FORMAT)) in refused.stderr
    assert "--rerun-incomplete" in refused.stderr

    unlock, rerun_incomplete = adapter.recovery_commands(wd, mode, fmt=DEFAULT_FORMAT, scale=1)
    unlocked = run(unlock, wd, mode)
    assert unlocked.rc == 0 and unlocked.steps == [], unlocked.stderr
    recovered = run(rerun_incomplete, wd, mode)
    assert recovered.rc == 0, recovered.stderr
    assert recovered.steps == list(runner.STEPS[1:])
    assert runner.predictions_sha(wd) == baseline_outputs[DEFAULT_FORMAT][0]
    assert (wd / layout.METRICS).read_text() == baseline_outputs[DEFAULT_FORMAT][1]


def test_rerun_without_unlock_reports_the_stale_lock(tmp_path):
    """--rerun-incomplete alone is not enough after a kill: snakemake names --unlock itself."""
    wd = tmp_path / "wd"
    assert pipeline(wd, crash_at="preprocess").rc == -signal.SIGKILL
    _, rerun_incomplete = adapter.recovery_commands(wd, "threads", fmt=DEFAULT_FORMAT, scale=1)
    r = run(rerun_incomplete, wd)
    assert r.rc == 1 and r.steps == []
    assert "LockException" in r.stderr and "--unlock" in r.stderr


def test_changed_parameters_rerun_the_steps_that_use_them(tmp_path):
    wd = tmp_path / "wd"
    assert pipeline(wd).rc == 0
    argv = adapter.command(wd, "threads", fmt=DEFAULT_FORMAT, scale=2)
    r = run(argv, wd)
    assert r.rc == 0, r.stderr
    assert r.steps == list(runner.STEPS)
    load_reason = re.search(r"^localrule load:\n(?:    .*\n)*?    reason: (.*)$",
                            r.stdout + r.stderr, re.M)
    assert load_reason and "Params have changed" in load_reason.group(1)
    assert params.read(wd / layout.PARAMS).scale == 2


def test_without_the_adapter_environment_the_cache_and_temp_dirs_stay_in_the_workdir(tmp_path):
    """A user typing the command, with no XDG_CACHE_HOME or TMPDIR of their own."""
    wd = tmp_path / "wd"
    r = pipeline(wd, with_adapter_env=False)
    assert r.rc == 0, r.stderr
    assert (wd / adapter.TOOL_HOME[0] / "snakemake").is_dir()
    assert (wd / adapter.TMP_DIR).is_dir()


def test_kaggle_train_csv_gives_the_baselines_predictions(tmp_path):
    csv = str(kaggle_csv(tmp_path / "train.csv"))
    wd, baseline_wd = tmp_path / "wd", tmp_path / "baseline"
    r = run(adapter.command(wd, "threads", fmt=DEFAULT_FORMAT, scale=1, data=csv), wd)
    assert r.rc == 0, r.stderr
    assert r.steps == list(runner.STEPS)
    baseline = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(baseline_wd),
                           "--format", DEFAULT_FORMAT, "--data", csv], baseline_wd)
    assert baseline.rc == 0, baseline.stderr
    assert runner.predictions_sha(wd) == runner.predictions_sha(baseline_wd)
    assert len((wd / layout.PREDICTIONS).read_text().splitlines()) == 1 + 24


BAD_DATA = {
    "missing file": (None, "data file not found"),
    "empty": ("", "empty"),
    "missing columns": ("name,sex\nA,male\n", "missing required column"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_gets_one_line_and_nonzero_exit(tmp_path, case):
    content, expected = BAD_DATA[case]
    csv = tmp_path / "in.csv"
    if content is not None:
        csv.write_text(content)
    wd = tmp_path / "wd"
    r = run(adapter.command(wd, "threads", fmt=DEFAULT_FORMAT, scale=1, data=str(csv)), wd)
    assert r.rc != 0 and expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (wd / ".snakemake").exists()


@pytest.mark.parametrize("argv,expected", [
    (["--format", "feather"], "invalid choice"),
    (["--scale", "0"], "--scale"),
    (["--mode", "cluster"], "invalid choice"),
])
def test_bad_options_get_one_line_and_nonzero_exit(tmp_path, argv, expected):
    wd = tmp_path / "wd"
    r = run([runner.PY, "-m", "impl_snakemake", "--workdir", str(wd), *argv], wd)
    assert r.rc != 0 and expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("snakemake-staged") / "wd"
    stage.stage(wd, params.Params())
    return wd


def test_dag_command_prints_the_pipeline_as_dot(staged):
    r = run(adapter.dag_command(staged, "threads"), staged)
    assert r.rc == 0, r.stderr
    labels = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', r.stdout, re.M))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", r.stdout, re.M)}
    assert edges == {("load", "preprocess"), ("preprocess", "train"), ("train", "predict"),
                     ("preprocess", "predict"), ("predict", "evaluate"),
                     ("preprocess", "evaluate"), ("predict", "all"), ("evaluate", "all")}
    assert r.steps == [] and not (staged / "out").exists()


def test_snakefile_passes_snakemakes_linter(staged):
    argv = [runner.PY, "-m", "snakemake", "--lint", "--snakefile", str(adapter.SNAKEFILE),
            "--directory", str(staged)]
    r = run(argv, staged)
    assert r.rc == 0, r.stdout + r.stderr


def test_adapter_is_stdlib_only_and_names_real_files():
    probe = ("import json, sys, impl_snakemake.adapter; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'snakemake', 'pandas', 'core', 'yaml'})))")
    out = subprocess.run([runner.PY, "-c", probe], cwd=runner.REPO, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == []
    assert list(adapter.MODES) == ["processes", "threads"]
    assert adapter.FORMAT_MODES == set(adapter.MODES)
    assert all((runner.REPO / f).is_file() for f in adapter.SOURCE_FILES)
