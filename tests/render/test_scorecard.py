"""The scorecard on the checked-in fixture run: a row per tool and set-up, verdicts that follow
the stated rule, cells linked to the sections with their samples, and a run without the scaling
scenarios saying which command measures them."""
from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest

from bench.render import page
from bench.render.analysis import stats
from bench.render.sections import scorecard

SCALING = ("pertask", "parallel", "rerun")


class _Table(HTMLParser):
    """The scorecard table's body: per row its header text and its cells (class, verdict, link,
    title, text)."""

    def __init__(self):
        super().__init__()
        self.rows, self._in, self._cell, self._row = [], False, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "scorecard" in (a.get("class") or ""):
            self._in = True
        if not self._in:
            return
        if tag == "tr":
            self._row = {"head": "", "cells": []}
        elif tag == "th" and self._row is not None and a.get("scope") == "row":
            self._cell = {"head": True, "text": ""}
        elif tag == "td" and self._row is not None:
            self._cell = {"class": a.get("class", ""), "verdict": a.get("data-verdict"),
                          "text": "", "href": None, "title": None}
        elif tag == "a" and self._cell is not None and not self._cell.get("head"):
            self._cell.update(href=a.get("href"), title=a.get("title"))

    def handle_endtag(self, tag):
        if not self._in:
            return
        if tag == "table":
            self._in = False
        elif tag in ("th", "td") and self._cell is not None:
            if self._cell.pop("head", False):
                self._row["head"] = self._cell["text"]
            else:
                self._row["cells"].append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row["cells"]:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def table(html: str) -> dict[str, dict]:
    """Row label (`tool · set-up`) -> {column key: cell}."""
    parser = _Table()
    parser.feed(html)
    keys = [c[0] for c in scorecard.COLUMNS]
    out = {}
    for row in parser.rows:
        label = re.sub(r"mode .*", "", row["head"]).strip()
        assert len(row["cells"]) == len(keys)
        out[label] = dict(zip(keys, row["cells"]))
    return out


def scorecard_html(page_text: str) -> str:
    return re.search(r'<section id="scorecard">.*?</section>', page_text, re.S).group(0)


@pytest.fixture(scope="module")
def cells(rendered) -> dict[str, dict]:
    return table(scorecard_html(rendered["page"]))


def test_first_section_of_the_page(rendered):
    assert re.findall(r'<section id="([a-z]+)">', rendered["page"])[:2] == ["scorecard",
                                                                          "summary"]


def test_a_row_per_tool_and_setup_in_the_fixture(run, cells):
    expected = {f"{r.impl} · {r.setup}" for r in run.records
                if r.scenario not in ("codesize", "footprint")}
    assert {"luigi · laptop", "luigi · team", "prefect · team"} <= expected
    assert set(cells) == expected


def test_every_cell_links_to_a_section_of_the_page(rendered, cells):
    ids = set(re.findall(r'<section id="([a-z]+)">', rendered["page"]))
    for row in cells.values():
        for key, cell in row.items():
            assert cell["href"] and cell["href"].startswith("#"), (key, cell)
            assert cell["href"][1:] in ids, (key, cell["href"])
    anchors = dict((c[0], c[3]) for c in scorecard.COLUMNS)
    assert cells["luigi · laptop"]["resume"]["href"] == "#failure" == "#" + anchors["resume"]
    assert cells["luigi · laptop"]["io"]["href"] == "#io"


def test_verdict_is_a_mark_and_a_word_and_a_class(cells):
    for row in cells.values():
        for cell in row.values():
            symbol, words, css = scorecard.VERDICTS[cell["verdict"]]
            assert css in cell["class"].split()
            assert f"{symbol} {words}" in " ".join(cell["text"].split())


def test_least_code_among_the_tools_is_marked_best(built, cells):
    tools = [r for r in built["code"]["rows"] if r["impl"] != built["scorecard"]["reference"]]
    fewest = min(tools, key=lambda r: r["sloc"])
    assert fewest["impl"] == "prefect"  # the fixture's 28 lines, against 31 and 61
    cell = cells["prefect · laptop"]["code"]
    assert cell["verdict"] == "best" and "28 lines" in cell["text"]
    assert cells["luigi · laptop"]["code"]["verdict"] == "worse"
    # the reference is what the tools are measured against, not a contender
    assert cells["baseline · laptop"]["code"]["verdict"] == "reference"


def test_cold_run_best_and_worse_from_the_bootstrap_interval(built, cells):
    rows = {(r["impl"], r["mode"]): r for r in built["cost"]["rows"]}
    luigi = rows[("luigi", "local · laptop")]["cold"]
    team = rows[("luigi", "luigid · team")]["cold"]
    assert luigi["n"] >= stats.MIN_SAMPLES_FOR_CI and team["n"] >= stats.MIN_SAMPLES_FOR_CI
    r = stats.ratio_of_medians(team["values"], luigi["values"])
    assert r.has_ci and r.low > 1  # the fixture's team cold runs are clearly slower
    assert cells["luigi · laptop"]["cold"]["verdict"] == "best"
    assert cells["luigi · team"]["cold"]["verdict"] == "worse"
    assert re.search(r"worse ×1\.\d", cells["luigi · team"]["cold"]["text"])
    assert "the best" in cells["luigi · team"]["cold"]["title"]


def test_failed_cells_are_marked_failed(built, cells):
    snake = next(r for r in built["pertask"]["rows"] if r["impl"] == "snakemake"
                 and r["mode"] == "processes · laptop")
    assert snake["failed_sizes"]  # the fixture's snakemake timed out at large N
    cell = cells["snakemake · laptop"]["pertask"]
    assert cell["verdict"] == "failed" and "v-failed" in cell["class"]
    assert "failed at N=" in cell["text"]
    # a stale result after a change is a wrong answer
    luigi = next(r for r in built["rerun"]["rows"] if r["impl"] == "luigi")
    assert luigi["counts"].get("stale")
    assert cells["luigi · laptop"]["rerun"]["verdict"] == "failed"


def test_a_setup_without_records_of_a_question_says_not_measured(cells):
    cell = cells["luigi · team"]["resume"]
    assert cell["verdict"] == "none" and "not measured" in cell["text"]


def test_a_run_without_the_scaling_scenarios_names_the_command(run):
    default = dataclasses.replace(run, records=[r for r in run.records
                                                if r.scenario not in SCALING])
    data = page.build(default)
    html = page.render_section(scorecard.SECTION, data["scorecard"], {})
    found = table(html)
    for key in SCALING:
        cell = found["luigi · laptop"][key]
        assert cell["verdict"] == "none"
        assert "not in this run" in cell["text"]
        assert cell["title"].startswith("not measured in this run")
        assert "python -m bench all --scaling" in cell["title"]
    assert "python -m bench all --scaling" in html.split("</table>")[1]
    # the questions the default run measures keep their numbers
    assert found["luigi · laptop"]["cold"]["verdict"] == "best"


def test_the_rule_is_stated_under_the_table(cells, rendered):
    html = scorecard_html(rendered["page"])
    after = html.split("</table>")[1]
    assert "includes 1" in after and f"×{scorecard.CLEAR_RATIO:g}" in after


# ---------------------------------------------------------------- the rule on known numbers

def _sampled(values, **kw):
    return scorecard._cell("x", value=stats.median(values), values=values, **kw)


def _verdicts(cells, contender=None):
    scorecard.assign_verdicts(cells, contender or [True] * len(cells))
    return [c["verdict"] for c in cells]


def test_rule_interval_including_one_is_within_noise():
    a = _sampled([1.0, 1.1, 0.9, 1.05, 0.95])
    b = _sampled([1.02, 1.12, 0.92, 1.07, 0.97])
    assert _verdicts([a, b]) == ["best", "noise"]


def test_rule_interval_above_one_is_worse():
    a = _sampled([1.0, 1.01, 0.99, 1.0, 1.02])
    b = _sampled([1.2, 1.21, 1.19, 1.2, 1.22])
    assert _verdicts([b, a]) == ["worse", "best"]


def test_rule_few_samples_below_the_threshold_say_so():
    a = _sampled([1.0, 1.1])
    b = _sampled([1.2, 1.3])  # ×1.2 < CLEAR_RATIO, n=2: no interval
    assert _verdicts([a, b]) == ["few", "few"]


def test_rule_few_samples_beyond_the_threshold_decide():
    a = _sampled([1.0, 1.1])
    b = _sampled([3.0, 3.1])
    assert _verdicts([a, b]) == ["best", "worse"]


def test_rule_counts_are_exact_and_failure_overrides():
    cells = [scorecard._cell("", value=v, exact=True) for v in (30, 31, 10)]
    cells[2]["failed"] = True
    assert _verdicts(cells) == ["best", "worse", "failed"]


def test_rule_intervals_overlapping_are_within_noise_higher_is_better():
    a = scorecard._cell("", value=1.9, interval=(1.8, 2.0), higher_is_better=True)
    b = scorecard._cell("", value=1.85, interval=(1.7, 1.95), higher_is_better=True)
    c = scorecard._cell("", value=1.1, interval=(1.0, 1.2), higher_is_better=True)
    assert _verdicts([a, b, c]) == ["best", "noise", "worse"]


def test_rule_the_reference_is_no_contender():
    ref = _sampled([0.5, 0.5, 0.5, 0.5, 0.5])
    a = _sampled([1.0, 1.0, 1.0, 1.0, 1.0])
    missing = scorecard._missing()
    assert _verdicts([ref, a, missing], [False, True, True]) == ["reference", "best", "none"]


def test_a_run_without_the_io_sweep_takes_file_io_from_the_cold_runs_spans(run):
    quick = dataclasses.replace(run, records=[r for r in run.records if r.scenario != "io"])
    data = page.build(quick)
    found = table(page.render_section(scorecard.SECTION, data["scorecard"], {}))
    luigi = found["luigi · laptop"]["io"]
    assert "cold run, ×1" in luigi["text"] and luigi["verdict"] != "none"
    assert "cold runs at ×1" in luigi["title"]
    # a mode that hands values over says so instead of a number
    prefect = found["prefect · laptop"]["io"]
    assert prefect["verdict"] == "none" and prefect["title"].endswith(scorecard.NO_FILE_HANDOFF)
