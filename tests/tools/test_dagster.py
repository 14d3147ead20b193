"""What is specific to Dagster: every `dagster asset materialize` is a new run of every asset
(after a complete run as after a failed one); re-execution from failure (the declared recovery
command) executes only the failed asset and those after it; the default executor runs each
asset in its own process and its in_process option all in one; the files mode hands over files
in the chosen format while the default IO manager pickles into the instance; all state stays in
the workdir's instance, also when the command is typed without the adapter's variables. The
contract every tool keeps is tests/conformance.

Runs are shared between tests through module fixtures. Commands run with the workdir as cwd,
as the harness runs them.
"""
from __future__ import annotations

import itertools
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from bench.engine import process
from core import layout
from impl_dagster import adapter
from impl_dagster.adapter import ADAPTER
from tests.helpers import runner

pytestmark = pytest.mark.slow
STEPS = list(runner.STEPS)
_seq = itertools.count(1)


def run(argv: list[str], wd: Path, mode: str = "pickles", *, with_adapter_env: bool = True,
        **inject: str) -> runner.Result:
    """Run argv in `wd` as the harness does (cwd = the workdir, a new session), with HOME and
    TMPDIR outside it; inject: BENCH_FAIL_AT / BENCH_CRASH_AT by step. Then check that the
    run left nothing outside the workdir."""
    wd.mkdir(parents=True, exist_ok=True)
    env = runner.base_env(wd)
    if with_adapter_env:
        env |= ADAPTER.environment(wd, mode, setup="laptop", service_url=None,
                                   home=wd.parent / "tool-home")
    scratch = wd.parent / f"{wd.name}.run-{next(_seq)}"
    trace = scratch / "trace.jsonl"
    env["BENCH_TRACE"] = str(trace)
    env |= {f"BENCH_{name.upper()}": step for name, step in inject.items()}
    o = process.run(argv, env=env, cwd=wd, logs=scratch, timeout_s=900, label="run")
    result = runner.Result(o.exit_code, o.stdout_text, o.stderr_text, process.read_trace(trace),
                           o.survivors)
    assert result.survivors == [], result.survivors
    for place in runner.outside(wd):
        assert sorted(p.name for p in place.iterdir()) == [], f"the run wrote into {place}"
    return result


def pipeline(wd: Path, mode: str = "pickles", fmt: str = "parquet", **kwargs):
    argv = ADAPTER.command(wd, mode, setup="laptop", fmt=fmt, scale=1, data=None,
                           service_url=None)
    return run(argv, wd, mode, **kwargs)


def steps_started(text: str) -> list[str]:
    return re.findall(r'STEP_START - Started execution of step "(\w+)"', text)


def runs_recorded(wd: Path) -> list[tuple[str, str]]:
    """(status, parent run id) of every run in the workdir's instance, oldest first."""
    with sqlite3.connect(wd / adapter.HOME_DIR / "history" / "runs.db") as db:
        rows = db.execute("select status, run_body from runs order by id").fetchall()
    return [(status, (re.search(r'"parent_run_id": "([^"]+)"', body) or [None, None])[1])
            for status, body in rows]


def copy_workdir(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The command as a user types it, without DAGSTER_HOME: it must keep Dagster's instance
    in the workdir by itself."""
    wd = tmp_path_factory.mktemp("dagster-clean") / "wd"
    return wd, runner.ok(pipeline(wd, with_adapter_env=False))


@pytest.fixture(scope="module")
def failed_at_train(tmp_path_factory):
    wd = tmp_path_factory.mktemp("dagster-failed") / "wd"
    return wd, pipeline(wd, fail_at="train")


# ------------------------------------------------------------------ state and hand-off

def test_a_run_keeps_its_instance_in_the_workdir_and_pickles_every_asset(clean_run,
                                                                         baseline_outputs):
    wd, result = clean_run
    assert result.steps == STEPS and steps_started(result.stderr) == STEPS
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert "enabled: false" in (wd / adapter.HOME_DIR / "dagster.yaml").read_text()
    produced = {f for f in runner.files_in(wd) if not f.startswith(adapter.HOME_DIR + "/")}
    assert produced == {layout.DATA, layout.PARAMS, layout.PREDICTIONS, layout.METRICS}
    storage = wd / adapter.HOME_DIR / "storage"
    assert all((storage / step).is_file() for step in STEPS)  # the default IO manager
    assert runs_recorded(wd) == [("SUCCESS", None)]


def test_the_default_executor_runs_each_asset_in_its_own_process(clean_run):
    pids = {s["step"]: s["pid"] for s in clean_run[1].spans if s["kind"] == "compute"}
    assert len(set(pids.values())) == len(STEPS)


def test_the_in_process_option_runs_every_asset_in_one_process(tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    result = runner.ok(pipeline(wd, "in_process"))
    assert result.steps == STEPS
    assert len({s["pid"] for s in result.spans if s["kind"] == "compute"}) == 1
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_the_files_mode_hands_over_files_in_the_chosen_format(tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    result = runner.ok(pipeline(wd, "files", fmt="csv"))
    assert result.steps == STEPS
    interim = sorted(f for f in runner.files_in(wd) if f.startswith("interim/"))
    assert interim == sorted(f for step in layout.outputs("csv").values() for f in step
                             if f.startswith("interim/"))
    assert not (wd / adapter.HOME_DIR / "storage" / "load").exists()  # no pickles
    writes = {s["step"] for s in result.spans if s["kind"] == "write"}
    assert writes == set(STEPS)  # every step hands its output over through core.io
    assert runner.predictions_sha(wd) == baseline_outputs["csv"][0]


# ------------------------------------------------------------------ reruns

def test_a_rerun_of_a_complete_run_is_a_new_run_of_every_asset(clean_run, tmp_path,
                                                               baseline_outputs):
    wd = copy_workdir(clean_run[0], tmp_path / "wd")
    rerun = runner.ok(pipeline(wd))
    assert rerun.steps == STEPS and steps_started(rerun.stderr) == STEPS
    assert runs_recorded(wd) == [("SUCCESS", None), ("SUCCESS", None)]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_the_failed_run_says_which_asset_failed(failed_at_train):
    wd, failed = failed_at_train
    assert failed.rc == 1, failed.stderr
    assert failed.steps == ["load", "preprocess"]
    assert 'Execution of step "train" failed' in failed.stderr
    assert "InjectedFailure" in failed.stderr and "Materialization failed" in failed.stderr
    assert runs_recorded(wd) == [("FAILURE", None)]
    assert not (wd / layout.PREDICTIONS).exists()


def test_reexecution_from_failure_executes_only_the_unfinished_assets(failed_at_train,
                                                                      tmp_path,
                                                                      baseline_outputs):
    """In a copy of the failed workdir: the stored outputs are found through the instance of
    the current DAGSTER_HOME, so the re-execution works in its own directory."""
    wd = copy_workdir(failed_at_train[0], tmp_path / "wd")
    (argv,) = ADAPTER.recovery_commands(wd, "pickles", setup="laptop", fmt="parquet",
                                        scale=1, data=None, service_url=None)
    again = runner.ok(run(argv, wd))
    assert again.steps == ["train", "predict", "evaluate"]
    assert steps_started(again.stderr) == ["train", "predict", "evaluate"]
    (failed_id,) = re.findall(r"__ASSET_JOB - ([0-9a-f-]{36}) - ", failed_at_train[1].stderr)[:1]
    assert runs_recorded(wd) == [("FAILURE", None), ("SUCCESS", failed_id)]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert not (failed_at_train[0] / layout.PREDICTIONS).exists()  # nothing written there


def test_reexecution_without_a_failed_run_refuses_in_one_line(clean_run, tmp_path):
    wd = copy_workdir(clean_run[0], tmp_path / "wd")
    (argv,) = ADAPTER.recovery_commands(wd, "pickles", setup="laptop", fmt="parquet",
                                        scale=1, data=None, service_url=None)
    refused = run(argv, wd)
    assert refused.rc == 1 and refused.stderr.strip().splitlines() == [
        "error: no failed run in this Dagster instance to re-execute"]


# ------------------------------------------------------------------ the DAG

def test_dag_command_prints_dagsters_asset_graph_in_order(tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    shown = runner.ok(run(ADAPTER.dag_command(wd, "pickles"), wd)).stdout
    assert re.findall(r"^(\w+) <- ", shown, re.M) == STEPS
    assert "predict <- preprocess, train:" in shown
    assert not (wd / adapter.HOME_DIR).exists()  # nothing materialized
