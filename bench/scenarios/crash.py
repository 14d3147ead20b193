"""crash@S: the process group killed halfway through writing step S's output (a power cut),
untimed; then the plain rerun, timed, and classified:

recovered (the rerun gives the right predictions), silently_wrong (the rerun 'succeeds' with
wrong ones), refused (the rerun fails; the adapter's recovery commands, which a user would
type, then give the right predictions) or failed (neither).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from bench.engine import measured, verify
from bench.engine.workspace import user_facing
from bench.scenarios import common
from bench.scenarios.base import Scenario, failing_modes, slot

# core.layout.outputs(): the files each step writes, by stem (any format suffix).
STEP_OUTPUTS = {
    "load": ("interim/train_raw.", "interim/test_raw."),
    "preprocess": ("interim/train_features.", "interim/test_features."),
    "train": ("interim/model.pkl",),
    "predict": ("out/predictions.csv",),
    "evaluate": ("out/metrics.json",),
}
LEFTOVER_LIMIT = 50


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, mode, selection, variant=step, setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in failing_modes(adapter, profile, choice)
            for step in profile.steps_of(selection, setup)]


def run(ws, ex, adapter, scratch, *, job_only: bool = False):
    """job_only: kill only the process writing the output (crash_job), not its group."""
    step = ex.slot.variant
    kill = {"crash_job_at" if job_only else "crash_at": step}
    workdir, prep, summary = common.prepare(ws, ex, adapter, scratch, **kill)
    if prep.outcome.exit_code == 0 or prep.outcome.timed_out:
        return common.preparation_failed(ws, ex, prep, summary,
                                         f"the run with a crash injected at {step} was not killed")
    detail = {"prepare": summary, "leftovers": leftovers(workdir, step),
              "survivors": prep.outcome.survivors}
    done = common.body(ws, ex, adapter, workdir, scratch)
    fields = common.timed(ws, ex, adapter, done, None, detail)
    fields["outcome"], fields["status"] = classify(ws, ex, adapter, done, fields, scratch)
    return fields


def classify(ws, ex, adapter, done, fields: dict, scratch: Path) -> tuple[str, str]:
    o = done.outcome
    if o.timed_out:
        return "failed", "timeout"
    if o.exit_code == 0:
        if fields["verify"]["predictions_match"]:
            return "recovered", "ok"
        return "silently_wrong", "invalid_output"
    detail = fields["detail"]
    detail["tool_message"] = measured.tool_message(o)
    detail["log"] = ws.keep_log(o, measured.log_name(ex))
    detail["recovery"] = recovery = recover(ws, ex, adapter, done.workdir, scratch)
    if recovery["exit_code"] == 0 and recovery["verify"]["predictions_match"]:
        return "refused", "expected_failure"
    return "failed", "unexpected_failure"


def recover(ws, ex, adapter, workdir: Path, scratch: Path) -> dict:
    """The adapter's recovery commands, in order, until one fails; then the verification."""
    s = ex.slot
    commands = adapter.recovery_commands(workdir, s.mode, setup=s.setup, fmt=common.fmt(ex),
                                         scale=s.size, data=ws.data,
                                         service_url=ws.service_url(adapter, s.setup))
    result = {"commands": [user_facing(c, workdir) for c in commands], "wall_s": 0.0,
              "exit_codes": [], "exit_code": None}
    for i, argv in enumerate(commands):
        done = ws.run(list(argv), adapter, s.mode, s.setup, workdir, scratch, size=s.size,
                      label=f"recovery-{i}")
        result["wall_s"] = round(result["wall_s"] + done.outcome.wall_s, 6)
        result["exit_codes"].append(done.outcome.exit_code)
        result["exit_code"] = done.outcome.exit_code
        if done.outcome.exit_code != 0:
            result["stderr_tail"] = measured.tool_message(done.outcome)
            break
    if not commands:
        result["note"] = "the adapter declares no recovery command"
    result["verify"] = verify.check(ws.deliverables(adapter, workdir),
                                    ws.references.expected_sha(s.size), [], None)
    return result


def leftovers(workdir: Path, step: str) -> dict:
    """What a killed run left behind, by kind (paths relative to the workdir)."""
    found = {"partial_files": [], "temp_files": [], "locks": [], "markers": []}
    for root, dirs, files in os.walk(workdir):
        dirs.sort()
        rel_root = Path(root).relative_to(workdir)
        for name in sorted(files):
            rel = (rel_root / name).as_posix()
            kind = _leftover_kind(rel, step)
            if kind and len(found[kind]) < LEFTOVER_LIMIT:
                found[kind].append(rel)
    return found


def _leftover_kind(rel: str, step: str) -> str | None:
    lowered = rel.lower()
    if re.search(r"lock|\.pid$", lowered):
        return "locks"
    if "incomplete" in lowered:
        return "markers"
    if lowered.startswith(".tmp/") or re.search(r"tmp|temp|\.partial$|~$", Path(lowered).name):
        return "temp_files"
    if rel.startswith(STEP_OUTPUTS[step]):
        return "partial_files"
    return None


SCENARIO = Scenario(
    name="crash",
    description="after SIGKILL halfway through writing step S's output (untimed), the plain "
                "rerun; outcome recovered / refused (+ recovery commands) / silently_wrong",
    slots=slots, run=run)
