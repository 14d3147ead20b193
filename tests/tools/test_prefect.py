"""What is specific to prefect: its state kept in the workdir by the command itself, its
failure message, the files hand-off's writes, a crash with and without files, a standing
`prefect server` (started by the harness's own server code), the task graph its API reports.
The contract every tool keeps is tests/conformance.

Every run of the default modes pays 10-20 s of start-up (prefect's temporary API server), so
each run happens once, in a module fixture that records what the tests then assert.
"""
from __future__ import annotations

import json
import shutil
import signal
import urllib.request
from pathlib import Path

import pytest

from bench.engine.services import Server
from core import layout
from impl_prefect import adapter
from impl_prefect.adapter import ADAPTER
from tests.helpers import runner

pytestmark = pytest.mark.slow
STEPS = list(runner.STEPS)
DEFAULT_FORMAT = "parquet"
PREFECT = [runner.PY, "-m", "impl_prefect"]


def run(argv: list[str], wd: Path, mode: str = "memory", *, service_url: str | None = None,
        with_adapter_env: bool = True, **kwargs) -> runner.Result:
    """Run like the harness, then check the run left nothing behind outside `wd`."""
    env = runner.base_env(wd)
    if with_adapter_env:
        env |= ADAPTER.environment(wd, mode, service_url=service_url)
    r = runner.run(argv, wd, env=env, **kwargs)
    assert r.survivors == [], r.survivors
    assert sorted(p.name for p in runner.home_of(wd).iterdir()) == [], "the run wrote into HOME"
    assert not (runner.REPO / ".prefect").exists(), "prefect state outside the workdir"
    return r


def command(wd: Path, mode: str, fmt: str = DEFAULT_FORMAT, data=None) -> list[str]:
    return ADAPTER.command(wd, mode, fmt=fmt, scale=1, data=data, service_url=None)


def pipeline(wd: Path, mode: str = "memory", fmt: str = DEFAULT_FORMAT, *,
             service_url: str | None = None, **kwargs) -> runner.Result:
    return run(command(wd, mode, fmt), wd, mode, service_url=service_url, **kwargs)


def outputs(wd: Path) -> tuple[str, str]:
    """What a run delivered, captured at once: later runs may rewrite the workdir."""
    return runner.sha256(wd / layout.PREDICTIONS), (wd / layout.METRICS).read_text()


def new_workdir(parent: Path, prefect_home: Path) -> Path:
    wd = parent / "wd"
    wd.mkdir(parents=True)
    shutil.copytree(prefect_home, wd / adapter.HOME)
    return wd


# ------------------------------------------------------------------ the command's own state

@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """The command as a user types it, without any prefect variable: it must set its own."""
    wd = tmp_path_factory.mktemp("prefect-first") / "wd"
    r = run([*PREFECT, "--workdir", str(wd)], wd, with_adapter_env=False)
    return wd, r, (outputs(wd) if r.rc == 0 else None)


@pytest.fixture(scope="module")
def prefect_home(first_run, tmp_path_factory) -> Path:
    template = tmp_path_factory.mktemp("prefect-home") / adapter.HOME
    shutil.copytree(first_run[0] / adapter.HOME, template)
    return template


def test_first_run_matches_the_baseline_and_keeps_state_in_the_workdir(first_run,
                                                                        baseline_outputs):
    wd, r, delivered = first_run
    assert r.rc == 0, r.stderr
    assert r.steps == STEPS
    assert delivered == baseline_outputs[DEFAULT_FORMAT]
    assert (wd / adapter.HOME / "prefect.db").is_file()
    assert len(list((wd / adapter.RESULTS_DIR).iterdir())) == len(STEPS)
    assert r.stderr.strip() == "", r.stderr


def test_a_failed_run_ends_in_one_short_error_block(prefect_home, tmp_path):
    failed = pipeline(new_workdir(tmp_path, prefect_home), fail_at="train")
    assert failed.rc == 1, failed.stderr
    assert failed.steps == ["load", "preprocess"]
    assert "InjectedFailure" in failed.stderr and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("error: prefect flow run ended")


def test_files_mode_writes_every_steps_output_through_core(prefect_home, tmp_path):
    wd = new_workdir(tmp_path, prefect_home)
    r = runner.ok(pipeline(wd, "files", "csv"))
    written = {rel for rels in layout.outputs("csv").values() for rel in rels}
    assert all((wd / rel).is_file() for rel in written)
    assert {s["step"] for s in r.spans if s["kind"] == "write"} == set(STEPS)


# ------------------------------------------------------------------ hard crash

def check_crash_and_recovery(run_mode, wd: Path, baseline_outputs, mode: str) -> None:
    crashed = run_mode(wd, crash_at="preprocess")  # `run` asserts that nothing survived
    assert crashed.rc == -signal.SIGKILL
    assert crashed.steps == ["load", "preprocess"]
    partial = wd / layout.train_features(DEFAULT_FORMAT)
    assert partial.exists() == (mode == "files")  # only the files hand-off writes it, in place
    assert ADAPTER.recovery_commands(wd, mode, fmt=DEFAULT_FORMAT, scale=1, data=None,
                                     service_url=None) == []
    rerun = run_mode(wd)
    assert rerun.rc == 0, rerun.stderr
    assert rerun.steps == STEPS[1:]
    assert outputs(wd) == baseline_outputs[DEFAULT_FORMAT]


def test_files_mode_crash_leaves_a_partial_file_and_the_rerun_recovers(
        prefect_server, tmp_path, baseline_outputs):
    check_crash_and_recovery(lambda wd, **kw: files_on_server(wd, prefect_server.url, **kw),
                             tmp_path / "wd", baseline_outputs, "files")


def files_on_server(wd: Path, url: str, **kwargs) -> runner.Result:
    """The files hand-off (`--mode files`) reporting to a standing server."""
    return run(command(wd, "files"), wd, "server", service_url=url, **kwargs)


def test_files_mode_on_the_server_resumes_at_the_failed_step(prefect_server, tmp_path,
                                                             baseline_outputs):
    wd = tmp_path / "wd"
    failed = files_on_server(wd, prefect_server.url, fail_at="predict")
    assert failed.rc == 1 and failed.steps == STEPS[:3], failed.stderr
    rerun = runner.ok(files_on_server(wd, prefect_server.url))
    assert rerun.steps == ["predict", "evaluate"]
    assert outputs(wd) == baseline_outputs[DEFAULT_FORMAT]


# ------------------------------------------------------------------ against a prefect server

@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """`prefect server start` as the harness starts it; stopped by its PID, nothing left over."""
    root = tmp_path_factory.mktemp("prefect-server")
    server = Server(ADAPTER, ADAPTER.service_for("server"), root / "state", root / "logs",
                    ADAPTER.env_prefixes)
    try:
        server.start()
        yield server
    finally:
        server.stop()
    assert "survivors" not in server.info, server.info
    home = root / "state" / ".home"
    assert not home.exists() or sorted(p.name for p in home.iterdir()) == []


@pytest.fixture(scope="module")
def server_runs(prefect_server, tmp_path_factory) -> dict:
    """In one workdir, in this order: a run, a rerun, the DAG command, a run on new data."""
    wd = tmp_path_factory.mktemp("prefect-server-run") / "wd"
    on_server = dict(service_url=prefect_server.url)
    done = {"wd": wd, "first": pipeline(wd, "server", **on_server)}
    done["delivered"] = outputs(wd) if done["first"].rc == 0 else None
    done["second"] = pipeline(wd, "server", **on_server)
    done["dag"] = run(ADAPTER.dag_command(wd, "server"), wd, "server", **on_server)
    full = (wd / layout.DATA).read_text().splitlines(keepends=True)
    subset = wd.parent / "subset.csv"
    subset.write_text("".join(full[:1000]))
    done["new_data"] = run(command(wd, "server", data=str(subset)), wd, "server", **on_server)
    return done


def test_server_mode_matches_the_baseline_and_reuses_results(server_runs, prefect_server,
                                                             baseline_outputs):
    first, second = server_runs["first"], server_runs["second"]
    assert first.rc == 0, first.stderr
    assert first.steps == STEPS
    assert server_runs["delivered"] == baseline_outputs[DEFAULT_FORMAT]
    assert second.rc == 0, second.stderr
    assert second.steps == []
    tool_home = server_runs["wd"] / adapter.HOME
    assert not (tool_home / "prefect.db").exists(), "a temporary server ran instead"
    request = urllib.request.Request(prefect_server.url + "/api/flow_runs/filter", method="POST",
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


# ------------------------------------------------------------------ the adapter

def test_the_adapter_points_all_state_into_the_workdir(tmp_path):
    wd = tmp_path / "wd"
    env = ADAPTER.environment(wd, "memory", service_url=None)
    for name in ("PREFECT_HOME", "PREFECT_LOCAL_STORAGE_PATH"):
        assert Path(env[name]).is_relative_to(wd.resolve())
    # a copied tool home must not carry a cache into a `cold` run
    assert not Path(env["PREFECT_LOCAL_STORAGE_PATH"]).is_relative_to(env["PREFECT_HOME"])
    assert ADAPTER.environment(wd, "server", service_url="http://127.0.0.1:9")[
        "PREFECT_API_URL"] == "http://127.0.0.1:9/api"
    assert "PREFECT_API_URL" not in env
    assert ADAPTER.mode_names == ("memory", "files", "server")
    assert [m.name for m in ADAPTER.modes if m.files] == ["files"]


def test_the_mode_choice_is_checked_in_one_line(tmp_path):
    wd = tmp_path / "wd"
    r = run([*PREFECT, "--workdir", str(wd), "--mode", "cloud"], wd)
    assert r.rc == 2 and "invalid choice" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
