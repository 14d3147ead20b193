"""reports/index.html: every run, newest first, linking the reports that exist."""
from __future__ import annotations

import re

from bench.commands import report
from bench.render import index
from bench.render.publish import list_runs
from bench.render.publish import render_index
from tests.render.conftest import copy_run


def _rows(text: str) -> list[str]:
    return re.findall(r'<tr class="run" id="run-([^"]+)">(.*?)</tr>', text, re.S)


def test_runs_newest_first_with_links_and_unfinished(tmp_path, cached_charts):
    copy_run(tmp_path, "run-old", started_at="2026-11-01T10:00:00+00:00", started_epoch=None)
    copy_run(tmp_path, "run-new", started_at="2026-12-01T10:00:00+00:00", started_epoch=None,
             finished_at=None, packages={"luigi": "3.9.0"},
             git={"commit": "abcdef1234567890", "dirty": True})
    # 11:00 at UTC+2 is 09:00 UTC: before run-new although its text sorts after it
    copy_run(tmp_path, "run-zone", started_at="2026-12-01T11:00:00+02:00", started_epoch=None)
    assert report.main(["run-old", "--out", str(tmp_path)]) == 0  # bench report writes both
    text = (tmp_path / "index.html").read_text()
    rows = dict(_rows(text))
    assert [name for name, _ in _rows(text)] == ["run-new", "run-zone", "run-old"]

    assert '<a href="run-old/index.html">run-old</a>' in rows["run-old"]
    assert "2026-11-27T10:26:40+00:00" in rows["run-old"]  # its finished_at
    assert "not finished" not in rows["run-old"]
    for name in ("run-new", "run-zone"):  # no report rendered: listed as such, no link
        assert "href=" not in rows[name]
        assert f"report not rendered: <code>python -m bench report {name}</code>" in rows[name]
    assert "not finished" in rows["run-new"] and "not finished" not in rows["run-zone"]
    assert "<code>abcdef123456</code> (dirty)" in rows["run-new"]
    assert "<code>31be6514de03</code>" in rows["run-old"]
    assert "luigi 3.8.1, prefect 3.9.1, snakemake 9.16.3" in rows["run-old"]  # tool versions
    assert "fixture · fixture CPU · 2 cores" in rows["run-old"]  # machine
    assert "<td>quick</td>" in rows["run-old"]  # profile


def test_rendering_another_report_rewrites_the_index(tmp_path, cached_charts):
    copy_run(tmp_path, "run-a", started_at="2026-11-01T10:00:00+00:00", started_epoch=None)
    assert report.main(["run-a", "--out", str(tmp_path)]) == 0
    first = (tmp_path / "index.html").read_text()
    assert [name for name, _ in _rows(first)] == ["run-a"]
    copy_run(tmp_path, "run-b", started_at="2026-11-02T10:00:00+00:00", started_epoch=None)
    assert report.main(["run-b", "--out", str(tmp_path)]) == 0
    rows = _rows((tmp_path / "index.html").read_text())
    assert [name for name, _ in rows] == ["run-b", "run-a"]
    assert all("href=" in row for _, row in rows)


def test_a_run_this_code_cannot_read_is_listed_with_why(tmp_path):
    copy_run(tmp_path, "run-future", schema_version=99)
    (tmp_path / "not-a-run").mkdir()
    rows = dict(_rows(render_index(tmp_path).read_text()))
    assert list(rows) == ["run-future"]
    assert "newer than this code" in rows["run-future"]
    assert index.entries(list_runs(tmp_path))[0]["finished"] == "2026-11-27T10:26:40+00:00"
