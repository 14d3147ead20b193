"""The terminal progress line: what runs, n of N, elapsed, and an estimate of what is left.

The estimate learns as it goes: the mean duration already seen for the same kind of execution,
else the same implementation and mode's cold run scaled by what the scenario adds, else a
prior measured on a 2-core machine.
"""
from __future__ import annotations

import collections
import sys
import time

from bench.plan import Execution

PRIOR_COLD_S = {"baseline": 2.5, "luigi": 3.5, "prefect": 12.0, "snakemake": 10.0, "gokart": 3.0}
PRIOR_DEFAULT_S = 8.0
SCENARIO_FACTOR = {"first_run": 1.6, "cold": 1.0, "io": 1.0, "noop": 1.8, "resume": 1.8,
                   "crash": 2.5, "footprint": 0.3}


def clock(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, total: int, done_before: int = 0, stream=None):
        self.total = total
        self.count = done_before
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._seen: dict[tuple, list[float]] = collections.defaultdict(list)

    def estimate(self, ex: Execution) -> float:
        s = ex.slot
        seen = self._seen.get(self._family(ex))
        if seen:
            return sum(seen) / len(seen)
        cold = self._seen.get((s.impl, s.mode, "cold", 1))
        base = sum(cold) / len(cold) if cold else PRIOR_COLD_S.get(s.impl, PRIOR_DEFAULT_S)
        return base * SCENARIO_FACTOR.get(s.scenario, 1.0) * (1 + 0.01 * (s.scale - 1))

    def remaining(self, pending: list[Execution]) -> float:
        return sum(self.estimate(ex) for ex in pending)

    def begin(self, ex: Execution, pending_after: list[Execution]) -> None:
        self.count += 1
        left = self.remaining(pending_after) + self.estimate(ex)
        tag = "warm-up" if ex.warmup else f"round {ex.round}"
        self.write(f"[{self.count:>4}/{self.total} | {clock(time.monotonic() - self.started)} "
                   f"elapsed | ~{clock(left)} left] {tag}: {ex.slot.label()} ... ", end="")

    def end(self, ex: Execution, status: str, outcome: str | None, seconds: float) -> None:
        self._seen[self._family(ex)].append(seconds)
        extra = f" ({outcome})" if outcome else ""
        self.write(f"{status}{extra}, {seconds:.1f} s")

    def note(self, text: str) -> None:
        self.write(text)

    def write(self, text: str, end: str = "\n") -> None:
        self.stream.write(text + end)
        self.stream.flush()

    @staticmethod
    def _family(ex: Execution) -> tuple:
        s = ex.slot
        return (s.impl, s.mode, s.scenario, s.scale)
