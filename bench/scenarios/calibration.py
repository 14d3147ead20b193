"""calibration: the harness's clock against hyperfine's on the same cold command.

Each execution is one pair: the cold run of the tool's default mode timed by the harness
exactly as the cold scenario times it (fresh scratch, empty workdir, the same environment),
and the same argv timed by `hyperfine -N --runs 1` (no intermediate shell) with the same cwd
and environment, each side in its own fresh empty workdir. The side that goes first
alternates with the round (odd rounds: the harness first), so that a drift within a pair
cancels over the rounds. Both sides' predictions are checked against the reference; the
record's times are the harness side's, and its detail holds hyperfine's `results[0].times`
and the pair's ratio harness / hyperfine. Medians of the ratios are computed at render time.
"""
from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from bench.engine import process, verify
from bench.engine.workspace import user_facing
from bench.scenarios import common
from bench.scenarios.base import Scenario, slot

NAME = "calibration"
PAIRS = 10  # profiles.ASKED_ALONE and FULL take this many rounds


def hyperfine_path() -> str | None:
    return shutil.which("hyperfine")


def slots(selection, adapter, profile, choice):
    if hyperfine_path() is None:
        return []  # nothing to compare against: records nothing (the description says so)
    modes = choice.modes or (adapter.default_mode,)
    return [slot(selection, adapter, mode, NAME, setup=setup)
            for setup in choice.setups(profile, selection, adapter) for mode in modes]


def harness_first(round_: int) -> bool:
    return round_ % 2 == 1


def run(ws, ex, adapter, scratch):
    sides = ("harness", "hyperfine") if harness_first(ex.round) else ("hyperfine", "harness")
    done = {}
    scratches = []
    try:
        for side in sides:
            own = ws.scratch(f"{adapter.name}-{ex.slot.mode}-{ex.slot.setup}-{NAME}-{side}")
            scratches.append(own)
            done[side] = (_harness_side if side == "harness" else _hyperfine_side)(
                ws, ex, adapter, own)
        return _judge(ws, ex, adapter, sides, done["harness"], done["hyperfine"])
    finally:
        for own in scratches:
            shutil.rmtree(own, ignore_errors=True)


def _harness_side(ws, ex, adapter, scratch: Path):
    """Exactly cold.run's body: an empty workdir in a fresh scratch, the timed pipeline."""
    workdir = ws.new_workdir(scratch)
    return common.body(ws, ex, adapter, workdir, scratch)


def _hyperfine_side(ws, ex, adapter, scratch: Path) -> dict:
    workdir = ws.new_workdir(scratch)
    s = ex.slot
    argv = ws.argv(adapter, s.mode, s.setup, workdir, common.fmt(ex), s.size)
    trace = scratch / "timed.trace.jsonl"  # the harness side is traced too: the same cost
    env = ws.environment(adapter, s.mode, s.setup, workdir)
    env["BENCH_TRACE"] = str(trace)
    export = scratch / "hyperfine.json"
    command = [hyperfine_path(), "-N", "--runs", "1", "--export-json", str(export),
               shlex.join(str(a) for a in argv)]
    outcome = process.run(command, env=env, cwd=workdir, logs=scratch / "logs",
                          timeout_s=ws.timeout(s.size), label="hyperfine")
    steps = process.steps_executed(process.read_trace(trace))
    checked = verify.check(ws.deliverables(adapter, workdir),
                           ws.references.expected_sha(s.size), steps,
                           verify.expected_steps(adapter.resumes, "cold", None))
    try:
        result = json.loads(export.read_text())["results"][0]
        times = [float(t) for t in result["times"]]
        exit_codes = list(result.get("exit_codes") or [])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        times, exit_codes = [], []
    return {"outcome": outcome, "times": times, "exit_codes": exit_codes,
            "verified": verify.passed(checked), "argv": argv, "workdir": workdir}


def _judge(ws, ex, adapter, sides, harness, hf) -> dict:
    detail = {"first": sides[0], "hyperfine_times_s": hf["times"],
              "hyperfine_exit_codes": hf["exit_codes"],
              "hyperfine_process_wall_s": round(hf["outcome"].wall_s, 6),
              "hyperfine_verified": hf["verified"],
              "command": user_facing(hf["argv"], hf["workdir"])}
    fields = common.timed(ws, ex, adapter, harness,
                          verify.expected_steps(adapter.resumes, "cold", None), detail)
    problem = None
    if hf["outcome"].exit_code != 0 or not hf["times"]:
        problem = (f"hyperfine side: exit {hf['outcome'].exit_code}: "
                   f"{hf['outcome'].stderr_tail[-500:].strip()}")
    elif any(code != 0 for code in hf["exit_codes"]):
        problem = f"hyperfine side: the command exited {hf['exit_codes']}"
    elif not hf["verified"]:
        problem = "hyperfine side: predictions or steps differ from the reference's"
    if problem is not None:
        fields["detail"]["error"] = problem
        fields["detail"]["log"] = ws.keep_log(hf["outcome"], f"r{ex.round}-{NAME}-"
                                              f"{adapter.name}-hyperfine")
        if fields["status"] == "ok":
            fields["status"] = "unexpected_failure"
        return fields
    fields["detail"]["ratio"] = round(fields["wall_s"] / hf["times"][0], 6) \
        if hf["times"][0] > 0 else None
    return fields


def _description() -> str:
    found = hyperfine_path()
    where = f"hyperfine at {found}" if found else \
        "hyperfine is not installed here: the scenario records nothing"
    return (f"the harness's wall time of a cold run against hyperfine -N --runs 1 on the same "
            f"argv, cwd and environment, pairs alternating which goes first ({where})")


SCENARIO = Scenario(name=NAME, description=_description(), slots=slots, run=run)
