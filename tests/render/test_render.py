"""`bench report` end to end on copies of the fixture run: files written, refusals, old runs,
escaping, the page's structure."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil

from bench.commands import report
from bench.render import page
from bench.render.publish import list_runs, render_run
from bench.store import records
from tests.render.conftest import FIXTURE, copy_run

SECTION_IDS = ["scorecard", "summary", "setups", "io", "failure", "cost", "code", "shape", "pertask", "parallel",
               "rerun", "guide", "method"]
CHART_IDS = ["chart-breakdown", "chart-io-sweep", "chart-io-bytes", "chart-resume", "chart-cost",
             "chart-footprint", "chart-gantt", "chart-pertask-fit", "chart-pertask-residuals",
             "chart-parallel-speedup"]


def test_report_is_written_inside_the_run_and_listed(rendered):
    assert rendered["rc"] == 0
    index = (rendered["reports"] / "index.html").read_text()
    assert 'href="run-fixture/index.html"' in index
    assert "<b>fixture</b>" in index


def test_page_is_self_contained(rendered):
    text = rendered["page"]
    # 7 charts of the pipeline scenarios, 2 of the cost per task, 1 of the parallel fan-out
    assert text.count("<svg") == 10
    assert text.count('<figure class="chart"') == 10
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)=', text)
    assert not re.search(r"""(src|href)=["'](https?:)?//""", text)
    assert '<a href="records.jsonl">' in text and '<a href="run.json">' in text
    assert "FIXTURE DATA" in text


def test_sections_anchors_and_chart_ids_in_page_order(rendered):
    text = rendered["page"]
    assert re.findall(r'<section id="([a-z]+)">', text) == SECTION_IDS
    assert re.findall(r'<figure class="chart" id="([a-z-]+)">', text) == CHART_IDS
    assert re.findall(r'<nav>(.*?)</nav>', text)[0].count("<a href=") == len(SECTION_IDS)
    # every id inside an SVG carries its chart's prefix: no clash between charts
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))


def test_sources_are_highlighted(rendered):
    text = rendered["page"]
    assert text.count('<div class="hl">') == 4  # one stored file per implementation
    assert '<span class="kn">import</span>' in text  # Pygments tokens, not plain text
    assert ".hl .kn" in text  # and Pygments' stylesheet


def test_rendering_twice_gives_the_same_bytes(rendered, tmp_path):
    """A full render, charts included, gives the page the cached charts gave."""
    again = copy_run(tmp_path)
    assert report.main([str(again), "--out", str(tmp_path)]) == 0
    assert (again / "index.html").read_text(encoding="utf-8") == rendered["page"]


def test_render_run_returns_the_page_path(tmp_path, cached_charts):
    out = tmp_path / "x"
    path = render_run(FIXTURE, out)
    assert path == out / "index.html" and path.is_file()
    assert not list(out.glob("*.tmp"))  # written atomically


def test_latest_run_is_the_default(tmp_path, capsys, cached_charts):
    copy_run(tmp_path, "run-old", started_at="2026-01-01T00:00:00+00:00")
    newest = copy_run(tmp_path, "run-new", started_at="2026-06-01T00:00:00+00:00")
    assert [r["run_id"] for r in list_runs(tmp_path)] == ["run-new", "run-old"]
    assert report.main(["--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(newest / "index.html")
    assert not (tmp_path / "run-old" / "index.html").exists()


def test_run_id_is_looked_up_in_the_reports_dir(tmp_path, capsys, cached_charts):
    run_dir = copy_run(tmp_path)
    assert report.main(["run-fixture", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "index.html")


def test_out_dir_gets_the_page_and_the_raw_records(tmp_path, cached_charts):
    out = tmp_path / "elsewhere"
    assert report.main([str(FIXTURE), "--html", str(out), "--out", str(tmp_path)]) == 0
    assert (out / "index.html").is_file()
    for name in ("records.jsonl", "run.json", "floor.json"):
        assert (out / name).read_bytes() == (FIXTURE / name).read_bytes()
    assert not (FIXTURE / "index.html").exists()


def _one_line_error(capsys, rc, *needles):
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for needle in needles:
        assert needle in err
    return err


def test_newer_run_schema_is_refused(tmp_path, capsys):
    run_dir = copy_run(tmp_path, schema_version=records.SCHEMA_VERSION + 1)
    rc = report.main([str(run_dir), "--out", str(tmp_path)])
    _one_line_error(capsys, rc, "newer than this code", "update the code")
    assert not (run_dir / "index.html").exists()


def test_newer_record_schema_is_refused(tmp_path, capsys):
    run_dir = copy_run(tmp_path)
    lines = (run_dir / "records.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    last["schema_version"] = records.SCHEMA_VERSION + 1
    (run_dir / "records.jsonl").write_text("\n".join(lines[:-1] + [json.dumps(last)]) + "\n")
    rc = report.main([str(run_dir), "--out", str(tmp_path)])
    _one_line_error(capsys, rc, "newer than this code")
    assert not (run_dir / "index.html").exists()


def test_index_lists_a_refused_run_with_its_reason(tmp_path):
    copy_run(tmp_path, "run-future", schema_version=records.SCHEMA_VERSION + 1)
    runs = list_runs(tmp_path)
    assert "newer than this code" in runs[0]["problem"]
    assert runs[0]["impls"] == ["baseline", "luigi", "prefect", "snakemake"]


def test_invalid_record_is_one_line(tmp_path, capsys):
    run_dir = copy_run(tmp_path)
    with open(run_dir / "records.jsonl", "a") as f:
        f.write(json.dumps({"schema_version": records.SCHEMA_VERSION, "run_id": "x", "impl": "x",
                            "mode": "m", "scenario": "cold", "round": 1, "status": "great",
                            "wall_s": 1.0}) + "\n")
    rc = report.main([str(run_dir), "--out", str(tmp_path)])
    _one_line_error(capsys, rc, "status 'great'")


def test_missing_run_and_empty_reports_dir(tmp_path, capsys):
    _one_line_error(capsys, report.main(["no-such-run", "--out", str(tmp_path)]),
                    "no run 'no-such-run'")
    _one_line_error(capsys, report.main(["--out", str(tmp_path)]), "no runs under")
    plain = tmp_path / "not-a-run"
    plain.mkdir()
    _one_line_error(capsys, report.main([str(plain)]), "no run.json")


def test_old_run_with_only_records_renders(tmp_path):
    """A run stored before floor.json, sources/ and dags/ existed: the sections say so."""
    run_dir = copy_run(tmp_path)
    (run_dir / "floor.json").unlink()
    for extra in ("sources", "dags"):
        shutil.rmtree(run_dir / extra)
    assert report.main([str(run_dir), "--out", str(tmp_path)]) == 0
    text = (run_dir / "index.html").read_text()
    assert "No floor.json stored with this run" in text
    assert "No sources were stored with this run" in text
    assert "No DAGs were stored with this run" in text
    assert text.count("<svg") == 10


def test_run_with_only_a_few_scenarios_renders(tmp_path):
    run_dir = copy_run(tmp_path)
    kept = [line for line in (run_dir / "records.jsonl").read_text().splitlines()
            if json.loads(line)["scenario"] in ("cold", "codesize")]
    (run_dir / "records.jsonl").write_text("\n".join(kept) + "\n")
    assert report.main([str(run_dir), "--out", str(tmp_path)]) == 0
    text = (run_dir / "index.html").read_text()
    assert "Resume after failure was not measured in this run" in text
    assert "Hard crashes were not measured in this run" in text
    assert text.count("Not measured in this run: the ") == 3  # pertask, parallel, rerun
    assert text.count("<svg") == 3  # wall time split, cost, timeline
    assert re.findall(r'<section id="([a-z]+)">', text) == SECTION_IDS


def test_stored_text_is_escaped(run, built, fixture_charts):
    hostile = "<script>alert('x')</script> & <b>"
    recs = [dataclasses.replace(r, detail=dataclasses.replace(r.detail, tool_message=hostile))
            if r.scenario == "crash" and r.impl == "snakemake" else r for r in run.records]
    info = dataclasses.replace(run.info, note="<i>note</i>", command=["run", "<img src=x>"])
    sources = {"luigi": {"impl_luigi/x.py": "print('</pre><script>x()</script>')\n"}}
    dags = {"luigi-local": "</pre><script>dag()</script>"}
    data = page.build(dataclasses.replace(run, info=info, records=recs, sources=sources,
                                          dags=dags))
    text = page.render(data, dict.fromkeys(fixture_charts))
    for raw in ("<script>alert", "<script>x()", "<script>dag()", "<img src=x>", "<i>note</i>"):
        assert raw not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;" in text
    assert "&lt;/pre&gt;&lt;script&gt;dag()" in text
    assert text.count("<script>") == 1  # the page's own: open every <details> before printing


def test_a_page_without_charts_says_so(built, fixture_charts):
    text = page.render(built, dict.fromkeys(fixture_charts))
    assert "<svg" not in text
    assert text.count("No data for this chart in this run.") == 10


def test_index_of_no_runs(tmp_path):
    from bench.render.publish import render_index
    text = render_index(tmp_path).read_text()
    assert "No runs yet." in text and "<table" not in text

