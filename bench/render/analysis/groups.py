"""Selecting, grouping and summarising records: the arithmetic every report section shares."""
from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Callable, Iterable

from bench.render.analysis import stats
from bench.store.records import Record
from bench.store.run_info import LEGACY_PALETTE, ImplInfo, RunInfo

# Scenarios that run a workload other than the pipeline (synthetic tasks, the model selection):
# their steps are not the pipeline's and stay out of the step order.
OTHER_WORKLOADS = ("pertask", "parallel")
ANY = object()


def label(impl: str, mode: str | None = None) -> str:
    return f"{impl} · {mode}" if mode else impl


def way(how: str | None, setup: str) -> str | None:
    """A mode (or a parallel runner) in a set-up, as the report names it: `files · team`.
    Every table keys its rows by it, so no number hides which set-up it was measured in."""
    return f"{how} · {setup}" if how is not None else None


class Index:
    """The run's records with the orderings the report uses: impls, modes, steps.

    `reference` is the implementation every other one is compared with (the run names it);
    it comes first, the others in alphabetical order. A record's mode and runner are read as
    its way of running (`way`): the mode, or runner, in its set-up.
    """

    def __init__(self, info: RunInfo | None, recs: Iterable[Record], run_dir: Path | None = None):
        self.info = info
        self.records = [dataclasses.replace(r, mode=way(r.mode, r.setup),
                                            runner=way(r.runner, r.setup)) for r in recs]
        self._real = {way(r.mode, r.setup): r.mode for r in recs if r.mode is not None}
        self.run_dir = run_dir
        self.reference = info.reference if info is not None else None
        self.impls = self._impl_order()
        self.steps = self._step_order()

    def _impl_order(self) -> list[str]:
        seen = list(dict.fromkeys(r.impl for r in self.records))
        return sorted(seen, key=lambda impl: (impl != self.reference, impl))

    def _step_order(self) -> list[str]:
        """The pipeline's order, as the longest expected or executed step list stored shows it."""
        longest: tuple = ()
        for r in self.records:
            if r.scenario in OTHER_WORKLOADS:
                continue
            for steps in (r.steps_expected or (), r.steps_executed):
                if len(steps) > len(longest):
                    longest = tuple(steps)
        rest = sorted({r.variant for r in self.records
                       if r.variant and r.scenario in ("resume", "crash")} - set(longest))
        return list(longest) + rest

    def impl_info(self, impl: str) -> ImplInfo | None:
        return self.info.impls.get(impl) if self.info is not None else None

    def select(self, scenario: str, impl=ANY, mode=ANY, variant=ANY, size=ANY, fmt=ANY,
               runner=ANY, phase: str | None = "timed") -> list[Record]:
        return [r for r in self.records
                if r.scenario == scenario
                and (impl is ANY or r.impl == impl) and (mode is ANY or r.mode == mode)
                and (variant is ANY or r.variant == variant) and (size is ANY or r.size == size)
                and (fmt is ANY or r.format == fmt) and (runner is ANY or r.runner == runner)
                and (phase is None or r.phase == phase)]

    def modes(self, impl: str, scenario: str | None = None) -> list[str]:
        """The pipeline modes with records (of this scenario), the default first."""
        found = {r.mode for r in self.records if r.impl == impl and r.mode is not None
                 and (scenario is None or r.scenario == scenario)}
        default = self.default_mode(impl)
        return sorted(found, key=lambda m: (m != default, m))

    def runners(self, impl: str) -> list[str]:
        return sorted({r.runner for r in self.records if r.impl == impl and r.runner})

    def real_mode(self, shown: str) -> str:
        """The adapter's mode behind a way of running (`files · team` -> `files`)."""
        return self._real.get(shown, shown)

    def default_mode(self, impl: str) -> str | None:
        """The run's declared default in the laptop set-up, else the way that ran the most
        scenarios and records."""
        declared = self.impl_info(impl)
        if declared is not None and declared.default_mode:
            laptop = way(declared.default_mode, "laptop")
            if laptop in self._real or not self._real:
                return laptop
            return next((w for w, m in self._real.items() if m == declared.default_mode),
                        laptop)
        per_mode = collections.defaultdict(lambda: [set(), 0])
        for r in self.records:
            if r.impl == impl and r.mode is not None:
                per_mode[r.mode][0].add(r.scenario)
                per_mode[r.mode][1] += 1
        if not per_mode:
            return None
        return max(sorted(per_mode), key=lambda m: (len(per_mode[m][0]), per_mode[m][1]))

    def description(self, impl: str, mode: str) -> str | None:
        declared = self.impl_info(impl)
        return declared.modes.get(self.real_mode(mode)) if declared is not None else None

    def pairs(self, scenario: str) -> list[tuple[str, str]]:
        """(impl, mode) pairs with records of this scenario, reference first, default mode first."""
        return [(impl, mode) for impl in self.impls for mode in self.modes(impl, scenario)]

    def handoff_is_files(self, impl: str, mode: str) -> bool:
        """As the run declared (format_modes), else: its runs carry a format."""
        declared = self.impl_info(impl)
        if declared is not None:
            return self.real_mode(mode) in declared.format_modes
        return any(r.format is not None for r in self.records
                   if r.impl == impl and r.mode == mode and r.scenario in ("cold", "io"))

    def colour(self, impl: str) -> str:
        """The colour the run gave the implementation, else one of a fixed palette by order."""
        declared = self.impl_info(impl)
        if declared is not None and declared.colour:
            return declared.colour
        order = self.impls.index(impl) if impl in self.impls else len(self.impls)
        return LEGACY_PALETTE[order % len(LEGACY_PALETTE)]


def samples(recs: Iterable[Record], value: Callable[[Record], float | None] = lambda r: r.wall_s) -> dict:
    """Usable values summarised; the rest kept as excluded, so they can be drawn and counted."""
    recs = list(recs)
    kept = [(r, value(r)) for r in recs if r.usable]
    kept = [(r, v) for r, v in kept if v is not None]
    summary = stats.summarise([v for _, v in kept])
    out = {"n": len(kept), "values": [v for _, v in kept], "rounds": [r.round for r, _ in kept],
           "excluded": [{"round": r.round, "status": r.status, "warmup": r.warmup,
                         "value": value(r)} for r in recs if not r.usable]}
    if summary is None:
        out.update(median=None, q1=None, q3=None, iqr=None, min=None, max=None, relative_iqr=None)
    else:
        out.update(median=summary.median, q1=summary.q1, q3=summary.q3, iqr=summary.iqr,
                   min=summary.minimum, max=summary.maximum, relative_iqr=summary.relative_iqr)
    return out


def ratio(a: dict, b: dict) -> stats.Ratio | None:
    return stats.ratio_of_medians(a["values"], b["values"])


def split(rec: Record) -> dict | None:
    """Wall time as start-up (until the first span), compute, file IO and orchestration (the rest)."""
    spans = valid_spans(rec)
    if not spans or rec.launch_epoch is None:
        return None
    first = min(s["start"] for s in spans)
    compute = sum(s["end"] - s["start"] for s in spans if s.get("kind") == "compute")
    io = sum(s["end"] - s["start"] for s in spans if s.get("kind") in ("read", "write"))
    startup = max(0.0, first - rec.launch_epoch)
    return {"startup": startup, "compute": compute, "io": io,
            "orchestration": max(0.0, rec.wall_s - startup - compute - io),
            "read_bytes": sum(_bytes(s) for s in spans if s.get("kind") == "read"),
            "write_bytes": sum(_bytes(s) for s in spans if s.get("kind") == "write")}


def valid_spans(rec: Record) -> list[dict]:
    """Spans with a start and an end; a line cut short by a kill is skipped, not fatal."""
    return [s for s in rec.spans if isinstance(s, dict) and stats.is_finite(s.get("start"))
            and stats.is_finite(s.get("end")) and s["end"] >= s["start"]]


def _bytes(span: dict) -> int:
    n = span.get("bytes")
    return int(n) if stats.is_finite(n) else 0


def split_value(part: str) -> Callable[[Record], float | None]:
    def value(rec: Record):
        parts = split(rec)
        return None if parts is None else parts[part]
    return value


def group_key(r: Record) -> tuple:
    return (r.impl, r.mode, r.runner, r.scenario, r.variant, r.size, r.format)


def group_label(key: tuple) -> str:
    impl, mode, runner, scenario, variant, size, fmt = key
    parts = [label(impl, mode or runner), scenario]
    if variant:
        parts.append(f"at {variant}")
    if scenario == "io":
        parts.append(f"×{size}" + (f" {fmt}" if fmt else " (in memory)"))
    return " ".join(parts)


def most_common(values: Iterable):
    counts = collections.Counter(values)
    return counts.most_common(1)[0][0] if counts else None


def all_true(values) -> bool | None:
    """None when nothing was checked, else whether every check passed."""
    values = [v for v in values if v is not None]
    return all(values) if values else None
