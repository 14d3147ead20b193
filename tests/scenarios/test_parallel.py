"""The parallel scenario: the selection's choice, each runner at one worker (one fold at a time,
the reference predictions), prefect on a dask cluster the harness starts and stops, and the
harness handler. Where each runner puts its folds is its tool's suite's (tests/tools).
Every runner at two workers is checked against the reference selection in tests/conformance;
the report section in tests/render."""
from __future__ import annotations

import shutil

import pytest

from bench.engine import plan, process, registry
from bench.engine.profiles import QUICK
from bench.engine.services import ClusterProcess
from bench.engine.workspace import Workspace
from bench.scenarios import parallel
from core import selection
from core.contract import LAPTOP
from tests.helpers import runner

GRID = "tiny"
TINY_FOLDS = len(selection.fold_tasks(selection.GRIDS[GRID]))


ADAPTERS = registry.load().by_name()
LOCAL_RUNS = [(name, runner_name) for name, a in ADAPTERS.items() if a.parallel
              for runner_name in a.parallel.runners if not a.parallel.needs_cluster(runner_name)]
def _command(adapter, runner_name, workers, workdir, address=None) -> list[str]:
    return adapter.parallel.command(workdir, runner_name, workers=workers, grid=GRID,
                                    cluster_address=address, setup=LAPTOP, service_url=None)


def _env(adapter, workdir, home=None) -> dict:
    """The laptop set-up's variables; home: the tool's machine-level state, by default next to
    the workdir (outside it, as the harness keeps it)."""
    env = runner.base_env(workdir)
    env.update(adapter.environment(workdir, adapter.default_mode, setup=LAPTOP, service_url=None,
                                   home=home or workdir.parent / "tool-home"))
    return env


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    """The plain-Python selection's predictions with one worker, on the tiny grid."""
    wd = tmp_path_factory.mktemp("selection-reference") / "wd"
    argv = _command(ADAPTERS["baseline"], "processes", 1, wd)
    runner.ok(runner.run(argv, wd))
    return runner.predictions_sha(wd)


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    """A prefect home initialised once by a run that stops at the first step, as the harness
    does (Workspace.home); each test runs on its own copy of it."""
    base = tmp_path_factory.mktemp("prefect-home")
    wd, home = base / "wd", base / "home"
    adapter = ADAPTERS["prefect"]
    runner.run(adapter.command(wd, "memory", setup=LAPTOP, fmt="parquet", scale=1, data=None,
                               service_url=None), wd, env=_env(adapter, wd, home),
               fail_at="load")
    assert home.is_dir() and any(home.iterdir())
    return home


def _fold_spans(result) -> list[dict]:
    return [s for s in result.spans if s["step"] == "fold" and s["kind"] == "compute"]


def _main_pid(result) -> int:
    return next(s["pid"] for s in result.spans if s["step"] == "load")


# ---------------------------------------------------------------- core.selection

def test_choose_takes_the_best_mean_and_breaks_ties_by_grid_order():
    grid = selection.Grid(max_depth=(3, 6), n_estimators=(10, 20), folds=2)
    names = [c for c in grid.candidates()]
    scores = lambda means: [{**c, "roc_auc": m} for c, m in zip(names, means)  # noqa: E731
                            for _ in range(grid.folds)]
    assert selection.choose(scores([0.7, 0.9, 0.8, 0.85]), grid)[0] == names[1]
    assert selection.choose(scores([0.8, 0.9, 0.9, 0.7]), grid)[0] == names[1]  # tie: earlier
    with pytest.raises(selection.UserError, match="fold scores"):
        selection.choose(scores([0.8, 0.9, 0.9, 0.7])[:-1], grid)


def test_fold_tasks_cover_every_candidate_and_fold_once():
    grid = selection.GRIDS["full"]
    tasks = selection.fold_tasks(grid)
    assert len(tasks) == len(grid.candidates()) * grid.folds
    assert len({t.name for t in tasks}) == len(tasks)
    assert selection.fold_task(grid, tasks[-1].name) == tasks[-1]


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers"),
    (["--grid", "huge"], "--grid"),
    (["--cluster-address", "tcp://127.0.0.1:1"], "cluster-address"),
])
def test_bad_options_are_one_line_errors(tmp_path, argv, message):
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.selection", "--workdir", str(wd), *argv], wd)
    assert r.rc == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_prefect_dask_runner_without_an_address_is_refused(tmp_path):
    wd = tmp_path / "wd"
    argv = _command(ADAPTERS["prefect"], "dask", 2, wd)
    r = runner.run(argv, wd, env=_env(ADAPTERS["prefect"], wd))
    assert r.rc == 2 and "--cluster-address" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- real tools, tiny grid

@pytest.mark.parametrize("impl_name, runner_name", LOCAL_RUNS,
                         ids=[f"{i}-{r}" for i, r in LOCAL_RUNS])
def test_at_one_worker_each_runner_gives_the_reference_one_fold_at_a_time(
        tmp_path, reference, prefect_home, impl_name, runner_name):
    adapter = ADAPTERS[impl_name]
    wd = tmp_path / "wd"
    if impl_name == "prefect":
        shutil.copytree(prefect_home, tmp_path / "tool-home")
    r = runner.ok(runner.run(_command(adapter, runner_name, 1, wd), wd, env=_env(adapter, wd)))
    assert runner.predictions_sha(wd) == reference
    assert (wd / selection.SELECTION).is_file()
    assert not r.survivors
    folds = _fold_spans(r)
    assert len(folds) == TINY_FOLDS
    # one worker: never two folds at once, wherever the runner puts them (in the command's
    # process, a pool's, a job's or a step's own: the tool's suite says which)
    assert parallel.fold_concurrency(r.spans, main_pid=_main_pid(r))["max_concurrent_folds"] == 1
    for place in runner.outside(wd):
        assert not place.exists() or not any(place.rglob("*")), "tool state leaked into HOME"


def test_prefect_on_a_dask_cluster_the_harness_starts_and_stops(tmp_path, reference,
                                                                 prefect_home):
    adapter = ADAPTERS["prefect"]
    wd = tmp_path / "wd"
    shutil.copytree(prefect_home, tmp_path / "tool-home")
    trace = tmp_path / "cluster-trace.jsonl"
    cluster = ClusterProcess(adapter.parallel.cluster, tmp_path / "cluster", 2, trace=trace,
                             scrubbed=adapter.env_prefixes)
    try:
        address = cluster.start()
        assert address.startswith("tcp://127.0.0.1:")
        r = runner.run(_command(adapter, "dask", 2, wd, address), wd, env=_env(adapter, wd))
    finally:
        cluster.stop()
    runner.ok(r)
    assert runner.predictions_sha(wd) == reference
    assert cluster.info["stopped"] == "SIGTERM" and "survivors" not in cluster.info
    assert cluster.proc is None
    folds = [s for s in process.read_trace(trace) if s["step"] == "fold"
             and s["kind"] == "compute"]
    assert len(folds) == TINY_FOLDS  # ran in the cluster's workers, which wrote this trace
    assert _main_pid(r) not in {s["pid"] for s in folds}
    assert (tmp_path / "cluster" / "prefect-home").is_dir()
    assert not any((tmp_path / "cluster" / ".home").rglob("*")), "cluster state leaked into HOME"


# ---------------------------------------------------------------- the harness

def test_fold_concurrency_from_spans():
    span = lambda start, end, pid: {"step": "fold", "kind": "compute",  # noqa: E731
                                    "start": start, "end": end, "pid": pid}
    spans = [span(0, 2, 10), span(1, 3, 11), span(3, 4, 10), {"step": "load", "kind": "compute",
                                                              "start": 0, "end": 1, "pid": 1}]
    facts = parallel.fold_concurrency(spans, main_pid=1)
    assert facts["folds"] == 3 and facts["fold_pids"] == 2
    assert facts["max_concurrent_folds"] == 2  # 3..4 starts as 1..3 ends: no third overlap
    assert facts["folds_in_main_process"] is False
    assert facts["fold_window_s"] == 4 and facts["fold_compute_s"] == 5
    assert parallel.max_overlap([(0, 1), (1, 2), (2, 3)]) == 1


def test_handler_verifies_against_the_plain_selection_and_records_concurrency(tmp_path):
    ws = Workspace(tmp_path / "run", "parallel-test", {"baseline": ADAPTERS["baseline"]}, QUICK)
    ex = plan.Execution(plan.Slot("baseline", None, "parallel", runner="processes", size=2),
                        round=1)
    fields = parallel.run(ws, ex, ADAPTERS["baseline"], ws.scratch("baseline-parallel"))
    assert fields["status"] == "ok", fields.get("stderr_tail")
    assert fields["verify"]["predictions_match"] is True
    stored = (tmp_path / "run" / "references.json").read_text()
    assert fields["verify"]["expected_sha256"] in stored
    detail = fields["detail"]
    assert detail["folds"] == len(selection.fold_tasks(selection.GRIDS[QUICK.selection_grid]))
    # the pool's two processes take folds as they become free: on a loaded machine one of
    # them may take every fold before the other started; none runs in the main process
    assert 1 <= detail["fold_pids"] <= 2 and detail["folds_in_main_process"] is False
    assert detail["workers"] == 2 and detail["runner"] == "processes"
