"""The schedule: which executions run, in which order.

Order (asv / ann-benchmarks style): a warm-up round (one cold run of each implementation, kept
and flagged), then rounds in which every slot of the round runs once, in an order
shuffled with a seed, so that a drifting machine spreads its drift over all slots alike. The
same seed always gives the same order. Slots that need a server (luigid, prefect server) run
as a second block with its own warm-up and rounds, so that a standing server's background
work never runs beside the other measurements.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Iterable

from bench.profiles import DEFAULT_FORMAT, Profile
from bench.registry import Impl

# Scenarios run as slots of the rounds; codesize is counted once and floor runs in-process.
ROUND_SCENARIOS = ("first_run", "cold", "modes", "noop", "resume", "crash", "io", "footprint",
                   "pertask", "parallel", "rerun")


@dataclasses.dataclass(frozen=True)
class Slot:
    impl: str
    mode: str
    scenario: str          # as stored in records: `modes` slots are stored as `cold`
    step: str | None = None
    scale: int = 1
    format: str | None = None
    selection: str = ""    # the profile scenario that asked for this slot (rounds come from it)

    def sort_key(self) -> tuple:
        return (self.impl, self.mode, self.scenario, self.step or "", self.scale,
                self.format or "", self.selection)

    def label(self) -> str:
        where = f"@{self.step}" if self.step else ""
        size = f" {self.format or '-'} x{self.scale}" if self.scenario in ("io",) else ""
        return f"{self.scenario}{where} {self.impl}/{self.mode}{size}"


@dataclasses.dataclass(frozen=True)
class Execution:
    slot: Slot
    round: int
    warmup: bool = False

    @property
    def key(self) -> tuple:
        """Matches bench.records.Record.key of the timed record this execution stores."""
        s = self.slot
        return (self.round, s.impl, s.mode, s.scenario, s.step, s.scale, s.format, "timed")


def slots_for(profile: Profile, impls: Iterable[Impl], modes: set[str] | None = None) -> list[Slot]:
    """Every (implementation, mode, scenario, step, scale, format) the profile measures.

    Each scenario has its own modes (below); `modes`, when given, replaces them all."""
    slots: dict[tuple, Slot] = {}
    for impl in impls:
        chosen = tuple(m for m in impl.modes if m in modes) if modes else None
        runners = tuple(r for r in impl.parallel_runners if not modes or r in modes)
        for selection in profile.scenarios:
            if modes and not chosen and selection != "parallel":
                continue  # none of this implementation's pipeline modes was asked for
            for slot in _slots_of(selection, impl, profile, chosen, runners):
                key = dataclasses.astuple(slot)[:-1]  # one slot per record key
                slots.setdefault(key, slot)
    return sorted(slots.values(), key=Slot.sort_key)


def format_of(impl: Impl, mode: str, fmt: str = DEFAULT_FORMAT) -> str | None:
    """The format a record carries: None where the mode's hand-off does not use files."""
    return fmt if impl.uses_format(mode) else None


def _slots_of(selection: str, impl: Impl, profile: Profile,
              chosen: tuple[str, ...] | None, runners: tuple[str, ...] = ()) -> list[Slot]:
    handoff = chosen or impl.handoff_modes()
    pick = lambda mode, scenario, **kw: Slot(  # noqa: E731
        impl.name, mode, scenario, format=kw.pop("format", format_of(impl, mode)),
        selection=selection, **kw)
    if selection == "first_run":
        return [pick(mode, "first_run") for mode in (chosen or (impl.default_mode,))]
    if selection == "cold":
        return [pick(mode, "cold") for mode in handoff]
    if selection == "modes":
        return [pick(mode, "cold") for mode in (chosen or impl.modes) if mode not in handoff
                or chosen]
    failing = chosen or (handoff if profile.every_handoff else (impl.default_mode,))
    if selection == "noop":
        return [pick(mode, "noop") for mode in failing]
    if selection in ("resume", "crash"):
        steps = profile.resume_steps if selection == "resume" else profile.crash_steps
        return [pick(mode, selection, step=step) for mode in failing for step in steps]
    if selection == "io":
        return [pick(mode, "io", scale=scale, format=fmt)
                for mode in handoff for scale in profile.scales
                for fmt in (profile.formats if impl.uses_format(mode) else (None,))]
    if selection == "pertask":
        modes = [m for m in impl.synthetic_modes if not chosen or m in chosen]
        return [pick(mode, "pertask", step=shape, scale=n, format=None)
                for mode in modes for shape in profile.shapes for n in profile.task_counts]
    if selection == "parallel":
        return [pick(runner, "parallel", scale=workers, format=None)
                for runner in runners for workers in profile.workers]
    if selection == "rerun":
        return [pick(mode, "rerun", step=change, format=format_of(impl, mode))
                for mode in (chosen or (impl.default_mode,)) for change in profile.changes]
    if selection == "footprint":
        wanted = not chosen or impl.default_mode in chosen
        return [pick(impl.default_mode, "footprint", format=None)] if wanted else []
    return []  # codesize and floor are not slots of the rounds


def schedule(slots: list[Slot], profile: Profile, seed: int, needs_service,
             default_modes: dict[str, str] | None = None) -> list[Execution]:
    """The whole run in order: per block, the warm-up round then the shuffled rounds."""
    plain = [s for s in slots if not needs_service(s)]
    served = [s for s in slots if needs_service(s)]
    order: list[Execution] = []
    for block, block_slots in enumerate((plain, served)):
        if block_slots:
            order += _block(block_slots, profile, seed, block, default_modes or {})
    return order


def _block(slots: list[Slot], profile: Profile, seed: int, block: int,
           default_modes: dict[str, str]) -> list[Execution]:
    slots = sorted(slots, key=Slot.sort_key)
    order: list[Execution] = []
    if profile.warmup:
        # the default mode first, so that it is the one an implementation warms up with
        ranked = sorted(slots, key=lambda s: s.mode != default_modes.get(s.impl))
        warm = sorted(_warmup_slots(ranked, per_mode=block == 1), key=Slot.sort_key)
        random.Random(f"{seed}/{block}/warmup").shuffle(warm)
        order += [Execution(s, round=0, warmup=True) for s in warm]
    last = max(profile.rounds.get(s.selection, 1) for s in slots)
    for rnd in range(1, last + 1):
        members = [s for s in slots if profile.rounds.get(s.selection, 1) >= rnd]
        random.Random(f"{seed}/{block}/{rnd}").shuffle(members)
        order += [Execution(s, round=rnd) for s in members]
    return order


def _warmup_slots(slots: list[Slot], per_mode: bool) -> list[Slot]:
    """One cold run per implementation at scale 1 (its tool's imports and files come into the
    page cache), in the first mode the block runs; in the server block, one per mode, which
    also warms the server."""
    seen: dict[tuple[str, str], Slot] = {}
    for s in slots:
        if s.scenario == "footprint":
            continue
        key = (s.impl, s.mode if per_mode else "")
        if key in seen:
            continue
        if s.scenario in ("pertask", "parallel"):
            # not a pipeline mode (parallel runners) or not the pipeline: warm up with the
            # smallest instance of the slot itself
            seen[key] = dataclasses.replace(s, scale=1 if s.scenario == "parallel" else s.scale,
                                            selection="warmup")
        else:
            fmt = s.format if s.format is None else DEFAULT_FORMAT
            seen[key] = Slot(s.impl, s.mode, "cold", format=fmt, selection="warmup")
    return list(seen.values())
