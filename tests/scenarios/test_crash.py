"""Crash outcome classification: on the real baseline, and on fakes that refuse or lie."""
from __future__ import annotations

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.engine.session import execute
from bench.engine.workspace import Workspace
from bench.scenarios.catalog import SCENARIOS
from bench.store import records
from tests.helpers.fakes import bench, write_fakes


def test_baseline_killed_mid_write_then_rerun_is_recovered(tmp_path):
    loaded = registry.load(("core.adapter",))
    ws = Workspace(tmp_path / "run", "t", loaded.by_name(), QUICK)
    slot = plan.Slot("baseline", "files", "crash", variant="preprocess", format="parquet",
                     selection="crash")
    rec = execute(ws, SCENARIOS, plan.Execution(slot, round=1))

    assert rec.outcome == "recovered" and rec.status == "ok", rec.detail
    prepare = rec.detail.prepare
    assert prepare["exit_code"] == -9 and prepare["steps_executed"] == ["load", "preprocess"]
    assert rec.detail.leftovers["partial_files"] == ["interim/train_features.parquet"]
    assert rec.detail.survivors == ()
    assert rec.verify["predictions_match"] and rec.verify["steps_match"] is None
    assert rec.steps_executed == ("load", "preprocess", "train", "predict", "evaluate")
    assert rec.io["outputs_bytes"] > 0 and rec.cpu_s > 0 and rec.max_rss_kb > 0
    assert {s["kind"] for s in rec.spans} == {"compute", "read", "write"}


def test_refusal_runs_the_declared_recovery_and_a_wrong_rerun_is_caught(tmp_path):
    modes = {"ok": "correct", "refuses": "refuses after a crash", "wrong": "lies after a crash"}
    root = write_fakes(tmp_path / "fakes", modes=modes, format_modes=("ok", "refuses", "wrong"))
    out = tmp_path / "reports"
    r = bench(root, "run", "--impl", "faketool", "--mode", "refuses,wrong", "--scenario",
              "crash", "--steps", "train", "--rounds", "1", "--no-warmup", "--out", str(out))
    assert r.returncode == 0, r.stderr
    (run_dir,) = out.iterdir()
    by_mode = {rec.mode: rec for rec in records.load(run_dir / "records.jsonl")}

    refused = by_mode["refuses"]
    assert (refused.outcome, refused.status) == ("refused", "expected_failure")
    assert "fake.lock exists" in refused.detail.tool_message
    recovery = refused.detail.recovery
    assert recovery["exit_codes"] == [0, 0] and recovery["verify"]["predictions_match"]
    assert any("$WORKDIR" in arg for arg in recovery["commands"][0])
    assert refused.detail.leftovers["locks"] == ["fake.lock"]
    assert refused.detail.leftovers["partial_files"] == [] and not refused.usable

    wrong = by_mode["wrong"]
    assert (wrong.outcome, wrong.status) == ("silently_wrong", "invalid_output")
    assert wrong.exit_code == 0 and wrong.verify["predictions_match"] is False
