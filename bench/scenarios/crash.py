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

from bench.engine import measured
from bench.scenarios import common, recovery
from bench.scenarios.base import Scenario, failing_modes, slot

# core.layout.outputs(): the files each step writes, by the start of their names (any format
# suffix, in whatever folder the tool names after its parameters).
STEP_OUTPUTS = {
    "load": ("train_raw.", "test_raw."),
    "preprocess": ("train_features.", "test_features."),
    "train": ("model.",),
    "predict": ("predictions.",),
    "evaluate": ("metrics.",),
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
    detail["recovery"] = recovery.run(ws, ex, adapter, done.workdir, scratch)
    if recovery.succeeded(detail["recovery"]):
        return "refused", "expected_failure"
    return "failed", "unexpected_failure"


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
    if Path(rel).name.startswith(STEP_OUTPUTS[step]):
        return "partial_files"
    return None


SCENARIO = Scenario(
    name="crash",
    description="after SIGKILL halfway through writing step S's output (untimed), the plain "
                "rerun; outcome recovered / refused (+ recovery commands) / silently_wrong",
    slots=slots, run=run)
