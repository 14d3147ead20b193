"""The numbers of each report section, checked as data against the fixture's raw records.

Expected values are recomputed here straight from records.jsonl (schema v1, as checked in:
`step` and `scale` there are `variant` and `size` once read) with the standard library, so a
number the report typed in or took from the wrong records would not match.
"""
from __future__ import annotations

import dataclasses
import json
import statistics

import pytest

from bench.render import fmt, page
from bench.render.analysis.groups import Index, split
from bench.render.sections import guide, io, parallel, pertask, rerun, summary
from bench.store.records import Record
from tests.render.conftest import FIXTURE


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    return [json.loads(line) for line in (FIXTURE / "records.jsonl").read_text().splitlines()]


def usable(raw, scenario, impl, mode, **match) -> list[dict]:
    return [r for r in raw if r["scenario"] == scenario and r["impl"] == impl
            and r["mode"] == mode and r["status"] == "ok" and not r["warmup"]
            and r["phase"] == "timed" and all(r[k] == v for k, v in match.items())]


def real(way: str) -> str:
    """The record's mode behind a row's way of running (`local · laptop` -> `local`)."""
    return way.split(" · ")[0]


def walls(rs) -> list[float]:
    return [r["wall_s"] for r in rs]


def by(rows, **match) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, len(found))
    return found[0]


def rebuilt(run, **changes) -> dict:
    return page.build(dataclasses.replace(run, **changes))


# --- the page's order -------------------------------------------------------------------------

def test_sections_are_built_after_what_they_need():
    order = [s.name for s in page.build_order()]
    for s in page.SECTIONS:
        assert all(order.index(need) < order.index(s.name) for need in s.needs)
    assert [s.name for s in page.SECTIONS][-2:] == ["guide", "method"]


def test_a_cycle_between_sections_is_refused():
    from bench.render.sections.base import Section
    a = Section("a", "A", lambda run, ix, **kw: {}, lambda data: {}, needs=("b",))
    b = Section("b", "B", lambda run, ix, **kw: {}, lambda data: {}, needs=("a",))
    with pytest.raises(ValueError, match="a -> b -> a"):
        page.build_order((a, b))


def test_the_reference_comes_from_the_run(run, built):
    assert run.info.reference == "baseline"  # migrated: v1 named it by its name
    assert built["cost"]["rows"][0]["impl"] == run.info.reference
    colours = {r["impl"]: r["colour"] for r in built["cost"]["rows"]}
    assert colours == {name: i.colour for name, i in run.info.impls.items()}


# --- wall time split --------------------------------------------------------------------------

def test_split_of_one_execution():
    rec = Record(run_id="t", impl="x", mode="m", scenario="cold", round=1, status="ok",
                 wall_s=4.0, launch_epoch=100.0, detail={}, spans=(
                     {"step": "a", "kind": "read", "start": 101.0, "end": 101.5, "bytes": 10},
                     {"step": "a", "kind": "compute", "start": 101.5, "end": 102.5},
                     {"step": "a", "kind": "write", "start": 102.5, "end": 103.0, "bytes": 7}))
    assert split(rec) == {"startup": 1.0, "compute": 1.0, "io": 1.0, "orchestration": 1.0,
                          "read_bytes": 10, "write_bytes": 7}
    assert split(dataclasses.replace(rec, spans=())) is None
    cut = rec.spans + ({"step": "b", "kind": "write", "start": 103.0},)  # killed mid-span
    assert split(dataclasses.replace(rec, spans=cut)) == split(rec)


def test_parts_add_up_to_each_cold_run(run):
    for rec in run.records:
        if rec.scenario == "cold" and rec.spans:
            parts = split(rec)
            total = parts["startup"] + parts["compute"] + parts["io"] + parts["orchestration"]
            assert total == pytest.approx(rec.wall_s, abs=1e-6)


def test_breakdown_medians_come_from_usable_cold_runs(built, raw):
    rows = built["io"]["breakdown"]
    assert [r["label"] for r in rows][:3] == [
        "baseline · files · laptop", "baseline · memory · laptop", "luigi · local · laptop"]
    assert len(rows) == 9
    for row in rows:
        expected = walls(usable(raw, "cold", row["impl"], real(row["mode"])))
        assert row["wall"]["n"] == len(expected) == 5
        assert row["wall"]["median"] == pytest.approx(statistics.median(expected))
        assert [x["warmup"] for x in row["wall"]["excluded"]] == [True]
        io_values = [sum(s["end"] - s["start"] for s in r["spans"] if s["kind"] != "compute")
                     for r in usable(raw, "cold", row["impl"], real(row["mode"]))]
        assert row["io"]["median"] == pytest.approx(statistics.median(io_values))
        assert row["io_share"] == pytest.approx(row["io"]["median"] / row["wall"]["median"])
    assert by(rows, impl="prefect", mode="memory · laptop")["files"] is False
    assert by(rows, impl="prefect", mode="files · laptop")["files"] is True


def test_lower_bound_and_cross_check_use_the_reference(built, raw):
    data = built["io"]
    mem = statistics.median(walls(usable(raw, "cold", "baseline", "memory")))
    files = statistics.median(walls(usable(raw, "cold", "baseline", "files")))
    assert data["lower_bound"]["label"] == "baseline · memory · laptop"
    assert data["lower_bound"]["wall"]["median"] == pytest.approx(mem)
    assert data["cross_check"]["difference_s"] == pytest.approx(files - mem)
    assert data["cross_check"]["ratio"].value == pytest.approx(files / mem)
    assert data["cross_check"]["ratio"].has_ci  # five samples on each side


# --- IO sweep and floor -----------------------------------------------------------------------

def test_sweep_covers_scales_formats_and_in_memory_modes(built):
    sweep = built["io"]["sweep"]
    assert sweep["scales"] == [1, 10, 100]
    assert sweep["formats"] == ["csv", "pickle", "parquet"]
    in_memory = {s["label"] for s in sweep["series"] if s["in_memory"]}
    assert in_memory == {"baseline · memory · laptop", "prefect · memory · laptop"}
    assert len(sweep["series"]) == 4 * 3 + 2
    assert len(built["io"]["sweep_rows"]) == sum(len(s["per_scale"]) for s in sweep["series"])


def test_sweep_excludes_the_failed_verification(built, raw):
    series = by(built["io"]["sweep"]["series"], impl="luigi", mode="local · laptop", format="parquet")
    at10 = by(series["per_scale"], scale=10)
    assert at10["wall"]["n"] == 2
    assert [x["status"] for x in at10["wall"]["excluded"]] == ["invalid_output"]
    expected = walls(usable(raw, "io", "luigi", "local", format="parquet", scale=10))
    assert at10["wall"]["median"] == pytest.approx(statistics.median(expected))
    assert len(series["points"]) == 9  # every execution is drawn, the excluded one too


def test_sweep_bytes_grow_with_scale(built):
    series = by(built["io"]["sweep"]["series"], impl="baseline", mode="files · laptop", format="csv")
    sizes = [p["io_bytes"] for p in series["per_scale"]]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_floor_points_read_from_pytest_benchmark_json(built):
    floor = json.loads((FIXTURE / "floor.json").read_text())
    points = built["io"]["floor"]
    assert len(points) == len(floor["benchmarks"]) == 18
    for bench in floor["benchmarks"]:
        p = by(points, op=bench["extra_info"]["kind"], format=bench["params"]["fmt"],
               scale=bench["params"]["scale"])
        assert p["median"] == bench["stats"]["median"]
        assert p["bytes"] == bench["extra_info"]["bytes"]
    trip = built["io"]["floor_round_trip"]
    csv10 = by(trip["csv"], scale=10)
    assert csv10["seconds"] == pytest.approx(by(points, op="write", format="csv", scale=10)["median"]
                                             + by(points, op="read", format="csv", scale=10)["median"])


def test_floor_facts_fall_back_to_the_benchmark_name():
    points = io.floor_points({"benchmarks": [
        {"name": "test_read[parquet-x100]", "stats": {"median": 0.5}},
        {"name": "test_floor[write-csv-10]", "stats": {"median": 0.25, "data": [0.25, 0.3]}},
        {"name": "test_unrelated", "stats": {"median": 1.0}}]})
    assert points == [
        {"op": "write", "format": "csv", "scale": 10, "bytes": None,
         "name": "test_floor[write-csv-10]", "median": 0.25, "q1": None, "q3": None,
         "rounds": None, "values": [0.25, 0.3]},
        {"op": "read", "format": "parquet", "scale": 100, "bytes": None,
         "name": "test_read[parquet-x100]", "median": 0.5, "q1": None, "q3": None,
         "rounds": None, "values": []}]


# --- failure ----------------------------------------------------------------------------------

def test_resume_rows_against_the_cold_run(built, raw):
    row = by(built["failure"]["resume"], impl="luigi", mode="local · laptop")
    assert [s["step"] for s in row["steps"]] == ["load", "preprocess", "train", "predict",
                                                 "evaluate"]
    train = by(row["steps"], step="train")
    resume = walls(usable(raw, "resume", "luigi", "local", step="train"))
    cold = walls(usable(raw, "cold", "luigi", "local"))
    assert train["wall"]["median"] == pytest.approx(statistics.median(resume))
    assert train["ratio"].value == pytest.approx(statistics.median(resume) / statistics.median(cold))
    assert not train["ratio"].has_ci  # three resume samples: counts, no interval
    assert train["saved_s"] == pytest.approx(statistics.median(cold) - statistics.median(resume))
    assert train["executed"] == ["train", "predict", "evaluate"]
    assert train["ran"] == "re-ran train … evaluate (3 steps)"
    assert train["steps_match"] is True
    base = by(built["failure"]["resume"], impl="baseline", mode="files · laptop")
    assert by(base["steps"], step="train")["executed"] == ["load", "preprocess", "train",
                                                           "predict", "evaluate"]


def test_crash_rows_per_tool_and_step(built):
    crash = built["failure"]["crash"]
    assert len(crash) == 5 * 5
    refused = by(crash, impl="snakemake", mode="processes · laptop", step="preprocess")
    assert refused["outcomes"] == {"refused": 2}
    assert "--unlock" in refused["recovery_commands"][0]
    assert "--rerun-incomplete" in refused["recovery_commands"][1]
    assert refused["recovery_verified"] is True and refused["recovery_exit_codes"] == [0, 0]
    assert len(refused["logs"]) == 2 and refused["logs"][0].startswith("logs/r1-crash-preprocess")
    assert "cannot be locked" in refused["tool_message"]
    assert refused["leftovers"]["locks"] == [".snakemake/locks/0.input.lock",
                                             ".snakemake/locks/0.output.lock"]
    wrong = by(crash, impl="prefect", mode="files · laptop", step="predict")
    assert wrong["outcome"] == "silently_wrong" and wrong["statuses"] == {"invalid_output": 2}
    luigi = by(crash, impl="luigi", mode="local · laptop", step="train")
    assert luigi["outcome"] == "recovered" and luigi["recovery_commands"] == []
    assert luigi["leftovers"]["temp_files"][0].startswith("interim/model.pkl-luigi-tmp-")
    prefect = by(crash, impl="prefect", mode="memory · laptop", step="load")
    assert "uvicorn" in prefect["leftovers"]["survivors"][0]


def test_tool_message_preview_is_the_line_that_says_what_went_wrong():
    from bench.render.sections.failure import key_line, preview
    message = "Assuming unrestricted shared filesystem usage.\nBuilding DAG of jobs...\n" \
              "IncompleteFilesException:\nThe files below seem to be incomplete.\n"
    assert key_line(message) == ("IncompleteFilesException: The files below seem to be "
                                 "incomplete.")
    assert key_line("all fine\nlast words\n") == "last words"
    assert key_line("") == ""
    assert preview("x" * 95) == "x" * 90 + "…"


def test_recovery_commands_read_as_typed():
    argv = ["python", "-m", "snakemake", "--directory", "$WORKDIR", "--config", "a=b c",
            "$WORKDIR/out"]
    assert fmt.argv_text(argv) == ("python -m snakemake --directory $WORKDIR --config 'a=b c' "
                                   "$WORKDIR/out")


# --- cost on top ------------------------------------------------------------------------------

def test_cost_rows_compare_with_the_same_kind_of_reference(built, raw):
    rows = built["cost"]["rows"]
    assert by(rows, impl="prefect", mode="memory · laptop")["reference"]["label"] == "baseline · memory · laptop"
    luigi = by(rows, impl="luigi", mode="local · laptop")
    assert luigi["reference"]["label"] == "baseline · files · laptop"
    cold = statistics.median(walls(usable(raw, "cold", "luigi", "local")))
    base = statistics.median(walls(usable(raw, "cold", "baseline", "files")))
    assert luigi["reference"]["difference_s"] == pytest.approx(cold - base)
    assert luigi["reference"]["ratio"].value == pytest.approx(cold / base)
    assert luigi["first_run"]["n"] == 3 and luigi["default"] is True
    assert by(rows, impl="baseline", mode="files · laptop")["reference"] is None
    rss = [r["max_rss_kb"] for r in usable(raw, "cold", "luigi", "local")]
    assert luigi["rss_kb"]["median"] == statistics.median(rss)


def test_a_timeout_is_counted_not_measured(built):
    noop = by(built["cost"]["rows"], impl="prefect", mode="server · team")["noop"]
    assert noop["n"] == 4
    assert sorted(x["status"] for x in noop["excluded"]) == ["ok", "timeout"]  # warm-up, timeout
    assert 120.0 not in noop["values"]
    assert fmt.excluded(noop["excluded"]) == "+1 timeout, +1 warm-up"


def test_footprint_and_modes(built, raw):
    foot = {f["impl"]: f for f in built["cost"]["footprint"]}
    assert set(foot) == {"luigi", "prefect", "snakemake"}
    imports = [r["detail"]["import_s"] for r in raw if r["scenario"] == "footprint"
               and r["impl"] == "prefect"]
    assert foot["prefect"]["import"]["median"] == pytest.approx(statistics.median(imports))
    assert foot["prefect"]["distributions"] == 97
    prefect_modes = by(built["cost"]["modes"], impl="prefect")
    assert [r["mode"] for r in prefect_modes["rows"]] == [
        "memory · laptop", "files · laptop", "server · team"]
    server = by(prefect_modes["rows"], mode="server · team")
    expected = (statistics.median(walls(usable(raw, "cold", "prefect", "server")))
                / statistics.median(walls(usable(raw, "cold", "prefect", "memory"))))
    assert server["ratio"].value == pytest.approx(expected)


# --- code, shape ------------------------------------------------------------------------------

def test_code_size_and_stored_sources(built, raw):
    rows = {r["impl"]: r for r in built["code"]["rows"]}
    sizes = {r["impl"]: r["detail"] for r in raw if r["scenario"] == "codesize"}
    assert list(rows) == ["baseline", "luigi", "prefect", "snakemake"]
    for impl, row in rows.items():
        assert row["sloc"] == sizes[impl]["sloc"]
    assert rows["luigi"]["over_reference"]["sloc"] == sizes["luigi"]["sloc"] - sizes["baseline"]["sloc"]
    assert rows["baseline"]["over_reference"] is None
    sources = {s["impl"]: s for s in built["code"]["sources"]}
    stored = (FIXTURE / "sources/snakemake/impl_snakemake/Snakefile").read_text()
    [snakefile] = sources["snakemake"]["files"]
    assert (snakefile["path"], snakefile["text"]) == ("impl_snakemake/Snakefile", stored)
    assert '<span class="kn">import</span>' in snakefile["html"]  # highlighted as Python


def test_dags_and_representative_timelines(built, raw):
    shape = built["shape"]
    assert {d["name"] for d in shape["dags"]} == {"luigi-local", "snakemake-processes"}
    assert shape["dags_missing"] == ["prefect"]
    gantt = {g["impl"]: g for g in shape["gantt"]}
    assert {g["impl"]: g["mode"] for g in gantt.values()} == {
        "baseline": "files · laptop", "luigi": "local · laptop", "prefect": "memory · laptop",
        "snakemake": "processes · laptop"}
    luigi = gantt["luigi"]
    cold = walls(usable(raw, "cold", "luigi", "local"))
    centre = statistics.median(cold)
    assert luigi["wall_s"] == min(cold, key=lambda w: abs(w - centre))
    assert luigi["spans"][0]["start"] > 0 and luigi["spans"][-1]["end"] <= luigi["wall_s"]
    assert gantt["snakemake"]["pids"] == 5  # one job process per rule
    assert shape["steps"] == ["load", "preprocess", "train", "predict", "evaluate"]


# --- cost per task ------------------------------------------------------------------------------

def _pertask_row(data, label, shape):
    return next(r for r in data["rows"] if r["label"] == label and r["shape"] == shape)


def test_pertask_fits_every_tool_and_shape(built, raw):
    data = built["pertask"]
    pairs = {(r["impl"], r["mode"]) for r in raw if r["scenario"] == "pertask"}
    assert {(r["label"], r["shape"]) for r in data["rows"]} == {
        (f"{impl} · {mode} · laptop", shape) for impl, mode in pairs for shape in ("chain", "fanout")}
    row = _pertask_row(data, "luigi · local · laptop", "chain")
    luigi = row["fit"]
    assert luigi["per_task_s"]["value"] == pytest.approx(0.0035, rel=0.2)  # the fixture's model
    assert luigi["per_task_s"]["low"] < luigi["per_task_s"]["value"] < luigi["per_task_s"]["high"]
    assert luigi["n_samples"] == 15 and luigi["linear"] is True
    assert len(luigi["residuals"]) == 15
    assert [m["n"] for m in row["medians"]] == [10, 50, 100, 200, 500]


def test_pertask_says_where_cost_is_not_linear(built):
    assert _pertask_row(built["pertask"], "snakemake · threads · laptop", "fanout")["fit"]["linear"] is False
    assert _pertask_row(built["pertask"], "snakemake · threads · laptop", "chain")["fit"]["linear"] is True


def test_pertask_lists_failures_with_their_n_and_message(built):
    data = built["pertask"]
    recursion = [f for f in data["failures"]
                 if f["label"] == "snakemake · threads · laptop" and f["shape"] == "chain"]
    assert recursion and {f["n"] for f in recursion} == {500}
    assert all(f["headline"].startswith(("RecursionError", "WorkflowError")) for f in recursion)
    not_run = [f for f in data["failures"] if f["not_run"]]
    assert {(f["label"], f["n"]) for f in not_run} == {("snakemake · processes · laptop", 500)}
    assert _pertask_row(data, "snakemake · processes · laptop", "chain")["failed_sizes"] == [200, 500]


def test_pertask_html_and_charts(built, fixture_charts):
    svgs = {k: fixture_charts[k] for k in ("pertask_fit", "pertask_residuals")}
    assert all(svg.startswith("<svg") for svg in svgs.values())
    html = page.render_section(pertask.SECTION, built["pertask"], svgs)
    assert html.startswith('<section id="pertask">') and html.rstrip().endswith("</section>")
    assert "95 % CI" in html and "t(0.975, n−2)" in html
    assert "not run: failed at N=200" in html and "RecursionError" in html
    assert "no: grows faster than linear" in html
    assert "median wall by N" in html


def test_pertask_at_a_single_size_gives_medians_but_no_fit(run):
    recs = [r for r in run.records if r.scenario == "pertask" and r.size == 10]
    single = pertask.build(run, Index(run.info, recs))
    assert all(r["fit"] is None and len(r["medians"]) == 1 for r in single["rows"])
    svgs = pertask.charts(single)
    assert svgs["pertask_fit"] and svgs["pertask_residuals"] is None
    assert "fewer than 2 sizes" in page.render_section(pertask.SECTION, single, svgs)


def test_sections_of_an_empty_run_say_not_measured(run):
    empty = Index(run.info, [])
    for section in (pertask, parallel, rerun):
        data = section.build(run, empty)
        assert data == {"measured": False}
        svgs = section.charts(data)
        assert all(svg is None for svg in svgs.values())
        assert "Not measured in this run" in page.render_section(section.SECTION, data, svgs)


# --- parallel -------------------------------------------------------------------------------------

def test_parallel_section(built, raw):
    data = built["parallel"]
    assert data["measured"] and data["workers"] == [1, 2] and data["folds"] == 12
    rows = {r["label"]: r for r in data["rows"]}
    assert data["rows"][0]["impl"] == "baseline" and data["reference_label"] == "baseline · processes · laptop"
    base = rows["baseline · processes · laptop"]
    assert base["vs_reference_speedup"][2] == pytest.approx(1.0)
    assert base["overhead_per_fold_s"][2] is None
    snake = rows["snakemake · cores · laptop"]
    cores = snake["speedups"][2]
    # the fixture's trace keeps each run's fold window: the speed-up is over the windows, so a
    # tool's start-up is not read as a slower fold
    assert snake["from_window"] and snake["windows"][1]["n"] == snake["walls"][1]["n"]
    assert cores["ideal"] == 2 and cores["value"] == pytest.approx(
        snake["windows"][1]["median"] / snake["windows"][2]["median"])
    assert cores["value"] != pytest.approx(snake["walls"][1]["median"] / snake["walls"][2]["median"])
    assert cores["efficiency"] == pytest.approx(cores["value"] / 2)
    one = [r["wall_s"] for r in raw if r["scenario"] == "parallel" and r["impl"] == "snakemake"
           and r["mode"] == "cores" and r["status"] == "ok" and not r["warmup"]]
    assert rows["snakemake · cores · laptop"]["walls"][1]["n"] + rows["snakemake · cores · laptop"]["walls"][2]["n"] == len(one)
    threads = rows["prefect · threads · laptop"]
    assert "interpreter lock" in threads["facts"][2]["verdict"]
    assert threads["speedups"][2]["value"] < cores["value"]
    assert "processes" in rows["luigi · workers · laptop"]["facts"][2]["verdict"]
    assert rows["luigi · workers · laptop"]["facts"][1]["verdict"] == "one fold at a time"
    dask = rows["prefect · dask · laptop"]["walls"][2]
    assert dask["n"] == 2 and dask["excluded"][0]["status"] == "unexpected_failure"


def test_parallel_html_names_the_reference(built, fixture_charts):
    html = page.render_section(parallel.SECTION, built["parallel"],
                               {"parallel_speedup": fixture_charts["parallel_speedup"]})
    assert html.startswith('<section id="parallel">')
    assert "speed-up at 2 workers (ideal ×2)" in html and "÷ baseline's speed-up at 2" in html
    assert "snakemake · cores · laptop" in html and "bootstrap" in html
    assert "share one interpreter lock" in html
    assert 'id="chart-parallel-speedup"' in html


# --- reruns after a change ------------------------------------------------------------------------

def test_rerun_is_a_matrix_of_classes_from_the_records(built):
    data = built["rerun"]
    assert data["changes"] == ["data", "param", "core_code", "wrapper_code", "comment", "touch"]
    assert data["minimal"]["param"] == ["train", "predict", "evaluate"]
    assert data["minimal"]["touch"] == []
    rows = {row["impl"]: row for row in data["rows"]}
    assert list(rows) == ["baseline", "luigi", "prefect", "snakemake"]
    luigi = rows["luigi"]["cells"]
    assert [luigi[c]["class"] for c in data["changes"]] == ["stale"] * 4 + ["exact"] * 2
    assert rows["luigi"]["counts"] == {"stale": 4, "exact": 2}
    prefect = rows["prefect"]["cells"]["wrapper_code"]
    assert prefect["executed"] == ["train"] and prefect["reason"].startswith("cache key changed")
    assert rows["snakemake"]["cells"]["wrapper_code"]["class"] == "failed"
    assert data["totals"]["stale"] == 7 and data["totals"]["failed"] == 1


def test_rerun_html_shows_class_steps_reason_and_legend(built):
    html = page.render_section(rerun.SECTION, built["rerun"], {})
    assert html.startswith('<section id="rerun">')
    assert "param (needs: train, predict, evaluate)" in html
    assert 'class="rerun-stale"' in html and 'class="rerun-over-eager"' in html
    assert html.count('class="rerun-stale"') == 7
    assert "ran: train</span>" in html
    assert "tool's reason: train: Params have changed since last execution" in html
    assert "the tool gives no reason" in html  # luigi
    assert "the edit&#39;s anchor occurs 0 times" in html
    for word in ("exact", "over-eager", "under-run", "stale", "failed"):
        assert f'<b style="color:{rerun.COLOURS[word]}">{word}</b>' in html
    assert "checked against the baseline run on the changed input" in html


def test_stale_and_over_eager_reruns_are_findings_not_verification_warnings(run):
    recs = [r for r in run.records if r.scenario == "rerun"]
    warnings = summary.status_warnings(Index(run.info, recs))
    assert [w["kind"] for w in warnings] == ["failures"]  # the one failed cell only
    assert warnings[0]["details"] == [
        "snakemake · processes · laptop rerun at wrapper_code, round 1: unexpected_failure"]


# --- guide and summary ------------------------------------------------------------------------

def test_guide_sentences_carry_the_numbers_behind_them(built):
    situations = {s["key"]: s for s in built["guide"]["situations"]}
    assert set(situations) == {"large_data", "failures", "crashes", "least_code", "startup",
                               "cold", "first_run", "noop", "memory", "install", "many_tasks",
                               "parallel", "changes"}
    best = min((r for r in built["cost"]["rows"] if r["impl"] != "baseline" and r["cold"]["n"]),
               key=lambda r: r["cold"]["median"])
    assert situations["cold"]["favours"] == best["impl"]
    assert fmt.seconds(best["cold"]["median"]) in situations["cold"]["sentence"]
    code = {r["impl"]: r for r in built["code"]["rows"]}
    fewest = min((r for r in code.values() if r["impl"] != "baseline"), key=lambda r: r["sloc"])
    assert situations["least_code"]["favours"] == fewest["impl"]
    assert str(fewest["sloc"]) in situations["least_code"]["sentence"]
    assert "silently wrong 2/10" in situations["crashes"]["sentence"]
    # prefect · files · laptop was once silently wrong, but prefect's default mode always recovered
    assert situations["crashes"]["favours"] == "luigi, prefect"
    assert built["guide"]["not_measured"] == list(guide.NEVER_MEASURED)
    for s in situations.values():
        assert s["favours"] != "baseline"


def test_guide_situations_of_the_scaling_scenarios(built):
    situations = {s["key"]: s for s in built["guide"]["situations"]}
    slopes = {}
    for row in built["pertask"]["rows"]:
        if row["impl"] != "baseline":
            worst = max(slopes.get(row["label"], 0.0), row["fit"]["per_task_s"]["value"])
            slopes[row["label"]] = worst
    cheapest = min(slopes, key=slopes.get)
    assert situations["many_tasks"]["favours"] == cheapest.split(" · ")[0]
    assert fmt.seconds(slopes[cheapest]) in situations["many_tasks"]["sentence"]
    assert "snakemake · threads · laptop (chain) at N=500" in situations["many_tasks"]["sentence"]
    top = built["parallel"]["workers"][-1]
    fastest = min((r for r in built["parallel"]["rows"] if r["impl"] != "baseline"),
                  key=lambda r: r["walls"][top]["median"])
    assert situations["parallel"]["favours"] == fastest["impl"]
    assert fmt.seconds(fastest["walls"][top]["median"]) in situations["parallel"]["sentence"]
    changes = situations["changes"]
    assert changes["favours"] == "snakemake"
    assert "luigi · local · laptop: exact 2/6, stale 4/6" in changes["sentence"]


def test_another_reference_is_no_contender_either(run):
    """Nothing names the plain script: make luigi the reference and it leaves the guide."""
    impls = {name: dataclasses.replace(i, reference=name == "luigi")
             for name, i in run.info.impls.items()}
    data = rebuilt(run, info=dataclasses.replace(run.info, impls=impls))
    assert data["cost"]["rows"][0]["impl"] == "luigi"
    assert all(s["favours"] != "luigi" for s in data["guide"]["situations"])
    assert by(data["cost"]["rows"], impl="baseline", mode="files · laptop")["reference"]["label"] == \
        "luigi · local · laptop"
    assert data["code"]["rows"][0]["over_reference"] is None
    assert data["parallel"]["reference_label"] == "luigi · workers · laptop"


def test_guide_lists_what_a_run_did_not_measure(run):
    data = rebuilt(run, records=[r for r in run.records if r.scenario == "cold"],
                   floor=None, sources={}, dags={})
    keys = {s["key"] for s in data["guide"]["situations"]}
    assert keys == {"startup", "cold", "memory"}
    assert "large data handed between steps" in data["guide"]["not_measured"]
    assert "least code to write and read" in data["guide"]["not_measured"]


def test_summary_names_tools_versions_and_modes(built, raw):
    tools = {t["impl"]: t for t in built["summary"]["tools"]}
    assert tools["prefect"]["version"] == "3.9.1"
    assert tools["baseline"]["version"] == "Python 3.11.7"
    assert [m["mode"] for m in tools["snakemake"]["modes"]] == ["processes · laptop", "threads · laptop"]
    assert tools["snakemake"]["modes"][0]["default"] is True
    machine = built["summary"]["machine"]
    assert ("cpu_count", "2") in machine
    assert ("memory", fmt.kib_as_bytes(24_000_000)) in machine
    assert ("python", "3.11.7") in machine
    assert built["summary"]["records"] == len(raw)
    assert built["summary"]["fixture"] is True


def test_fixture_warnings(built):
    warnings = {w["kind"]: w for w in built["summary"]["warnings"]}
    assert set(warnings) == {"fixture", "verification", "failures", "few_samples", "wide_spread",
                             "outlier_first_round"}
    assert warnings["verification"]["message"].startswith("3 execution(s)")
    assert "luigi · local · laptop io ×10 parquet, round 2" in warnings["verification"]["details"]
    # pertask failures are that section's findings; a failed parallel sample and a failed
    # rerun are failures
    assert warnings["failures"]["details"] == [
        "prefect · server · team noop, round 4: timeout",
        "prefect · dask · laptop parallel, round 2: unexpected_failure",
        "snakemake · processes · laptop rerun at wrapper_code, round 1: unexpected_failure"]
    assert [d.split(":")[0] for d in warnings["outlier_first_round"]["details"]] == [
        "snakemake · threads · laptop cold"]
    assert any(d.startswith("prefect · memory · laptop cold:") for d in warnings["wide_spread"]["details"])
    assert "baseline · files · laptop first_run: n=3" in warnings["few_samples"]["details"]


def test_provenance_warnings(run):
    info = dataclasses.replace(
        run.info, git={**run.info.git, "dirty": True}, finished_at=None,
        # `bench run --continue` after an edit stores the new hash with the continuation
        continuations=[{"started_at": "later", "source_hashes": {"luigi": "edited"},
                        "git": {"dirty": False}}])
    warnings = {w["kind"]: w for w in summary.warnings(Index(info, run.records),
                                                       dataclasses.replace(run, info=info))}
    assert "dirty_tree" in warnings
    assert "incomplete" in warnings
    assert warnings["mixed_sources"]["details"] == ["luigi: 2 versions"]


def test_clean_run_has_no_provenance_warnings(built):
    kinds = {w["kind"] for w in built["summary"]["warnings"]}
    assert not kinds & {"dirty_tree", "mixed_sources", "incomplete"}


def test_short_answers_quote_section_numbers(built):
    answers = {a["anchor"]: a["points"] for a in built["summary"]["answers"]}
    assert set(answers) == {"io", "failure", "cost", "code"}
    luigi = by(built["cost"]["rows"], impl="luigi", mode="local · laptop")
    line = next(p for p in answers["cost"] if p.startswith("luigi · local · laptop"))
    assert fmt.signed_seconds(luigi["reference"]["difference_s"]) in line
    assert fmt.ratio(luigi["reference"]["ratio"]) in line
    assert "snakemake · processes · laptop after a hard crash: refused 10/10." in answers["failure"]


def test_numbers_follow_the_records(run, built):
    """Doubling every stored cold wall time doubles the medians shown: nothing is typed in."""
    doubled = [dataclasses.replace(r, wall_s=r.wall_s * 2) if r.scenario == "cold" else r
               for r in run.records]
    after = rebuilt(run, records=doubled)["cost"]["rows"]
    for b, a in zip(built["cost"]["rows"], after):
        if b["cold"]["n"]:
            assert a["cold"]["median"] == pytest.approx(2 * b["cold"]["median"])


def test_methodology_counts(built, raw):
    m = built["method"]
    assert m["records"] == len(raw)
    assert m["usable"] == sum(r["status"] == "ok" and not r["warmup"] and r["phase"] == "timed"
                              for r in raw)
    assert m["warmups"] == sum(r["warmup"] for r in raw)
    assert m["statuses"]["timeout"] == sum(r["status"] == "timeout" for r in raw)
    assert ("fixture", "True") in m["environment"]
    assert ("impls.baseline.reference", "True") in m["environment"]
    assert {r["name"] for r in m["raw"]} == {"run.json", "records.jsonl", "floor.json"}
    assert m["floor_benchmarks"] == 18
    assert m["services"] == ["luigid", "prefect-server"]


def test_a_one_round_run_reads_honestly(run):
    """The quick profile: one timed round, one scale. No spreads from one sample, no claim
    about large data from the smallest size."""
    quick = [r for r in run.records if r.round <= 1 and (r.scenario != "io" or r.size == 1)]
    data = rebuilt(run, records=quick)
    keys = {s["key"] for s in data["guide"]["situations"]}
    assert "large_data" not in keys
    assert "large data handed between steps" in data["guide"]["not_measured"]
    text = " ".join(s["sentence"] for s in data["guide"]["situations"])
    text += " ".join(p for a in data["summary"]["answers"] for p in a["points"])
    assert "one sample" in text
    assert "IQR" not in text and "CI" not in text
