"""`python -m bench run --quick --impl baseline` end to end into a fresh output directory."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import records
from bench.profiles import QUICK
from tests.test_bench_fakes import REPO


@pytest.mark.slow
def test_quick_run_of_the_baseline_leaves_a_valid_run_directory(tmp_path):
    out = tmp_path / "reports"
    r = subprocess.run([sys.executable, "-m", "bench", "run", "--quick", "--impl", "baseline",
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr
    (run_dir,) = out.iterdir()

    info = records.read_run_info(run_dir)
    assert info["profile"] == "quick" and info["finished_at"]
    assert info["git"]["commit"] and info["packages"]["pandas"]
    assert set(info["source_hashes"]) == {"baseline"}
    recs = records.load(run_dir / "records.jsonl")
    assert all(rec.status == "ok" for rec in recs), [(rec.key, rec.detail) for rec in recs
                                                     if rec.status != "ok"]
    stored = {(rec.scenario, rec.mode) for rec in recs}
    expected = {("first_run", "files"), ("cold", "files"), ("cold", "memory"),
                ("noop", "files"), ("resume", "files"), ("crash", "files"),
                ("io", "files"), ("io", "memory"), ("footprint", "files"),
                ("codesize", "files")}
    assert stored == expected
    assert {rec.format for rec in recs if rec.scenario == "io"} == {None, *QUICK.formats}
    assert any(rec.warmup for rec in recs) and all(rec.run_id == run_dir.name for rec in recs)
    timed = [rec for rec in recs if rec.scenario not in ("codesize", "footprint")]
    assert all(rec.verify["predictions_match"] for rec in timed)
    crash = next(rec for rec in recs if rec.scenario == "crash")
    assert crash.outcome == "recovered"

    floor = json.loads((run_dir / "floor.json").read_text())
    cases = {(b["extra_info"]["kind"], b["extra_info"]["format"]) for b in floor["benchmarks"]}
    assert cases == {(k, f) for k in ("read", "write") for f in QUICK.formats}
    assert (run_dir / "sources" / "baseline" / "core" / "baseline.py").is_file()
    assert json.loads((run_dir / "reference.json").read_text())["1"]["predictions_sha256"]
    assert not (run_dir / "work").exists()
    assert "done:" in r.stderr and "elapsed" in r.stderr
