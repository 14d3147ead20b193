"""The report fixture is planned from the registered adapters: every tool appears in it."""
from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from bench.engine import registry
from bench.engine.workspace import user_text
from bench.render import page
from bench.render.load import load_run
from bench.render.publish import render_run
from core import STEPS
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


def _section(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}">')
    return page[start:page.index("</section>", start)]


def test_the_setups_section_shows_each_tools_setups_with_a_command_that_reproduces_it(tmp_path):
    loaded = registry.load()
    run_dir = fixture_run.build(tmp_path / "run", loaded)
    built = page.build(load_run(run_dir))["setups"]
    shown = {t["impl"]: t for t in built["tools"]}
    assert set(shown) == {a.name for a in loaded.adapters}
    for adapter in loaded.adapters:
        setups = {s["name"]: s for s in shown[adapter.name]["setups"]}
        assert list(setups) == list(adapter.setup_names)
        for declared in adapter.setups:
            s = setups[declared.name]
            assert s["why"] == declared.why
            assert [d["url"] for d in s["docs"]] == [d.url for d in declared.docs]
            assert [f["path"] for f in s["files"]] == list(declared.files)
            assert (s["service"] or {}).get("name") == (declared.service.name
                                                        if declared.service else None)
            for mode in s["modes"]:
                # the shell line, split as a shell would, is the adapter's own command
                words = shlex.split(mode["shell"].replace("$WORKDIR", "/W"))
                argv = adapter.command(Path("/W"), mode["mode"], setup=declared.name,
                                       fmt="parquet", scale=1, data=None,
                                       service_url="http://127.0.0.1:$PORT"
                                       if declared.service else None)
                assert words[-len(argv):][1:] == [user_text(str(a), Path("/W")).replace(
                    "$WORKDIR", "/W") for a in argv][1:]
    html = _section(render_run(run_dir).read_text(), "setups")
    for adapter in loaded.adapters:
        for declared in adapter.setups:
            for f in declared.files:
                assert f"configuration file <code>{f}</code>" in html


def test_a_tool_that_resumes_with_its_own_command_is_shown_recovered_by_it(tmp_path):
    """A tool whose every run is a new run: the plain rerun repeats the finished steps, its
    declared recovery command (from the state the failure left) executes the rest."""
    loaded = registry.load()
    luigi = loaded.by_name()["luigi"]
    newrun = dataclasses.replace(
        luigi, name="newrun", skips_finished=False,
        recovery_commands=lambda workdir, mode, **_: [["newrun", "resume", str(workdir)]])
    fixture = registry.Loaded(loaded.adapters + (newrun,), loaded.modules + ("newrun",), ())
    run_dir = fixture_run.build(tmp_path / "run", fixture)
    failure = page.build(load_run(run_dir))["failure"]
    rows = [r for r in failure["resume"] if r["impl"] == "newrun"]
    assert rows and all(s["outcomes"] == {"recovered_by_command": len(s["points"])}
                        and s["recovery"]["commands"] == ["newrun resume $WORKDIR"]
                        and s["executed"] == list(STEPS)
                        for r in rows for s in r["steps"])
    html = _section(render_run(run_dir).read_text(), "failure")
    assert "recovered by command" in html and "newrun resume $WORKDIR" in html
    assert failure["crash_job"], "crash_job rows are drawn beside crash"
