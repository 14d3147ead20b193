"""What is specific to luigi: its exit codes, its temp files after a kill, its tree printer,
a parameter change it does not notice, and the central luigid (started by the harness's own
server code). The contract every tool keeps is tests/conformance."""
from __future__ import annotations

import json
import shutil
import signal
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bench.engine.services import Server
from core import layout, stage
from core.params import Params
from impl_luigi.adapter import ADAPTER
from tests.helpers import runner

STEPS = list(runner.STEPS)
TASK_FAILED = 30  # [retcode] task_failed in impl_luigi/luigi.cfg
ALREADY_RUNNING = 10  # [retcode] already_running


def run(wd: Path, *, fmt="parquet", scale=1, mode="local", url=None, data=None,
        with_adapter_env=True, **inject) -> runner.Result:
    argv = ADAPTER.command(wd, mode, fmt=fmt, scale=scale, data=data, service_url=url)
    return run_argv(argv, wd, mode=mode, url=url, with_adapter_env=with_adapter_env, **inject)


def run_argv(argv, wd: Path, *, mode="local", url=None, with_adapter_env=True, **inject):
    env = runner.base_env(wd)
    if with_adapter_env:
        env.update(ADAPTER.environment(wd, mode, service_url=url))
    result = runner.run(argv, wd, env=env, **inject)
    assert result.survivors == [], result.survivors
    return result


def temp_files(wd: Path) -> list[str]:
    return sorted(f for f in runner.files_in(wd) if "-luigi-tmp-" in f)


def expected_files(fmt: str) -> set[str]:
    artefacts = {f for outs in layout.outputs(fmt).values() for f in outs}
    return artefacts | {layout.DATA, layout.PARAMS}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("luigi") / "wd"
    result = runner.ok(run(wd))
    assert result.stderr == "" and result.stdout == ""  # WARNING level: a clean run is silent
    assert runner.files_in(wd) == expected_files("parquet")  # luigi's only state: its targets
    return wd


def test_a_failed_task_exits_with_luigis_task_failed_code_and_says_why(tmp_path):
    wd = tmp_path / "wd"
    failed = run(wd, fail_at="train")
    assert failed.rc == TASK_FAILED, failed.stderr
    assert "InjectedFailure" in failed.stderr  # the task's error, despite WARNING level
    assert "This progress looks :( because there were failed tasks" in failed.stderr
    assert temp_files(wd) == []  # the exception came before any write


def test_failure_exits_non_zero_without_the_adapter_environment(tmp_path):
    """The command adds luigi.cfg itself, so a user typing it gets the same exit status."""
    wd = tmp_path / "wd"
    failed = run(wd, fail_at="load", with_adapter_env=False)
    assert failed.rc == TASK_FAILED, failed.stderr
    assert "InjectedFailure" in failed.stderr


def test_changed_parameters_are_not_noticed_in_a_complete_workdir(clean_run, tmp_path):
    """luigi's only completeness rule is that the outputs exist: a new scale is staged into
    params.yaml but nothing reruns. Recorded here as the tool's behaviour, not hidden."""
    wd = tmp_path / "wd"
    shutil.copytree(clean_run, wd)
    rerun = runner.ok(run(wd, scale=2))
    assert "scale: 2" in (wd / layout.PARAMS).read_text()
    assert rerun.steps == []


def test_crash_midway_through_a_write_leaves_a_temp_file_and_the_rerun_recovers(
        tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    crashed = run(wd, crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL
    assert crashed.steps == ["load", "preprocess"]
    leftovers = temp_files(wd)
    # What a SIGKILL leaves: half of the first preprocess output under luigi's temporary
    # name; the output names themselves do not exist, so complete() cannot be fooled.
    assert len(leftovers) == 1
    assert leftovers[0].startswith(layout.train_features("parquet") + "-luigi-tmp-")
    assert not (wd / layout.train_features("parquet")).exists()
    assert not (wd / layout.test_features("parquet")).exists()
    partial_bytes = (wd / leftovers[0]).stat().st_size

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[1:]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    # luigi never cleans up after a killed task: the temp file stays until a user removes it.
    assert temp_files(wd) == leftovers
    assert 0 < partial_bytes < (wd / layout.train_features("parquet")).stat().st_size
    assert ADAPTER.recovery_commands(wd, "local", fmt="parquet", scale=1, data=None,
                                     service_url=None) == []


def test_dag_command_prints_luigis_tree_with_completion(clean_run, tmp_path):
    staged = tmp_path / "staged"
    stage.stage(staged, Params())
    for wd, state in ((staged, "PENDING"), (clean_run, "COMPLETE")):
        result = runner.ok(run_argv(ADAPTER.dag_command(wd, "local"), wd))
        for task in ("Evaluate", "Predict", "Train", "Preprocess", "Load"):
            line = next(li for li in result.stdout.splitlines() if f"[{task}-" in li)
            assert state in line and str(wd) in line
        assert "StagedData" in result.stdout and "StagedParams" in result.stdout


def test_luigid_mode_without_a_scheduler_url_gets_one_line(tmp_path):
    wd = tmp_path / "wd"
    result = run_argv([runner.PY, "-m", "impl_luigi", "--workdir", str(wd), "--mode", "luigid"],
                      wd)
    assert result.rc == 2 and "--scheduler-url" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- a central luigid, started and stopped as the harness does it ---------------------------

def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.load(reply)


class Luigid(Server):
    def tasks(self, status: str) -> dict:
        query = urllib.parse.quote(json.dumps({"status": status}))
        return _get_json(f"{self.url}/api/task_list?data={query}")["response"]


@pytest.fixture(scope="module")
def luigid(tmp_path_factory):
    root = tmp_path_factory.mktemp("luigid")
    server = Luigid(ADAPTER, ADAPTER.service_for("luigid"), root / "state", root / "logs",
                    ADAPTER.env_prefixes)
    try:
        server.start()
        yield server
    finally:
        server.stop()
    assert server.info["stopped"] == "SIGTERM" and "survivors" not in server.info


def _tasks_of(tasks: dict, wd: Path) -> set[str]:
    return {t["name"] for t in tasks.values() if t["params"].get("workdir") == str(wd)}


def test_luigid_runs_back_to_back_workdirs_and_sees_their_tasks(luigid, tmp_path,
                                                                 baseline_outputs):
    """Two runs seconds apart in different workdirs: the workdir parameter gives each its own
    task ids, so luigid's stable_done_cooldown_secs cannot mix them up."""
    for name in ("first", "second"):
        wd = tmp_path / name
        result = runner.ok(run(wd, mode="luigid", url=luigid.url))
        assert result.steps == STEPS
        assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
        assert runner.files_in(wd) == expected_files("parquet")
        for place in runner.outside(wd):
            assert not place.exists() or list(place.iterdir()) == []
        assert _tasks_of(luigid.tasks("DONE"), wd) == {
            "Load", "Preprocess", "Train", "Predict", "Evaluate", "StagedData", "StagedParams"}


def test_luigid_rerun_after_failure_resumes(luigid, tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    failed = run(wd, mode="luigid", url=luigid.url, fail_at="train")
    assert failed.rc == TASK_FAILED and "InjectedFailure" in failed.stderr
    assert "Train" in _tasks_of(luigid.tasks("FAILED"), wd)
    rerun = runner.ok(run(wd, mode="luigid", url=luigid.url))
    assert rerun.steps == ["train", "predict", "evaluate"]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_luigid_refuses_a_crashed_task_until_it_lets_go_then_the_recovery_works(
        luigid, tmp_path, baseline_outputs):
    """After a SIGKILL luigid still believes the dead worker runs preprocess: the plain rerun
    is refused (already_running, with luigi's summary saying why) until luigid drops the
    worker (worker_disconnect_delay plus its 60 s pruning cycle). The declared recovery waits
    for that and reruns."""
    wd = tmp_path / "wd"
    crashed = run(wd, mode="luigid", url=luigid.url, crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL
    assert "Preprocess" in _tasks_of(luigid.tasks("RUNNING"), wd)

    refused = run(wd, mode="luigid", url=luigid.url)
    assert refused.rc == ALREADY_RUNNING, refused.stderr
    assert "were being run by another worker" in refused.stderr
    assert refused.steps == [] and not (wd / layout.PREDICTIONS).exists()

    commands = ADAPTER.recovery_commands(wd, "luigid", fmt="parquet", scale=1, data=None,
                                         service_url=luigid.url)
    assert len(commands) == 2
    results = [run_argv(argv, wd, mode="luigid", url=luigid.url) for argv in commands]
    assert [r.rc for r in results] == [0, 0], results[-1].stderr
    assert results[-1].steps == STEPS[1:]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert len(temp_files(wd)) == 1  # the killed write's temp file, as in local mode
