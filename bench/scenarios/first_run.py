"""first_run: a tool's very first run on a machine, from an empty workdir and a fresh tool home."""
from __future__ import annotations

from bench.engine import verify
from bench.scenarios import common
from bench.scenarios.base import Scenario, slot


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, mode, "first_run", setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in (choice.modes or (adapter.default_mode,))]


def run(ws, ex, adapter, scratch):
    workdir = ws.new_workdir(scratch)
    done = common.body(ws, ex, adapter, workdir, scratch, home=ws.fresh_home(scratch))
    return common.timed(ws, ex, adapter, done, verify.expected_steps(adapter.resumes, "first_run", None))


SCENARIO = Scenario(
    name="first_run",
    description="a tool's very first run on a machine: empty workdir, fresh tool home",
    slots=slots, run=run)
