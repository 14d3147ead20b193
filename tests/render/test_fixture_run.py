"""The report fixture is planned from the registered adapters: every tool appears in it."""
from __future__ import annotations

from bench.engine import registry
from bench.render.publish import render_run
from bench.store import records, run_info
from tests.fixtures import fixture_run
from tests.helpers import report_facts


def test_every_registered_tool_and_scenario_is_in_the_fixture_report(tmp_path):
    loaded = registry.load()
    run_dir = fixture_run.build(tmp_path / "run", loaded)
    recs = records.load(run_dir / "records.jsonl")
    assert {r.impl for r in recs} == {a.name for a in loaded.adapters}
    assert {r.scenario for r in recs} >= {"first_run", "cold", "noop", "resume", "crash", "io",
                                           "footprint", "codesize", "pertask", "parallel",
                                           "rerun"}
    assert run_info.read(run_dir).fixture
    page = render_run(run_dir).read_text()
    tools = report_facts.facts(page)["tables"][0]
    assert {row[0] for row in tools[1:]} == {a.name for a in loaded.adapters}
    assert "FIXTURE DATA" in page


def test_the_same_adapters_and_seed_give_the_same_bytes(tmp_path):
    first = fixture_run.build(tmp_path / "a")
    second = fixture_run.build(tmp_path / "b")
    for name in ("records.jsonl", "run.json", "floor.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
