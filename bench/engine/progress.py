"""Progress of a run: what runs, n of N, elapsed, and an estimate of what is left.

On a terminal a rich progress bar; otherwise (CI, a log file) one plain line per execution.
The estimate learns as it goes: the mean duration already seen for the same kind of execution,
else the same implementation and mode's cold run scaled by what the scenario adds, else the
adapter's declared prior (Adapter.cold_prior_s).
"""
from __future__ import annotations

import collections
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn

from bench.engine.plan import Execution

PRIOR_DEFAULT_S = 8.0
SCENARIO_FACTOR = {"first_run": 1.6, "cold": 1.0, "io": 1.0, "noop": 1.8, "resume": 1.8,
                   "crash": 2.5, "footprint": 0.3}


def clock(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Estimate:
    """Seconds an execution is expected to take, from what this run has seen so far."""

    def __init__(self, priors: dict[str, float]):
        self.priors = priors
        self._seen: dict[tuple, list[float]] = collections.defaultdict(list)

    def of(self, ex: Execution) -> float:
        s = ex.slot
        seen = self._seen.get(self._family(ex))
        if seen:
            return sum(seen) / len(seen)
        cold = self._seen.get((s.impl, s.mode, "cold", 1))
        base = sum(cold) / len(cold) if cold else self.priors.get(s.impl, PRIOR_DEFAULT_S)
        return base * SCENARIO_FACTOR.get(s.scenario, 1.0) * (1 + 0.01 * (s.size - 1))

    def remaining(self, pending: list[Execution]) -> float:
        return sum(self.of(ex) for ex in pending)

    def learn(self, ex: Execution, seconds: float) -> None:
        self._seen[self._family(ex)].append(seconds)

    @staticmethod
    def _family(ex: Execution) -> tuple:
        s = ex.slot
        return (s.impl, s.mode or s.runner, s.scenario, s.size)


class Progress:
    def __init__(self, total: int, priors: dict[str, float], done_before: int = 0,
                 stream=None):
        self.total = total
        self.count = done_before
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.estimate = Estimate(priors)
        self.console = Console(file=self.stream, highlight=False, markup=False, soft_wrap=True)
        self.bar: Bar | None = None
        if self.console.is_terminal:
            self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.fields[times]}"), console=self.console,
                           transient=True)
            self._task = self.bar.add_task("", total=total, completed=done_before, times="")
            self.bar.start()

    def remaining(self, pending: list[Execution]) -> float:
        return self.estimate.remaining(pending)

    def begin(self, ex: Execution, pending_after: list[Execution]) -> None:
        self.count += 1
        left = self.remaining(pending_after) + self.estimate.of(ex)
        tag = "warm-up" if ex.warmup else f"round {ex.round}"
        elapsed = clock(time.monotonic() - self.started)
        self._current = f"{tag}: {ex.slot.label()}"
        if self.bar is not None:
            self.bar.update(self._task, description=self._current,
                            times=f"{elapsed} elapsed, ~{clock(left)} left")
        else:
            self._line_start = (f"[{self.count:>4}/{self.total} | {elapsed} elapsed | "
                                f"~{clock(left)} left] {self._current} ... ")

    def end(self, ex: Execution, status: str, outcome: str | None, seconds: float) -> None:
        self.estimate.learn(ex, seconds)
        extra = f" ({outcome})" if outcome else ""
        if self.bar is not None:
            self.bar.advance(self._task)
            self.console.print(f"{self._current}: {status}{extra}, {seconds:.1f} s")
        else:
            self.write(f"{self._line_start}{status}{extra}, {seconds:.1f} s")

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.console.print(text)
        else:
            self.write(text)

    def write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
