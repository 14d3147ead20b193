"""The pertask scenario: the shared task bodies, each tool's synthetic command on real tools at
tiny N, the harness handler (failures kept as findings, doomed sizes not run), the fit, and the
report section rendered from fixture records."""
from __future__ import annotations

import json
import random
import shutil

import pytest

from bench import fit, pertask, plan, registry
from bench.context import Context
from bench.profiles import QUICK
from bench.render import pertask as view
from bench.render.groups import Index
from core import synthetic
from tests import runner
from tests.fixtures import pertask_fixture
from tests.fixtures.make_fixture import Clock

N = 3


def _impls() -> dict:
    loaded = registry.load()
    assert not loaded.problems, loaded.problems
    return {impl.name: impl for impl in loaded.impls}


IMPLS = _impls()
TOOL_RUNS = [(name, mode, shape) for name, impl in IMPLS.items()
             for mode in impl.synthetic_modes for shape in synthetic.SHAPES]


def _run_tool(impl, mode, shape, n, workdir, tool_home=None):
    if tool_home:  # as the harness copies a pre-initialised tool home into each workdir
        shutil.copytree(tool_home, workdir / tool_home.name)
    argv = impl.module.synthetic_command(workdir, mode, shape=shape, n=n)
    env = runner.base_env(workdir.parent / "home")
    env.update(impl.module.environment(workdir, mode))
    return runner.run(argv, workdir, env=env)


# ---------------------------------------------------------------- the task bodies

@pytest.mark.parametrize("shape", synthetic.SHAPES)
def test_plain_loop_writes_the_expected_result_with_one_span_per_task(shape, workdir):
    r = runner.ok(runner.run([runner.PY, "-m", "core.synthetic", "--workdir", str(workdir),
                              "--shape", shape, "--n", "4"], workdir))
    assert synthetic.read_result(workdir / synthetic.result_path(shape, 4)) == (
        4 if shape == "chain" else 10)
    checked = pertask.verify(workdir, r.spans, shape, 4)
    assert checked["result_match"] and checked["steps_match"], checked
    writes = [s for s in r.spans if s["kind"] == "write"]
    assert len(writes) == (4 if shape == "chain" else 5)
    assert all(s["bytes"] > 0 for s in writes)


@pytest.mark.parametrize("args, says", [
    (["--shape", "chain", "--n", "0"], "must be a whole number >= 1"),
    (["--shape", "chain", "--n", "many"], "must be a whole number >= 1"),
    (["--shape", "star", "--n", "3"], "invalid choice"),
    (["--n", "3"], "--shape"),
])
@pytest.mark.parametrize("module", ["core.synthetic", "impl_luigi.synthetic"])
def test_bad_arguments_give_one_line_and_exit_2(module, args, says, workdir):
    r = runner.run([runner.PY, "-m", module, "--workdir", str(workdir), *args], workdir)
    assert r.rc == 2
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


def test_verify_catches_a_wrong_value_and_a_missing_task(workdir):
    r = runner.ok(runner.run([runner.PY, "-m", "core.synthetic", "--workdir", str(workdir),
                              "--shape", "fanout", "--n", "3"], workdir))
    (workdir / synthetic.GATHER_PATH).write_text(json.dumps({"value": 7}))
    checked = pertask.verify(workdir, r.spans, "fanout", 3)
    assert checked["result_value"] == 7 and not checked["result_match"]
    one_task_fewer = [s for s in r.spans if s["kind"] != "compute" or s["step"] != "task"][1:]
    assert not pertask.verify(workdir, one_task_fewer, "fanout", 3)["steps_match"]


# ---------------------------------------------------------------- every tool, for real

@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    """prefect's database, created once: a fresh one takes prefect 15-20 s to set up."""
    workdir = tmp_path_factory.mktemp("prefect-home") / "wd"
    runner.ok(_run_tool(IMPLS["prefect"], "memory", "chain", 1, workdir))
    return workdir / IMPLS["prefect"].module.TOOL_HOME[0]


@pytest.mark.parametrize("name, mode, shape", TOOL_RUNS)
def test_each_tool_runs_the_workload_and_keeps_its_state_in_the_workdir(name, mode, shape,
                                                                         tmp_path, request):
    workdir = tmp_path / "wd"
    home = request.getfixturevalue("prefect_home") if name == "prefect" else None
    r = _run_tool(IMPLS[name], mode, shape, N, workdir, home)
    assert r.rc == 0, r.stderr[-3000:]
    checked = pertask.verify(workdir, r.spans, shape, N)
    assert checked["result_match"], checked
    assert checked["task_spans"] == synthetic.expected_spans(shape, N), checked
    assert not r.survivors
    assert not runner.files_in(tmp_path / "home"), "the tool wrote into HOME"


# ---------------------------------------------------------------- the harness handler

@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("pertask-run")
    return Context(run_dir, "pertask-test", IMPLS, QUICK)


def _execute(ctx, impl, mode, shape, n):
    ex = plan.Execution(plan.Slot(impl, mode, "pertask", step=shape, scale=n), round=1)
    scratch = ctx.scratch(f"{impl}-{shape}-{n}")
    return pertask.run(ctx, ex, IMPLS[impl], scratch)


def test_a_failure_is_a_finding_and_larger_sizes_are_recorded_as_not_run(ctx):
    # snakemake builds its DAG recursively: a 500-deep chain exceeds Python's recursion limit.
    failed = _execute(ctx, "snakemake", "threads", "chain", 500)
    assert failed["status"] == "unexpected_failure" and failed["exit_code"] != 0
    assert "RecursionError" in failed["detail"]["tool_message"]
    assert (ctx.run_dir / failed["detail"]["log"]).exists()
    skipped = _execute(ctx, "snakemake", "threads", "chain", 1000)
    assert skipped["status"] == "unexpected_failure" and skipped["wall_s"] == 0.0
    assert skipped["detail"]["failed_at_n"] == 500
    assert "not run: failed at N=500" in skipped["detail"]["not_run"]
    assert "RecursionError" in skipped["detail"]["tool_message"]
    # smaller sizes of the same triple still run
    assert _execute(ctx, "snakemake", "threads", "chain", 5)["status"] == "ok"


def test_an_ok_record_carries_the_verified_counts(ctx):
    fields = _execute(ctx, "luigi", "local", "fanout", 4)
    assert fields["status"] == "ok", fields.get("detail")
    assert fields["verify"]["task_spans"] == {"task": 4, "gather": 1}
    assert fields["verify"]["result_value"] == 10
    assert fields["wall_s"] > 0 and fields["io"]["outputs_bytes"] > 0


# ---------------------------------------------------------------- the fit

def test_fit_of_an_exact_line_recovers_it_with_a_closed_interval():
    ns = [10, 50, 100, 200] * 2
    f = fit.fit(ns, [2.0 + 0.01 * n for n in ns])
    assert f.fixed.value == pytest.approx(2.0) and f.per_task.value == pytest.approx(0.01)
    assert f.per_task.high - f.per_task.low == pytest.approx(0.0, abs=1e-9)
    assert f.linear is True


def test_fit_intervals_use_the_t_distribution():
    # y = 1 + N + residuals (+1, -1, -1, +1) at N = 0..3: RSS = 4, s^2 = 2, Sxx = 5,
    # se(slope) = sqrt(2 / 5); t(0.975, 2) = 4.302653
    f = fit.fit([0, 1, 2, 3], [2.0, 1.0, 2.0, 5.0])
    assert f.per_task.value == pytest.approx(1.0)
    assert f.per_task.high - f.per_task.value == pytest.approx(4.302653 * (2 / 5) ** 0.5, rel=1e-5)


def test_fit_flags_material_curvature_and_not_noise():
    rng = random.Random(3)
    ns = [10, 50, 100, 200, 500] * 3
    quadratic = fit.fit(ns, [1 + 0.01 * n + 4e-5 * n * n + rng.gauss(0, 0.05) for n in ns])
    assert quadratic.linear is False and quadratic.curvature.coefficient.value > 0
    noisy = fit.fit(ns, [1 + 0.01 * n + rng.gauss(0, 0.05) for n in ns])
    assert noisy.linear is True


def test_fit_needs_two_sizes_and_says_when_it_cannot_judge_linearity():
    assert fit.fit([10, 10, 10], [1.0, 1.1, 0.9]) is None
    two_sizes = fit.fit([10, 50, 10, 50], [1.0, 2.0, 1.1, 2.1])
    assert two_sizes.per_task.low is not None and two_sizes.linear is None


# ---------------------------------------------------------------- the report section

@pytest.fixture(scope="module")
def section():
    recs = pertask_fixture.records(random.Random(4), Clock(), "run-fixture")
    return view.section(Index({}, recs))


def _row(section, label, shape):
    return next(r for r in section["rows"] if r["label"] == label and r["shape"] == shape)


def test_section_fits_every_tool_and_shape_near_the_fixture_model(section):
    assert {(r["label"], r["shape"]) for r in section["rows"]} == {
        (f"{impl} · {mode}", shape) for impl, mode in pertask_fixture.COST
        for shape in synthetic.SHAPES}
    luigi = _row(section, "luigi · local", "chain")["fit"]
    assert luigi["per_task_s"]["value"] == pytest.approx(0.0035, rel=0.2)
    assert luigi["per_task_s"]["low"] < luigi["per_task_s"]["value"] < luigi["per_task_s"]["high"]
    assert luigi["n_samples"] == 15 and luigi["linear"] is True
    assert len(luigi["residuals"]) == 15
    assert [m["n"] for m in _row(section, "luigi · local", "chain")["medians"]] == [
        10, 50, 100, 200, 500]


def test_section_says_where_cost_is_not_linear(section):
    assert _row(section, "snakemake · threads", "fanout")["fit"]["linear"] is False
    assert _row(section, "snakemake · threads", "chain")["fit"]["linear"] is True


def test_section_lists_failures_with_their_n_and_message(section):
    recursion = [f for f in section["failures"]
                 if f["label"] == "snakemake · threads" and f["shape"] == "chain"]
    assert recursion and {f["n"] for f in recursion} == {500}
    assert all(f["headline"].startswith(("RecursionError", "WorkflowError")) for f in recursion)
    not_run = [f for f in section["failures"] if f["not_run"]]
    assert {(f["label"], f["n"]) for f in not_run} == {("snakemake · processes", 500)}
    assert _row(section, "snakemake · processes", "chain")["failed_sizes"] == [200, 500]


def test_html_and_charts_render_from_fixture_records(section):
    charts = view.charts(section)
    assert set(charts) == {"pertask_fit", "pertask_residuals"}
    assert all(svg.startswith("<svg") for svg in charts.values())
    html = view.html(section, charts)
    assert html.startswith('<section id="pertask">') and html.endswith("</section>")
    assert "95 % CI" in html and "t(0.975, n−2)" in html
    assert "not run: failed at N=200" in html and "RecursionError" in html
    assert "no: grows faster than linear" in html
    assert "median wall by N" in html


def test_a_single_size_gives_medians_but_no_fit_and_no_residual_chart(section):
    recs = [r for r in pertask_fixture.records(random.Random(4), Clock(), "run-fixture")
            if r.scale == 10]
    single = view.section(Index({}, recs))
    assert all(r["fit"] is None and len(r["medians"]) == 1 for r in single["rows"])
    charts = view.charts(single)
    assert charts["pertask_fit"] and charts["pertask_residuals"] is None
    assert "fewer than 2 sizes" in view.html(single, charts)


def test_an_empty_run_renders_a_note_and_no_chart():
    empty = view.section(Index({}, []))
    assert empty == {"measured": False}
    assert view.charts(empty) == {"pertask_fit": None, "pertask_residuals": None}
    assert "Not measured in this run" in view.html(empty, {})
