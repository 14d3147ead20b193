"""What is specific to snakemake: where each mode runs its jobs, where a failed job's traceback
goes in each set-up, its refusal after a kill and the recovery it names (the team profile's
rerun-incomplete included), what it reruns after each change and with --rerun-triggers mtime,
its DAG and its linter. The contract every tool keeps is tests/conformance."""
from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.engine.session import execute
from bench.engine.workspace import Workspace
from bench.scenarios.catalog import SCENARIOS
from core import layout, params, stage
from core.contract import LAPTOP, TEAM
from impl_snakemake import adapter
from impl_snakemake.adapter import ADAPTER, MTIME_TRIGGERS, RUN_JOBS, SCRIPT, THREADS
from tests.helpers import runner

pytestmark = pytest.mark.slow
STEPS = list(runner.STEPS)
DEFAULT_FORMAT = "parquet"


def run(argv: list[str], wd: Path, mode: str = SCRIPT, *, setup: str = LAPTOP,
        with_adapter_env: bool = True, **kwargs) -> runner.Result:
    """Run like the harness, then check the run left nothing behind outside `wd`."""
    env = runner.base_env(wd)
    if with_adapter_env:
        env |= ADAPTER.environment(wd, mode, setup=setup, service_url=None,
                                   home=wd.parent / "tool-home")
    r = runner.run(argv, wd, env=env, **kwargs)
    assert r.survivors == [], r.survivors
    for place in runner.outside(wd):
        assert not place.exists() or sorted(p.name for p in place.iterdir()) == [], place
    assert not (runner.REPO / ".snakemake").exists(), "snakemake state outside the workdir"
    return r


def command(wd: Path, mode: str = SCRIPT, *, setup: str = LAPTOP, scale: int = 1):
    return ADAPTER.command(wd, mode, setup=setup, fmt=DEFAULT_FORMAT, scale=scale, data=None,
                           service_url=None)


def pipeline(wd: Path, mode: str = SCRIPT, *, setup: str = LAPTOP, **kwargs) -> runner.Result:
    return run(command(wd, mode, setup=setup), wd, mode, setup=setup, **kwargs)


def recovery(wd: Path, mode: str = SCRIPT, *, setup: str = LAPTOP) -> list[list[str]]:
    return ADAPTER.recovery_commands(wd, mode, setup=setup, fmt=DEFAULT_FORMAT, scale=1,
                                     data=None, service_url=None)


def compute_pids(r: runner.Result) -> set[int]:
    return {s["pid"] for s in r.spans if s["kind"] == "compute"}


@pytest.fixture(scope="module")
def typed(tmp_path_factory) -> tuple[Path, runner.Result]:
    """The default command as a user types it, with no XDG_CACHE_HOME or TMPDIR of theirs."""
    wd = tmp_path_factory.mktemp("snakemake-typed") / "wd"
    return wd, pipeline(wd, with_adapter_env=False)


def test_script_mode_runs_each_step_in_its_own_process_and_keeps_its_state_inside(
        typed, baseline_outputs):
    wd, r = typed
    assert r.rc == 0, r.stderr
    assert r.steps == STEPS
    assert runner.predictions_sha(wd) == baseline_outputs[DEFAULT_FORMAT][0]
    assert len(compute_pids(r)) == len(STEPS)
    assert (wd / adapter.CACHE_DIR / "snakemake").is_dir()
    assert (wd / adapter.TMP_DIR).is_dir()
    assert all((wd / "logs" / f"{step}.log").is_file() for step in STEPS)


@pytest.mark.parametrize("mode,processes", [(RUN_JOBS, len(STEPS)), (THREADS, 1)])
def test_run_jobs_run_in_a_process_each_or_with_threads_in_one(tmp_path, baseline_outputs,
                                                               mode, processes):
    wd = tmp_path / "wd"
    r = runner.ok(pipeline(wd, mode))
    assert r.steps == STEPS
    assert runner.predictions_sha(wd) == baseline_outputs[DEFAULT_FORMAT][0]
    assert len(compute_pids(r)) == processes


def test_noop_rerun_executes_no_step_and_rewrites_nothing(typed):
    wd, _ = typed
    files = [wd / layout.DATA, wd / layout.PARAMS,
             *(wd / rel for rels in layout.outputs(DEFAULT_FORMAT).values() for rel in rels)]
    before = [f.stat().st_mtime_ns for f in files]
    r = runner.ok(pipeline(wd))
    assert r.steps == []
    assert "Nothing to be done" in r.stdout + r.stderr
    assert [f.stat().st_mtime_ns for f in files] == before


def test_a_failed_scripts_traceback_is_in_its_log_and_the_team_profile_prints_it(tmp_path):
    """A script: job's stderr is its rule's log: the laptop's console names the log only;
    the team profile's show-failed-logs prints it."""
    laptop_wd, team_wd = tmp_path / "laptop", tmp_path / "team"
    laptop = pipeline(laptop_wd, fail_at="train")
    assert laptop.rc == 1, laptop.stderr  # snakemake's own exit status
    assert laptop.steps == ["load", "preprocess"]
    assert "Error in rule train" in laptop.stderr and "logs/train.log" in laptop.stderr
    assert "InjectedFailure" not in laptop.stderr
    assert "InjectedFailure" in (laptop_wd / "logs/train.log").read_text()
    team = pipeline(team_wd, setup=TEAM, fail_at="train")
    assert team.rc == 1, team.stderr
    assert "Error in rule train" in team.stderr and "InjectedFailure" in team.stderr


def test_laptop_crash_is_refused_until_unlock_and_rerun_incomplete(tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    crashed = pipeline(wd, crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL
    assert (wd / layout.train_features(DEFAULT_FORMAT)).exists(), "a half-written output"
    assert list((wd / ".snakemake/incomplete").iterdir()), "snakemake marks it incomplete"

    refused = pipeline(wd)
    assert refused.rc == 1 and refused.steps == []
    assert "IncompleteFilesException" in refused.stderr
    assert str(layout.train_features(DEFAULT_FORMAT)) in refused.stderr
    assert "--rerun-incomplete" in refused.stderr

    unlock, rerun_incomplete = recovery(wd)
    assert "--rerun-incomplete" in rerun_incomplete
    locked = run(rerun_incomplete, wd)  # --rerun-incomplete alone meets the stale lock
    assert locked.rc == 1 and locked.steps == []
    assert "LockException" in locked.stderr and "--unlock" in locked.stderr
    unlocked = run(unlock, wd)
    assert unlocked.rc == 0 and unlocked.steps == [], unlocked.stderr
    recovered = runner.ok(run(rerun_incomplete, wd))
    assert recovered.steps == STEPS[1:]
    assert runner.predictions_sha(wd) == baseline_outputs[DEFAULT_FORMAT][0]


def test_team_crash_meets_only_the_stale_lock_and_unlock_recovers(tmp_path, baseline_outputs):
    """The team profile sets rerun-incomplete: the plain rerun stops at the lock only."""
    wd = tmp_path / "wd"
    assert pipeline(wd, setup=TEAM, crash_at="preprocess").rc == -signal.SIGKILL
    refused = pipeline(wd, setup=TEAM)
    assert refused.rc == 1 and refused.steps == []
    assert "LockException" in refused.stderr and "IncompleteFilesException" not in refused.stderr
    unlock, plain = recovery(wd, setup=TEAM)
    assert "--rerun-incomplete" not in plain
    assert runner.ok(run(unlock, wd, setup=TEAM)).steps == []
    recovered = runner.ok(run(plain, wd, setup=TEAM))
    assert recovered.steps == STEPS[1:]
    assert runner.predictions_sha(wd) == baseline_outputs[DEFAULT_FORMAT][0]


def test_bad_mode_gets_one_line_and_exit_2(tmp_path):
    wd = tmp_path / "wd"
    r = run([runner.PY, "-m", "impl_snakemake", "--workdir", str(wd), "--mode", "cluster"], wd)
    assert r.rc == 2 and "invalid choice" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_the_adapter_keeps_the_cache_in_the_home_and_temp_files_in_the_workdir(tmp_path):
    wd, home = tmp_path / "wd", tmp_path / "home"
    env = ADAPTER.environment(wd, SCRIPT, setup=TEAM, service_url=None, home=home)
    assert env == {"XDG_CACHE_HOME": str(home.resolve() / adapter.CACHE_DIR),
                   "TMPDIR": str(wd.resolve() / adapter.TMP_DIR)}
    laptop, team = command(wd), command(wd, setup=TEAM)
    assert laptop[laptop.index("--workflow-profile") + 1] == "none"
    assert team[team.index("--workflow-profile") + 1] == str(adapter.TEAM_PROFILE)


# -- what snakemake reruns after each change (the harness's rerun scenario) ----------------

@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    adapters = registry.load(("core.adapter", "impl_snakemake.adapter")).by_name()
    return Workspace(tmp_path_factory.mktemp("rerun"), "tools-snakemake", adapters, QUICK)


def rerun_cell(ws: Workspace, change: str, mode: str):
    slot = plan.Slot("snakemake", mode, "rerun", variant=change, format=DEFAULT_FORMAT,
                     selection="rerun")
    rec = execute(ws, SCENARIOS, plan.Execution(slot, round=1))
    assert rec.status == "ok", f"{rec.detail.error}\n{rec.stderr_tail}"
    return rec


TRAIN_ON = ("train", "predict", "evaluate")
# (mode, change) -> (classification, steps executed, a phrase of snakemake's reason)
RERUN = {
    (SCRIPT, "data"): ("exact", tuple(STEPS), "load: Updated input files: data/titanic.csv"),
    (SCRIPT, "param"): ("exact", TRAIN_ON, "train: Params have changed since last execution"),
    (SCRIPT, "core_code"): ("stale", (), "Nothing to be done"),  # imported code is not tracked
    # a script: rule's code is its script's mtime: any edit, a comment too, reruns train
    (SCRIPT, "wrapper_code"): ("exact", TRAIN_ON, "train: Code has changed since last execution"),
    (SCRIPT, "comment"): ("over-eager", TRAIN_ON, "train: Code has changed since last execution"),
    (SCRIPT, "touch"): ("exact", (), "Nothing to be done"),  # same checksum as recorded
    # --rerun-triggers mtime: neither params nor the script's time count
    (MTIME_TRIGGERS, "param"): ("stale", (), "Nothing to be done"),
    (MTIME_TRIGGERS, "wrapper_code"): ("stale", (), "Nothing to be done"),
    (MTIME_TRIGGERS, "comment"): ("exact", (), "Nothing to be done"),
}


@pytest.mark.parametrize("mode,change", sorted(RERUN))
def test_rerun_after_a_change(ws, mode, change):
    klass, executed, reason = RERUN[(mode, change)]
    rec = rerun_cell(ws, change, mode)
    assert (rec.detail.classification, rec.detail.executed) == (klass, executed)
    assert reason in rec.detail.reason, rec.detail.reason
    if executed == TRAIN_ON:
        assert "predict: Input files updated by another job: interim/model.pkl" \
            in rec.detail.reason, rec.detail.reason


def test_the_rerun_switch_is_the_script_mode_with_the_mtime_trigger(tmp_path):
    argv = ADAPTER.command(tmp_path, MTIME_TRIGGERS, setup=LAPTOP, fmt=DEFAULT_FORMAT, scale=1,
                           data=None, service_url=None)
    assert argv[argv.index("--mode") + 1:argv.index("--mode") + 4] == [
        SCRIPT, "--rerun-triggers", "mtime"]
    assert [m.name for m in ADAPTER.rerun.switches] == [MTIME_TRIGGERS]


# -- snakemake's own views of the workflow ---------------------------------------------------

@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("snakemake-staged") / "wd"
    stage.stage(wd, params.Params())
    return wd


def test_dag_command_prints_the_pipeline_as_dot(staged):
    r = runner.ok(run(ADAPTER.dag_command(staged, SCRIPT), staged))
    labels = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', r.stdout, re.M))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", r.stdout, re.M)}
    assert edges == {("load", "preprocess"), ("preprocess", "train"), ("train", "predict"),
                     ("preprocess", "predict"), ("predict", "evaluate"),
                     ("preprocess", "evaluate"), ("predict", "all"), ("evaluate", "all")}
    assert r.steps == [] and not (staged / "out").exists()


CONDA_LINT = "Specify a conda environment or container for each rule."


@pytest.mark.parametrize("snakefile", [adapter.SNAKEFILE, adapter.RUN_JOBS_DIR / "Snakefile"],
                         ids=["script", "run_jobs"])
def test_snakefile_passes_snakemakes_linter_but_for_its_software_environment(staged,
                                                                            snakefile):
    """The linter asks every script: rule for a conda environment or a container; these
    rules run in the project's own pinned environment, so that lint is the only one, once
    per step (run: rules are not asked)."""
    argv = [runner.PY, "-m", "snakemake", "--lint", "--snakefile", str(snakefile),
            "--directory", str(staged), "--workflow-profile", "none"]
    r = run(argv, staged)
    linted = re.findall(r"^Lints for rule (\w+) ", r.stdout + r.stderr, re.M)
    lints = re.findall(r"^\s+\* (.*):$", r.stdout + r.stderr, re.M)
    if snakefile == adapter.SNAKEFILE:
        assert r.rc == 1 and linted == STEPS, r.stdout + r.stderr
        assert lints == [CONDA_LINT] * len(STEPS), r.stdout + r.stderr
    else:
        assert r.rc == 0 and linted == [] and lints == [], r.stdout + r.stderr
