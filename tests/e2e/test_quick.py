"""`python -m bench run --quick --impl baseline` end to end into a fresh output directory."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.scenarios.catalog import SCENARIOS
from bench.store import records, run_info
from tests.helpers.fakes import REPO


@pytest.mark.slow
def test_quick_run_of_the_baseline_leaves_a_valid_run_directory(tmp_path):
    out = tmp_path / "reports"
    r = subprocess.run([sys.executable, "-m", "bench", "run", "--quick", "--impl", "baseline",
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stderr
    (run_dir,) = out.iterdir()

    info = run_info.read(run_dir)
    assert info.profile == "quick" and info.finished_at
    assert info.git["commit"] and info.packages["pandas"]
    assert set(info.source_hashes) == {"baseline"}
    recs = records.load(run_dir / "records.jsonl")
    assert all(rec.status == "ok" for rec in recs), [(rec.key, rec.detail) for rec in recs
                                                     if rec.status != "ok"]
    stored = {(rec.scenario, rec.runner or rec.mode) for rec in recs}
    expected = {("first_run", "files"), ("cold", "files"), ("cold", "memory"),
                ("noop", "files"), ("resume", "files"), ("crash", "files"),
                ("io", "files"), ("io", "memory"), ("footprint", "files"),
                ("codesize", "files"), ("pertask", "files"), ("parallel", "processes"),
                ("rerun", "files")}
    assert stored == expected
    assert {rec.format for rec in recs if rec.scenario == "io"} == {None, *QUICK.formats}
    assert any(rec.warmup for rec in recs) and all(rec.run_id == run_dir.name for rec in recs)
    pipeline = [rec for rec in recs if rec.scenario not in ("codesize", "footprint", "pertask")]
    assert all(rec.verify["predictions_match"] for rec in pipeline)
    assert all(rec.verify["result_match"] for rec in recs if rec.scenario == "pertask")
    # the plain script reruns every step whatever changed: exact only when the data changed
    reruns = {rec.variant: rec.detail.classification for rec in recs if rec.scenario == "rerun"}
    assert reruns == {change: "exact" if change == "data" else "over-eager"
                      for change in QUICK.changes}
    crash = next(rec for rec in recs if rec.scenario == "crash")
    assert crash.outcome == "recovered"

    floor = json.loads((run_dir / "floor.json").read_text())
    cases = {(b["extra_info"]["kind"], b["extra_info"]["format"]) for b in floor["benchmarks"]}
    assert cases == {(k, f) for k in ("read", "write") for f in QUICK.formats}
    assert (run_dir / "sources" / "baseline" / "core" / "baseline.py").is_file()
    assert json.loads((run_dir / "references.json").read_text())["pipeline"]["1"][
        "predictions_sha256"]
    assert not (run_dir / "work").exists()
    assert "done:" in r.stderr and "elapsed" in r.stderr


@pytest.mark.slow
def test_quick_all_covers_every_implementation_mode_and_scenario(tmp_path):
    """`bench all --quick` on every registered adapter: the CI smoke run of the whole job."""
    out = tmp_path / "reports"
    r = subprocess.run([sys.executable, "-m", "bench", "all", "--quick", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-3000:]
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    loaded = registry.load()
    assert not loaded.problems, loaded.problems

    recs = records.load(run_dir / "records.jsonl")
    makers = {name: s.slots for name, s in SCENARIOS.items() if s.slots}
    planned = {s.record_key for s in plan.slots_for(QUICK, loaded.adapters, makers)}
    stored = {(rec.impl, rec.mode, rec.scenario, rec.variant, rec.size, rec.format, rec.runner)
              for rec in recs if rec.phase == "timed"}
    assert planned <= stored, sorted(planned - stored, key=str)
    assert {rec.impl for rec in recs} == {adapter.name for adapter in loaded.adapters}

    for rec in recs:
        if rec.phase != "timed" or rec.scenario in ("codesize", "footprint"):
            continue
        if rec.scenario == "crash":
            assert rec.outcome in ("recovered", "refused"), (rec.impl, rec.mode, rec.outcome)
            if rec.outcome == "refused":
                assert rec.detail.recovery["verify"]["predictions_match"], rec.detail
        elif rec.scenario == "rerun":
            # stale and over-eager reruns are findings: the class says which, and the run is ok
            assert rec.status == "ok", (rec.key, rec.status, rec.detail.error)
            assert rec.detail.classification in ("exact", "over-eager", "stale"), rec.key
        elif rec.scenario == "parallel":
            # checked against the plain selection's predictions; no step list to compare
            assert rec.status == "ok", (rec.key, rec.status, rec.stderr_tail[-500:])
            assert rec.verify["predictions_match"], rec.key
        elif rec.scenario == "pertask":
            assert rec.status == "ok", (rec.key, rec.status, rec.stderr_tail[-500:])
            assert rec.verify["result_match"] and rec.verify["steps_match"], rec.key
        else:
            assert rec.status == "ok", (rec.key, rec.status, rec.stderr_tail[-500:])
            assert rec.verify["predictions_match"] and rec.verify["steps_match"], rec.key
        assert rec.detail.survivors == () or rec.scenario == "crash", rec.key

    page = run_dir / "index.html"
    assert page.is_file() and str(page) in r.stdout + r.stderr
    assert (out / "index.html").is_file()
