"""The top of the report: what was compared, the machine, warnings, and short answers that
repeat the numbers of the io, failure, cost and code sections."""
from __future__ import annotations

import collections

from bench.render import fmt
from bench.render.analysis import stats
from bench.render.analysis.groups import Index, group_key, group_label
from bench.render.load import RunData
from bench.render.sections.base import Section
from bench.render.sections.guide import crash_tally, over_reference, tally_text
from bench.store.run_info import RunInfo

NEEDS = ("io", "failure", "cost", "code")
TIMED_SCENARIOS = ("first_run", "cold", "noop", "resume", "io", "footprint")
FEW_SAMPLES = stats.MIN_SAMPLES_FOR_CI
WIDE_SPREAD = 0.20  # IQR / median above which a number is flagged as shaky (about σ/μ > 15 %)
# A first round a few per cent off is not worth a warning even when the other rounds agree
# so closely that its modified z-score is large.
OUTLIER_MIN_EFFECT = 0.10


def build(run: RunData, ix: Index, *, io, failure, cost, code) -> dict:
    info = run.info
    return {
        "run_id": run.run_id,
        "fixture": bool(info.fixture),
        "note": info.note,
        "started": info.started_at,
        "finished": info.finished_at,
        "profile": info.profile,
        "command": fmt.argv_text(info.command) if info.command else None,
        "tools": _tools(ix),
        "machine": _machine(info),
        "git": {"commit": info.git.get("commit"), "dirty": info.git.get("dirty")},
        "warnings": warnings(ix, run),
        "answers": [
            {"question": "What does passing data through files cost me?", "anchor": "io",
             "points": _answer_io(io)},
            {"question": "What happens when a job dies?", "anchor": "failure",
             "points": _answer_failure(failure)},
            {"question": "What does each tool cost on top of my code?", "anchor": "cost",
             "points": _answer_cost(cost)},
            {"question": "How much code will I write and read?", "anchor": "code",
             "points": _answer_code(code)},
        ],
        "records": len(run.records),
    }


def _tools(ix: Index) -> list[dict]:
    out = []
    for impl in ix.impls:
        declared = ix.impl_info(impl)
        version = declared.version if declared else None
        if version is None and ix.info is not None:
            version = ix.info.packages.get((declared.package if declared else None) or impl)
        if version is None and impl == ix.reference and ix.info and ix.info.python.get("version"):
            version = f"Python {ix.info.python['version']}"
        modes = [{"mode": m, "default": m == ix.default_mode(impl),
                  "description": ix.description(impl, m)} for m in ix.modes(impl)]
        out.append({"impl": impl, "version": version, "modes": modes})
    return out


def _machine(info: RunInfo) -> list[tuple[str, str]]:
    rows = []
    for k, v in info.machine.items():
        if isinstance(v, (dict, list)) or v is None:
            continue
        if k.endswith("_kb") and stats.is_finite(v):
            rows.append((k[:-3], fmt.kib_as_bytes(v)))
        elif k.endswith("bytes") and stats.is_finite(v):
            rows.append((k, fmt.nbytes(v)))
        else:
            rows.append((k, str(v)))
    python = info.python.get("version")
    if python and "python" not in dict(rows):
        rows.append(("python", str(python)))
    return rows


def source_hashes(info: RunInfo) -> dict[str, list[str]]:
    """Every source hash the run stored per implementation, including continued sessions."""
    found = collections.defaultdict(list)

    def add(mapping):
        for impl, value in (mapping or {}).items():
            for h in value if isinstance(value, list) else [value]:
                if h and h not in found[impl]:
                    found[impl].append(h)

    add(info.source_hashes)
    add({impl: i.source_hash for impl, i in info.impls.items()})
    for session in sessions(info):
        add(session.get("source_hashes"))
    return dict(found)


def sessions(info: RunInfo) -> list[dict]:
    """Continuations of an interrupted run carry their own provenance."""
    return [s for s in info.continuations + info.sessions if isinstance(s, dict)]


def warnings(ix: Index, run: RunData) -> list[dict]:
    out = []
    info = run.info
    if info.fixture:
        out.append(_warning("fixture", "These are synthetic fixture records, not measurements: "
                                       "no number below describes a real tool.",
                            [info.note] if info.note else []))
    if not info.finished_at:
        out.append(_warning("incomplete", "The run did not finish: some planned executions have "
                                          "no record (continue it with `python -m bench run "
                                          "--continue RUN_ID`)."))
    dirty = [info.git.get("dirty")] + [(s.get("git") or {}).get("dirty") for s in sessions(info)]
    if any(dirty):
        out.append(_warning("dirty_tree", "The git working tree had uncommitted changes: the code "
                                          "measured is not exactly the commit recorded.",
                            [str(f) for f in info.git.get("dirty_files") or []]))
    mixed = {impl: hs for impl, hs in source_hashes(info).items() if len(hs) > 1}
    if mixed:
        out.append(_warning("mixed_sources", "Source hashes changed during the run (continued "
                                             "after an edit?): records mix code versions.",
                            [f"{impl}: {len(hs)} versions" for impl, hs in sorted(mixed.items())]))
    out.extend(status_warnings(ix))
    out.extend(_sample_warnings(ix))
    return out


def _warning(kind: str, message: str, details: list[str] | None = None) -> dict:
    return {"kind": kind, "message": message, "details": details or []}


def _describe(r) -> str:
    return f"{group_label(group_key(r))}, round {r.round}"


def status_warnings(ix: Index) -> list[dict]:
    # A refused crash rerun has no predictions to match: a finding, not a verification failure.
    # So is a rerun after a change that kept a stale result or reran more than needed: its
    # class is shown in the rerun matrix.
    out = []
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
              and not (r.scenario == "pertask" and r.detail.error is None)]
    if broken:
        out.append(_warning("failures", f"{len(broken)} execution(s) failed unexpectedly or timed "
                            "out; they enter no median.",
                            [f"{_describe(r)}: {r.status}" for r in broken]))
    return out



def timed_groups(ix: Index) -> dict[tuple, list]:
    groups = collections.defaultdict(list)
    for r in ix.records:
        if r.scenario in TIMED_SCENARIOS and r.phase == "timed":
            groups[group_key(r)].append(r)
    return groups


def _sample_warnings(ix: Index) -> list[dict]:
    few, wide, first = [], [], []
    groups = timed_groups(ix)
    for key, recs in sorted(groups.items(), key=lambda kv: str(kv[0])):
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
    if few:
        out.append(_warning("few_samples", f"{len(few)} of {len(groups)} measured groups have "
                            f"fewer than {FEW_SAMPLES} usable samples: their numbers show "
                            "samples and counts, no confidence interval.", few))
    if wide:
        out.append(_warning("wide_spread", f"{len(wide)} group(s) spread widely (IQR above "
                            f"{fmt.percent(WIDE_SPREAD)} of the median): the machine was noisy "
                            "or the tool is.", wide))
    if first:
        out.append(_warning("outlier_first_round", f"{len(first)} group(s) have an outlier first "
                            f"round (|modified z-score| > {stats.OUTLIER_Z} on the MAD, "
                            "Iglewicz and Hoaglin 1993), more than "
                            f"{fmt.percent(OUTLIER_MIN_EFFECT)} off the median: often a cold cache "
                            "or a one-off start-up cost.", first))
    return out


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
        over = row["over_reference"]
        extra = f" ({over_reference(over['sloc'])})" if over and "sloc" in over else ""
        points.append(f"{row['impl']}: {fmt.count(row['sloc'])} source lines, "
                      f"{fmt.count(row['tokens'])} tokens{extra}.")
    return points or ["Not measured in this run."]


def charts(data: dict) -> dict[str, str | None]:
    return {}  # it repeats numbers charted in their own sections


SECTION = Section("summary", "Summary", build, charts, needs=NEEDS)
