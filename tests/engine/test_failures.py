"""A tool that fails or hangs is recorded as such (stderr kept) and the benchmark goes on;
no process of an execution outlives it, grandchildren included."""
from __future__ import annotations

from bench.store import records
from tests.helpers.fakes import bench, write_fakes

MODES = {"ok": "correct", "fails": "exits 3 with a message", "hangs": "never returns"}


def test_failing_and_hanging_executions_are_recorded_and_the_run_goes_on(tmp_path):
    root = write_fakes(tmp_path / "fakes", modes=MODES)
    out = tmp_path / "reports"
    r = bench(root, "run", "--impl", "faketool", "--scenario", "cold,modes", "--rounds", "1",
              "--no-warmup", "--timeout", "3", "--seed", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    (run_dir,) = out.iterdir()
    by_mode = {rec.mode: rec for rec in records.load(run_dir / "records.jsonl")}
    assert set(by_mode) == {"ok", "fails", "hangs"}

    failed = by_mode["fails"]
    assert failed.status == "unexpected_failure" and failed.exit_code == 3
    assert "boom: the fake tool failed on purpose" in failed.stderr_tail
    assert "boom" in (run_dir / failed.detail.log).read_text()
    assert not failed.usable

    hung = by_mode["hangs"]
    assert hung.status == "timeout" and hung.exit_code == -9
    assert 3 <= hung.wall_s < 60

    assert by_mode["ok"].status == "ok" and by_mode["ok"].usable
