"""The pertask scenario: N trivial tasks (core/synthetic.py) as a chain or a fan-out, run by
each tool's synthetic command in a fresh workdir with the tool home copied in.

The slot's `step` is the shape and its `scale` is N. A run is `ok` only if it exits 0, its
result file holds the expected value (chain: N; fan-out: N(N+1)/2) and its trace holds
exactly one `task` compute span per task (plus one `gather` for a fan-out). A tool that fails
or times out at some N is a finding: its message is kept in detail.tool_message. Once a
(tool, mode, shape) failed at N in this run, its larger sizes are recorded without running,
with the same status and detail.not_run naming the N that failed (after a timeout, later rounds
skip that N as well), so a profile does not spend its timeout again on each doomed size; the
report lists them as not run. A run times out after the profile's pertask_timeout_s (or
--timeout).
"""
from __future__ import annotations

import collections
from pathlib import Path

from bench.context import call_adapter
from bench.verify import status as verify_status
from core import synthetic

TOOL_MESSAGE_CHARS = 1500
DOOMING = ("timeout", "unexpected_failure")

# (run_id, impl, mode, shape) -> the smallest N that failed, with what it said. Lives for one
# harness process: after --continue the sizes run again, which errs on the side of measuring.
_failed: dict[tuple, dict] = {}


def run(ctx, ex, impl, scratch) -> dict:
    s = ex.slot
    shape, n = s.step, s.scale
    key = (ctx.run_id, s.impl, s.mode, shape)
    earlier = _failed.get(key)
    if earlier and (earlier["n"] < n or (earlier["n"] == n and earlier["status"] == "timeout")):
        return _not_run(earlier)
    workdir = ctx.new_workdir(impl, scratch, with_home=True)
    argv = call_adapter(impl.module.synthetic_command, workdir, s.mode, shape=shape, n=n)
    run = ctx.run(argv, impl, s.mode, workdir, scratch, scale=n, label="timed",
                  timeout_s=None if ctx.timeout_override else ctx.profile.pertask_timeout_s)
    fields = judge(run, shape, n)
    fields["io"].update(ctx.disk(workdir))
    if fields["status"] != "ok":
        fields["detail"]["log"] = ctx.keep_log(run.outcome, _log_name(ex))
    if fields["status"] in DOOMING and (earlier is None or n < earlier["n"]):
        _failed[key] = {"n": n, "status": fields["status"],
                        "tool_message": fields["detail"].get("tool_message", "")}
    return fields


def judge(run, shape: str, n: int) -> dict:
    """Measured fields, verification and status of one synthetic run."""
    o = run.outcome
    checked = verify(run.workdir, run.spans, shape, n)
    status = verify_status(o, checked["result_match"] and checked["steps_match"])
    detail = {"shape": shape, "n": n}
    if status != "ok":
        detail["tool_message"] = o.stderr_tail[-TOOL_MESSAGE_CHARS:].strip()
    if o.survivors:
        detail["survivors"] = o.survivors
    return {"exit_code": o.exit_code, "wall_s": round(o.wall_s, 6), "cpu_s": o.cpu_s,
            "max_rss_kb": o.max_rss_kb, "max_rss_single_kb": o.max_rss_single_kb,
            "launch_epoch": o.launch_epoch, "end_epoch": o.end_epoch, "spans": run.spans,
            "steps_executed": run.steps,
            "steps_expected": tuple(synthetic.expected_spans(shape, n)),
            "stderr_tail": o.stderr_tail, "status": status, "verify": checked,
            "io": dict(o.io), "detail": detail}


def verify(workdir: Path, spans: list[dict], shape: str, n: int) -> dict:
    value = _result(workdir / synthetic.result_path(shape, n))
    counted = dict(collections.Counter(s["step"] for s in spans if s["kind"] == "compute"))
    expected_spans = synthetic.expected_spans(shape, n)
    return {"result_value": value, "expected_value": synthetic.expected_value(shape, n),
            "result_match": value == synthetic.expected_value(shape, n),
            "task_spans": counted, "expected_task_spans": expected_spans,
            "steps_match": counted == expected_spans}


def _result(path: Path) -> int | None:
    try:
        return synthetic.read_result(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _not_run(earlier: dict) -> dict:
    return {"status": earlier["status"], "wall_s": 0.0,
            "detail": {"not_run": f"not run: failed at N={earlier['n']} in this run "
                                  f"({earlier['status'].replace('_', ' ')})",
                       "failed_at_n": earlier["n"], "tool_message": earlier["tool_message"]}}


def _log_name(ex) -> str:
    s = ex.slot
    return f"r{ex.round}-pertask-{s.step}-{s.impl}-{s.mode}-n{s.scale}"
