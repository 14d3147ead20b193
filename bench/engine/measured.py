"""What every scenario stores about one execution: the measured fields, one rule for naming
its kept logs, and one rule for a failed preparation."""
from __future__ import annotations

from bench.engine.plan import Execution
from bench.engine.process import Outcome
from bench.engine.workspace import PipelineRun

TOOL_MESSAGE_CHARS = 1500


def fields(run: PipelineRun, disk: dict | None = None) -> dict:
    """The Record fields an execution's process gives: times, memory, IO, spans, output tail."""
    o = run.outcome
    io = dict(o.io) if o.io is not None else {"unavailable": True}
    return {"exit_code": o.exit_code, "wall_s": round(o.wall_s, 6), "cpu_s": o.cpu_s,
            "max_rss_kb": o.max_rss_kb, "max_rss_single_kb": o.max_rss_single_kb,
            "launch_epoch": o.launch_epoch, "end_epoch": o.end_epoch, "spans": run.spans,
            "steps_executed": run.steps, "stderr_tail": o.stderr_tail,
            "io": {**io, **(disk or {})}}


def log_name(ex: Execution, suffix: str = "") -> str:
    """r<round>-<scenario>-<variant>-<impl>-<mode or runner>-<format>-x<size>[-suffix]."""
    s = ex.slot
    parts = [f"r{ex.round}", s.scenario, s.variant, s.impl, s.runner or s.mode, s.format,
             f"x{s.size}", suffix]
    return "-".join(p for p in parts if p)


def summary(outcome: Outcome, steps: list[str]) -> dict:
    """What an untimed preparation is stored as."""
    found = {"exit_code": outcome.exit_code, "wall_s": round(outcome.wall_s, 6),
             "steps_executed": steps, "timed_out": outcome.timed_out}
    if outcome.survivors:
        found["survivors"] = outcome.survivors
    return found


def tool_message(outcome: Outcome) -> str:
    return outcome.stderr_tail[-TOOL_MESSAGE_CHARS:].strip()


def not_run(error: str, stderr_tail: str = "", **detail) -> dict:
    """The harness could not run the timed body: an unexpected failure with no time."""
    return {"status": "unexpected_failure", "wall_s": 0.0, "stderr_tail": stderr_tail,
            "detail": {"error": error, **detail}}
