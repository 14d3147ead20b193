"""resume@S: after an exception injected at step S (untimed), the plain rerun."""
from __future__ import annotations

from bench.engine import verify
from bench.scenarios import common
from bench.scenarios.base import Scenario, failing_modes, slot


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
    done = common.body(ws, ex, adapter, workdir, scratch)
    return common.timed(ws, ex, adapter, done, verify.expected_steps(adapter.resumes, "resume", step),
                        {"prepare": summary})


SCENARIO = Scenario(name="resume",
                    description="after an exception injected at step S (untimed), the plain rerun",
                    slots=slots, run=run)
