"""The scorecard: the report's first screen. One row per tool and set-up, one column per
question, each cell the number its own section computes with a verdict against the best tool.

Every number is taken from the data of the section that shows its samples (cost, failure, io,
code, pertask, parallel, rerun), and each cell links to that section. A row uses the tool's
default mode in its set-up; the file-IO column uses a mode of that set-up that hands data over
through files, since a mode that hands values over has no file IO to measure.

Verdict rule (VERDICT_RULE is the sentence under the table). The run's reference (the plain
script) is what the tools are measured against, not a contender: its cells carry no verdict.
Among the tools, the best is the lowest number (the highest speed-up). Every other cell is
compared with it:

- timings with samples: the ratio of its median to the best's median, with a percentile
  bootstrap interval when both sides have at least stats.MIN_SAMPLES_FOR_CI samples; "within
  noise of best" when that interval includes 1, "worse" when it does not;
- estimates that carry their own interval (the per-task slope of a fit, a parallel speed-up):
  "within noise of best" when the two intervals overlap, "worse" when they do not;
- without an interval: "worse" only when the ratio to the best exceeds CLEAR_RATIO, otherwise
  "too few samples" (and the best itself is then "too few samples" too: its lead is not shown);
- counts (source lines, install size) are exact: the lowest is best, any other is worse;
- classes (resume, crash, rerun): the most favourable class is best, the rest worse.

"failed" overrides all of these: a wrong answer (output that fails verification, silently wrong
after a crash, a stale result after a change) or no finished run for that question (every
record failed, a cost-per-task size that failed or timed out, a rerun that did not finish).
"not measured": the run has no record for that row and question.
"""
from __future__ import annotations

import collections

from bench.render import fmt
from bench.render.analysis import stats
from bench.render.analysis.groups import Index, label
from bench.render.load import RunData
from bench.render.sections.base import Section

NEEDS = ("io", "failure", "cost", "code", "pertask", "parallel", "rerun")
# Without an interval, a cell is called worse than the best only beyond this ratio.
CLEAR_RATIO = 1.5
PARALLEL_WORKERS = 2
SCALING_COMMAND = "python -m bench all --scaling"
WRONG = ("invalid_output",)

# verdict -> (symbol, words, css class): legible without colour, coloured by class
VERDICTS = {
    "best": ("★", "best", "v-best"),
    "noise": ("≈", "within noise of best", "v-noise"),
    "worse": ("▼", "worse", "v-worse"),
    "few": ("?", "too few samples", "v-few"),
    "failed": ("✗", "failed", "v-failed"),
    "none": ("–", "not measured", "v-none"),
    "reference": ("◦", "reference", "v-ref"),
}

COLUMNS = (
    # key, heading, unit note, section anchor
    ("cold", "cold run", "start-up, median", "cost"),
    ("noop", "no-op rerun", "median", "cost"),
    ("resume", "resume after an exception", "class; median", "failure"),
    ("crash", "recovery after a crash", "class", "failure"),
    ("io", "file IO, largest size", "share of the run", "io"),
    ("code", "code to write", "source lines", "code"),
    ("pertask", "cost per task", "costlier shape", "pertask"),
    ("parallel", f"speed-up, {PARALLEL_WORKERS} workers", "best runner", "parallel"),
    ("rerun", "reruns after a change", "exact of changes", "rerun"),
    ("install", "install size", "footprint", "cost"),
    ("memory", "memory", "peak RSS, cold run", "cost"),
)

VERDICT_RULE = (
    "Verdicts compare each tool with the best tool in the column; the plain script is the "
    "reference, not a contender. With at least {min_ci} samples on both sides, a cell is "
    "within noise of best when the {ci} % bootstrap interval of its ratio to the best "
    "includes 1, and worse when it does not; a per-task slope or a speed-up, which carry "
    "their own interval, is within noise when the two intervals overlap. With fewer samples "
    "there is no best or worse unless the ratio exceeds ×{clear}: otherwise the cell says "
    "too few samples. Source lines and install size are exact counts: the lowest is best. "
    "Failed means a wrong answer (failed verification, silently wrong after a crash, a stale "
    "result after a change) or no finished run.")


def verdict_rule() -> str:
    return VERDICT_RULE.format(min_ci=stats.MIN_SAMPLES_FOR_CI, ci=int(stats.CI_LEVEL * 100),
                               clear=fmt.number(CLEAR_RATIO))


def not_measured_text(section: str) -> str:
    return (f"not measured in this run: the {section} scenario runs in the scaling and full "
            f"profiles ({SCALING_COMMAND})")


# ---------------------------------------------------------------- rows

def _setup_of_ways(ix: Index) -> dict[str, str]:
    out = {}
    for r in ix.records:
        for w in (r.mode, r.runner):
            if w is not None:
                out.setdefault(w, r.setup)
    return out


def _setups(ix: Index, impl: str) -> list[str]:
    found = {r.setup for r in ix.records if r.impl == impl
             and r.scenario not in ("codesize", "footprint")}
    found = found or {r.setup for r in ix.records if r.impl == impl}
    return sorted(found, key=lambda s: (s != "laptop", s != "team", s))


def row_mode(ix: Index, impl: str, setup: str, setup_of: dict[str, str]) -> str | None:
    """The way a row stands for: the declared default mode in that set-up, else the way of
    that set-up that ran the most scenarios."""
    ways = [m for m in ix.modes(impl) if setup_of.get(m) == setup]
    if not ways:
        return None
    declared = ix.impl_info(impl)
    if declared is not None and declared.default_mode:
        for w in ways:
            if ix.real_mode(w) == declared.default_mode:
                return w
    if ix.default_mode(impl) in ways:
        return ix.default_mode(impl)
    per = {w: {r.scenario for r in ix.records if r.impl == impl and r.mode == w} for w in ways}
    return max(ways, key=lambda w: (len(per[w]), -ways.index(w)))


# ---------------------------------------------------------------- cells

def _cell(text: str, *, sub: str | None = None, title: str | None = None, value=None,
          values=None, interval=None, exact=False, failed=False, measured=True,
          higher_is_better=False) -> dict:
    return {"text": text, "sub": sub, "title": title, "value": value,
            "values": list(values) if values is not None else None, "interval": interval,
            "exact": exact, "failed": failed, "measured": measured,
            "higher_is_better": higher_is_better, "verdict": None, "footnote": False}


def _missing(title: str | None = None, text: str = "not measured") -> dict:
    return _cell(text, title=title, measured=False)


def _not_in_run(section: str) -> dict:
    """A scenario the run's profile did not include: the command that measures it."""
    cell = _missing(not_measured_text(section), "not in this run")
    cell["sub"] = "--scaling"
    cell["footnote"] = True
    return cell


def _find(rows, **keys):
    return next((r for r in rows if all(r.get(k) == v for k, v in keys.items())), None)


def _excluded_note(s: dict, warmups: bool = False) -> str | None:
    """What stayed out of the median: failures always, warm-ups only where asked (the title)."""
    excluded = [x for x in s.get("excluded") or [] if warmups or x["status"] != "ok"]
    return fmt.excluded(excluded) if excluded else None


def _failed_statuses(s: dict) -> collections.Counter:
    return collections.Counter(x["status"] for x in s.get("excluded") or []
                               if x["status"] != "ok")


def _timing(s: dict | None, show=fmt.seconds) -> dict:
    """A cell from a section's samples summary (groups.samples)."""
    if not s or (not s["n"] and not s.get("excluded")):
        return _missing()
    bad = _failed_statuses(s)
    if not s["n"]:
        return _cell("failed" if bad else "no usable samples", sub=_excluded_note(s),
                     failed=bool(bad), measured=bool(bad))
    note = f"n={s['n']}"
    extra = _excluded_note(s)
    every = _excluded_note(s, warmups=True)
    return _cell(show(s["median"]), sub=note + (f", {extra}" if extra else ""),
                 title=f"median of n={s['n']}" + (f" ({every} left out)" if every else ""),
                 value=s["median"], values=s["values"], failed=any(bad[w] for w in WRONG))


def _cost_cell(cost: dict, impl: str, mode: str | None, key: str) -> dict:
    row = _find(cost["rows"], impl=impl, mode=mode)
    if row is None:
        return _missing()
    if key == "memory":
        return _timing(row["rss_kb"], fmt.kib_as_bytes)
    return _timing(row[key])


def _resume_cell(failure: dict, impl: str, mode: str | None) -> dict:
    """The failure section's numbers: the median over failure points of each point's median
    rerun (the decision guide's figure), and the class the reruns were given."""
    row = _find(failure["resume"], impl=impl, mode=mode)
    if row is None or not row["steps"]:
        return _missing()
    medians = [s["wall"]["median"] for s in row["steps"] if s["wall"]["n"]]
    outcomes = collections.Counter()
    for s in row["steps"]:
        outcomes.update(s["outcomes"])
    wrong = any(s["statuses"].get(w) for s in row["steps"] for w in WRONG)
    if not outcomes:  # runs stored before resume had outcomes: the verified steps say it
        matched = [s["steps_match"] for s in row["steps"]]
        if all(m is True for m in matched):
            outcomes["resumed"] = len(matched)
        elif any(m is False for m in matched):
            outcomes["unexpected steps"] = sum(m is False for m in matched)
    klass = _tally(outcomes) or "class not stored"
    failed = wrong or bool(outcomes.get("failed")) or not medians
    if not medians:
        return _cell("failed", sub=klass, failed=True)
    value = stats.median(medians)
    return _cell(fmt.seconds(value), sub=klass,
                 title=f"{klass}; median over {len(medians)} failure point(s) of each point's "
                       "median rerun",
                 value=value, values=medians, failed=failed)


def _tally(counts: collections.Counter) -> str:
    total = sum(counts.values())
    return ", ".join(f"{k.replace('_', ' ')} {v}/{total}" for k, v in counts.most_common())


CRASH_RANK = {"recovered": 0, "refused": 1}


def _crash_cell(failure: dict, impl: str, mode: str | None) -> dict:
    per = {}
    for scenario in ("crash", "crash_job"):
        counts = collections.Counter()
        for row in failure[scenario]:
            if row["impl"] == impl and row["mode"] == mode:
                counts.update(row["outcomes"])
        if counts:
            per[scenario] = counts
    if not per:
        return _missing()
    both = sum(per.values(), collections.Counter())
    main = per.get("crash") or per["crash_job"]
    total = sum(both.values())
    text = _tally(main)
    sub = f"job kill: {_tally(per['crash_job'])}" if "crash" in per and \
        "crash_job" in per else ("job kill only" if "crash" not in per else None)
    wrong = both.get("silently_wrong", 0) + both.get("failed", 0)
    # the share recovered by itself, then refused (a clear message), decides the class
    score = both.get("recovered", 0) / total + both.get("refused", 0) / total / 1000
    return _cell(text, sub=sub, value=score, failed=bool(wrong), higher_is_better=True,
                 exact=True)


def _io_cell(io: dict, ix: Index, impl: str, mode: str | None, setup: str,
             setup_of: dict[str, str]) -> dict:
    """The share of each run's wall time spent in file reads and writes, at the sweep's largest
    scale; of the row's mode if it hands data over through files, else of this set-up's modes
    that do; the format with the lowest share."""
    sweep = io["sweep"]
    if not sweep["scales"]:  # no io sweep (--quick): the cold runs' own spans, at x1
        return _cold_io_cell(io, ix, impl, mode)
    top = max(sweep["scales"])
    series = [s for s in sweep["series"] if s["impl"] == impl and s["format"] is not None]
    mine = [s for s in series if s["mode"] == mode]
    series = mine or [s for s in series if setup_of.get(s["mode"]) == setup]
    cands = []
    for s in series:
        pts = [p for p in s["points"] if p["scale"] == top]
        shares = [p["io"] / p["wall"] for p in pts
                  if p["usable"] and p["io"] is not None and p["wall"]]
        wrong = sum(p["status"] in WRONG for p in pts)
        if pts:
            cands.append((s, shares, wrong))
    if not cands:
        if mode is not None and not ix.handoff_is_files(impl, mode):
            return _missing(NO_FILE_HANDOFF, "tool's own hand-off")
        return _missing()
    with_samples = [c for c in cands if c[1]]
    if not with_samples:
        return _cell("failed", failed=True)
    s, shares, wrong = min(with_samples, key=lambda c: stats.median(c[1]))
    value = stats.median(shares)
    how = s["format"] + ("" if s["mode"] == mode else f", {ix.real_mode(s['mode'])} mode")
    sub = f"{how}, ×{top}" + (f", {wrong} wrong output" if wrong else "")
    return _cell(fmt.percent(value), sub=sub, value=value, values=shares, failed=bool(wrong),
                 title=f"median over n={len(shares)} runs at ×{top} rows of the share of each "
                       "run's wall time in file reads and writes")


# a mode whose hand-off is not files through core.io: values in memory, or the tool's own
# pickles (gokart, dagster, metaflow's datastore), which the trace does not time as file IO
NO_FILE_HANDOFF = ("this mode hands data over as values or through the tool's own storage, "
                   "not as files through core.io: the trace times no file IO for it")


def _cold_io_cell(io: dict, ix: Index, impl: str, mode: str | None) -> dict:
    row = _find(io["breakdown"], impl=impl, mode=mode) if mode is not None else None
    if row is None:
        return _missing()
    if not row["files"]:
        return _missing(NO_FILE_HANDOFF, "tool's own hand-off")
    shares = [p["io"] / p["wall"] for p in row["points"]
              if p["usable"] and p.get("io") is not None and p["wall"]]
    if not shares:
        return _cell("failed", failed=True) if row["points"] else _missing()
    value = stats.median(shares)
    return _cell(fmt.percent(value), sub="cold run, ×1", value=value, values=shares,
                 title=f"median over n={len(shares)} cold runs at ×1 of the share of each "
                       "run's wall time in file reads and writes (this run has no io sweep)")


def _code_cell(code: dict, impl: str) -> dict:
    row = _find(code["rows"], impl=impl)
    if row is None or not stats.is_finite(row.get("sloc")):
        return _missing()
    return _cell(f"{fmt.count(row['sloc'])} lines", value=row["sloc"], exact=True,
                 title=f"{fmt.count(row['tokens'])} tokens; counted once per tool")


def _install_cell(cost: dict, impl: str) -> dict:
    row = _find(cost["footprint"], impl=impl)
    if row is None or not stats.is_finite(row.get("install_bytes")):
        return _missing()
    return _cell(fmt.nbytes(row["install_bytes"]), value=row["install_bytes"], exact=True,
                 title=f"{fmt.count(row['distributions'])} distributions; measured once per "
                       "tool")


def _pertask_cell(pertask: dict, impl: str, mode: str | None) -> dict:
    """The slope of the straight-line fit in the tool's costlier shape (the decision guide's
    figure), with the fit's interval; failed if any size failed or timed out."""
    if not pertask.get("measured"):
        return _not_in_run("pertask")
    rows = [r for r in pertask["rows"] if r["impl"] == impl and r["mode"] == mode]
    if not rows:
        return _missing()
    failed_at = [min(r["failed_sizes"]) for r in rows if r["failed_sizes"]]
    failed = [f"N={min(failed_at)}"] if failed_at else []
    fitted = [r for r in rows if r["fit"]]
    if not fitted:
        return _cell("failed", sub="; ".join(failed) or "no fit", failed=True)
    worst = max(fitted, key=lambda r: r["fit"]["per_task_s"]["value"])
    slope = worst["fit"]["per_task_s"]
    interval = (slope["low"], slope["high"]) if slope["low"] is not None else None
    sub = worst["shape"] + (f"; failed at {', '.join(failed)}" if failed else "")
    return _cell(fmt.seconds(slope["value"]), sub=sub, value=slope["value"], interval=interval,
                 failed=bool(failed), title="seconds per extra task, the slope of the "
                 "straight-line fit" + (f" [{fmt.seconds(interval[0])}, "
                                        f"{fmt.seconds(interval[1])}]" if interval else ""))


def _parallel_cell(parallel: dict, impl: str, setup: str, setup_of: dict[str, str]) -> dict:
    if not parallel.get("measured"):
        return _not_in_run("parallel")
    workers = parallel["workers"]
    at = PARALLEL_WORKERS if PARALLEL_WORKERS in workers[1:] else \
        next((w for w in workers[1:]), None)
    rows = [r for r in parallel["rows"] if r["impl"] == impl
            and setup_of.get(r["runner"]) == setup]
    if at is None or not rows:
        return _missing()
    found = [(r, r["speedups"].get(at)) for r in rows if r["speedups"].get(at)]
    if not found:
        return _cell("failed", failed=True) if any(
            _failed_statuses(r["walls"][at]) for r in rows) else _missing()
    row, s = max(found, key=lambda rs: rs[1]["value"])
    interval = (s["low"], s["high"]) if s["low"] is not None else None
    sub = row["runner"].split(" · ")[0] + (f", {at} workers" if at != PARALLEL_WORKERS else "")
    title = f"ideal ×{fmt.number(s['ideal'])}" + (
        f"; interval [{fmt.number(s['low'])}, {fmt.number(s['high'])}]" if interval else "")
    return _cell(f"×{fmt.number(s['value'])}", sub=sub, value=s["value"], interval=interval,
                 higher_is_better=True, title=title)


def _rerun_cell(rerun: dict, impl: str, mode: str | None) -> dict:
    if not rerun.get("measured"):
        return _not_in_run("rerun")
    row = _find(rerun["rows"], impl=impl, mode=mode)
    if row is None or not row["cells"]:
        return _missing()
    counts = row["counts"]
    total = sum(counts.values())
    others = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()) if k != "exact")
    wrong = counts.get("stale", 0) + counts.get("failed", 0)
    return _cell(f"{counts.get('exact', 0)} of {total} exact", sub=others or None,
                 value=counts.get("exact", 0) - counts.get("over-eager", 0) / 1000,
                 exact=True, failed=bool(wrong), higher_is_better=True)


# ---------------------------------------------------------------- verdicts

def _better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


def _ratio_to_best(cell: dict, best: dict) -> float:
    a, b = cell["value"], best["value"]
    if cell["higher_is_better"]:
        a, b = b, a
    return a / b if b else float("inf")


def _compare(cell: dict, best: dict) -> str:
    """The verdict of one contender against the column's best (see the module docstring)."""
    if cell["value"] == best["value"]:
        return "best"
    if cell["exact"]:
        return "worse"
    if cell["interval"] and best["interval"]:
        lo, hi = cell["interval"]
        blo, bhi = best["interval"]
        return "noise" if lo <= bhi and blo <= hi else "worse"
    if cell["values"] and best["values"]:
        r = stats.ratio_of_medians(cell["values"], best["values"])
        if r is not None and r.has_ci:
            return "noise" if r.low <= 1 <= r.high else "worse"
    return "worse" if _ratio_to_best(cell, best) > CLEAR_RATIO else "few"


def assign_verdicts(cells: list[dict], contender: list[bool]) -> None:
    """Fills each cell's verdict in place; contender[i] False: the reference's cell."""
    for cell, competes in zip(cells, contender):
        if not cell["measured"]:
            cell["verdict"] = "none"
        elif cell["failed"]:
            cell["verdict"] = "failed"
        elif not competes or cell["value"] is None:
            cell["verdict"] = "reference" if not competes else "none"
    pool = [c for c, competes in zip(cells, contender)
            if competes and c["verdict"] is None]
    if not pool:
        return
    best = pool[0]
    for c in pool[1:]:
        if _better(c["value"], best["value"], c["higher_is_better"]):
            best = c
    for c in pool:
        c["verdict"] = _compare(c, best)
    if any(c["verdict"] == "few" for c in pool):
        for c in pool:
            if c["verdict"] == "best":
                c["verdict"] = "few"
    for c in pool:
        if c["verdict"] == "worse" and not c["exact"]:
            c["vs_best"] = f"×{fmt.number(_ratio_to_best(c, best))}"


# ---------------------------------------------------------------- build

def build(run: RunData, ix: Index, *, io, failure, cost, code, pertask, parallel,
          rerun) -> dict:
    setup_of = _setup_of_ways(ix)
    rows = []
    for impl in ix.impls:
        for setup in _setups(ix, impl):
            mode = row_mode(ix, impl, setup, setup_of)
            cells = {
                "cold": _cost_cell(cost, impl, mode, "cold"),
                "noop": _cost_cell(cost, impl, mode, "noop"),
                "resume": _resume_cell(failure, impl, mode),
                "crash": _crash_cell(failure, impl, mode),
                "io": _io_cell(io, ix, impl, mode, setup, setup_of),
                "code": _code_cell(code, impl),
                "pertask": _pertask_cell(pertask, impl, mode),
                "parallel": _parallel_cell(parallel, impl, setup, setup_of),
                "rerun": _rerun_cell(rerun, impl, mode),
                "install": _install_cell(cost, impl),
                "memory": _cost_cell(cost, impl, mode, "memory"),
            }
            rows.append({"impl": impl, "setup": setup, "label": label(impl, setup),
                         "mode": ix.real_mode(mode) if mode else None,
                         "reference": impl == ix.reference, "cells": cells})
    contender = [not r["reference"] for r in rows]
    for key, *_ in COLUMNS:
        assign_verdicts([r["cells"][key] for r in rows], contender)
    for r in rows:
        for key, heading, _unit, anchor in COLUMNS:
            cell = r["cells"][key]
            symbol, words, css = VERDICTS[cell["verdict"]]
            cell.update(key=key, anchor=anchor, mark=symbol, verdict_text=words, css=css)
            cell.setdefault("vs_best", None)
            cell.pop("values")
            if not cell["footnote"]:
                vs = f", {cell['vs_best']} the best" if cell["vs_best"] else ""
                cell["title"] = (f"{r['label']}, {heading}: {words}{vs}"
                                 + (f"; {cell['title']}" if cell["title"] else ""))
    return {"columns": [{"key": k, "heading": h, "unit": u, "anchor": a}
                        for k, h, u, a in COLUMNS],
            "rows": rows, "reference": ix.reference,
            "legend": [{"verdict": k, "mark": s, "text": w, "css": c}
                       for k, (s, w, c) in VERDICTS.items()],
            "rule": verdict_rule(), "clear_ratio": CLEAR_RATIO,
            "footnote": any(c["footnote"] for r in rows for c in r["cells"].values()),
            "scaling_command": SCALING_COMMAND}


def charts(data: dict) -> dict[str, str | None]:
    return {}  # it repeats numbers charted in their own sections


SECTION = Section("scorecard", "Scorecard", build, charts, needs=NEEDS)
