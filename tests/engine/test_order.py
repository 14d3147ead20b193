"""The execution order, read from the calls a fake tool logs (hyperfine's execution-order test):
the reference baseline first, then the warm-up round, then seeded shuffled rounds."""
from __future__ import annotations

import json
from pathlib import Path

from bench.engine import plan, registry
from bench.scenarios.catalog import SCENARIOS
from bench.store import records
from bench.engine.profiles import DEFAULT
from tests.helpers.fakes import bench, calls, write_fakes

ARGS = ("run", "--impl", "faketool", "--scenario", "cold,noop,resume", "--steps",
        "preprocess,predict", "--rounds", "3", "--setup", "laptop")


def _run(tmp_path: Path, name: str, seed: int) -> tuple[list[dict], Path]:
    root = write_fakes(tmp_path / name)
    r = bench(root, *ARGS, "--seed", str(seed), "--out", str(tmp_path / name / "reports"))
    assert r.returncode == 0, r.stderr
    (run_dir,) = (tmp_path / name / "reports").iterdir()
    return calls(root), run_dir


def _expected_calls(ex: plan.Execution) -> list[dict]:
    """What one execution asks of the tool: the untimed preparation, then the timed body."""
    s = ex.slot
    base = {"impl": s.impl, "mode": s.mode, "format": s.format or "parquet", "scale": s.size,
            "setup": s.setup,
            "resumes": True}
    timed = {**base, "fail_at": None, "crash_at": None}
    if s.scenario == "noop":
        return [timed, timed]
    if s.scenario == "resume":
        return [{**timed, "fail_at": s.variant}, timed]
    return [timed]


def _planned(seed: int, root: Path, monkeypatch) -> list[plan.Execution]:
    monkeypatch.syspath_prepend(str(root))
    loaded = registry.load(("fake_baseline", "fake_tool"))
    profile = DEFAULT.with_overrides(scenarios=["cold", "noop", "resume"], rounds=3,
                                     steps=["preprocess", "predict"], setups=["laptop"])
    makers = {name: sc.slots for name, sc in SCENARIOS.items() if sc.slots}
    slots = plan.slots_for(profile, [loaded.by_name()["faketool"]], makers)
    return plan.schedule(slots, profile, seed, lambda s: False)


def test_reference_then_warmup_then_seeded_shuffled_rounds(tmp_path, monkeypatch):
    logged, run_dir = _run(tmp_path, "a", seed=7)
    order = _planned(7, tmp_path / "a", monkeypatch)

    # 1. the reference: the baseline's value hand-off, untimed, before anything else
    assert logged[0] == {"impl": "baseline", "mode": "memory", "format": "parquet", "scale": 1,
                         "setup": "laptop", "fail_at": None, "crash_at": None, "resumes": False}
    # 2. the warm-up: one cold run of the tool, flagged
    warm = [ex for ex in order if ex.warmup]
    assert order[:len(warm)] == warm and [ex.slot.impl for ex in warm] == ["faketool"]
    assert all(ex.round == 0 and ex.slot.scenario == "cold" for ex in warm)
    # 3. rounds 1..3, each running every slot exactly once, in different shuffled orders
    rounds = [[ex.slot for ex in order if ex.round == r] for r in (1, 2, 3)]
    slots = sorted(rounds[0], key=plan.Slot.sort_key)
    # cold in both hand-offs; noop and resume (2 steps) in the default mode
    assert len(slots) == 2 + 1 + 2
    for members in rounds:
        assert sorted(members, key=plan.Slot.sort_key) == slots
    assert len({tuple(m) for m in rounds} | {tuple(slots)}) > 1, "rounds are not shuffled"
    assert [ex.round for ex in order] == sorted(ex.round for ex in order)
    # ... and the tool saw exactly that order, nothing more
    expected = [call for ex in order for call in _expected_calls(ex)]
    assert logged[1:] == expected

    stored = records.load(run_dir / "records.jsonl")
    assert [r.key for r in stored] == [ex.key for ex in order]
    assert [r.warmup for r in stored] == [ex.warmup for ex in order]
    assert all(r.status == "ok" for r in stored), [(r.key, r.status, r.detail) for r in stored]


def test_same_seed_same_order_other_seed_other_order(tmp_path):
    first, _ = _run(tmp_path, "a", seed=7)
    again, _ = _run(tmp_path, "b", seed=7)
    other, _ = _run(tmp_path, "c", seed=8)
    assert first == again
    assert other != first and sorted(map(json.dumps, other)) == sorted(map(json.dumps, first))


def test_resume_and_noop_steps_are_verified_against_the_tools_rules(tmp_path):
    _, run_dir = _run(tmp_path, "a", seed=7)
    stored = records.load(run_dir / "records.jsonl")
    noop = [r for r in stored if r.scenario == "noop"]
    resume = [r for r in stored if r.scenario == "resume" and r.variant == "predict"]
    assert noop and all(r.steps_executed == () and r.steps_expected == () for r in noop)
    assert resume and all(r.steps_executed == ("predict", "evaluate") for r in resume)
    # what a resume executes is its finding (the outcome), not a gate of its status
    assert all(r.outcome == "resumed" and r.steps_expected == ("predict", "evaluate")
               and r.verify["predictions_match"] and r.status == "ok" for r in resume)
