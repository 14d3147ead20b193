"""The shape every scenario module fills in (`SCENARIO = Scenario(...)`)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bench.engine.plan import Choice, Execution, Slot, format_of
from bench.engine.profiles import Profile
from bench.engine.workspace import Workspace
from core.contract import Adapter

if TYPE_CHECKING:
    from bench.engine.session import Session

Fields = dict  # the Record fields one execution produced (all but its identity)


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    # Scenarios measured in the rounds list their slots and run one execution at a time;
    # the others (codesize, floor) run once per run through `once`.
    slots: Callable[[str, Adapter, Profile, Choice], list[Slot]] | None = None
    run: Callable[[Workspace, Execution, Adapter, Path], Fields] | None = None
    once: Callable[["Session"], None] | None = None
    after_rounds: bool = False  # a `once` scenario that runs after the rounds, not before

    def __post_init__(self):
        if (self.slots is None) != (self.run is None) or (self.run is None) == (self.once is None):
            raise ValueError(f"scenario {self.name}: either slots and run, or once")


def slot(selection: str, adapter: Adapter, mode: str | None, scenario: str, **kw) -> Slot:
    """A slot of `scenario`, asked for by the profile's `selection`, in the record's format."""
    fmt = kw.pop("format") if "format" in kw else (format_of(adapter, mode) if mode else None)
    return Slot(adapter.name, mode, scenario, format=fmt, selection=selection, **kw)


def failing_modes(adapter: Adapter, profile: Profile, choice: Choice) -> tuple[str, ...]:
    """noop, resume and crash run in both hand-offs of a tool, or only in its default mode."""
    if choice.modes:
        return choice.modes
    return adapter.handoff_modes() if profile.every_handoff else (adapter.default_mode,)
