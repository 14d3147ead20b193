"""The verification gate: right predictions (sha256 against the reference) and the right steps.

A fast wrong answer is a failure: a timed execution whose predictions differ from the
reference's at the same data and scale, or whose executed steps differ from those the
scenario expects, is stored as `invalid_output` and never enters a median.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from bench.engine.profiles import STEPS
from core.contract import Deliverables



def sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def expected_steps(resumes: bool, scenario: str, step: str | None) -> tuple[str, ...] | None:
    """What a correct tool executes in the timed body; None where it is not a gate (crash)."""
    if scenario in ("first_run", "cold", "io"):
        return STEPS
    if not resumes:  # the plain baseline reruns everything
        return STEPS if scenario in ("noop", "resume") else None
    if scenario == "noop":
        return ()
    if scenario == "resume":
        return STEPS[STEPS.index(step):]
    return None


def check(delivered: Deliverables, expected_sha: str | None, executed: list[str],
          expected: tuple[str, ...] | None) -> dict:
    """delivered: where the run put its predictions (the adapter's deliverables)."""
    actual = sha256(delivered.predictions)
    return {
        "predictions_sha256": actual,
        "expected_sha256": expected_sha,
        "predictions_match": actual is not None and actual == expected_sha,
        "steps_match": None if expected is None else tuple(executed) == tuple(expected),
    }


def passed(result: dict) -> bool:
    return bool(result["predictions_match"]) and result["steps_match"] is not False


def status(outcome, verified: bool) -> str:
    """A timed body's status: how it ended first, then whether its output was right."""
    if outcome.timed_out:
        return "timeout"
    if outcome.exit_code != 0:
        return "unexpected_failure"
    return "ok" if verified else "invalid_output"
