"""Every scenario, in the order `bench list` and the report show them."""
from __future__ import annotations

from bench.scenarios import (calibration, codesize, cold, crash, crash_job, first_run, floor,
                             footprint, io, modes, noop, parallel, pertask, rerun, resume)
from bench.scenarios.base import Scenario

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    first_run.SCENARIO, cold.SCENARIO, modes.SCENARIO, noop.SCENARIO, resume.SCENARIO,
    crash.SCENARIO, crash_job.SCENARIO, io.SCENARIO, footprint.SCENARIO, codesize.SCENARIO, floor.SCENARIO,
    pertask.SCENARIO, parallel.SCENARIO, rerun.SCENARIO, calibration.SCENARIO)}

def scenario_of(selection: str, stored_as: str) -> Scenario:
    """The scenario that runs a slot: the one that asked for it, or for a warm-up slot the one
    it is stored as."""
    return SCENARIOS.get(selection) or SCENARIOS[stored_as]


def slot_makers() -> dict:
    return {name: s.slots for name, s in SCENARIOS.items() if s.slots is not None}
