"""noop: the rerun of a complete workdir, the cost of 'nothing to do'."""
from __future__ import annotations

from bench.engine import verify
from bench.scenarios import common
from bench.scenarios.base import Scenario, failing_modes, slot


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, mode, "noop", setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in failing_modes(adapter, profile, choice)]


def run(ws, ex, adapter, scratch):
    workdir, prep, summary = common.prepare(ws, ex, adapter, scratch)
    if prep.outcome.exit_code != 0:
        return common.preparation_failed(ws, ex, prep, summary, "the complete run failed")
    done = common.body(ws, ex, adapter, workdir, scratch)
    return common.timed(ws, ex, adapter, done, verify.expected_steps(adapter.resumes, "noop", None),
                        {"prepare": summary})


SCENARIO = Scenario(name="noop",
                    description="rerun of a complete workdir: the cost of 'nothing to do'",
                    slots=slots, run=run)
