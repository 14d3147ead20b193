"""pertask: N trivial tasks (core/synthetic.py) as a chain or a fan-out, run by each tool's
synthetic command in a fresh workdir, on the tool home initialised once per run and set-up.

The slot's variant is the shape and its size is N. A run is `ok` only if it exits 0, its
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

from bench.engine import measured, verify
from bench.scenarios.base import Scenario, slot
from core import synthetic

DOOMING = ("timeout", "unexpected_failure")

# (run_id, impl, mode, shape) -> the smallest N that failed, with what it said. Lives for one
# harness process: after --continue the sizes run again, which errs on the side of measuring.
_failed: dict[tuple, dict] = {}


def slots(selection, adapter, profile, choice):
    if adapter.synthetic is None:
        return []
    modes = [m for m in adapter.synthetic.modes if not choice.modes or m in choice.modes]
    return [slot(selection, adapter, mode, "pertask", variant=shape, size=n, format=None,
                 setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in modes for shape in profile.shapes for n in profile.task_counts]


def run(ws, ex, adapter, scratch):
    s = ex.slot
    shape, n = s.variant, s.size
    key = (ws.run_id, s.impl, s.mode, shape)
    earlier = _failed.get(key)
    if earlier and (earlier["n"] < n or (earlier["n"] == n and earlier["status"] == "timeout")):
        return _not_run(earlier)
    workdir = ws.new_workdir(scratch)
    argv = adapter.synthetic.command(workdir, s.mode, setup=s.setup, shape=shape, n=n,
                                     service_url=ws.service_url(adapter, s.setup))
    done = ws.run(argv, adapter, s.mode, s.setup, workdir, scratch, size=n, label="timed",
                  timeout_s=None if ws.timeout_override else ws.profile.pertask_timeout_s)
    fields = judge(done, shape, n)
    fields["io"].update(ws.disk(workdir))
    if fields["status"] != "ok":
        fields["detail"]["log"] = ws.keep_log(done.outcome, measured.log_name(ex))
    if fields["status"] in DOOMING and (earlier is None or n < earlier["n"]):
        _failed[key] = {"n": n, "status": fields["status"],
                        "tool_message": fields["detail"].get("tool_message", "")}
    return fields


def judge(done, shape: str, n: int) -> dict:
    """Measured fields, verification and status of one synthetic run."""
    o = done.outcome
    checked = check(done.workdir, done.spans, shape, n)
    status = verify.status(o, checked["result_match"] and checked["steps_match"])
    detail = {"shape": shape, "n": n}
    if status != "ok":
        detail["tool_message"] = measured.tool_message(o)
    if o.survivors:
        detail["survivors"] = o.survivors
    return {**measured.fields(done), "status": status, "verify": checked, "detail": detail,
            "steps_expected": tuple(synthetic.expected_spans(shape, n))}


def check(workdir: Path, spans: list[dict], shape: str, n: int) -> dict:
    value = _result(workdir / synthetic.result_path(shape, n))
    counted = dict(collections.Counter(s["step"] for s in spans if s["kind"] == "compute"))
    wanted = synthetic.expected_spans(shape, n)
    expected = synthetic.expected_value(shape, n)
    return {"result_value": value, "expected_value": expected, "result_match": value == expected,
            "task_spans": counted, "expected_task_spans": wanted,
            "steps_match": counted == wanted}


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


SCENARIO = Scenario(
    name="pertask",
    description="N trivial tasks as a chain and as a fan-out, each writing a tiny file: "
                "wall time = fixed + N x per-task",
    slots=slots, run=run)
