"""The decision guide: per situation this run measured, which tool its numbers favour, and why.

Each tool competes with its best mode, so the runner-up is another tool, not another mode of
the same one; the run's reference implementation is what the others are measured against,
not a contender. When the best two are within noise the sentence says so; there is no overall
winner, because the situations pull in different directions.
"""
from __future__ import annotations

import collections

from bench.render import fmt
from bench.render.analysis import stats
from bench.render.analysis.groups import Index
from bench.render.load import RunData
from bench.render.sections.base import Section

# Without an interval, a runner-up less than 10 % slower is not called slower.
CLOSE_CALL = 1.10

NEVER_MEASURED = (
    "more workers than this machine's cores, and execution across machines (remote workers, "
    "Kubernetes, HPC schedulers)",
    "scheduling, triggers, retries and monitoring UIs",
    "pipelines that run for hours, and long-lived services",
    "how well each tool fits a team's existing skills and infrastructure",
)


NEEDS = ("io", "failure", "cost", "code", "pertask", "parallel", "rerun")


def build(run: RunData, ix: Index, *, io, failure, cost, code, pertask, parallel,
          rerun) -> dict:
    ref = ix.reference
    rows = cost["rows"]
    situations = [
        _large_data(io["sweep"], ref),
        _failures(failure["resume"], ref),
        _crashes(failure["crash"], ref),
        _least_code(code["rows"], ref),
        _lowest(rows, ref, "startup", "fastest start-up (launch until the first step starts)",
                "the shortest start-up"),
        _lowest(rows, ref, "cold", "short pipelines run often (a cold run)",
                "the shortest cold run"),
        _lowest(rows, ref, "first_run", "a fresh CI container (first run)",
                "the shortest first run on a fresh tool home"),
        _lowest(rows, ref, "noop", "reruns when nothing changed", "the shortest no-op rerun"),
        _memory(rows, ref),
        _install(cost["footprint"], ref),
        _many_tasks(pertask, ref),
        _parallel(parallel, ref),
        _changes(rerun, ref),
    ]
    return {"situations": [s for s in situations if s["measured"]],
            "not_measured": [s["title"] for s in situations if not s["measured"]]
            + list(NEVER_MEASURED)}


def _situation(key, title, favours=None, sentence=None) -> dict:
    return {"key": key, "title": title, "measured": sentence is not None,
            "favours": favours, "sentence": sentence}


def best_per_tool(candidates: list[dict], reference: str | None) -> list[dict]:
    """Each tool's lowest-median candidate, ranked; the reference is not a contender."""
    best: dict[str, dict] = {}
    for c in candidates:
        if c["impl"] == reference or not c["n"]:
            continue
        if c["impl"] not in best or c["median"] < best[c["impl"]]["median"]:
            best[c["impl"]] = c
    return sorted(best.values(), key=lambda c: c["median"])


def _runner_up(best: dict, ranked: list[dict]) -> str:
    """How sure the ordering of the best two tools is: a CI with enough samples, else the counts."""
    if len(ranked) < 2:
        return ""
    second = ranked[1]
    r = stats.ratio_of_medians(second["values"], best["values"])
    if r is None:
        return ""
    if r.has_ci and not r.excludes_one:
        return (f" It is within noise of {second['who']}: their ratio {fmt.ratio(r)} "
                "includes 1.")
    if not r.has_ci and r.value < CLOSE_CALL:
        return (f" Too close to call against {second['who']} at "
                f"{fmt.seconds(second['median'])} (×{fmt.number(r.value)}, n={r.n_a} vs "
                f"{r.n_b}).")
    return f" Next: {second['who']} at {fmt.seconds(second['median'])}, {fmt.ratio(r)}."


def _large_data(sweep: dict, ref: str | None) -> dict:
    title = "large data handed between steps"
    if not sweep["scales"] or max(sweep["scales"]) <= 1:  # nothing larger than the data itself
        return _situation("large_data", title)
    top = max(sweep["scales"])
    cands = []
    for s in sweep["series"]:
        for p in s["per_scale"]:
            if p["scale"] == top:
                how = f" with {s['format']}" if s["format"] else " (values in memory)"
                cands.append({**p["wall"], "who": s["label"] + how, "impl": s["impl"]})
    ranked = best_per_tool(cands, ref)
    if not ranked:
        return _situation("large_data", title)
    best = ranked[0]
    sentence = (f"At ×{top} rows, {best['who']} finished a cold run fastest: {fmt.spread(best)}."
                + _runner_up(best, ranked))
    return _situation("large_data", title, best["impl"], sentence)


def _failures(resume: list[dict], ref: str | None) -> dict:
    title = "frequent failures inside a step (time to finish after a failure)"
    cands = []
    for row in resume:
        medians = [s["wall"]["median"] for s in row["steps"] if s["wall"]["n"]]
        ratios = [s["ratio"].value for s in row["steps"] if s["ratio"] is not None]
        if medians:
            cands.append({"who": row["label"], "impl": row["impl"], "n": len(medians),
                          "median": stats.median(medians), "values": medians,
                          "ratio": stats.median(ratios) if ratios else None})
    ranked = best_per_tool(cands, ref)
    if not ranked:
        return _situation("failures", title)
    best = ranked[0]
    vs_cold = f", ×{fmt.number(best['ratio'])} of its own cold run" if best["ratio"] else ""
    where = (f"the median over {best['n']} failure points" if best["n"] > 1
             else "at the one failure point measured")
    sentence = (f"{best['who']} finished fastest after a failure: "
                f"{fmt.seconds(best['median'])}, {where}{vs_cold}.")
    if len(ranked) > 1:
        second = ranked[1]
        sentence += f" Next: {second['who']} at {fmt.seconds(second['median'])}."
    return _situation("failures", title, best["impl"], sentence)


def crash_tally(crash_rows: list[dict]) -> dict[str, collections.Counter]:
    per: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in crash_rows:
        per[row["label"]].update(row["outcomes"])
    return dict(per)


def tally_text(counts: collections.Counter) -> str:
    total = sum(counts.values())
    return ", ".join(f"{k.replace('_', ' ')} {v}/{total}" for k, v in sorted(counts.items()))


def _crashes(crash: list[dict], ref: str | None) -> dict:
    title = "hard crashes (killed mid-write)"
    per = {who: c for who, c in crash_tally(
        [row for row in crash if row["impl"] != ref]).items()}
    if not per:
        return _situation("crashes", title)

    def score(counts):
        return (counts.get("silently_wrong", 0) == 0,
                counts.get("recovered", 0) / sum(counts.values()))

    ranked = sorted(per.items(), key=lambda kv: score(kv[1]), reverse=True)
    top = score(ranked[0][1])
    winners = [who for who, counts in ranked if score(counts) == top]
    subject = winners[0] + " recovered by itself" if len(winners) == 1 else \
        ", ".join(winners[:-1]) + " and " + winners[-1] + " recovered by themselves"
    sentence = (f"{subject} most often, never with a wrong answer: "
                if top[0] else f"{subject} most often, but every tool was once wrong: ")
    sentence += "; ".join(f"{who}: {tally_text(counts)}" for who, counts in ranked) + "."
    favours = ", ".join(dict.fromkeys(w.split(" · ")[0] for w in winners))
    return _situation("crashes", title, favours, sentence)


def over_reference(n: int) -> str:
    return f"{n} more than the plain script" if n >= 0 else f"{-n} fewer than the plain script"


def _least_code(rows: list[dict], ref: str | None) -> dict:
    title = "least code to write and read"
    cands = [r for r in rows if r["impl"] != ref and stats.is_finite(r.get("sloc"))]
    if not cands:
        return _situation("least_code", title)
    best = min(cands, key=lambda r: (r["sloc"], r.get("tokens") or 0))
    over = best.get("over_reference") or {}
    extra = f", {over_reference(over['sloc'])}" if "sloc" in over else ""
    sentence = (f"{best['impl']} needs the fewest source lines: {best['sloc']} "
                f"({fmt.count(best.get('tokens'))} tokens{extra}).")
    others = sorted((r for r in cands if r is not best), key=lambda r: r["sloc"])
    if others:
        sentence += f" Next: {others[0]['impl']} with {others[0]['sloc']}."
    return _situation("least_code", title, best["impl"], sentence)


def _lowest(rows: list[dict], ref: str | None, key: str, title: str, what: str) -> dict:
    ranked = best_per_tool([{**r[key], "who": r["label"], "impl": r["impl"]} for r in rows], ref)
    if not ranked:
        return _situation(key, title)
    best = ranked[0]
    sentence = f"{best['who']} has {what}: {fmt.spread(best)}." + _runner_up(best, ranked)
    return _situation(key, title, best["impl"], sentence)


def _memory(rows: list[dict], ref: str | None) -> dict:
    title = "machines with little memory (peak memory of a cold run)"
    ranked = best_per_tool([{**r["rss_kb"], "who": r["label"], "impl": r["impl"]} for r in rows],
                           ref)
    if not ranked:
        return _situation("memory", title)
    best = ranked[0]
    sentence = (f"{best['who']} peaks lowest: {fmt.kib_as_bytes(best['median'])}, the median of "
                f"n={best['n']} cold runs, summed over its process tree.")
    if len(ranked) > 1:
        sentence += (f" Next: {ranked[1]['who']} at {fmt.kib_as_bytes(ranked[1]['median'])}.")
    return _situation("memory", title, best["impl"], sentence)


def _install(footprint: list[dict], ref: str | None) -> dict:
    title = "a small install (distributions and bytes on disk)"
    cands = sorted((f for f in footprint
                    if f["impl"] != ref and stats.is_finite(f["install_bytes"])),
                   key=lambda f: f["install_bytes"])
    if not cands:
        return _situation("install", title)
    best = cands[0]
    sentence = (f"{best['impl']} installs the least: {fmt.nbytes(best['install_bytes'])} in "
                f"{fmt.count(best['distributions'])} distributions, imported in "
                f"{fmt.spread(best['import'])}.")
    if len(cands) > 1:
        sentence += (f" Next: {cands[1]['impl']} with {fmt.nbytes(cands[1]['install_bytes'])}.")
    return _situation("install", title, best["impl"], sentence)


def _many_tasks(pertask: dict, ref: str | None) -> dict:
    """The slope of the cost-per-task fit: what each extra task costs, in the tool's worse shape."""
    title = "pipelines of many small tasks (cost of each extra task)"
    per_mode: dict[tuple, list[dict]] = collections.defaultdict(list)
    for row in pertask.get("rows", []):
        per_mode[(row["impl"], row["label"])].append(row)
    cands = []
    for (impl, who), rows in per_mode.items():
        slopes = [r["fit"]["per_task_s"]["value"] for r in rows if r["fit"]]
        if len(slopes) == len(rows) and impl != ref:
            worst = max(slopes)
            cands.append({"impl": impl, "who": who, "median": worst, "n": 1, "values": [worst]})
    ranked = best_per_tool(cands, ref)
    if not ranked:
        return _situation("many_tasks", title)
    best = ranked[0]
    sentence = (f"{best['who']} adds the least per task: {fmt.seconds(best['median'])} per "
                "extra task in its costlier shape (chain or fan-out), from the straight-line fit.")
    if len(ranked) > 1:
        sentence += f" Next: {ranked[1]['who']} at {fmt.seconds(ranked[1]['median'])}."
    failed = sorted({f"{r['label']} ({r['shape']}) at N={min(r['failed_sizes'])}"
                     for r in pertask.get("rows", []) if r["failed_sizes"]})
    if failed:
        sentence += " Failed or timed out: " + "; ".join(failed) + "."
    return _situation("many_tasks", title, best["impl"], sentence)


def _parallel(parallel: dict, ref: str | None) -> dict:
    """The model selection's wall time at the most workers measured, each tool's best runner."""
    title = "independent tasks on several cores (model selection)"
    workers = parallel.get("workers") or []
    if len(workers) < 2:
        return _situation("parallel", title)
    top = workers[-1]
    cands = []
    for row in parallel["rows"]:
        wall = row["walls"][top]
        if wall["n"]:
            speedup = row["speedups"].get(top)
            cands.append({**wall, "who": row["label"], "impl": row["impl"],
                          "speedup": speedup["value"] if speedup else None})
    ranked = best_per_tool(cands, ref)
    if not ranked:
        return _situation("parallel", title)
    best = ranked[0]
    gain = (f", a speed-up of ×{fmt.number(best['speedup'])} over {workers[0]} worker(s) "
            f"(ideal ×{fmt.number(top / workers[0])})" if best["speedup"] else "")
    sentence = (f"With {top} workers, {best['who']} finished the model selection fastest: "
                f"{fmt.spread(best)}{gain}." + _runner_up(best, ranked))
    return _situation("parallel", title, best["impl"], sentence)


def _changes(rerun: dict, ref: str | None) -> dict:
    """Never a stale result first, then the fewest reruns beyond the minimal set."""
    title = "code, data and parameters that change between runs"
    rows = [r for r in rerun.get("rows", []) if r["impl"] != ref]
    if not rows:
        return _situation("changes", title)

    def tally(row) -> collections.Counter:
        return collections.Counter(cell["class"] for cell in row["cells"].values())

    def score(row):
        counts = tally(row)
        return (counts.get("stale", 0), counts.get("failed", 0), counts.get("over-eager", 0))

    ranked = sorted(rows, key=score)
    winners = [r for r in ranked if score(r) == score(ranked[0])]
    favours = ", ".join(dict.fromkeys(r["impl"] for r in winners))
    stale_free = score(ranked[0])[0] == 0
    sentence = (f"{' and '.join(r['label'] for r in winners)} "
                + ("never kept a stale result and reran least beyond the minimal set: "
                   if stale_free else "kept the fewest stale results: ")
                + "; ".join(f"{r['label']}: {tally_text(tally(r))}" for r in ranked) + ".")
    return _situation("changes", title, favours, sentence)


def charts(data: dict) -> dict[str, str | None]:
    return {}  # sentences, each quoting the number behind it


SECTION = Section("guide", "Decision guide", build, charts, needs=NEEDS)
