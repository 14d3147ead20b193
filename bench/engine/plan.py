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
from typing import Callable, Iterable

from bench.engine.profiles import DEFAULT_FORMAT, Profile
from core.contract import LAPTOP, Adapter


@dataclasses.dataclass(frozen=True)
class Slot:
    impl: str
    mode: str | None       # None for a parallel runner
    scenario: str          # as stored in records: `modes` slots are stored as `cold`
    variant: str | None = None  # the failing step, the pertask shape or the rerun change
    size: int = 1               # data scale K; pertask: N tasks; parallel: workers
    format: str | None = None
    runner: str | None = None   # parallel: the runner
    setup: str = LAPTOP         # core.contract.SETUPS: where the tool runs
    selection: str = ""    # the profile scenario that asked for this slot (rounds come from it)

    def sort_key(self) -> tuple:
        return (self.impl, self.setup, self.mode or "", self.scenario, self.variant or "",
                self.size, self.format or "", self.runner or "", self.selection)

    @property
    def record_key(self) -> tuple:
        return (self.impl, self.mode, self.scenario, self.variant, self.size, self.format,
                self.runner, self.setup)

    def label(self) -> str:
        where = f"@{self.variant}" if self.variant else ""
        how = self.runner if self.runner else self.mode
        size = f" {self.format or '-'} x{self.size}" if self.scenario == "io" else ""
        if self.scenario in ("pertask", "parallel"):
            size = f" n={self.size}" if self.scenario == "pertask" else f" workers={self.size}"
        return f"{self.scenario}{where} {self.impl}/{how}/{self.setup}{size}"


@dataclasses.dataclass(frozen=True)
class Execution:
    slot: Slot
    round: int
    warmup: bool = False

    @property
    def key(self) -> tuple:
        """Matches bench.store.records.Record.key of the timed record this execution stores."""
        s = self.slot
        return (self.round, s.impl, s.mode, s.scenario, s.variant, s.size, s.format, s.runner,
                s.setup, "timed")


@dataclasses.dataclass(frozen=True)
class Choice:
    """What the user narrowed the run to: modes (None: each scenario's own) and runners."""
    modes: tuple[str, ...] | None
    runners: tuple[str, ...]

    def setups(self, profile: Profile, selection: str, adapter: Adapter) -> tuple[str, ...]:
        """The set-ups the profile runs this scenario in that the adapter runs here."""
        return tuple(s for s in profile.setups_of(selection) if adapter.runs_in(s))


def format_of(adapter: Adapter, mode: str, fmt: str = DEFAULT_FORMAT) -> str | None:
    """The format a record carries: None where the mode's hand-off does not use files."""
    return fmt if adapter.uses_format(mode) else None


SlotsOf = Callable[[str, Adapter, Profile, Choice], list[Slot]]


def slots_for(profile: Profile, adapters: Iterable[Adapter], slots_of: dict[str, SlotsOf],
              modes: set[str] | None = None) -> list[Slot]:
    """Every slot the profile measures; `slots_of` maps each selectable scenario to the
    function that lists its slots. Each scenario has its own modes; `modes`, when given,
    replaces them all."""
    slots: dict[tuple, Slot] = {}
    for adapter in adapters:
        chosen = tuple(m for m in adapter.mode_names if m in modes) if modes else None
        runners = tuple(r for r in (adapter.parallel.runners if adapter.parallel else ())
                        if not modes or r in modes)
        choice = Choice(chosen, runners)
        for selection in profile.scenarios:
            if selection not in slots_of:
                continue  # counted once per run, outside the rounds (codesize, floor)
            if modes and not chosen and selection != "parallel":
                continue  # none of this implementation's pipeline modes was asked for
            for slot in slots_of[selection](selection, adapter, profile, choice):
                slots.setdefault(slot.record_key, slot)
    return sorted(slots.values(), key=Slot.sort_key)


def schedule(slots: list[Slot], profile: Profile, seed: int,
             needs_service: Callable[[Slot], bool],
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
    seen: dict[tuple, Slot] = {}
    for s in slots:
        if s.scenario == "footprint":
            continue
        key = (s.impl, s.setup, (s.mode or s.runner) if per_mode else "")
        if key in seen:
            continue
        if s.scenario in ("pertask", "parallel"):
            # not a pipeline mode (parallel runners) or not the pipeline: warm up with the
            # smallest instance of the slot itself
            seen[key] = dataclasses.replace(s, size=1 if s.scenario == "parallel" else s.size,
                                            selection="warmup")
        else:
            fmt = s.format if s.format is None else DEFAULT_FORMAT
            seen[key] = Slot(s.impl, s.mode, "cold", format=fmt, setup=s.setup,
                             selection="warmup")
    return list(seen.values())
