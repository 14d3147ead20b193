"""The luigi implementation against the plain baseline: equivalence, resume, crash, leaks, luigid.

Every run goes through tests/runner.py (new session, private HOME, trace) with the adapter's
command and environment, as the harness runs it.
"""
from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from core import FORMATS, layout, stage
from core.params import Params
from impl_luigi import adapter
from tests import runner
from tests.inputs import kaggle_csv

STEPS = list(runner.STEPS)
TASK_FAILED = 30  # [retcode] task_failed in impl_luigi/luigi.cfg
ALREADY_RUNNING = 10  # [retcode] already_running
LUIGI_LOCK_DIR = Path(tempfile.gettempdir()) / "luigi"


def home_of(wd: Path) -> Path:
    return wd.parent / f"{wd.name}.home"


def run(wd: Path, *, fmt="parquet", scale=1, mode="local", url=None, data=None,
        with_adapter_env=True, **inject) -> runner.Result:
    argv = adapter.command(wd, mode, fmt=fmt, scale=scale, data=data, service_url=url)
    return run_argv(argv, wd, mode=mode, url=url, with_adapter_env=with_adapter_env, **inject)


def run_argv(argv, wd: Path, *, mode="local", url=None, with_adapter_env=True, **inject):
    env = runner.base_env(home_of(wd))
    if with_adapter_env:
        env.update(adapter.environment(wd, mode, service_url=url))
    result = runner.run(argv, wd, env=env, **inject)
    assert result.survivors == [], result.survivors
    return result


def temp_files(wd: Path) -> list[str]:
    return sorted(f for f in runner.files_in(wd) if "-luigi-tmp-" in f)


def lock_files() -> set[str]:
    return {p.name for p in LUIGI_LOCK_DIR.iterdir()} if LUIGI_LOCK_DIR.is_dir() else set()


def expected_files(fmt: str) -> set[str]:
    artefacts = {f for outs in layout.outputs(fmt).values() for f in outs}
    return artefacts | {layout.DATA, layout.PARAMS}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """One complete local run per format, made on first use and shared by the tests that
    only read it (or copy it before changing it)."""
    done: dict[str, tuple[Path, runner.Result, set[str]]] = {}

    def get(fmt: str):
        if fmt not in done:
            wd = tmp_path_factory.mktemp(f"luigi-{fmt}") / "wd"
            locks_before = lock_files()
            result = runner.ok(run(wd, fmt=fmt))
            done[fmt] = (wd, result, lock_files() - locks_before)
        return done[fmt]
    return get


# -- equivalence --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_predictions_and_metrics_match_the_baseline(clean_run, baseline_outputs, fmt):
    wd, result, _ = clean_run(fmt)
    assert runner.predictions_sha(wd) == baseline_outputs[fmt][0]
    assert (wd / layout.METRICS).read_text() == baseline_outputs[fmt][1]
    assert result.steps == STEPS
    assert result.stderr == "" and result.stdout == ""  # WARNING level: a clean run is silent


@pytest.mark.parametrize("fmt", FORMATS)
def test_nothing_is_written_outside_the_workdir(clean_run, fmt):
    wd, _, new_locks = clean_run(fmt)
    assert runner.files_in(wd) == expected_files(fmt)  # luigi's only state is its targets
    assert not home_of(wd).exists() or list(home_of(wd).iterdir()) == []
    assert new_locks == set()  # no pid lock in /tmp/luigi


# -- resume after an exception -------------------------------------------------------------

@pytest.mark.parametrize("step", STEPS)
def test_rerun_after_failure_runs_the_failed_step_and_after(tmp_path, baseline_outputs, step):
    wd = tmp_path / "wd"
    before = STEPS[:STEPS.index(step)]
    failed = run(wd, fail_at=step)
    assert failed.rc == TASK_FAILED, failed.stderr
    assert "InjectedFailure" in failed.stderr  # the task's error, despite WARNING level
    assert "This progress looks :( because there were failed tasks" in failed.stderr
    assert failed.steps == before
    assert temp_files(wd) == []  # the exception came before any write
    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[STEPS.index(step):]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_failure_exits_non_zero_without_the_adapter_environment(tmp_path):
    """The command adds luigi.cfg itself, so a user typing it gets the same exit status."""
    wd = tmp_path / "wd"
    failed = run(wd, fail_at="load", with_adapter_env=False)
    assert failed.rc == TASK_FAILED, failed.stderr
    assert "InjectedFailure" in failed.stderr


def test_noop_rerun_executes_no_step(clean_run, tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    shutil.copytree(clean_run("parquet")[0], wd)
    mtimes = {f: (wd / f).stat().st_mtime_ns for f in runner.files_in(wd)}
    rerun = runner.ok(run(wd))
    assert rerun.steps == [] and rerun.spans == []
    assert {f: (wd / f).stat().st_mtime_ns for f in runner.files_in(wd)} == mtimes
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_changed_parameters_are_not_noticed_in_a_complete_workdir(clean_run, tmp_path):
    """luigi's only completeness rule is that the outputs exist: a new scale is staged into
    params.yaml but nothing reruns. Recorded here as the tool's behaviour, not hidden."""
    wd = tmp_path / "wd"
    shutil.copytree(clean_run("parquet")[0], wd)
    rerun = runner.ok(run(wd, scale=2))
    assert "scale: 2" in (wd / layout.PARAMS).read_text()
    assert rerun.steps == []


# -- hard crash -----------------------------------------------------------------------------

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
    assert adapter.recovery_commands(wd, "local", fmt="parquet", scale=1) == []


# -- the DAG as luigi prints it ---------------------------------------------------------------

def test_dag_command_prints_luigis_tree_with_completion(clean_run, tmp_path):
    staged = tmp_path / "staged"
    stage.stage(staged, Params())
    for wd, state in ((staged, "PENDING"), (clean_run("parquet")[0], "COMPLETE")):
        result = runner.ok(run_argv(adapter.dag_command(wd, "local"), wd))
        for task in ("Evaluate", "Predict", "Train", "Preprocess", "Load"):
            line = next(li for li in result.stdout.splitlines() if f"[{task}-" in li)
            assert state in line and str(wd) in line
        assert "StagedData" in result.stdout and "StagedParams" in result.stdout


def test_kaggle_train_csv_runs_end_to_end(tmp_path):
    csv = kaggle_csv(tmp_path / "train.csv")
    wd = tmp_path / "wd"
    result = runner.ok(run(wd, data=str(csv)))
    assert result.steps == STEPS
    lines = (wd / layout.PREDICTIONS).read_text().splitlines()
    assert len(lines) == 1 + 24  # header and the 20 % test side of 120 passengers


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("extra,expected", [
    (["--data", "/nonexistent/titanic.csv"], "data file not found"),
    (["--scale", "0"], "--scale"),
    (["--mode", "luigid"], "--scheduler-url"),
])
def test_bad_input_gets_one_line_and_nonzero_exit(tmp_path, extra, expected):
    wd = tmp_path / "wd"
    argv = [runner.PY, "-m", "impl_luigi", "--workdir", str(wd), *extra]
    result = run_argv(argv, wd)
    assert result.rc != 0 and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (wd / layout.PREDICTIONS).exists()


# -- a central luigid -----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.load(reply)


class Luigid:
    def __init__(self, root: Path):
        self.state_dir, self.home = root / "state", root / "home"
        self.state_dir.mkdir(parents=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = runner.base_env(self.home)
        env.update(adapter.service_environment("luigid", self.state_dir))
        self.proc = subprocess.Popen(
            adapter.service_command("luigid", self.state_dir, self.port), env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def wait_until_healthy(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                _get_json(self.url + adapter.service_health_path("luigid"))
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"luigid did not come up (rc={self.proc.poll()})")
                time.sleep(0.2)

    def tasks(self, status: str) -> dict:
        query = urllib.parse.quote(json.dumps({"status": status}))
        return _get_json(f"{self.url}/api/task_list?data={query}")["response"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def luigid(tmp_path_factory):
    server = Luigid(tmp_path_factory.mktemp("luigid"))
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()


def _tasks_of(tasks: dict, wd: Path) -> set[str]:
    return {t["name"] for t in tasks.values() if t["params"].get("workdir") == str(wd)}


def test_luigid_runs_back_to_back_workdirs_and_sees_their_tasks(luigid, tmp_path,
                                                                 baseline_outputs):
    """Two runs seconds apart in different workdirs: the workdir parameter gives each its own
    task ids, so luigid's stable_done_cooldown_secs cannot mix them up."""
    locks_before = lock_files()
    for name in ("first", "second"):
        wd = tmp_path / name
        result = runner.ok(run(wd, mode="luigid", url=luigid.url))
        assert result.steps == STEPS
        assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
        assert runner.files_in(wd) == expected_files("parquet")
        assert not home_of(wd).exists() or list(home_of(wd).iterdir()) == []
        assert _tasks_of(luigid.tasks("DONE"), wd) == {
            "Load", "Preprocess", "Train", "Predict", "Evaluate", "StagedData", "StagedParams"}
    assert lock_files() == locks_before
    assert not luigid.home.exists() or list(luigid.home.iterdir()) == []


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

    commands = adapter.recovery_commands(wd, "luigid", fmt="parquet", scale=1,
                                         service_url=luigid.url)
    assert len(commands) == 2
    results = [run_argv(argv, wd, mode="luigid", url=luigid.url) for argv in commands]
    assert [r.rc for r in results] == [0, 0], results[-1].stderr
    assert results[-1].steps == STEPS[1:]
    assert runner.predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert len(temp_files(wd)) == 1  # the killed write's temp file, as in local mode
