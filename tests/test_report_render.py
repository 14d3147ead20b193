"""`bench report` end to end on copies of the fixture run: files written, refusals, old runs."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from bench import records, report
from bench.render import context, html, list_runs
from bench.render.load import load_run

FIXTURE = Path(__file__).parent / "fixtures" / "run-fixture"


def copy_run(reports: Path, name: str = "run-fixture", **info_changes) -> Path:
    run_dir = reports / name
    shutil.copytree(FIXTURE, run_dir)
    if info_changes:
        info = json.loads((run_dir / "run.json").read_text())
        info.update(info_changes)
        (run_dir / "run.json").write_text(json.dumps(info))
    return run_dir


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    run_dir = copy_run(reports)
    rc = report.main([str(run_dir), "--out", str(reports)])
    return {"rc": rc, "reports": reports, "run_dir": run_dir,
            "page": (run_dir / "index.html").read_text(encoding="utf-8")}


def test_report_is_written_inside_the_run_and_listed(rendered, capsys):
    assert rendered["rc"] == 0
    index = (rendered["reports"] / "index.html").read_text()
    assert 'href="run-fixture/index.html"' in index
    assert "fixture" in index


def test_page_is_self_contained(rendered):
    page = rendered["page"]
    # 7 charts of the pipeline scenarios, 2 of the cost per task, 1 of the parallel fan-out
    assert page.count("<svg") == 10
    assert page.count('<figure class="chart"') == 10
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)=', page)
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    assert '<a href="records.jsonl">' in page and '<a href="run.json">' in page
    assert "FIXTURE DATA" in page


def test_sources_are_highlighted(rendered):
    page = rendered["page"]
    assert page.count('<div class="hl">') == 4  # one stored file per implementation
    assert '<span class="kn">import</span>' in page  # Pygments tokens, not plain text


def test_rendering_twice_gives_the_same_bytes(rendered, tmp_path):
    again = copy_run(tmp_path)
    assert report.main([str(again), "--out", str(tmp_path)]) == 0
    assert (again / "index.html").read_text(encoding="utf-8") == rendered["page"]


def test_latest_run_is_the_default(tmp_path, capsys):
    copy_run(tmp_path, "run-old", started_at="2026-01-01T00:00:00+00:00")
    newest = copy_run(tmp_path, "run-new", started_at="2026-06-01T00:00:00+00:00")
    assert [r["run_id"] for r in list_runs(tmp_path)] == ["run-new", "run-old"]
    assert report.main(["--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(newest / "index.html")
    assert not (tmp_path / "run-old" / "index.html").exists()


def test_run_id_is_looked_up_in_the_reports_dir(tmp_path, capsys):
    run_dir = copy_run(tmp_path)
    assert report.main(["run-fixture", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "index.html")


def test_out_dir_gets_the_page_and_the_raw_records(tmp_path):
    out = tmp_path / "elsewhere"
    assert report.main([str(FIXTURE), "--html", str(out), "--out", str(tmp_path)]) == 0
    assert (out / "index.html").is_file()
    assert (out / "records.jsonl").read_bytes() == (FIXTURE / "records.jsonl").read_bytes()
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
    for extra in ("floor.json",):
        (run_dir / extra).unlink()
    for extra in ("sources", "dags"):
        shutil.rmtree(run_dir / extra)
    assert report.main([str(run_dir), "--out", str(tmp_path)]) == 0
    page = (run_dir / "index.html").read_text()
    assert "No floor.json stored with this run" in page
    assert "No sources were stored with this run" in page
    assert "No DAGs were stored with this run" in page
    assert page.count("<svg") == 10


def test_run_with_only_a_few_scenarios_renders(tmp_path):
    run_dir = copy_run(tmp_path)
    kept = [line for line in (run_dir / "records.jsonl").read_text().splitlines()
            if json.loads(line)["scenario"] in ("cold", "codesize")]
    (run_dir / "records.jsonl").write_text("\n".join(kept) + "\n")
    assert report.main([str(run_dir), "--out", str(tmp_path)]) == 0
    page = (run_dir / "index.html").read_text()
    assert "Resume after failure was not measured in this run" in page
    assert "Hard crashes were not measured in this run" in page
    assert page.count("<svg") == 3  # wall time split, cost, timeline


def test_stored_text_is_escaped():
    run = load_run(FIXTURE)
    hostile = "<script>alert('x')</script> & <b>"
    recs = [dataclasses.replace(r, detail={**r.detail, "tool_message": hostile})
            if r.scenario == "crash" and r.impl == "snakemake" else r for r in run.records]
    sources = {"luigi": {"impl_luigi/x.py": "print('</pre><script>x()</script>')\n"}}
    ctx = context.build(dataclasses.replace(run, records=recs, sources=sources))
    page = html.page(ctx, {})
    assert "<script>alert" not in page and "<script>x()" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;" in page


def test_fixture_generator_is_reproducible(tmp_path):
    import subprocess
    import sys
    script = FIXTURE.parent / "make_fixture.py"
    for name in ("a", "b"):
        subprocess.run([sys.executable, str(script), str(tmp_path / name)], check=True)
    for path in (tmp_path / "a").rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()
    info = json.loads((tmp_path / "a" / "run.json").read_text())
    assert info["fixture"] is True  # the report's banner depends on it
