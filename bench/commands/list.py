"""`python -m bench list`: what this checkout can measure, and what a profile would run."""
from __future__ import annotations

import collections

from bench.commands import run
from bench.engine import plan, registry
from bench.engine.profiles import PROFILES
from bench.engine.progress import Estimate, clock
from bench.scenarios.catalog import SCENARIOS
from core.contract import SETUPS


def main(args) -> int:
    loaded = registry.load()
    profile = PROFILES[run.profile_name(args)]
    print("implementations (mode: description; * = default), and where each runs:")
    for adapter, module in zip(loaded.adapters, loaded.modules):
        print(f"  {adapter.name}  [{module}]")
        for mode in adapter.modes:
            star = "*" if mode.name == adapter.default_mode else " "
            print(f"    {star} {mode.name}: {mode.description}")
        for switch in adapter.rerun.switches if adapter.rerun else ():
            print(f"      {switch.name}: {switch.description} (rerun scenario only)")
        for setup in adapter.setups:
            needs = f"; starts {setup.service.name}" if setup.service else ""
            needs += " on PostgreSQL" if setup.service and setup.service.database else ""
            state = f"not available here: {setup.unavailable}" if setup.unavailable else \
                setup.summary + needs
            print(f"    set-up {setup.name}: {state}")
    for problem in loaded.problems:
        print(f"  not available: {problem}")
    makers = {name: s.slots for name, s in SCENARIOS.items() if s.slots is not None}
    slots = plan.slots_for(profile, loaded.adapters, makers)
    by_name = loaded.by_name()
    order = plan.schedule(slots, profile, 1,
                          lambda s: by_name[s.impl].service_for(s.setup) is not None,
                          {a.name: a.default_mode for a in loaded.adapters})
    estimate = Estimate({a.name: a.cold_prior_s for a in loaded.adapters})
    print(f"scenarios of the {profile.name} profile: executions (warm-ups included) and the "
          "estimate, per set-up")
    matrix: dict[tuple[str, str], list] = collections.defaultdict(lambda: [0, 0.0])
    for ex in order:
        cell = matrix[(ex.slot.selection if ex.slot.selection in SCENARIOS
                       else ex.slot.scenario, ex.slot.setup)]
        cell[0] += 1
        cell[1] += estimate.of(ex)
    print(f"  {'scenario':<10} {'rounds':>6}  " + "  ".join(f"{s:>16}" for s in SETUPS)
          + "  what it measures")
    for name, scenario in SCENARIOS.items():
        rounds = profile.rounds.get(name)
        cells = [matrix.get((name, s)) for s in SETUPS]
        shown = ["" if not c else f"{c[0]} ~{clock(c[1])}" for c in cells]
        if rounds and not any(cells) and scenario.slots is None:
            shown = ["once per run", ""]
        print(f"  {name:<10} {rounds or '-':>6}  " + "  ".join(f"{c:>16}" for c in shown)
              + f"  {scenario.description}")
    print(f"profile {profile.name}: {len(slots)} slots, {len(order)} executions, "
          f"~{clock(estimate.remaining(order))} "
          f"(scales {', '.join(map(str, profile.scales))}; formats {', '.join(profile.formats)}; "
          f"resume at {', '.join(profile.resume_steps) or '-'}; "
          f"crash at {', '.join(profile.crash_steps) or '-'}; "
          f"in the team set-up at {', '.join(profile.team_steps)})")
    return 0
