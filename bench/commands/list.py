"""`python -m bench list`: what this checkout can measure, and what a profile would run."""
from __future__ import annotations

from bench.engine import plan, registry
from bench.engine.profiles import PROFILES
from bench.engine.progress import Estimate, clock
from bench.scenarios.catalog import SCENARIOS


def main(args) -> int:
    loaded = registry.load()
    profile = PROFILES[args.profile]
    print("implementations (mode: description; * = default):")
    for adapter, module in zip(loaded.adapters, loaded.modules):
        print(f"  {adapter.name}  [{module}]")
        for mode in adapter.modes:
            star = "*" if mode.name == adapter.default_mode else " "
            service = adapter.service_for(mode.name)
            needs = f" (needs {service.name})" if service else ""
            print(f"    {star} {mode.name}: {mode.description}{needs}")
    for problem in loaded.problems:
        print(f"  not available: {problem}")
    print("scenarios:")
    for name, scenario in SCENARIOS.items():
        rounds = profile.rounds.get(name)
        where = f"{rounds} round(s)" if rounds else "not in this profile"
        print(f"  {name:<10} {scenario.description} [{args.profile}: {where}]")
    makers = {name: s.slots for name, s in SCENARIOS.items() if s.slots is not None}
    slots = plan.slots_for(profile, loaded.adapters, makers)
    by_name = loaded.by_name()
    order = plan.schedule(
        slots, profile, 1,
        lambda s: s.mode is not None and by_name[s.impl].service_for(s.mode) is not None,
        {a.name: a.default_mode for a in loaded.adapters})
    estimate = Estimate({a.name: a.cold_prior_s for a in loaded.adapters})
    print(f"profile {profile.name}: {len(slots)} slots, {len(order)} executions, "
          f"~{clock(estimate.remaining(order))} "
          f"(scales {', '.join(map(str, profile.scales))}; formats {', '.join(profile.formats)}; "
          f"resume at {', '.join(profile.resume_steps)}; "
          f"crash at {', '.join(profile.crash_steps)})")
    return 0
