"""Two stored runs side by side: every slot both measured, its medians, their ratio and a
verdict; the deterministic outcomes as same or different; and what differs between the runs
themselves (package versions, machine, Python, sources, commit), which is what a changed
number may come from.

Reads the two run directories only (bench.render.load), like the report.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import jinja2

from bench.render import fmt
from bench.render.analysis import stats
from bench.render.load import RunData
from bench.store.records import Record

TEMPLATES = Path(__file__).parent / "templates"

# Below stats.MIN_SAMPLES_FOR_CI samples on either side no interval is computed, so the data
# cannot tell noise from a change. A ratio of medians beyond x1.5 (or below 1/1.5) is still
# called: the median moved by half of itself, more than twice the spread at which the report
# already flags a number as shaky (an IQR of 20 % of its median, sections/summary.py
# WIDE_SPREAD), and ten times the 5 % within which the harness must agree with an outside
# timer (DESIGN.md, principle 9). A smaller move with so few samples is not called.
CLEAR_RATIO = 1.5

# Scenarios whose wall_s is not a time (codesize stores 0: it is counted, not timed).
UNTIMED = ("codesize",)
# Scenarios whose judgement is an outcome of the execution, compared as same or different.
OUTCOME_SCENARIOS = ("resume", "crash", "crash_job")

FASTER, SLOWER, NOISE, FEW, MISSING = ("faster", "slower", "within noise", "too few samples",
                                       "no usable samples")

METHOD = (f"Ratio = median(B) / median(A) of the usable samples (verified, timed, not warm-up) "
          f"of each slot. Interval: percentile bootstrap of the ratio of medians, each run "
          f"resampled independently, {stats.BOOTSTRAP_RESAMPLES} resamples, seed "
          f"{stats.BOOTSTRAP_SEED}, {int(stats.CI_LEVEL * 100)} % level (Efron & Tibshirani, "
          f"An Introduction to the Bootstrap, 1993, ch. 13), computed when both runs have at "
          f"least {stats.MIN_SAMPLES_FOR_CI} usable samples: slower or faster when the "
          f"interval excludes 1, else within noise. With fewer samples a ratio beyond "
          f"×{CLEAR_RATIO} either way is called slower or faster, anything closer is too few "
          f"samples.")


def slot_key(r: Record) -> tuple:
    """What makes two executions the same measurement, in either run: the slot key without
    the round and the phase."""
    return (r.impl, r.mode, r.setup, r.runner, r.scenario, r.variant, r.size, r.format)


def slot_label(key: tuple) -> str:
    impl, mode, setup, runner, scenario, variant, size, fmt_ = key
    parts = [f"{impl} · {mode or runner} · {setup}", scenario]
    if variant:
        parts.append(f"at {variant}" if scenario in ("resume", "crash", "crash_job")
                     else str(variant))
    if scenario in ("io", "pertask", "parallel") or size != 1:
        parts.append({"pertask": f"N={size}", "parallel": f"{size} workers"}
                     .get(scenario, f"×{size}"))
    if fmt_:
        parts.append(fmt_)
    return " ".join(parts)


def _sort_key(key: tuple) -> tuple:
    return tuple((v is None, v if isinstance(v, int) else str(v)) for v in key)


@dataclasses.dataclass(frozen=True)
class TimedRow:
    key: tuple
    label: str
    n_a: int
    n_b: int
    median_a: float | None
    median_b: float | None
    ratio: stats.Ratio | None      # median(B) / median(A)
    verdict: str
    basis: str                     # why the verdict: the interval, the threshold, the counts

    @property
    def by_threshold(self) -> bool:
        """Called from the ratio alone (fewer samples than an interval needs)."""
        return self.ratio is not None and not self.ratio.has_ci and self.verdict in (SLOWER,
                                                                                     FASTER)


@dataclasses.dataclass(frozen=True)
class OutcomeRow:
    key: tuple
    label: str
    what: str                      # outcome, rerun class, source lines
    a: tuple
    b: tuple
    same: bool


@dataclasses.dataclass(frozen=True)
class Difference:
    kind: str                      # package, machine, python, source hash, git, setting
    name: str
    a: str | None                  # None: absent from the run
    b: str | None


@dataclasses.dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    a_dir: Path
    b_dir: Path
    timed: list[TimedRow]
    outcomes: list[OutcomeRow]
    differences: list[Difference]
    only_a: list[str]              # slots only run A measured
    only_b: list[str]
    facts: dict                    # run -> {started, finished, profile, commit, machine}
    method: str = METHOD
    threshold: float = CLEAR_RATIO

    def verdicts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.timed:
            out[row.verdict] = out.get(row.verdict, 0) + 1
        return out


def _by_slot(recs: list[Record]) -> dict[tuple, list[Record]]:
    out: dict[tuple, list[Record]] = {}
    for r in recs:
        if r.phase == "timed":
            out.setdefault(slot_key(r), []).append(r)
    return out


def _usable_walls(recs: list[Record]) -> list[float]:
    return [r.wall_s for r in recs if r.usable]


def judge(a: list[float], b: list[float]) -> tuple[stats.Ratio | None, str, str]:
    """(ratio median(b)/median(a), verdict for b against a, the basis of the verdict)."""
    if not a or not b:
        side = "A" if not a else "B"
        return None, MISSING, f"no usable sample in run {side}"
    r = stats.ratio_of_medians(b, a)
    if r is None:
        return None, MISSING, "median of run A is 0"
    if r.has_ci:
        basis = (f"{int(stats.CI_LEVEL * 100)} % interval "
                 f"[{fmt.number(r.low)}, {fmt.number(r.high)}]")
        if r.low > 1:
            return r, SLOWER, basis
        if r.high < 1:
            return r, FASTER, basis
        return r, NOISE, basis + " includes 1"
    counts = f"n={len(a)} vs {len(b)}"
    if r.value >= CLEAR_RATIO:
        return r, SLOWER, f"{counts}, ratio beyond ×{CLEAR_RATIO}"
    if r.value <= 1 / CLEAR_RATIO:
        return r, FASTER, f"{counts}, ratio beyond ×{CLEAR_RATIO}"
    return r, FEW, (f"{counts}: fewer than {stats.MIN_SAMPLES_FOR_CI} on a side, "
                    f"within ×{CLEAR_RATIO}")


def _outcome_values(key: tuple, recs: list[Record]) -> tuple[str, tuple] | None:
    scenario = key[4]
    if scenario in OUTCOME_SCENARIOS:
        what, values = "outcome", [r.outcome for r in recs if not r.warmup]
    elif scenario == "rerun":
        what, values = "rerun class", [getattr(r.detail, "classification", None) for r in recs]
    elif scenario == "codesize":
        what, values = "source lines", [getattr(r.detail, "sloc", None) for r in recs]
    else:
        return None
    found = tuple(sorted({str(v) for v in values if v is not None}))
    return (what, found) if found else None


def compare(run_a: RunData, run_b: RunData) -> Comparison:
    slots_a, slots_b = _by_slot(run_a.records), _by_slot(run_b.records)
    shared = sorted(set(slots_a) & set(slots_b), key=_sort_key)
    timed, outcomes = [], []
    for key in shared:
        label = slot_label(key)
        if key[4] not in UNTIMED:
            a, b = _usable_walls(slots_a[key]), _usable_walls(slots_b[key])
            if a or b:
                r, verdict, basis = judge(a, b)
                timed.append(TimedRow(key, label, len(a), len(b),
                                      stats.median(a) if a else None,
                                      stats.median(b) if b else None, r, verdict, basis))
        va, vb = _outcome_values(key, slots_a[key]), _outcome_values(key, slots_b[key])
        if va or vb:
            what = (va or vb)[0]
            ta, tb = (va[1] if va else ()), (vb[1] if vb else ())
            outcomes.append(OutcomeRow(key, label, what, ta, tb, ta == tb))
    return Comparison(
        a=run_a.run_dir.name, b=run_b.run_dir.name, a_dir=run_a.run_dir, b_dir=run_b.run_dir,
        timed=timed, outcomes=outcomes, differences=differences(run_a, run_b),
        only_a=[slot_label(k) for k in sorted(set(slots_a) - set(slots_b), key=_sort_key)],
        only_b=[slot_label(k) for k in sorted(set(slots_b) - set(slots_a), key=_sort_key)],
        facts={"A": run_facts(run_a), "B": run_facts(run_b)})


# machine facts that change from one run to the next on the same machine
_TRANSIENT_MACHINE = ("loadavg_at_start",)


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def _dict_diff(kind: str, a: dict, b: dict, skip=()) -> list[Difference]:
    out = []
    for name in sorted(set(a) | set(b)):
        if name in skip:
            continue
        va, vb = _text(a.get(name)), _text(b.get(name))
        if va != vb:
            out.append(Difference(kind, name, va, vb))
    return out


def differences(run_a: RunData, run_b: RunData) -> list[Difference]:
    """What differs between the runs: each is a reason a number may have moved."""
    ia, ib = run_a.info, run_b.info
    out = _dict_diff("package", ia.packages or {}, ib.packages or {})
    out += _dict_diff("machine", ia.machine or {}, ib.machine or {}, _TRANSIENT_MACHINE)
    out += _dict_diff("python", ia.python or {}, ib.python or {}, ("executable",))
    out += _dict_diff("source hash", ia.source_hashes or {}, ib.source_hashes or {})
    out += _dict_diff("git", {k: (ia.git or {}).get(k) for k in ("commit", "dirty")},
                      {k: (ib.git or {}).get(k) for k in ("commit", "dirty")})
    settings_a = {"profile": ia.profile, "seed": (ia.config or {}).get("seed"),
                  "data": (ia.config or {}).get("data")}
    settings_b = {"profile": ib.profile, "seed": (ib.config or {}).get("seed"),
                  "data": (ib.config or {}).get("data")}
    out += _dict_diff("setting", settings_a, settings_b)
    return out


def run_facts(run: RunData) -> dict:
    info = run.info
    machine = info.machine or {}
    cores = machine.get("cpu_affinity") or machine.get("cpu_count")
    # the directory's name, which the command line and the page's path use; run.json's own
    # id beside it when a copy of a run carries another
    name = run.run_dir.name
    if info.run_id and info.run_id != name:
        name = f"{name} (run.json: {info.run_id})"
    return {"run_id": name, "dir": str(run.run_dir), "started": info.started_at,
            "finished": info.finished_at, "profile": info.profile,
            "commit": ((info.git or {}).get("commit") or "")[:12] or None,
            "dirty": bool((info.git or {}).get("dirty")),
            "machine": " · ".join(str(x) for x in (machine.get("hostname"),
                                                    machine.get("cpu_model"),
                                                    f"{cores} cores" if cores else None,
                                                    machine.get("os")) if x),
            "fixture": info.fixture}


def kinds_differing(c: Comparison) -> list[str]:
    """The kinds of difference, in the order they are reported."""
    return list(dict.fromkeys(d.kind for d in c.differences))


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"),
                                            default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters.update(seconds=fmt.seconds, number=fmt.number)
    return env


def html(c: Comparison, links: dict[str, str] | None = None) -> str:
    """One self-contained page (inline CSS, no script). links: side ("A", "B") -> a relative
    link to that run's report, where it has one."""
    return _environment().get_template("compare.html.j2").render(
        c=c, links=links or {}, verdicts=c.verdicts(), kinds=kinds_differing(c),
        changed_outcomes=[o for o in c.outcomes if not o.same])
