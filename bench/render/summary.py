"""The top of the report (what was compared, warnings, short answers) and the methodology facts."""
from __future__ import annotations

import collections
import re
import shlex

from bench import stats
from bench.render import fmt
from bench.render.groups import BASELINE, Index, group_key, group_label, nested
from bench.render.guide import crash_tally, over_baseline, tally_text
from bench.render.load import RunData

TIMED_SCENARIOS = ("first_run", "cold", "noop", "resume", "io", "footprint")
FEW_SAMPLES = stats.MIN_SAMPLES_FOR_CI
WIDE_SPREAD = 0.20  # IQR / median above which a number is flagged as shaky (about σ/μ > 15 %)
# A first round a few per cent off is not worth a warning even when the other rounds agree
# so closely that its modified z-score is large.
OUTLIER_MIN_EFFECT = 0.10
PLACEHOLDER = re.compile(r"\$[A-Z_]+(/[\w./-]*)?")


def argv_text(argv) -> str:
    """A command as a user types it: quoted, except placeholders such as $WORKDIR/out."""
    if not isinstance(argv, (list, tuple)):
        return str(argv)
    return " ".join(a if PLACEHOLDER.fullmatch(a) else shlex.quote(a) for a in map(str, argv))




def build(ix: Index, run: RunData, ctx: dict) -> dict:
    """Needs the other sections: the short answers repeat their numbers."""
    info = run.info
    return {
        "fixture": bool(info.get("fixture")),
        "note": info.get("note"),
        "started": nested(info, "started_at", "started", "created", "start_time"),
        "finished": nested(info, "finished_at", "finished", "end_time"),
        "profile": nested(info, "profile", "config.profile"),
        "command": argv_text(info["command"]) if info.get("command") else None,
        "tools": _tools(ix),
        "machine": _machine(info),
        "git": {"commit": nested(info, "git.commit", "git_commit", "commit"),
                "dirty": nested(info, "git.dirty", "git_dirty", "dirty")},
        "warnings": warnings(ix, run),
        "answers": _answers(ix, ctx),
        "records": len(run.records),
    }


def _tools(ix: Index) -> list[dict]:
    out = []
    for impl in ix.impls:
        version = nested(ix.info, f"impls.{impl}.version", f"packages.{impl}", f"versions.{impl}")
        if version is None and impl == BASELINE and nested(ix.info, "python.version"):
            version = f"Python {nested(ix.info, 'python.version')}"
        modes = [{"mode": m, "default": m == ix.default_mode(impl),
                  "description": nested(ix.info, f"impls.{impl}.modes.{m}")}
                 for m in ix.modes(impl)]
        out.append({"impl": impl, "version": version, "modes": modes})
    return out


def _machine(info: dict) -> list[tuple[str, str]]:
    machine = info.get("machine")
    rows = []
    if isinstance(machine, dict):
        for k, v in machine.items():
            if isinstance(v, (dict, list)) or v is None:
                continue
            if k.endswith("_kb") and stats.is_finite(v):
                rows.append((k[:-3], fmt.kib_as_bytes(v)))
            elif k.endswith("bytes") and stats.is_finite(v):
                rows.append((k, fmt.nbytes(v)))
            else:
                rows.append((k, str(v)))
    elif machine:
        rows.append(("machine", str(machine)))
    python = nested(info, "python.version", "python")
    if python and not isinstance(python, dict) and "python" not in dict(rows):
        rows.append(("python", str(python)))
    return rows


def source_hashes(info: dict) -> dict[str, list[str]]:
    """Every source hash the run stored per implementation, including continued sessions."""
    found = collections.defaultdict(list)

    def add(mapping):
        for impl, value in (mapping or {}).items():
            for h in value if isinstance(value, list) else [value]:
                if h and h not in found[impl]:
                    found[impl].append(h)

    add(info.get("source_hashes"))
    add({impl: d.get("source_hashes", d.get("source_hash"))
         for impl, d in (info.get("impls") or {}).items() if isinstance(d, dict)})
    for session in _sessions(info):
        add(session.get("source_hashes"))
    return dict(found)


def _sessions(info: dict) -> list[dict]:
    """Continuations of an interrupted run carry their own provenance."""
    return [s for key in ("continuations", "sessions") for s in info.get(key) or []
            if isinstance(s, dict)]


def warnings(ix: Index, run: RunData) -> list[dict]:
    out = []
    info = run.info
    if info.get("fixture"):
        out.append(_warning("fixture", "These are synthetic fixture records, not measurements: "
                                       "no number below describes a real tool.",
                            [info["note"]] if info.get("note") else []))
    if "finished_at" in info and not info["finished_at"]:
        out.append(_warning("incomplete", "The run did not finish: some planned executions have "
                                          "no record (continue it with `python -m bench run "
                                          "--continue RUN_ID`)."))
    dirty = [nested(info, "git.dirty", "git_dirty", "dirty")]
    dirty += [nested(s, "git.dirty") for s in _sessions(info)]
    if any(dirty):
        files = nested(info, "git.dirty_files", default=[]) or []
        out.append(_warning("dirty_tree", "The git working tree had uncommitted changes: the code "
                                          "measured is not exactly the commit recorded.",
                            [str(f) for f in files]))
    mixed = {impl: hs for impl, hs in source_hashes(info).items() if len(hs) > 1}
    if mixed:
        out.append(_warning("mixed_sources", "Source hashes changed during the run (continued "
                                             "after an edit?): records mix code versions.",
                            [f"{impl}: {len(hs)} versions" for impl, hs in sorted(mixed.items())]))
    out.extend(_status_warnings(ix))
    out.extend(_sample_warnings(ix))
    return out


def _warning(kind: str, message: str, details: list[str] | None = None) -> dict:
    return {"kind": kind, "message": message, "details": details or []}


def _describe(r) -> str:
    return f"{group_label(group_key(r))}, round {r.round}"


def _status_warnings(ix: Index) -> list[dict]:
    out = []
    # A refused crash rerun has no predictions to match: a finding, not a verification failure.
    # So is a rerun after a change that kept a stale result or reran more than needed: its
    # class is shown in the rerun matrix.
    wrong = [r for r in ix.records if r.status == "invalid_output"
             or (r.status == "ok" and r.scenario != "rerun"
                 and False in (r.verify.get("predictions_match"), r.verify.get("steps_match")))]
    if wrong:
        out.append(_warning("verification", f"{len(wrong)} execution(s) failed verification "
                            "(wrong predictions or unexpected steps); they enter no median.",
                            [_describe(r) + (f" ({r.outcome.replace('_', ' ')})" if r.outcome else "")
                             for r in wrong]))
    # A tool failing at some N of the cost-per-task workload (recursion limit, timeout) is that
    # section's finding, listed there with its message; a harness error (detail.error) is not.
    broken = [r for r in ix.records if r.status in ("unexpected_failure", "timeout")
              and not (r.scenario == "pertask" and "error" not in r.detail)]
    if broken:
        out.append(_warning("failures", f"{len(broken)} execution(s) failed unexpectedly or timed "
                            "out; they enter no median.",
                            [f"{_describe(r)}: {r.status}" for r in broken]))
    return out


def _timed_groups(ix: Index) -> dict[tuple, list]:
    groups = collections.defaultdict(list)
    for r in ix.records:
        if r.scenario in TIMED_SCENARIOS and r.phase == "timed":
            groups[group_key(r)].append(r)
    return groups


def _sample_warnings(ix: Index) -> list[dict]:
    few, wide, first = [], [], []
    for key, recs in sorted(_timed_groups(ix).items(), key=lambda kv: str(kv[0])):
        usable = sorted((r for r in recs if r.usable), key=lambda r: r.round)
        values = [r.wall_s for r in usable]
        name = group_label(key)
        if len(values) < FEW_SAMPLES:
            few.append(f"{name}: n={len(values)}")
        if len(values) >= 3:
            s = stats.summarise(values)
            if s.relative_iqr is not None and s.relative_iqr > WIDE_SPREAD:
                wide.append(f"{name}: IQR {fmt.seconds(s.iqr)} is {fmt.percent(s.relative_iqr)} "
                            f"of the median {fmt.seconds(s.median)}")
            centre = stats.median(values)
            if 0 in stats.outliers(values) and abs(values[0] - centre) > OUTLIER_MIN_EFFECT * centre:
                z = stats.modified_z(values)[0]
                first.append(f"{name}: round {usable[0].round} took {fmt.seconds(values[0])} "
                             f"against a median of {fmt.seconds(centre)} "
                             f"(modified z = {fmt.number(z)})")
    out = []
    total = len(_timed_groups(ix))
    if few:
        out.append(_warning("few_samples", f"{len(few)} of {total} measured groups have fewer than "
                            f"{FEW_SAMPLES} usable samples: their numbers show samples and counts, "
                            "no confidence interval.", few))
    if wide:
        out.append(_warning("wide_spread", f"{len(wide)} group(s) spread widely (IQR above "
                            f"{fmt.percent(WIDE_SPREAD)} of the median): the machine was noisy "
                            "or the tool is.", wide))
    if first:
        out.append(_warning("outlier_first_round", f"{len(first)} group(s) have an outlier first "
                            f"round (|modified z-score| > {stats.OUTLIER_Z} on the MAD, "
                            "Iglewicz and Hoaglin 1993), more than "
                            f"{fmt.percent(OUTLIER_MIN_EFFECT)} off the median: often a cold cache "
                            "or a one-off start-up cost.",
                            first))
    return out


def _answers(ix: Index, ctx: dict) -> list[dict]:
    return [
        {"question": "What does passing data through files cost me?", "anchor": "io",
         "points": _answer_io(ctx["io"])},
        {"question": "What happens when a job dies?", "anchor": "failure",
         "points": _answer_failure(ctx["failure"])},
        {"question": "What does each tool cost on top of my code?", "anchor": "cost",
         "points": _answer_cost(ctx["cost"])},
        {"question": "How much code will I write and read?", "anchor": "code",
         "points": _answer_code(ctx["code"])},
    ]


def _answer_io(io: dict) -> list[str]:
    points = []
    for row in io["breakdown"]:
        if row["files"] and row["io"]["n"] and row["wall"]["n"]:
            points.append(f"{row['label']}: file IO {fmt.spread(row['io'])}, "
                          f"{fmt.percent(row['io_share'])} of a "
                          f"{fmt.seconds(row['wall']['median'])} cold run.")
    check = io["cross_check"]
    if check:
        points.append(f"The plain script with files against values in memory: "
                      f"{fmt.signed_seconds(check['difference_s'])}, {fmt.ratio(check['ratio'])}.")
    return points or ["Not measured in this run."]


def _answer_failure(failure: dict) -> list[str]:
    points = []
    for row in failure["resume"]:
        steps = [s for s in row["steps"] if s["ratio"] is not None]
        if not steps:
            continue
        lo = min(steps, key=lambda s: s["ratio"].value)
        hi = max(steps, key=lambda s: s["ratio"].value)
        if lo is hi:
            span = f"×{fmt.number(lo['ratio'].value)} of a cold run (failure at {lo['step']})"
        else:
            span = (f"×{fmt.number(lo['ratio'].value)} (failure at {lo['step']}) to "
                    f"×{fmt.number(hi['ratio'].value)} (at {hi['step']}) of a cold run")
        points.append(f"{row['label']}: finishing after a failure takes {span}; "
                      f"cold run {fmt.spread(row['cold'])}.")
    for who, counts in crash_tally(failure["crash"]).items():
        points.append(f"{who} after a hard crash: {tally_text(counts)}.")
    return points or ["Not measured in this run."]


def _answer_cost(cost: dict) -> list[str]:
    points = []
    for row in cost["rows"]:
        ref = row["reference"]
        if row["default"] and ref:
            points.append(f"{row['label']}: cold run {fmt.spread(row['cold'])}, "
                          f"{fmt.signed_seconds(ref['difference_s'])} over {ref['label']} "
                          f"({fmt.ratio(ref['ratio'])}).")
    return points or ["Not measured in this run."]


def _answer_code(code: dict) -> list[str]:
    points = []
    for row in code["rows"]:
        over = row["over_baseline"]
        extra = f" ({over_baseline(over['sloc'])})" if over and "sloc" in over else ""
        points.append(f"{row['impl']}: {fmt.count(row['sloc'])} source lines, "
                      f"{fmt.count(row['tokens'])} tokens{extra}.")
    return points or ["Not measured in this run."]


# --- 8. methodology --------------------------------------------------------------------------

def method(ix: Index, run: RunData, floor_benchmarks: int) -> dict:
    recs = run.records
    timed = [r for r in recs if r.scenario in TIMED_SCENARIOS]
    return {
        "records": len(recs),
        "usable": sum(r.usable for r in recs),
        "statuses": dict(collections.Counter(r.status for r in recs)),
        "warmups": sum(r.warmup for r in recs),
        "phases": dict(collections.Counter(r.phase for r in recs)),
        "scenarios": dict(collections.Counter(r.scenario for r in recs)),
        "rounds": sorted({r.round for r in timed}),
        "samples_per_group": _sample_counts(ix),
        "thresholds": {"few_samples": FEW_SAMPLES, "wide_spread": WIDE_SPREAD,
                       "outlier_z": stats.OUTLIER_Z, "ci_min_samples": stats.MIN_SAMPLES_FOR_CI,
                       "ci_level": stats.CI_LEVEL, "bootstrap_resamples": stats.BOOTSTRAP_RESAMPLES,
                       "bootstrap_seed": stats.BOOTSTRAP_SEED},
        "environment": flatten(run.info),
        "raw": [{"name": n, "bytes": (run.run_dir / n).stat().st_size}
                for n in ("run.json", "records.jsonl", "floor.json") if (run.run_dir / n).is_file()],
        "floor_benchmarks": floor_benchmarks,
    }


def _sample_counts(ix: Index) -> dict:
    counts = [sum(r.usable for r in recs) for recs in _timed_groups(ix).values()]
    if not counts:
        return {"groups": 0}
    return {"groups": len(counts), "min": min(counts), "median": stats.median(counts),
            "max": max(counts)}


def flatten(d, prefix: str = "") -> list[tuple[str, str]]:
    """run.json as (dotted key, value) rows, so every stored fact is shown whatever its shape."""
    rows = []
    if isinstance(d, dict):
        for k in d:
            rows.extend(flatten(d[k], f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(d, list) and any(isinstance(v, (dict, list)) for v in d):
        for i, v in enumerate(d):
            rows.extend(flatten(v, f"{prefix}[{i}]"))
    elif isinstance(d, list):
        rows.append((prefix, " ".join(str(v) for v in d)))
    else:
        rows.append((prefix, "" if d is None else str(d)))
    return rows
