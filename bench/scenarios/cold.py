"""cold: a full run from an empty workdir, on the tool home this run and set-up initialised once."""
from __future__ import annotations

from bench.engine import verify
from bench.scenarios import common
from bench.scenarios.base import Scenario, slot


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, mode, "cold", setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in (choice.modes or (adapter.handoff_modes() if profile.cold_every_handoff
                                          else (adapter.default_mode,)))]


def run(ws, ex, adapter, scratch):
    """Also the body of the `modes` and `io` selections, stored as their own scenario."""
    workdir = ws.new_workdir(scratch)
    done = common.body(ws, ex, adapter, workdir, scratch)
    return common.timed(ws, ex, adapter, done,
                        verify.expected_steps(adapter.resumes, ex.slot.scenario, None))


SCENARIO = Scenario(
    name="cold",
    description="full run from an empty workdir, on the tool home initialised once per run "
                "and set-up, as a user's own home is "
                "(default mode and the other hand-off of each tool)",
    slots=slots, run=run)
