"""`python -m bench list`: what this checkout can measure, and what a profile would run."""
from __future__ import annotations

from bench import plan, registry
from bench.profiles import PROFILES, SCENARIOS
from bench.progress import Progress, clock


def main(args) -> int:
    loaded = registry.load()
    profile = PROFILES[args.profile]
    print("implementations (mode: description; * = default):")
    for impl in loaded.impls:
        print(f"  {impl.name}  [{impl.module.__name__}]")
        for mode, text in impl.module.MODES.items():
            star = "*" if mode == impl.default_mode else " "
            service = f" (needs {impl.service(mode)})" if impl.service(mode) else ""
            print(f"    {star} {mode}: {text}{service}")
    for problem in loaded.problems:
        print(f"  not available: {problem}")
    print("scenarios:")
    for name, text in SCENARIOS.items():
        rounds = profile.rounds.get(name)
        where = f"{rounds} round(s)" if rounds else "not in this profile"
        print(f"  {name:<10} {text} [{args.profile}: {where}]")
    slots = plan.slots_for(profile, loaded.impls)
    order = plan.schedule(slots, profile, 1, lambda s: loaded.by_name()[s.impl].service(s.mode)
                          is not None, {i.name: i.default_mode for i in loaded.impls})
    estimate = clock(Progress(len(order)).remaining(order))
    print(f"profile {profile.name}: {len(slots)} slots, {len(order)} executions, ~{estimate} "
          f"(scales {', '.join(map(str, profile.scales))}; formats {', '.join(profile.formats)}; "
          f"resume at {', '.join(profile.resume_steps)}; "
          f"crash at {', '.join(profile.crash_steps)})")
    return 0
