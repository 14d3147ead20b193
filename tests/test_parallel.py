"""The parallel scenario: the selection's choice, every tool's selection command at 1 and 2
workers on real tools (tiny grid) against the plain-Python selection's predictions, prefect on
a dask cluster the harness starts and stops, the harness handler, and the report section
rendered from fixture records."""
from __future__ import annotations

import random
import shutil

import pytest

from bench import parallel, plan, registry
from bench.context import Context
from bench.profiles import QUICK
from bench.render import parallel as view
from bench.render.groups import Index
from core import selection
from tests import runner
from tests.fixtures import parallel_fixture
from tests.fixtures.make_fixture import Clock

GRID = "tiny"
TINY_FOLDS = len(selection.fold_tasks(selection.GRIDS[GRID]))


def _impls() -> dict:
    loaded = registry.load()
    assert not loaded.problems, loaded.problems
    return {impl.name: impl for impl in loaded.impls}


IMPLS = _impls()
CLUSTER_RUNNERS = {(name, r) for name, impl in IMPLS.items()
                   for r in getattr(impl.module, "CLUSTER_RUNNERS", ())}
LOCAL_RUNS = [(name, runner_name, workers) for name, impl in IMPLS.items()
              for runner_name in impl.parallel_runners if (name, runner_name) not in CLUSTER_RUNNERS
              for workers in (1, 2)]
# Runners whose folds run in the command's own process: threads, and loops at one worker.
IN_PROCESS = {("prefect", "threads"), ("snakemake", "threads")}
OUT_OF_PROCESS_AT_ONE = {("prefect", "processes"), ("snakemake", "cores")}  # pool, a job each


def _command(impl, runner_name, workers, workdir, address=None) -> list[str]:
    argv = impl.module.parallel_command(workdir, runner_name, workers=workers,
                                        cluster_address=address)
    return argv + ["--grid", GRID]


def _env(impl, workdir) -> dict:
    env = runner.base_env(workdir.parent / "home")
    env.update(impl.module.environment(workdir, impl.default_mode))
    return env


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    """The plain-Python selection's predictions with one worker, on the tiny grid."""
    wd = tmp_path_factory.mktemp("selection-reference") / "wd"
    argv = _command(IMPLS["baseline"], "processes", 1, wd)
    runner.ok(runner.run(argv, wd))
    return runner.predictions_sha(wd)


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    """A prefect home initialised once, copied into each prefect workdir as the harness does."""
    wd = tmp_path_factory.mktemp("prefect-home") / "wd"
    impl = IMPLS["prefect"]
    runner.run(impl.module.command(wd, "memory", fmt="parquet", scale=1), wd,
               env=_env(impl, wd), fail_at="load")
    return wd / ".prefect"


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
    argv = _command(IMPLS["prefect"], "dask", 2, wd)
    r = runner.run(argv, wd, env=_env(IMPLS["prefect"], wd))
    assert r.rc == 2 and "--cluster-address" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- real tools, tiny grid

@pytest.mark.parametrize("impl_name, runner_name, workers", LOCAL_RUNS,
                         ids=[f"{i}-{r}-{w}" for i, r, w in LOCAL_RUNS])
def test_every_runner_gives_the_plain_selection_predictions(tmp_path, reference, prefect_home,
                                                            impl_name, runner_name, workers):
    impl = IMPLS[impl_name]
    wd = tmp_path / "wd"
    if impl_name == "prefect":
        wd.mkdir()
        shutil.copytree(prefect_home, wd / prefect_home.name)
    r = runner.ok(runner.run(_command(impl, runner_name, workers, wd), wd, env=_env(impl, wd)))
    assert runner.predictions_sha(wd) == reference
    assert (wd / selection.SELECTION).is_file()
    assert not r.survivors
    folds = _fold_spans(r)
    assert len(folds) == TINY_FOLDS
    in_main = {s["pid"] for s in folds} == {_main_pid(r)}
    if (impl_name, runner_name) in IN_PROCESS:
        assert in_main  # threads: one process, whatever the number of workers
    elif workers == 1 and (impl_name, runner_name) not in OUT_OF_PROCESS_AT_ONE:
        assert in_main
    else:
        assert _main_pid(r) not in {s["pid"] for s in folds}
    assert not any((tmp_path / "home").rglob("*")), "tool state leaked into HOME"


def test_prefect_on_a_dask_cluster_the_harness_starts_and_stops(tmp_path, reference,
                                                                 prefect_home):
    impl = IMPLS["prefect"]
    wd = tmp_path / "wd"
    wd.mkdir()
    shutil.copytree(prefect_home, wd / prefect_home.name)
    trace = tmp_path / "cluster-trace.jsonl"
    cluster = parallel.Cluster(impl, tmp_path / "cluster", 2, trace=trace)
    try:
        address = cluster.start()
        assert address.startswith("tcp://127.0.0.1:")
        r = runner.run(_command(impl, "dask", 2, wd, address), wd, env=_env(impl, wd))
    finally:
        cluster.stop()
    runner.ok(r)
    assert runner.predictions_sha(wd) == reference
    assert cluster.info["stopped"] == "SIGTERM" and "survivors" not in cluster.info
    assert cluster.proc is None
    folds = [s for s in parallel.execute.read_trace(trace) if s["step"] == "fold"
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
    ctx = Context(tmp_path / "run", "parallel-test", {"baseline": IMPLS["baseline"]}, QUICK)
    ex = plan.Execution(plan.Slot("baseline", "processes", "parallel", scale=2), round=1)
    fields = parallel.run(ctx, ex, IMPLS["baseline"], ctx.scratch("baseline-parallel"))
    assert fields["status"] == "ok", fields.get("stderr_tail")
    assert fields["verify"]["predictions_match"] is True
    stored = (tmp_path / "run" / parallel.REFERENCE_FILE).read_text()
    assert fields["verify"]["expected_sha256"] in stored
    detail = fields["detail"]
    assert detail["folds"] == len(selection.fold_tasks(selection.GRIDS[QUICK.selection_grid]))
    # the pool's two processes take folds as they become free: on a loaded machine one of
    # them may take every fold before the other started; none runs in the main process
    assert 1 <= detail["fold_pids"] <= 2 and detail["folds_in_main_process"] is False
    assert detail["workers"] == 2 and detail["runner"] == "processes"


# ---------------------------------------------------------------- the report section

@pytest.fixture(scope="module")
def fixture_index() -> Index:
    recs = parallel_fixture.records(random.Random(7), Clock(), "fixture")
    return Index({}, recs)


def test_section_from_fixture_records(fixture_index):
    sec = view.section(fixture_index)
    assert sec["measured"] and sec["workers"] == [1, 2] and sec["folds"] == 12
    rows = {r["label"]: r for r in sec["rows"]}
    assert sec["rows"][0]["impl"] == "baseline"
    base = rows["baseline · processes"]
    assert base["vs_baseline_speedup"][2] == pytest.approx(1.0)
    assert base["overhead_per_fold_s"][2] is None
    cores = rows["snakemake · cores"]["speedups"][2]
    assert cores["ideal"] == 2 and 1.5 < cores["value"] < 2.0
    assert cores["efficiency"] == pytest.approx(cores["value"] / 2)
    threads = rows["prefect · threads"]
    assert "interpreter lock" in threads["facts"][2]["verdict"]
    assert threads["speedups"][2]["value"] < cores["value"]
    assert "processes" in rows["luigi · workers"]["facts"][2]["verdict"]
    assert rows["luigi · workers"]["facts"][1]["verdict"] == "one fold at a time"
    dask = rows["prefect · dask"]["walls"][2]
    assert dask["n"] == ROUNDS - 1 and dask["excluded"][0]["status"] == "unexpected_failure"


ROUNDS = parallel_fixture.ROUNDS


def test_section_renders_table_chart_and_method(fixture_index):
    sec = view.section(fixture_index)
    charts = view.charts(sec)
    assert charts["parallel_speedup"].startswith("<svg")
    page = view.html(sec, charts)
    assert page.startswith('<section id="parallel">') and page.endswith("</section>")
    assert "speed-up at 2 workers (ideal ×2)" in page
    assert "snakemake · cores" in page and "bootstrap" in page
    assert "share one interpreter lock" in page


def test_section_without_records_says_not_measured():
    sec = view.section(Index({}, []))
    assert sec == {"measured": False}
    assert view.charts(sec) == {"parallel_speedup": None}
    assert "Not measured" in view.html(sec, {})
