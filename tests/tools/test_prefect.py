"""What is specific to prefect: its state kept in the workdir by the command itself, its failure
message, the files hand-off's writes, the cache key (each task's source and its inputs by
content), what it reruns after each change, the team's standing `prefect server` on PostgreSQL
(started by the harness's own server code) with resume and both kinds of kill, the task graph
its API reports, and prefect-dask kept off ordinary runs. The contract every tool keeps is
tests/conformance.

Every laptop run pays 10-40 s of start-up (prefect's temporary API server), so each run happens
once, in a module fixture that records what the tests then assert.
"""
from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.engine.services import Servers
from bench.engine.session import execute
from bench.engine.workspace import Workspace
from bench.scenarios.catalog import SCENARIOS
from core import layout, stage
from core.contract import LAPTOP, TEAM
from core.params import Params
from impl_prefect import adapter
from impl_prefect.adapter import ADAPTER
from tests.helpers import runner

pytestmark = pytest.mark.slow
STEPS = list(runner.STEPS)
DEFAULT_FORMAT = "parquet"
PREFECT = [runner.PY, "-m", "impl_prefect"]
ADAPTERS = registry.load().by_name()
SERVICE = ADAPTER.service_for(TEAM)


def run(argv: list[str], wd: Path, mode: str = "memory", *, home: Path | None = None,
        setup: str = LAPTOP, service_url: str | None = None, with_adapter_env: bool = True,
        extra_env: dict[str, str] | None = None, **kwargs) -> runner.Result:
    """Run like the harness, then check the run left nothing behind outside `wd` and `home`."""
    env = runner.base_env(wd)
    if with_adapter_env:
        env |= ADAPTER.environment(wd, mode, setup=setup, service_url=service_url,
                                   home=home or wd.parent / "tool-home")
    env |= extra_env or {}
    r = runner.run(argv, wd, env=env, **kwargs)
    for place in runner.outside(wd):
        assert not place.exists() or sorted(p.name for p in place.iterdir()) == [], place
    assert not (runner.REPO / ".prefect").exists(), "prefect state outside the workdir"
    return r


def command(wd: Path, mode: str = "memory", fmt: str = DEFAULT_FORMAT, data=None, *,
            setup: str = LAPTOP, service_url: str | None = None) -> list[str]:
    return ADAPTER.command(wd, mode, setup=setup, fmt=fmt, scale=1, data=data,
                           service_url=service_url)


def outputs(wd: Path) -> tuple[str, str]:
    """What a run delivered, captured at once: later runs may rewrite the workdir."""
    return runner.sha256(wd / layout.PREDICTIONS), (wd / layout.METRICS).read_text()


def scenario(ws: Workspace, mode: str | None, name: str, **slot):
    """One execution of a harness scenario for prefect, as `bench run` makes it."""
    s = plan.Slot("prefect", mode, name, format=slot.pop("format", None), selection=name, **slot)
    return execute(ws, SCENARIOS, plan.Execution(s, round=1))


def why(rec) -> str:
    return f"{rec.status}: {rec.detail.error if rec.detail else ''}\n{rec.stderr_tail[-2500:]}"


# ------------------------------------------------------------------ the command's own state

@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """The command as a user types it, without any prefect variable: it must set its own."""
    wd = tmp_path_factory.mktemp("prefect-first") / "wd"
    r = run([*PREFECT, "--workdir", str(wd)], wd, with_adapter_env=False)
    return wd, r, (outputs(wd) if r.rc == 0 else None)


@pytest.fixture(scope="module")
def laptop_home(tmp_path_factory) -> Path:
    """The tool home as the harness prepares it: one path, initialised by a run that fails at
    `load` (prefect creates its database and memo there, no step result exists)."""
    root = tmp_path_factory.mktemp("prefect-home")
    home, wd = root / "home", root / "init" / "wd"
    home.mkdir()
    r = run(command(wd), wd, home=home, fail_at="load")
    assert r.rc == 1 and r.steps == [], r.stderr
    assert (home / "prefect.db").is_file() and (home / "memo_store.toml").is_file()
    return home


def test_first_run_matches_the_baseline_and_keeps_state_in_the_workdir(first_run,
                                                                        baseline_outputs):
    wd, r, delivered = first_run
    assert r.rc == 0, r.stderr
    assert r.steps == STEPS
    assert delivered == baseline_outputs[DEFAULT_FORMAT]
    assert (wd / adapter.HOME / "prefect.db").is_file()
    assert len(list((wd / adapter.RESULTS_DIR).iterdir())) == len(STEPS)
    assert r.stderr.strip() == "", r.stderr


def test_a_failed_run_ends_in_one_short_error_block(laptop_home, tmp_path):
    wd = tmp_path / "wd"
    failed = run(command(wd), wd, home=laptop_home, fail_at="train")
    assert failed.rc == 1, failed.stderr
    assert failed.steps == ["load", "preprocess"]
    assert "InjectedFailure" in failed.stderr and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("error: prefect flow run ended")


def test_files_mode_writes_every_steps_output_through_core(laptop_home, tmp_path):
    wd = tmp_path / "wd"
    r = runner.ok(run(command(wd, "files", "csv"), wd, "files", home=laptop_home))
    written = {rel for rels in layout.outputs("csv").values() for rel in rels}
    assert all((wd / rel).is_file() for rel in written)
    assert {s["step"] for s in r.spans if s["kind"] == "write"} == set(STEPS)


def test_killing_only_the_flow_process_leaves_its_temporary_server_running(laptop_home,
                                                                           tmp_path,
                                                                           baseline_outputs):
    """SIGKILL of the flow process alone (an OOM kill): prefect stops its temporary server
    from an exit hook, which a SIGKILL never runs, so the server lives on in the session
    (the harness records and kills it). The rerun then resumes after the last cached task."""
    wd = tmp_path / "wd"
    killed = runner.run(command(wd), wd, env={
        **runner.base_env(wd), **ADAPTER.environment(wd, "memory", setup=LAPTOP,
                                                     service_url=None, home=laptop_home),
        "BENCH_CRASH_JOB_AT": "train"})
    assert killed.rc == -signal.SIGKILL
    assert killed.steps == ["load", "preprocess", "train"]
    assert any("uvicorn" in s and "prefect.server.api.server:create_app" in s
               for s in killed.survivors), killed.survivors
    rerun = runner.ok(run(command(wd), wd, home=laptop_home))
    assert rerun.steps == ["train", "predict", "evaluate"]
    assert outputs(wd) == baseline_outputs[DEFAULT_FORMAT]


def test_the_mode_choice_is_checked_in_one_line(tmp_path):
    wd = tmp_path / "wd"
    r = run([*PREFECT, "--workdir", str(wd), "--mode", "cloud"], wd)
    assert r.rc == 2 and "invalid choice" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


# ------------------------------------------------------------------ the cache key

CACHE_PROBE = """
import json, sys, cloudpickle
from pathlib import Path
from prefect.cache_policies import INPUTS
from core import memsteps
from core.params import Params
from impl_prefect.cache import digest

raw = Path(sys.argv[1])
train_raw, test_raw = memsteps.load(raw, Params())
train_features, test_features = memsteps.preprocess(train_raw, test_raw)
model = memsteps.train(train_features, Params())
read_back = cloudpickle.loads(cloudpickle.dumps(model))  # prefect's persisted result format
frame_back = cloudpickle.loads(cloudpickle.dumps(train_features))
inputs = lambda m: {"model": m, "test_features": test_features, "predictions_out": "p.csv"}
before = digest(raw)
raw.touch()
touched = digest(raw)
raw.write_text(raw.read_text().replace("\\n", "\\n", 1) + "\\n")
print(json.dumps({
    "prefect_inputs_equal": INPUTS.compute_key(None, inputs(model), {})
                            == INPUTS.compute_key(None, inputs(read_back), {}),
    "content_equal": digest(inputs(model)) == digest(inputs(read_back)),
    "frame_equal": digest(train_features) == digest(frame_back),
    "other_model_differs": digest(memsteps.train(train_features, Params(max_depth=4)))
                           != digest(model),
    "touched_file_equal": touched == before,
    "changed_file_differs": digest(raw) != before,
}))
"""


def test_a_fitted_model_keeps_its_cache_key_through_prefects_persisted_round_trip(tmp_path):
    """prefect's INPUTS hashes with cloudpickle, whose bytes follow object identity: the
    forest read back from its persisted result gets another key than the forest as trained.
    The flow's ContentInputs keys it (and a DataFrame) by content; a file by its bytes."""
    wd = tmp_path / "wd"
    stage.stage(wd, Params())
    r = runner.ok(run([runner.PY, "-c", CACHE_PROBE, str(wd / layout.DATA)], wd))
    assert json.loads(r.stdout) == {
        "prefect_inputs_equal": False, "content_equal": True, "frame_equal": True,
        "other_model_differs": True, "touched_file_equal": True, "changed_file_differs": True}


# ------------------------------------------------------------------ what a rerun reruns

@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    """A harness workspace for this module: the tool home initialised once, the reference's
    right answers kept once."""
    return Workspace(tmp_path_factory.mktemp("prefect-ws"), "prefect-tools", ADAPTERS, QUICK)


def rerun_cell(ws: Workspace, change: str):
    rec = scenario(ws, "memory", "rerun", variant=change)
    assert rec.status == "ok", why(rec)
    return rec.detail


def test_rerun_after_a_flipped_data_label_runs_every_task(ws):
    cell = rerun_cell(ws, "data")
    assert cell.classification == "exact" and cell.executed == tuple(STEPS)
    assert cell.reason == "Finished in state Completed(): " + ", ".join(STEPS)


def test_rerun_after_a_changed_hyperparameter_runs_train_and_after(ws):
    cell = rerun_cell(ws, "param")
    assert cell.classification == "exact"
    assert cell.executed == ("train", "predict", "evaluate")
    assert cell.reason == ("Finished in state Cached(type=COMPLETED): load, preprocess; "
                           "Finished in state Completed(): train, predict, evaluate")


def test_rerun_after_an_edit_of_core_steps_reuses_the_stale_model(ws):
    """TASK_SOURCE hashes the task's own lines only ("not the source code of nested tasks"),
    not the core function it calls: every key is unchanged."""
    cell = rerun_cell(ws, "core_code")
    assert cell.classification == "stale" and cell.executed == ()
    assert cell.change_visible is True
    assert cell.reason == "Finished in state Cached(type=COMPLETED): " + ", ".join(STEPS)


def test_rerun_after_an_edit_of_the_train_task_runs_train_and_after(ws):
    cell = rerun_cell(ws, "wrapper_code")
    assert cell.classification == "exact"
    assert cell.executed == ("train", "predict", "evaluate")
    assert cell.reason == ("Finished in state Cached(type=COMPLETED): load, preprocess; "
                           "Finished in state Completed(): train, predict, evaluate")


def test_rerun_after_a_comment_in_the_train_task_runs_train_only(ws):
    """TASK_SOURCE hashes raw lines, so train runs again; it trains the same forest, whose
    content key leaves predict and evaluate cached."""
    cell = rerun_cell(ws, "comment")
    assert cell.classification == "over-eager" and cell.executed == ("train",)
    assert cell.reason == ("Finished in state Cached(type=COMPLETED): load, preprocess, "
                           "predict, evaluate; Finished in state Completed(): train")


def test_rerun_after_touching_the_data_runs_nothing(ws):
    cell = rerun_cell(ws, "touch")
    assert cell.classification == "exact" and cell.executed == ()
    assert cell.reason == "Finished in state Cached(type=COMPLETED): " + ", ".join(STEPS)


# ------------------------------------------------------------------ the team's server

@pytest.fixture(scope="module")
def served(ws):
    """The team's `prefect server` on its PostgreSQL, started by the harness and stopped by
    PID after the module; nothing may be left of either."""
    servers = Servers(ws, [("prefect", TEAM)])
    with servers:
        yield ws, servers.running[("prefect", SERVICE.name)]
    server = servers.running[("prefect", SERVICE.name)]
    assert "survivors" not in server.info, server.info
    assert "survivors" not in server.info["database"], server.info["database"]


@pytest.fixture(scope="module")
def server_runs(served, tmp_path_factory) -> dict:
    """In one workdir, in this order: a run, a rerun, the DAG command, a run on new data."""
    ws, server = served
    wd = tmp_path_factory.mktemp("prefect-team-run") / "wd"
    home = ws.home(ADAPTER, TEAM)
    on_server = dict(setup=TEAM, service_url=server.url, home=home)
    cmd = dict(setup=TEAM, service_url=server.url)
    done = {"wd": wd, "server": server, "first": run(command(wd, **cmd), wd, **on_server)}
    done["delivered"] = outputs(wd) if done["first"].rc == 0 else None
    done["second"] = run(command(wd, **cmd), wd, **on_server)
    done["dag"] = run(ADAPTER.dag_command(wd, "memory"), wd, **on_server)
    full = (wd / layout.DATA).read_text().splitlines(keepends=True)
    subset = wd.parent / "subset.csv"
    subset.write_text("".join(full[:1000]))
    done["new_data"] = run(command(wd, data=str(subset), **cmd), wd, **on_server)
    return done


def api(url: str, path: str, body: dict) -> list[dict]:
    request = urllib.request.Request(url + "/api" + path, method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_the_team_server_keeps_its_runs_in_postgresql(server_runs, baseline_outputs):
    first, second, server = server_runs["first"], server_runs["second"], server_runs["server"]
    assert first.rc == 0, first.stderr
    assert first.steps == STEPS
    assert server_runs["delivered"] == baseline_outputs[DEFAULT_FORMAT]
    assert second.rc == 0, second.stderr
    assert second.steps == []
    assert not (server_runs["wd"] / adapter.HOME).exists()
    state_dir = server.state_dir / "prefect-home"
    assert not (state_dir / "prefect.db").exists(), "the server fell back to SQLite"
    assert server.info["database"]["healthy_after_s"] > 0
    runs = api(server.url, "/flow_runs/filter", {})
    assert sum(r["state_type"] == "COMPLETED" for r in runs) >= 2
    # the no-op rerun as the API (what the UI shows) records it: its tasks came from the cache
    cached = api(server.url, "/task_runs/filter",
                 {"task_runs": {"state": {"name": {"any_": ["Cached"]}}}})
    assert {t["name"].rsplit("-", 1)[0] for t in cached} >= set(STEPS)


def test_changed_data_reruns_every_step(server_runs):
    """Same workdir, new data: load's key holds the data file's bytes, so every key changes."""
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


@pytest.mark.parametrize("step", STEPS)
def test_the_team_setup_resumes_at_the_failed_step(served, step):
    ws, _ = served
    rec = scenario(ws, "memory", "resume", variant=step, setup=TEAM)
    assert rec.status == "ok" and rec.outcome == "resumed", why(rec)
    assert rec.detail.prepare["steps_executed"] == STEPS[:STEPS.index(step)]
    assert rec.steps_executed == tuple(STEPS[STEPS.index(step):])


@pytest.mark.parametrize("mode,step", [("memory", "train"), ("files", "preprocess")])
def test_the_team_setup_recovers_after_the_whole_process_group_is_killed(served, mode, step):
    ws, _ = served
    rec = scenario(ws, mode, "crash", variant=step, setup=TEAM,
                   format=DEFAULT_FORMAT if mode == "files" else None)
    assert rec.outcome == "recovered" and rec.status == "ok", why(rec)
    assert rec.detail.prepare["exit_code"] == -signal.SIGKILL
    assert rec.steps_executed == tuple(STEPS[STEPS.index(step):])
    # only the files hand-off writes the step's output in place, so only it leaves a part
    assert bool(rec.detail.leftovers["partial_files"]) == (mode == "files")


@pytest.mark.parametrize("mode,step", [("memory", "train"), ("files", "preprocess")])
def test_the_team_setup_recovers_after_only_the_flow_process_is_killed(served, mode, step):
    """With a standing server the flow process is the only one: nothing survives it."""
    ws, _ = served
    rec = scenario(ws, mode, "crash_job", variant=step, setup=TEAM,
                   format=DEFAULT_FORMAT if mode == "files" else None)
    assert rec.outcome == "recovered" and rec.status == "ok", why(rec)
    assert rec.detail.prepare["exit_code"] == -signal.SIGKILL
    assert rec.detail.survivors == ()
    assert rec.steps_executed == tuple(STEPS[STEPS.index(step):])


# ------------------------------------------------------------------ prefect-dask on the side

COLLECTIONS = ("import json, prefect.plugins, sys; prefect.plugins.load_prefect_collections(); "
               "print(json.dumps(sorted(m for m in ('distributed', 'dask', 'prefect_dask') "
               "if m in sys.modules)))")


def test_a_plain_prefect_process_loads_no_dask_and_the_dask_runner_does(tmp_path):
    """What prefect's server does at every start (load_prefect_collections): with the
    harness's PYTHONPATH no collection is installed, so `distributed` is never imported; with
    the dask runner's PYTHONPATH prefect-dask is found and loaded, as if installed."""
    wd = tmp_path / "wd"
    wd.mkdir()
    plain = runner.ok(run([runner.PY, "-c", COLLECTIONS], wd))
    assert json.loads(plain.stdout) == []
    if not adapter.DASK_SITE.is_dir():
        pytest.skip(f"no {adapter.DASK_SITE.name}: {adapter.DASK_INSTALL}")
    dask = runner.ok(run([runner.PY, "-c", COLLECTIONS], wd,
                         extra_env={"PYTHONPATH": adapter.dask_path()}))
    assert json.loads(dask.stdout) == ["dask", "distributed", "prefect_dask"]


def test_without_prefect_dask_the_dask_runner_says_how_to_install_it(tmp_path):
    wd = tmp_path / "wd"
    argv = ADAPTER.parallel.command(wd, "dask", setup=LAPTOP, workers=1, grid="tiny",
                                    cluster_address="tcp://127.0.0.1:9", service_url=None)
    assert argv[:2] == ["env", f"PYTHONPATH={adapter.dask_path()}"]
    r = run(argv[2:], wd)  # the same command with the harness's PYTHONPATH only
    assert r.rc == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "requirements-dask.txt" in r.stderr


# ------------------------------------------------------------------ the adapter

def test_the_adapter_points_all_state_into_the_workdir_and_the_home(tmp_path):
    wd, home = tmp_path / "wd", tmp_path / "home"
    env = ADAPTER.environment(wd, "memory", setup=LAPTOP, service_url=None, home=home)
    assert env["PREFECT_HOME"] == str(home.resolve())
    # results are prefect's cache: in the workdir, so a shared home carries none into `cold`
    assert Path(env["PREFECT_LOCAL_STORAGE_PATH"]).is_relative_to(wd.resolve())
    assert "PREFECT_API_URL" not in env and "PYTHONPATH" not in env
    team = ADAPTER.environment(wd, "memory", setup=TEAM, service_url="http://127.0.0.1:9",
                               home=home)
    assert team["PREFECT_API_URL"] == "http://127.0.0.1:9/api"
    assert ADAPTER.mode_names == ("memory", "files")
    assert [m.name for m in ADAPTER.modes if m.files] == ["files"]
    assert SERVICE.database
    served = SERVICE.environment(tmp_path / "state", "postgresql+asyncpg://u@127.0.0.1:5/db")
    assert served["PREFECT_API_DATABASE_CONNECTION_URL"] == "postgresql+asyncpg://u@127.0.0.1:5/db"
    assert {name.split("=")[0] for name, _ in ADAPTER.setup(TEAM).settings} >= {
        "PREFECT_API_URL", "PREFECT_API_DATABASE_CONNECTION_URL"}


def test_only_the_dask_runner_and_its_cluster_get_prefect_dask_on_their_path(tmp_path):
    wd = tmp_path / "wd"
    for runner_name in ("threads", "processes"):
        argv = ADAPTER.parallel.command(wd, runner_name, setup=LAPTOP, workers=2, grid="tiny",
                                        cluster_address=None, service_url=None)
        assert argv[0] == runner.PY and not any(str(adapter.DASK_SITE) in a for a in argv)
    assert not any(str(adapter.DASK_SITE) in " ".join(ADAPTER.command(
        wd, mode, setup=setup, fmt="csv", scale=1, data=None, service_url=None))
        for mode in ADAPTER.mode_names for setup in (LAPTOP, TEAM))
    cluster = ADAPTER.parallel.cluster.environment(tmp_path / "cluster")
    assert cluster["PYTHONPATH"].split(":") == [str(runner.REPO), str(adapter.DASK_SITE)]


def test_the_dask_site_directory_is_not_in_the_main_environment():
    """prefect-dask must not be installed in .venv itself: prefect would load it at every
    server start (the `prefect.collections` entry point)."""
    probe = ("import importlib.metadata as m, json; print(json.dumps(sorted("
             "e.name for e in m.entry_points(group='prefect.collections'))))")
    out = subprocess.run([runner.PY, "-c", probe], cwd="/", capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert json.loads(out) == []
