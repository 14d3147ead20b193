"""modes: the cold run in every remaining mode of each tool, stored as `cold` records."""
from __future__ import annotations

from bench.scenarios import cold
from bench.scenarios.base import Scenario, slot


def slots(selection, adapter, profile, choice):
    handoff = choice.modes or adapter.handoff_modes()
    return [slot(selection, adapter, mode, "cold", setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in (choice.modes or adapter.mode_names) if mode not in handoff or choice.modes]


SCENARIO = Scenario(
    name="modes",
    description="the cold run in every remaining mode of each tool (its other runners, its "
                "servers)",
    slots=slots, run=cold.run)
