"""What is specific to snakemake: where its jobs run, its messages and exit status on failure,
its refusal after a kill and the recovery it names, its params tracking, its DAG and linter.
The contract every tool keeps is tests/conformance."""
from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from core import layout, params, stage
from impl_snakemake import adapter
from impl_snakemake.adapter import ADAPTER
from tests.helpers import runner

pytestmark = pytest.mark.slow
DEFAULT_FORMAT = "parquet"


def run(argv: list[str], wd: Path, mode: str = "threads", *, with_adapter_env: bool = True,
        **kwargs) -> runner.Result:
    """Run like the harness, then check the run left nothing behind outside `wd`."""
    env = runner.base_env(wd)
    if with_adapter_env:
        env |= ADAPTER.environment(wd, mode, service_url=None)
    r = runner.run(argv, wd, env=env, **kwargs)
    assert r.survivors == [], r.survivors
    home = runner.home_of(wd)
    assert sorted(p.name for p in home.iterdir()) == [], "the run wrote into HOME"
    assert not (runner.REPO / ".snakemake").exists(), "snakemake state outside the workdir"
    return r


def pipeline(wd: Path, mode: str = "threads", fmt: str = DEFAULT_FORMAT, **kwargs):
    return run(command(wd, mode, fmt=fmt), wd, mode, **kwargs)


def command(wd: Path, mode: str, *, fmt: str = DEFAULT_FORMAT, scale: int = 1, data=None):
    return ADAPTER.command(wd, mode, fmt=fmt, scale=scale, data=data, service_url=None)


def recovery(wd: Path, mode: str):
    return ADAPTER.recovery_commands(wd, mode, fmt=DEFAULT_FORMAT, scale=1, data=None,
                                     service_url=None)


@pytest.fixture(scope="module")
def completed(tmp_path_factory) -> dict[str, tuple[Path, runner.Result]]:
    """One clean threads-mode run."""
    wd = tmp_path_factory.mktemp(f"snakemake-{DEFAULT_FORMAT}") / "wd"
    return {DEFAULT_FORMAT: (wd, pipeline(wd, fmt=DEFAULT_FORMAT))}


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


@pytest.mark.parametrize("step", ["train"])
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


@pytest.mark.parametrize("mode", ADAPTER.mode_names)
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

    unlock, rerun_incomplete = recovery(wd, mode)
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
    _, rerun_incomplete = recovery(wd, "threads")
    r = run(rerun_incomplete, wd)
    assert r.rc == 1 and r.steps == []
    assert "LockException" in r.stderr and "--unlock" in r.stderr


def test_changed_parameters_rerun_the_steps_that_use_them(tmp_path):
    wd = tmp_path / "wd"
    assert pipeline(wd).rc == 0
    argv = command(wd, "threads", scale=2)
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
    assert (wd / adapter.CACHE_DIR / "snakemake").is_dir()
    assert (wd / adapter.TMP_DIR).is_dir()


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
    r = run(ADAPTER.dag_command(staged, "threads"), staged)
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
