"""`python -m bench all --quick` end to end into a fresh output directory: the CI smoke run.

One run, shared by every test here; what it must hold follows the QUICK profile
(bench/engine/profiles.py) and what the registered adapters declare, not a list kept here.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.scenarios.catalog import SCENARIOS
from bench.store import records, run_info
from tests.helpers.fakes import REPO


@pytest.fixture(scope="session")
def quick_all(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick-all") / "reports"
    r = subprocess.run([sys.executable, "-m", "bench", "all", "--quick", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-3000:]
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    return out, run_dir, r, records.load(run_dir / "records.jsonl")


def planned(adapters) -> set[tuple]:
    makers = {name: s.slots for name, s in SCENARIOS.items() if s.slots}
    return {s.record_key for s in plan.slots_for(QUICK, adapters, makers)}


def stored(recs) -> set[tuple]:
    """Record.key without its round and phase: a slot's record_key."""
    return {rec.key[1:-1] for rec in recs if rec.phase == "timed"}


@pytest.mark.slow
def test_the_run_directory_records_the_run(quick_all):
    out, run_dir, r, recs = quick_all
    loaded = registry.load()
    info = run_info.read(run_dir)
    assert info.profile == QUICK.name and info.finished_at
    assert info.git["commit"] and info.packages["pandas"]
    assert set(info.source_hashes) == {adapter.name for adapter in loaded.adapters}
    assert all(rec.run_id == run_dir.name for rec in recs)
    assert any(rec.warmup for rec in recs) is QUICK.warmup
    assert {rec.scenario for rec in recs} == set(QUICK.scenarios)
    assert (run_dir / "sources" / "baseline" / "core" / "baseline.py").is_file()
    assert json.loads((run_dir / "references.json").read_text())["pipeline"]["1"][
        "predictions_sha256"]
    assert not (run_dir / "work").exists()
    page = run_dir / "index.html"
    assert page.is_file() and str(page) in r.stdout + r.stderr
    assert (out / "index.html").is_file()


@pytest.mark.slow
def test_the_plain_script_runs_every_planned_cell_and_gets_the_right_answer(quick_all):
    _, _, _, recs = quick_all
    baseline = registry.load().by_name()["baseline"]
    mine = [rec for rec in recs if rec.impl == "baseline"]
    # codesize runs once per run, outside the planned slots
    assert stored(r for r in mine if r.scenario != "codesize") == planned([baseline])
    assert [r.scenario for r in mine].count("codesize") == 1
    assert all(rec.status == "ok" for rec in mine), [(rec.key, rec.detail) for rec in mine
                                                     if rec.status != "ok"]
    assert all(rec.verify["predictions_match"] for rec in mine if rec.scenario != "codesize")


@pytest.mark.slow
def test_every_implementation_runs_every_planned_cell(quick_all):
    _, _, _, recs = quick_all
    loaded = registry.load()
    assert not loaded.problems, loaded.problems
    want = planned(loaded.adapters)
    assert want <= stored(recs), sorted(want - stored(recs), key=str)
    assert {rec.impl for rec in recs} == {adapter.name for adapter in loaded.adapters}
    for rec in recs:
        if rec.phase != "timed" or rec.scenario == "codesize":
            continue
        # the quick profile's scenarios (cold, noop, resume) each run the whole pipeline or its
        # rest: the right predictions and the steps the scenario expects
        assert rec.status == "ok", (rec.key, rec.status, rec.stderr_tail[-500:])
        assert rec.verify["predictions_match"], rec.key
        if rec.scenario == "resume" and rec.impl != "baseline":
            # what a tool's rerun executed is judged by the outcome: by itself, or by the
            # tool's own recovery command (metaflow's resume, dagster's re-execution)
            assert rec.outcome in ("resumed", "recovered_by_command"), (rec.key, rec.outcome)
        else:
            assert rec.verify["steps_match"], rec.key
        assert rec.detail.survivors == (), rec.key
