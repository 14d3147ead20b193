"""What is specific to Metaflow: every `run` is a new run that executes every step (after a
complete run as after a failed one), `resume` (the declared recovery command) clones the
finished tasks of the failed run and executes only the rest, after an exception, after the
whole process group was killed and after only the task's process was; the files mode hands
over files in the chosen format while the artifacts mode hands over none; all state stays in
the workdir, also when the command is typed without the adapter's variables. The contract
every tool keeps is tests/conformance.

A Metaflow run starts one process per task (7 for the pipeline), so runs are shared between
tests through module fixtures. Commands run with the workdir as cwd, as the harness runs them.
"""
from __future__ import annotations

import itertools
import json
import re
import shutil
import signal
from pathlib import Path

import pytest

from bench.engine import process
from core import layout
from impl_metaflow import adapter
from impl_metaflow.adapter import ADAPTER
from tests.helpers import runner

pytestmark = pytest.mark.slow
STEPS = list(runner.STEPS)
TASKS = ["start", *STEPS, "end"]  # Metaflow requires `start` and `end`
FLOWS = {"artifacts": "TitanicFlow", "files": "TitanicFilesFlow"}
_seq = itertools.count(1)


def run(argv: list[str], wd: Path, mode: str = "artifacts", *, with_adapter_env: bool = True,
        **inject: str) -> runner.Result:
    """Run argv in `wd` as the harness does (cwd = the workdir, a new session), with HOME and
    TMPDIR outside it; inject: BENCH_FAIL_AT / BENCH_CRASH_AT / BENCH_CRASH_JOB_AT by step.
    Then check that the run left nothing outside the workdir."""
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
    assert not (wd.parent / adapter.DATASTORE).exists() and not (
        runner.REPO / adapter.DATASTORE).exists(), "a .metaflow outside the workdir"
    return result


def pipeline(wd: Path, mode: str = "artifacts", fmt: str = "parquet", **kwargs):
    argv = ADAPTER.command(wd, mode, setup="laptop", fmt=fmt, scale=1, data=None,
                           service_url=None)
    return run(argv, wd, mode, **kwargs)


def recover(wd: Path, mode: str = "artifacts") -> list[runner.Result]:
    """The declared recovery commands, in order, as the harness runs them."""
    commands = ADAPTER.recovery_commands(wd, mode, setup="laptop", fmt="parquet", scale=1,
                                         data=None, service_url=None)
    assert commands, "Metaflow's recovery is `resume`"
    return [runner.ok(run(argv, wd, mode)) for argv in commands]


def run_ids(text: str) -> list[str]:
    return re.findall(r"Workflow starting \(run-id (\d+)\)", text)


def tasks_started(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\[\d+/(\w+)/\d+ \(pid \d+\)\] Task is starting",
                                         text)))


def tasks_cloned(text: str) -> list[str]:
    return sorted(set(re.findall(r"Cloning previously run task \d+/(\w+)/\d+", text)))


def runs_recorded(wd: Path, mode: str = "artifacts") -> list[str]:
    """Run ids in the local metadata: .metaflow/<Flow>/<run-id>/."""
    flow = wd / adapter.DATASTORE / FLOWS[mode]
    return sorted(p.name for p in flow.iterdir() if p.name.isdigit())


def copy_workdir(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The command as a user types it, without any Metaflow variable: it must keep Metaflow's
    state in the workdir by itself."""
    wd = tmp_path_factory.mktemp("metaflow-clean") / "wd"
    result = runner.ok(pipeline(wd, with_adapter_env=False))
    return wd, result


@pytest.fixture(scope="module")
def failed_at_train(tmp_path_factory):
    wd = tmp_path_factory.mktemp("metaflow-failed") / "wd"
    result = pipeline(wd, fail_at="train")
    return wd, result


# ------------------------------------------------------------------ state and hand-off

def test_a_run_keeps_its_state_in_the_workdir_and_hands_no_file_over(clean_run,
                                                                      baseline_outputs):
    wd, result = clean_run
    assert result.steps == STEPS and tasks_started(result.stdout) == TASKS
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    # artifacts: the values live in Metaflow's datastore, and core wrote only the deliverables
    produced = {f for f in runner.files_in(wd) if not f.startswith(adapter.DATASTORE + "/")}
    assert produced == {layout.DATA, layout.PARAMS, layout.PREDICTIONS, layout.METRICS}
    assert len(runs_recorded(wd)) == 1
    assert any(f.startswith(f"{adapter.DATASTORE}/TitanicFlow/data/")
               for f in runner.files_in(wd))


def test_the_files_mode_hands_over_files_in_the_chosen_format(tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    result = runner.ok(pipeline(wd, "files", fmt="csv"))
    assert result.steps == STEPS
    interim = sorted(f for f in runner.files_in(wd) if f.startswith("interim/"))
    assert interim == sorted(f for step in layout.outputs("csv").values() for f in step
                             if f.startswith("interim/"))
    assert any(f.endswith(".csv") for f in interim) and not any(
        f.endswith((".parquet", ".pkl")) and "features" in f for f in interim)
    writes = {s["step"] for s in result.spans if s["kind"] == "write"}
    assert writes == set(STEPS)  # every step hands its output over through core.io
    assert runner.predictions_sha(wd) == baseline_outputs["csv"][0]


# ------------------------------------------------------------------ reruns

def test_a_rerun_of_a_complete_run_is_a_new_run_of_every_step(clean_run, tmp_path,
                                                              baseline_outputs):
    """The noop finding: Metaflow has no rule that could skip a step of a new run."""
    wd = copy_workdir(clean_run[0], tmp_path / "wd")
    first_id = run_ids(clean_run[1].stdout)
    rerun = runner.ok(pipeline(wd))
    assert rerun.steps == STEPS and tasks_started(rerun.stdout) == TASKS
    assert run_ids(rerun.stdout) != first_id and tasks_cloned(rerun.stdout) == []
    assert len(runs_recorded(wd)) == 2
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    reason = ADAPTER.rerun.reason(rerun.stdout, rerun.stderr, [])
    assert "new run" in reason and all(task in reason for task in TASKS)


def test_resume_after_a_complete_run_clones_every_task_and_computes_nothing(clean_run,
                                                                            tmp_path):
    wd = copy_workdir(clean_run[0], tmp_path / "wd")
    (resumed,) = recover(wd)
    assert resumed.steps == [] and tasks_started(resumed.stdout) == []
    assert tasks_cloned(resumed.stdout) == sorted(TASKS)


def test_the_failed_run_says_which_step_failed(failed_at_train):
    wd, failed = failed_at_train
    assert failed.rc == 1, failed.stderr
    assert failed.steps == ["load", "preprocess"]
    assert "Step train (task-id" in failed.stderr and "failed." in failed.stderr
    assert "InjectedFailure" in failed.stdout + failed.stderr
    assert not (wd / layout.PREDICTIONS).exists()


def test_a_plain_rerun_after_a_failure_is_a_new_run_of_every_step(failed_at_train, tmp_path,
                                                                  baseline_outputs):
    wd = copy_workdir(failed_at_train[0], tmp_path / "wd")
    rerun = runner.ok(pipeline(wd))
    assert rerun.steps == STEPS and tasks_cloned(rerun.stdout) == []
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_resume_after_a_failure_executes_only_the_unfinished_steps(failed_at_train, tmp_path,
                                                                   baseline_outputs):
    """In a copy of the failed workdir: the flow's `workdir` parameter is relative, so the
    resumed run (which keeps the origin's parameters) works in its own directory."""
    wd = copy_workdir(failed_at_train[0], tmp_path / "wd")
    failed_id = run_ids(failed_at_train[1].stdout)
    (resumed,) = recover(wd)
    assert resumed.steps == ["train", "predict", "evaluate"]
    assert tasks_cloned(resumed.stdout) == ["load", "preprocess", "start"]
    assert tasks_started(resumed.stdout) == ["train", "predict", "evaluate", "end"]
    assert f"Cloning {FLOWS['artifacts']}/{failed_id[0]}" in resumed.stdout
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert (wd / layout.METRICS).read_text() == baseline_outputs["parquet"][1]
    assert not (failed_at_train[0] / layout.PREDICTIONS).exists()  # nothing written there


# ------------------------------------------------------------------ crashes

def test_after_the_whole_group_is_killed_mid_write_resume_redoes_the_step(tmp_path,
                                                                          baseline_outputs):
    wd = tmp_path / "wd"
    crashed = pipeline(wd, "files", crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL  # the runtime is in the killed group too
    assert crashed.steps == ["load", "preprocess"]
    partial = wd / layout.train_features("parquet")
    assert partial.is_file() and not (wd / layout.test_features("parquet")).exists()
    half = partial.stat().st_size
    # Metaflow never recorded the task as done: no DONE marker in its metadata
    (task,) = (wd / adapter.DATASTORE / FLOWS["files"]).glob("*/preprocess/[0-9]*")
    assert not list(task.glob("*DONE*"))
    # the killed runtime's temporary file, held open for the whole run, stays in TMPDIR
    assert len(list((wd / adapter.TMP_DIR).iterdir())) == 1
    (resumed,) = recover(wd, "files")
    assert resumed.steps == ["preprocess", "train", "predict", "evaluate"]
    assert tasks_cloned(resumed.stdout) == ["load", "start"]
    assert partial.stat().st_size > half  # rewritten whole
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_after_only_the_tasks_process_is_killed_the_runtime_reports_it_and_resume_recovers(
        tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    crashed = pipeline(wd, crash_job_at="train")
    assert crashed.rc == 1, crashed.stderr  # Metaflow's runtime survives and fails the run
    assert "Step train (task-id" in crashed.stderr
    (attempt,) = (wd / adapter.DATASTORE / FLOWS["artifacts"]).glob("*/train/*/0.runtime")
    assert json.loads(attempt.read_text())["return_code"] == -signal.SIGKILL
    (resumed,) = recover(wd)
    assert resumed.steps == ["train", "predict", "evaluate"]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


# ------------------------------------------------------------------ the DAG

def test_dag_command_prints_metaflows_graph_in_order(tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    shown = runner.ok(run(ADAPTER.dag_command(wd, "artifacts"), wd)).stdout
    assert re.findall(r"^Step (\w+)", shown, re.M) == TASKS
    assert re.findall(r"=> (\w+)", shown) == TASKS[1:]
    assert not (wd / adapter.DATASTORE).exists()  # `show` runs nothing
