"""cold: a full run from an empty workdir, on the tool home this run and set-up initialised once."""
from __future__ import annotations

from bench.engine import verify
from bench.scenarios import common
from bench.scenarios.base import Scenario, slot
from core.contract import LAPTOP


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, mode, "cold", setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in (choice.modes or _modes(adapter, profile, setup))]


def _modes(adapter, profile, setup):
    """The other hand-off costs the same with or without a server, so outside --full (which
    runs every hand-off everywhere) it runs in the laptop set-up only."""
    if profile.cold_every_handoff and (setup == LAPTOP or profile.every_handoff):
        return adapter.handoff_modes()
    return (adapter.default_mode,)


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
