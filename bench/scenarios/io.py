"""io: cold runs over data scale x format, in the modes whose hand-off differs."""
from __future__ import annotations

from bench.scenarios import cold
from bench.scenarios.base import Scenario, slot


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, mode, "io", size=scale, format=fmt, setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in (choice.modes or adapter.handoff_modes()) for scale in profile.scales
            for fmt in (profile.formats if adapter.uses_format(mode) else (None,))]


SCENARIO = Scenario(name="io", description="cold runs over data scale x format",
                    slots=slots, run=cold.run)
