"""The numbers of each report section, checked as data against the fixture's raw records.

Expected values are recomputed here straight from records.jsonl with the standard library,
so a number the report typed in or took from the wrong records would not match.
"""
from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

import pytest

from bench import records
from bench.render import context, fmt, guide
from bench.render.groups import split
from bench.render.load import RunData, load_run

FIXTURE = Path(__file__).parent / "fixtures" / "run-fixture"


@pytest.fixture(scope="module")
def run() -> RunData:
    return load_run(FIXTURE)


@pytest.fixture(scope="module")
def ctx(run) -> dict:
    return context.build(run)


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    return [json.loads(line) for line in (FIXTURE / "records.jsonl").read_text().splitlines()]


def usable(raw, scenario, impl, mode, **match) -> list[dict]:
    return [r for r in raw if r["scenario"] == scenario and r["impl"] == impl
            and r["mode"] == mode and r["status"] == "ok" and not r["warmup"]
            and r["phase"] == "timed" and all(r[k] == v for k, v in match.items())]


def walls(rs) -> list[float]:
    return [r["wall_s"] for r in rs]


def by(rows, **match) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, len(found))
    return found[0]


# --- wall time split --------------------------------------------------------------------------

def test_split_of_one_execution():
    rec = records.Record(run_id="t", impl="x", mode="m", scenario="cold", round=1, status="ok",
                         wall_s=4.0, launch_epoch=100.0, spans=(
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


def test_breakdown_medians_come_from_usable_cold_runs(ctx, raw):
    rows = ctx["io"]["breakdown"]
    assert [r["label"] for r in rows][:3] == ["baseline · files", "baseline · memory",
                                              "luigi · local"]
    assert len(rows) == 9
    for row in rows:
        expected = walls(usable(raw, "cold", row["impl"], row["mode"]))
        assert row["wall"]["n"] == len(expected) == 5
        assert row["wall"]["median"] == pytest.approx(statistics.median(expected))
        assert [x["warmup"] for x in row["wall"]["excluded"]] == [True]
        io_values = [sum(s["end"] - s["start"] for s in r["spans"] if s["kind"] != "compute")
                     for r in usable(raw, "cold", row["impl"], row["mode"])]
        assert row["io"]["median"] == pytest.approx(statistics.median(io_values))
        assert row["io_share"] == pytest.approx(row["io"]["median"] / row["wall"]["median"])
    assert by(rows, impl="prefect", mode="memory")["files"] is False
    assert by(rows, impl="prefect", mode="files")["files"] is True


def test_lower_bound_and_cross_check_use_the_plain_script(ctx, raw):
    io = ctx["io"]
    mem = statistics.median(walls(usable(raw, "cold", "baseline", "memory")))
    files = statistics.median(walls(usable(raw, "cold", "baseline", "files")))
    assert io["lower_bound"]["label"] == "baseline · memory"
    assert io["lower_bound"]["wall"]["median"] == pytest.approx(mem)
    assert io["cross_check"]["difference_s"] == pytest.approx(files - mem)
    assert io["cross_check"]["ratio"].value == pytest.approx(files / mem)
    assert io["cross_check"]["ratio"].has_ci  # five samples on each side


# --- IO sweep and floor -----------------------------------------------------------------------

def test_sweep_covers_scales_formats_and_in_memory_modes(ctx):
    sweep = ctx["io"]["sweep"]
    assert sweep["scales"] == [1, 10, 100]
    assert sweep["formats"] == ["csv", "pickle", "parquet"]
    in_memory = {s["label"] for s in sweep["series"] if s["in_memory"]}
    assert in_memory == {"baseline · memory", "prefect · memory"}
    assert len(sweep["series"]) == 4 * 3 + 2


def test_sweep_excludes_the_failed_verification(ctx, raw):
    series = by(ctx["io"]["sweep"]["series"], impl="luigi", mode="local", format="parquet")
    at10 = by(series["per_scale"], scale=10)
    assert at10["wall"]["n"] == 2
    assert [x["status"] for x in at10["wall"]["excluded"]] == ["invalid_output"]
    expected = walls(usable(raw, "io", "luigi", "local", format="parquet", scale=10))
    assert at10["wall"]["median"] == pytest.approx(statistics.median(expected))
    assert len(series["points"]) == 9  # every execution is drawn, the excluded one too


def test_sweep_bytes_grow_with_scale(ctx):
    series = by(ctx["io"]["sweep"]["series"], impl="baseline", mode="files", format="csv")
    sizes = [p["io_bytes"] for p in series["per_scale"]]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_floor_points_read_from_pytest_benchmark_json(ctx):
    floor = json.loads((FIXTURE / "floor.json").read_text())
    points = ctx["io"]["floor"]
    assert len(points) == len(floor["benchmarks"]) == 18
    for bench in floor["benchmarks"]:
        p = by(points, op=bench["extra_info"]["kind"], format=bench["params"]["fmt"],
               scale=bench["params"]["scale"])
        assert p["median"] == bench["stats"]["median"]
        assert p["bytes"] == bench["extra_info"]["bytes"]
    trip = context.floor_round_trip(points)
    csv10 = by(trip["csv"], scale=10)
    assert csv10["seconds"] == pytest.approx(by(points, op="write", format="csv", scale=10)["median"]
                                             + by(points, op="read", format="csv", scale=10)["median"])


def test_floor_facts_fall_back_to_the_benchmark_name():
    points = context.floor_points({"benchmarks": [
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

def test_resume_rows_against_the_cold_run(ctx, raw):
    row = by(ctx["failure"]["resume"], impl="luigi", mode="local")
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
    assert train["steps_match"] is True
    base = by(ctx["failure"]["resume"], impl="baseline", mode="files")
    assert by(base["steps"], step="train")["executed"] == ["load", "preprocess", "train",
                                                           "predict", "evaluate"]


def test_crash_rows_per_tool_and_step(ctx):
    crash = ctx["failure"]["crash"]
    assert len(crash) == 5 * 5
    refused = by(crash, impl="snakemake", mode="processes", step="preprocess")
    assert refused["outcomes"] == {"refused": 2}
    assert "--unlock" in refused["recovery_commands"][0]
    assert "--rerun-incomplete" in refused["recovery_commands"][1]
    assert refused["recovery_verified"] is True and refused["recovery_exit_codes"] == [0, 0]
    assert len(refused["logs"]) == 2 and refused["logs"][0].startswith("logs/r1-crash-preprocess")
    assert "cannot be locked" in refused["tool_message"]
    assert refused["leftovers"]["locks"] == [".snakemake/locks/0.input.lock",
                                             ".snakemake/locks/0.output.lock"]
    wrong = by(crash, impl="prefect", mode="files", step="predict")
    assert wrong["outcome"] == "silently_wrong" and wrong["statuses"] == {"invalid_output": 2}
    luigi = by(crash, impl="luigi", mode="local", step="train")
    assert luigi["outcome"] == "recovered" and luigi["recovery_commands"] == []
    assert luigi["leftovers"]["temp_files"][0].startswith("interim/model.pkl-luigi-tmp-")
    prefect = by(crash, impl="prefect", mode="memory", step="load")
    assert "uvicorn" in prefect["leftovers"]["survivors"][0]


# --- cost on top ------------------------------------------------------------------------------

def test_cost_rows_compare_with_the_same_kind_of_plain_script(ctx, raw):
    rows = ctx["cost"]["rows"]
    assert by(rows, impl="prefect", mode="memory")["reference"]["label"] == "baseline · memory"
    luigi = by(rows, impl="luigi", mode="local")
    assert luigi["reference"]["label"] == "baseline · files"
    cold = statistics.median(walls(usable(raw, "cold", "luigi", "local")))
    base = statistics.median(walls(usable(raw, "cold", "baseline", "files")))
    assert luigi["reference"]["difference_s"] == pytest.approx(cold - base)
    assert luigi["reference"]["ratio"].value == pytest.approx(cold / base)
    assert luigi["first_run"]["n"] == 3 and luigi["default"] is True
    assert by(rows, impl="baseline", mode="files")["reference"] is None
    rss = [r["max_rss_kb"] for r in usable(raw, "cold", "luigi", "local")]
    assert luigi["rss_kb"]["median"] == statistics.median(rss)


def test_a_timeout_is_counted_not_measured(ctx):
    noop = by(ctx["cost"]["rows"], impl="prefect", mode="server")["noop"]
    assert noop["n"] == 4
    assert sorted(x["status"] for x in noop["excluded"]) == ["ok", "timeout"]  # warm-up, timeout
    assert 120.0 not in noop["values"]


def test_footprint_and_modes(ctx, raw):
    foot = {f["impl"]: f for f in ctx["cost"]["footprint"]}
    assert set(foot) == {"luigi", "prefect", "snakemake"}
    imports = [r["detail"]["import_s"] for r in raw if r["scenario"] == "footprint"
               and r["impl"] == "prefect"]
    assert foot["prefect"]["import"]["median"] == pytest.approx(statistics.median(imports))
    assert foot["prefect"]["distributions"] == 97
    prefect_modes = by(ctx["cost"]["modes"], impl="prefect")
    assert [r["mode"] for r in prefect_modes["rows"]] == ["memory", "files", "server"]
    server = by(prefect_modes["rows"], mode="server")
    expected = (statistics.median(walls(usable(raw, "cold", "prefect", "server")))
                / statistics.median(walls(usable(raw, "cold", "prefect", "memory"))))
    assert server["ratio"].value == pytest.approx(expected)


# --- code, shape ------------------------------------------------------------------------------

def test_code_size_and_stored_sources(ctx, raw):
    rows = {r["impl"]: r for r in ctx["code"]["rows"]}
    sizes = {r["impl"]: r["detail"] for r in raw if r["scenario"] == "codesize"}
    assert list(rows) == ["baseline", "luigi", "prefect", "snakemake"]
    for impl, row in rows.items():
        assert row["sloc"] == sizes[impl]["sloc"]
    assert rows["luigi"]["over_baseline"]["sloc"] == sizes["luigi"]["sloc"] - sizes["baseline"]["sloc"]
    assert rows["baseline"]["over_baseline"] is None
    sources = {s["impl"]: s for s in ctx["code"]["sources"]}
    stored = (FIXTURE / "sources/snakemake/impl_snakemake/Snakefile").read_text()
    assert sources["snakemake"]["files"] == [{"path": "impl_snakemake/Snakefile", "text": stored}]


def test_dags_and_representative_timelines(ctx, raw):
    shape = ctx["shape"]
    assert {d["name"] for d in shape["dags"]} == {"luigi-local", "snakemake-processes"}
    assert shape["dags_missing"] == ["prefect"]
    gantt = {g["impl"]: g for g in shape["gantt"]}
    assert {g["impl"]: g["mode"] for g in gantt.values()} == {
        "baseline": "files", "luigi": "local", "prefect": "memory", "snakemake": "processes"}
    luigi = gantt["luigi"]
    cold = walls(usable(raw, "cold", "luigi", "local"))
    centre = statistics.median(cold)
    assert luigi["wall_s"] == min(cold, key=lambda w: abs(w - centre))
    assert luigi["spans"][0]["start"] > 0 and luigi["spans"][-1]["end"] <= luigi["wall_s"]
    assert gantt["snakemake"]["pids"] == 5  # one job process per rule
    assert shape["steps"] == ["load", "preprocess", "train", "predict", "evaluate"]


# --- guide and summary ------------------------------------------------------------------------

def test_guide_sentences_carry_the_numbers_behind_them(ctx):
    situations = {s["key"]: s for s in ctx["guide"]["situations"]}
    assert set(situations) == {"large_data", "failures", "crashes", "least_code", "startup",
                               "cold", "first_run", "noop", "memory", "install", "many_tasks",
                               "parallel", "changes"}
    best = min((r for r in ctx["cost"]["rows"] if r["impl"] != "baseline" and r["cold"]["n"]),
               key=lambda r: r["cold"]["median"])
    assert situations["cold"]["favours"] == best["impl"]
    assert fmt.seconds(best["cold"]["median"]) in situations["cold"]["sentence"]
    code = {r["impl"]: r for r in ctx["code"]["rows"]}
    fewest = min((r for r in code.values() if r["impl"] != "baseline"), key=lambda r: r["sloc"])
    assert situations["least_code"]["favours"] == fewest["impl"]
    assert str(fewest["sloc"]) in situations["least_code"]["sentence"]
    assert "silently wrong 2/10" in situations["crashes"]["sentence"]
    # prefect · files was once silently wrong, but prefect's default mode always recovered
    assert situations["crashes"]["favours"] == "luigi, prefect"
    assert ctx["guide"]["not_measured"] == list(guide.NEVER_MEASURED)
    for s in situations.values():
        assert s["favours"] != "baseline"


def test_guide_situations_of_the_scaling_scenarios(ctx):
    situations = {s["key"]: s for s in ctx["guide"]["situations"]}
    # cost per task: the lowest slope in each tool's costlier shape, failures named with N
    slopes = {}
    for row in ctx["pertask"]["rows"]:
        if row["impl"] != "baseline":
            worst = max(slopes.get(row["label"], 0.0), row["fit"]["per_task_s"]["value"])
            slopes[row["label"]] = worst
    cheapest = min(slopes, key=slopes.get)
    assert situations["many_tasks"]["favours"] == cheapest.split(" · ")[0]
    assert fmt.seconds(slopes[cheapest]) in situations["many_tasks"]["sentence"]
    assert "snakemake · threads (chain) at N=500" in situations["many_tasks"]["sentence"]
    # parallel: the fastest wall at the most workers
    top = ctx["parallel"]["workers"][-1]
    fastest = min((r for r in ctx["parallel"]["rows"] if r["impl"] != "baseline"),
                  key=lambda r: r["walls"][top]["median"])
    assert situations["parallel"]["favours"] == fastest["impl"]
    assert fmt.seconds(fastest["walls"][top]["median"]) in situations["parallel"]["sentence"]
    # reruns after a change: fewest stale cells first
    changes = situations["changes"]
    assert changes["favours"] == "snakemake"
    assert "luigi · local: exact 2/6, stale 4/6" in changes["sentence"]


def test_guide_lists_what_a_run_did_not_measure(run):
    only_cold = dataclasses.replace(run, records=[r for r in run.records if r.scenario == "cold"],
                                    floor=None, sources={}, dags={})
    ctx = context.build(only_cold)
    keys = {s["key"] for s in ctx["guide"]["situations"]}
    assert keys == {"startup", "cold", "memory"}
    assert "large data handed between steps" in ctx["guide"]["not_measured"]
    assert "least code to write and read" in ctx["guide"]["not_measured"]


def test_summary_names_tools_versions_and_modes(ctx, raw):
    tools = {t["impl"]: t for t in ctx["summary"]["tools"]}
    assert tools["prefect"]["version"] == "3.9.1"
    assert [m["mode"] for m in tools["snakemake"]["modes"]] == ["processes", "threads"]
    assert tools["snakemake"]["modes"][0]["default"] is True
    assert ("cpu_count", "2") in ctx["summary"]["machine"]
    assert ("memory", fmt.kib_as_bytes(24_000_000)) in ctx["summary"]["machine"]
    assert ("python", "3.11.7") in ctx["summary"]["machine"]
    assert ctx["summary"]["records"] == len(raw)
    assert ctx["summary"]["fixture"] is True


def test_fixture_warnings(ctx):
    warnings = {w["kind"]: w for w in ctx["summary"]["warnings"]}
    assert set(warnings) == {"fixture", "verification", "failures", "few_samples", "wide_spread",
                             "outlier_first_round"}
    assert warnings["verification"]["message"].startswith("3 execution(s)")
    assert any("luigi · local io ×10 parquet, round 2" == d
               for d in warnings["verification"]["details"])
    # pertask failures are that section's findings; a failed parallel sample and a failed
    # rerun are failures
    assert warnings["failures"]["details"] == [
        "prefect · server noop, round 4: timeout",
        "prefect · dask parallel, round 2: unexpected_failure",
        "snakemake · processes rerun at wrapper_code, round 1: unexpected_failure"]
    assert [d.split(":")[0] for d in warnings["outlier_first_round"]["details"]] == [
        "snakemake · threads cold"]
    assert any(d.startswith("prefect · memory cold:") for d in warnings["wide_spread"]["details"])
    assert "baseline · files first_run: n=3" in warnings["few_samples"]["details"]


def test_provenance_warnings(run):
    info = json.loads(json.dumps(run.info))
    info["git"]["dirty"] = True
    # `bench run --continue` after an edit stores the new hash with the continuation
    info["continuations"] = [{"started_at": "later", "source_hashes": {"luigi": "edited"},
                              "git": {"dirty": False}}]
    info["finished_at"] = None
    ctx = context.build(dataclasses.replace(run, info=info))
    warnings = {w["kind"]: w for w in ctx["summary"]["warnings"]}
    assert "dirty_tree" in warnings
    assert "incomplete" in warnings
    assert warnings["mixed_sources"]["details"] == ["luigi: 2 versions"]


def test_clean_run_has_no_provenance_warnings(ctx):
    kinds = {w["kind"] for w in ctx["summary"]["warnings"]}
    assert not kinds & {"dirty_tree", "mixed_sources"}


def test_short_answers_quote_section_numbers(ctx):
    answers = {a["anchor"]: a["points"] for a in ctx["summary"]["answers"]}
    assert set(answers) == {"io", "failure", "cost", "code"}
    luigi = by(ctx["cost"]["rows"], impl="luigi", mode="local")
    line = next(p for p in answers["cost"] if p.startswith("luigi · local"))
    assert fmt.signed_seconds(luigi["reference"]["difference_s"]) in line
    assert fmt.ratio(luigi["reference"]["ratio"]) in line
    assert "snakemake · processes after a hard crash: refused 10/10." in answers["failure"]


def test_numbers_follow_the_records(run):
    """Doubling every stored cold wall time doubles the medians shown: nothing is typed in."""
    doubled = [dataclasses.replace(r, wall_s=r.wall_s * 2) if r.scenario == "cold" else r
               for r in run.records]
    before = context.build(run)["cost"]["rows"]
    after = context.build(dataclasses.replace(run, records=doubled))["cost"]["rows"]
    for b, a in zip(before, after):
        if b["cold"]["n"]:
            assert a["cold"]["median"] == pytest.approx(2 * b["cold"]["median"])


def test_methodology_counts(ctx, raw):
    m = ctx["method"]
    assert m["records"] == len(raw)
    assert m["usable"] == sum(r["status"] == "ok" and not r["warmup"] and r["phase"] == "timed"
                              for r in raw)
    assert m["warmups"] == sum(r["warmup"] for r in raw)
    assert m["statuses"]["timeout"] == sum(r["status"] == "timeout" for r in raw)
    assert ("fixture", "True") in m["environment"]
    assert {r["name"] for r in m["raw"]} == {"run.json", "records.jsonl", "floor.json"}


def test_a_one_round_run_reads_honestly(run):
    """The quick profile: one timed round, one scale. No spreads from one sample, no claim
    about large data from the smallest size."""
    quick = [r for r in run.records if r.round <= 1 and (r.scenario != "io" or r.scale == 1)]
    ctx = context.build(dataclasses.replace(run, records=quick))
    keys = {s["key"] for s in ctx["guide"]["situations"]}
    assert "large_data" not in keys
    assert "large data handed between steps" in ctx["guide"]["not_measured"]
    text = " ".join(s["sentence"] for s in ctx["guide"]["situations"])
    text += " ".join(p for a in ctx["summary"]["answers"] for p in a["points"])
    assert "one sample" in text
    assert "IQR" not in text and "CI" not in text


def test_recovery_commands_read_as_typed():
    from bench.render.summary import argv_text
    argv = ["python", "-m", "snakemake", "--directory", "$WORKDIR", "--config", "a=b c",
            "$WORKDIR/out"]
    assert argv_text(argv) == "python -m snakemake --directory $WORKDIR --config 'a=b c' $WORKDIR/out"


def test_tool_message_preview_is_the_line_that_says_what_went_wrong():
    message = "Assuming unrestricted shared filesystem usage.\nBuilding DAG of jobs...\n" \
              "IncompleteFilesException:\nThe files below seem to be incomplete.\n"
    assert context.key_line(message) == ("IncompleteFilesException: The files below seem to be "
                                         "incomplete.")
    assert context.key_line("all fine\nlast words\n") == "last words"
    assert context.key_line("") == ""
