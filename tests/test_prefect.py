"""The prefect implementation, run for real: equivalence, resume, crash, server, leaks, bad input.

Every run of the default modes pays 10-20 s of start-up (prefect's temporary API server), so
each run happens once, in a module fixture that records what the tests then assert. Workdirs
after the first get a copy of a pre-initialised `.prefect` (as on a machine that ran prefect
before); it carries no cache, which every "all steps executed" assertion below confirms.
The files hand-off's resume and crash matrix runs against one standing `prefect server`
(3-7 s a run): resuming is decided by the tasks' cache policy and the results persisted in the
workdir, the same whichever API records the runs; the default mode's matrix runs as measured.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from core import layout
from impl_prefect import adapter
from tests import runner

pytestmark = pytest.mark.slow
STEPS = list(runner.STEPS)
FORMATS = ("csv", "pickle", "parquet")
DEFAULT_FORMAT = "parquet"
PREFECT = [runner.PY, "-m", "impl_prefect"]


def run(argv: list[str], wd: Path, mode: str = "memory", *, service_url: str | None = None,
        with_adapter_env: bool = True, **kwargs) -> runner.Result:
    """Run like the harness, then check the run left nothing behind outside `wd`."""
    home = wd.parent / f"{wd.name}.home"
    env = runner.base_env(home)
    if with_adapter_env:
        env |= adapter.environment(wd, mode, service_url=service_url)
    r = runner.run(argv, wd, env=env, **kwargs)
    assert r.survivors == [], r.survivors
    assert sorted(p.name for p in home.iterdir()) == [], "the run wrote into HOME"
    assert not (runner.REPO / ".prefect").exists(), "prefect state outside the workdir"
    return r


def pipeline(wd: Path, mode: str = "memory", fmt: str = DEFAULT_FORMAT, *,
             service_url: str | None = None, **kwargs) -> runner.Result:
    argv = adapter.command(wd, mode, fmt=fmt, scale=1, service_url=service_url)
    return run(argv, wd, mode, service_url=service_url, **kwargs)


def outputs(wd: Path) -> tuple[str, str]:
    """What a run delivered, captured at once: later runs may rewrite the workdir."""
    return runner.sha256(wd / layout.PREDICTIONS), (wd / layout.METRICS).read_text()


def new_workdir(parent: Path, prefect_home: Path) -> Path:
    wd = parent / "wd"
    wd.mkdir(parents=True)
    shutil.copytree(prefect_home, wd / adapter.TOOL_HOME[0])
    return wd


# ------------------------------------------------------------------ first run and its reruns

@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """The command as a user types it, without any prefect variable: it must set its own."""
    wd = tmp_path_factory.mktemp("prefect-first") / "wd"
    r = run([*PREFECT, "--workdir", str(wd)], wd, with_adapter_env=False)
    return wd, r, (outputs(wd) if r.rc == 0 else None)


@pytest.fixture(scope="module")
def prefect_home(first_run, tmp_path_factory) -> Path:
    template = tmp_path_factory.mktemp("prefect-home") / adapter.TOOL_HOME[0]
    shutil.copytree(first_run[0] / adapter.TOOL_HOME[0], template)
    return template


@pytest.fixture(scope="module")
def noop_run(first_run, prefect_home):
    wd = first_run[0]
    return pipeline(wd), outputs(wd)


def test_first_run_matches_the_baseline_and_keeps_state_in_the_workdir(first_run,
                                                                        baseline_outputs):
    wd, r, delivered = first_run
    assert r.rc == 0, r.stderr
    assert r.steps == STEPS
    assert delivered == baseline_outputs[DEFAULT_FORMAT]
    assert (wd / adapter.TOOL_HOME[0] / "prefect.db").is_file()
    assert len(list((wd / adapter.RESULTS_DIR).iterdir())) == len(STEPS)
    assert r.stderr.strip() == "", r.stderr


def test_noop_rerun_executes_no_step(noop_run, first_run):
    r, delivered = noop_run
    assert r.rc == 0, r.stderr
    assert r.steps == []
    assert delivered == first_run[2]


# ------------------------------------------------------------------ files mode

@pytest.fixture(scope="module")
def files_runs(prefect_home, tmp_path_factory):
    done = {}
    for fmt in FORMATS:
        wd = new_workdir(tmp_path_factory.mktemp(f"prefect-files-{fmt}"), prefect_home)
        r = pipeline(wd, "files", fmt)
        done[fmt] = wd, r, (outputs(wd) if r.rc == 0 else None)
    return done


@pytest.mark.parametrize("fmt", FORMATS)
def test_files_mode_matches_the_baseline_for_each_format(files_runs, baseline_outputs, fmt):
    wd, r, delivered = files_runs[fmt]
    assert r.rc == 0, r.stderr
    assert r.steps == STEPS
    assert delivered == baseline_outputs[fmt]
    written = {rel for rels in layout.outputs(fmt).values() for rel in rels}
    assert all((wd / rel).is_file() for rel in written)
    assert {s["step"] for s in r.spans if s["kind"] == "write"} == set(STEPS)


def test_files_mode_noop_rerun_executes_no_step(files_runs):
    wd, _, delivered = files_runs["csv"]
    r = pipeline(wd, "files", "csv")
    assert r.rc == 0, r.stderr
    assert r.steps == []
    assert outputs(wd) == delivered


# ------------------------------------------------------------------ resume after a failure

def resume_runs(make_workdir, run_mode) -> dict:
    done = {}
    for step in STEPS:
        wd = make_workdir(step)
        failed = run_mode(wd, fail_at=step)
        rerun = run_mode(wd)
        done[step] = failed, rerun, (outputs(wd) if rerun.rc == 0 else None)
    return done


@pytest.fixture(scope="module")
def memory_resumes(prefect_home, tmp_path_factory):
    return resume_runs(
        lambda step: new_workdir(tmp_path_factory.mktemp(f"prefect-resume-{step}"), prefect_home),
        lambda wd, **kw: pipeline(wd, "memory", **kw))


@pytest.fixture(scope="module")
def files_resumes_on_server(prefect_server, tmp_path_factory):
    return resume_runs(
        lambda step: tmp_path_factory.mktemp(f"prefect-server-resume-{step}") / "wd",
        lambda wd, **kw: files_on_server(wd, prefect_server, **kw))


def files_on_server(wd: Path, url: str, **kwargs) -> runner.Result:
    """The files hand-off (`--mode files`) reporting to a standing server."""
    argv = adapter.command(wd, "files", fmt=DEFAULT_FORMAT, scale=1)
    return run(argv, wd, "server", service_url=url, **kwargs)


def check_resume(resumes: dict, step: str, baseline_outputs) -> None:
    failed, rerun, delivered = resumes[step]
    before = STEPS[:STEPS.index(step)]
    assert failed.rc == 1, failed.stderr
    assert failed.steps == before
    assert "InjectedFailure" in failed.stderr and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("error: prefect flow run ended")
    assert rerun.rc == 0, rerun.stderr
    assert rerun.steps == STEPS[len(before):]
    assert delivered == baseline_outputs[DEFAULT_FORMAT]


@pytest.mark.parametrize("step", STEPS)
def test_memory_mode_resumes_at_the_failed_step(memory_resumes, baseline_outputs, step):
    check_resume(memory_resumes, step, baseline_outputs)


@pytest.mark.parametrize("step", STEPS)
def test_files_mode_resumes_at_the_failed_step(files_resumes_on_server, baseline_outputs, step):
    check_resume(files_resumes_on_server, step, baseline_outputs)


# ------------------------------------------------------------------ hard crash

def check_crash_and_recovery(run_mode, wd: Path, baseline_outputs, mode: str) -> None:
    crashed = run_mode(wd, crash_at="preprocess")  # `run` asserts that nothing survived
    assert crashed.rc == -signal.SIGKILL
    assert crashed.steps == ["load", "preprocess"]
    partial = wd / layout.train_features(DEFAULT_FORMAT)
    assert partial.exists() == (mode == "files")  # only the files hand-off writes it, in place
    assert adapter.recovery_commands(wd, mode, fmt=DEFAULT_FORMAT, scale=1) == []
    rerun = run_mode(wd)
    assert rerun.rc == 0, rerun.stderr
    assert rerun.steps == STEPS[1:]
    assert outputs(wd) == baseline_outputs[DEFAULT_FORMAT]


def test_crash_kills_the_run_and_its_temporary_server_and_the_rerun_recovers(
        prefect_home, tmp_path, baseline_outputs):
    check_crash_and_recovery(lambda wd, **kw: pipeline(wd, "memory", **kw),
                             new_workdir(tmp_path, prefect_home), baseline_outputs, "memory")


def test_files_mode_crash_leaves_a_partial_file_and_the_rerun_recovers(
        prefect_server, tmp_path, baseline_outputs):
    check_crash_and_recovery(lambda wd, **kw: files_on_server(wd, prefect_server, **kw),
                             tmp_path / "wd", baseline_outputs, "files")


# ------------------------------------------------------------------ against a prefect server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _session(sid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid:
                members.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """`prefect server start` as the harness starts it; stopped by its PID, nothing left over."""
    name = adapter.SERVICES["server"]
    state = tmp_path_factory.mktemp("prefect-server")
    home = state.parent / f"{state.name}.home"
    port = _free_port()
    env = runner.base_env(home) | adapter.service_environment(name, state)
    with open(state / "server.log", "wb") as log:
        proc = subprocess.Popen(adapter.service_command(name, state, port), cwd=state, env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while not _answers(url + adapter.service_health_path(name)):
            assert proc.poll() is None, (state / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "prefect server never became healthy"
            time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        time.sleep(0.5)
        left = _session(proc.pid)
        for p in left:
            p.kill()
    assert left == [], [p.pid for p in left]
    assert sorted(p.name for p in home.iterdir()) == [], "the server wrote into HOME"


@pytest.fixture(scope="module")
def server_runs(prefect_server, tmp_path_factory) -> dict:
    """In one workdir, in this order: a run, a rerun, the DAG command, a run on new data."""
    wd = tmp_path_factory.mktemp("prefect-server-run") / "wd"
    on_server = dict(service_url=prefect_server)
    done = {"wd": wd, "first": pipeline(wd, "server", **on_server)}
    done["delivered"] = outputs(wd) if done["first"].rc == 0 else None
    done["second"] = pipeline(wd, "server", **on_server)
    done["dag"] = run(adapter.dag_command(wd, "server"), wd, "server", **on_server)
    full = (wd / layout.DATA).read_text().splitlines(keepends=True)
    subset = wd.parent / "subset.csv"
    subset.write_text("".join(full[:1000]))
    done["new_data"] = run(adapter.command(wd, "server", fmt=DEFAULT_FORMAT, scale=1,
                                           data=str(subset)), wd, "server", **on_server)
    return done


def test_server_mode_matches_the_baseline_and_reuses_results(server_runs, prefect_server,
                                                             baseline_outputs):
    first, second = server_runs["first"], server_runs["second"]
    assert first.rc == 0, first.stderr
    assert first.steps == STEPS
    assert server_runs["delivered"] == baseline_outputs[DEFAULT_FORMAT]
    assert second.rc == 0, second.stderr
    assert second.steps == []
    tool_home = server_runs["wd"] / adapter.TOOL_HOME[0]
    assert not (tool_home / "prefect.db").exists(), "a temporary server ran instead"
    request = urllib.request.Request(prefect_server + "/api/flow_runs/filter", method="POST",
                                     data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        runs = json.load(response)
    assert sum(run["state_type"] == "COMPLETED" for run in runs) >= 2


def test_changed_data_reruns_every_step(server_runs):
    """Same workdir, new data: every task's cache key must change with the data's content."""
    r = server_runs["new_data"]
    assert r.rc == 0, r.stderr
    assert r.steps == STEPS


EXPECTED_EDGES = {("load", "preprocess"), ("preprocess", "train"), ("preprocess", "predict"),
                  ("preprocess", "evaluate"), ("train", "predict"), ("predict", "evaluate")}


def test_dag_command_prints_the_task_graph_prefect_reports(server_runs):
    r = server_runs["dag"]
    assert r.rc == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "flowchart TD"
    assert set(STEPS) <= {line.strip() for line in lines}
    edges = {tuple(line.strip().split(" --> ")) for line in lines if "-->" in line}
    assert edges == EXPECTED_EDGES
    assert r.steps == []  # the flow run behind the graph came from the cache


# ------------------------------------------------------------------ bad input, adapter

@pytest.mark.parametrize("argv,expected", [
    (["--data", "/nonexistent/titanic.csv"], "data file not found"),
    (["--format", "feather"], "invalid choice"),
    (["--scale", "0"], "--scale"),
    (["--mode", "cloud"], "invalid choice"),
])
def test_bad_input_gets_one_line_and_nonzero_exit(tmp_path, argv, expected):
    wd = tmp_path / "wd"
    r = run([*PREFECT, "--workdir", str(wd), *argv], wd)
    assert r.rc == 2
    assert expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (wd / layout.PREDICTIONS).exists()


def test_adapter_is_stdlib_only_and_points_all_state_into_the_workdir(tmp_path):
    probe = ("import sys, impl_prefect.adapter; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('prefect', 'pandas', 'core')))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=runner.REPO, text=True,
                         capture_output=True, env=runner.base_env(tmp_path / "home"), check=True)
    assert out.stdout.strip() == "[]"
    wd = tmp_path / "wd"
    env = adapter.environment(wd, "memory")
    for name in ("PREFECT_HOME", "PREFECT_LOCAL_STORAGE_PATH"):
        assert Path(env[name]).is_relative_to(wd.resolve())
    # a copied tool home must not carry a cache into a `cold` run
    assert not Path(env["PREFECT_LOCAL_STORAGE_PATH"]).is_relative_to(env["PREFECT_HOME"])
    assert adapter.environment(wd, "server", service_url="http://127.0.0.1:9")[
        "PREFECT_API_URL"] == "http://127.0.0.1:9/api"
    assert "PREFECT_API_URL" not in env
    assert set(adapter.MODES) == {"memory", "files", "server"}
    assert adapter.FORMAT_MODES == {"files"}
