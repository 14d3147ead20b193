"""resume@S: after an exception injected at step S (untimed), the plain rerun of the same
command, timed, and classified:

resumed (it executed exactly the unfinished steps and gave the right predictions),
recovered_by_command (it did not; from the state the failure left, the adapter's recovery
commands, which a user of the tool types instead, did: e.g. metaflow's `resume`), reran_finished
(right predictions, but finished steps executed again and no recovery command declared) or
failed (no right answer either way).
"""
from __future__ import annotations

from bench.engine import measured
from bench.scenarios import common, recovery
from bench.scenarios.base import Scenario, failing_modes, slot
from core import STEPS


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, mode, "resume", variant=step, setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in failing_modes(adapter, profile, choice)
            for step in profile.steps_of("resume", setup)]


def run(ws, ex, adapter, scratch):
    step = ex.slot.variant
    workdir, prep, summary = common.prepare(ws, ex, adapter, scratch, fail_at=step)
    if prep.outcome.exit_code == 0 or prep.outcome.timed_out:
        return common.preparation_failed(ws, ex, prep, summary,
                                         f"the run with a failure injected at {step} did not fail")
    if adapter.reference is not None:  # the plain baseline reruns everything, by design
        done = common.body(ws, ex, adapter, workdir, scratch)
        return common.timed(ws, ex, adapter, done, STEPS, {"prepare": summary})
    unfinished = STEPS[STEPS.index(step):]
    kept = recovery.keep_copy(workdir, scratch) if recovery.commands(ws, ex, adapter, workdir) \
        else None
    done = common.body(ws, ex, adapter, workdir, scratch)
    # What the plain rerun executes is the finding, not a gate: verified on its predictions.
    fields = common.timed(ws, ex, adapter, done, None, {"prepare": summary})
    fields["steps_expected"] = unfinished
    right = fields["status"] == "ok"
    if right and tuple(done.steps) == unfinished:
        fields["outcome"] = "resumed"
        return fields
    if kept is None:
        fields["outcome"] = "reran_finished" if right else "failed"
        return fields
    recovery.restore(kept, workdir)
    fields["detail"]["recovery"] = found = recovery.run(ws, ex, adapter, workdir, scratch)
    if recovery.succeeded(found):
        fields["outcome"], fields["status"] = "recovered_by_command", "ok"
    else:
        fields["outcome"], fields["status"] = "failed", "unexpected_failure"
        fields["detail"].setdefault("log", ws.keep_log(done.outcome, measured.log_name(ex)))
    return fields


SCENARIO = Scenario(name="resume",
                    description="after an exception injected at step S (untimed), the plain "
                                "rerun; outcome resumed / recovered_by_command (+ recovery "
                                "commands) / reran_finished / failed",
                    slots=slots, run=run)
