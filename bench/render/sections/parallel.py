"""Parallel fan-out: the model selection's wall time per runner and number of workers; its
speed-up over the fewest workers (against the ideal and against the reference's) and its
overhead per fold, both over the window in which the folds ran (first fold start to last fold
end, from the trace), so that a tool's start-up, shown apart, does not read as parallel cost;
and what the trace showed of the folds (detail: max_concurrent_folds, fold_pids, folds)."""
from __future__ import annotations

from bench.render import charts as c
from bench.render.analysis import stats
from bench.render.analysis.groups import (Index, label, most_common, ratio, samples,
                                          valid_spans)
from bench.render.load import RunData
from bench.render.sections.base import Section

FOLD_STEP = "fold"  # core.selection's span name of one fold's compute
METHOD = ("fold window = from the first fold's start to the last fold's end, in the trace; "
          "speed-up = median fold window at the fewest workers / median at N workers, each "
          "median over that slot's verified samples; its 95 % interval is a percentile "
          f"bootstrap ({stats.BOOTSTRAP_RESAMPLES} resamples of each side independently), given "
          f"only when both sides have at least {stats.MIN_SAMPLES_FOR_CI} samples")


def build(run: RunData, ix: Index) -> dict:
    recs = ix.select("parallel")
    if not recs:
        return {"measured": False}
    workers = sorted({r.size for r in recs})
    rows = [_row(ix, impl, runner, workers) for impl in ix.impls for runner in ix.runners(impl)]
    reference = next((r for r in rows if r["impl"] == ix.reference), None)
    for row in rows:
        _against_reference(row, reference, workers)
    folds = most_common(r.detail.folds for r in recs if r.detail.folds)
    return {"measured": True, "workers": workers, "folds": folds, "rows": rows,
            "reference": ix.reference, "reference_label": reference["label"] if reference else None,
            "method": METHOD}


def fold_window(rec) -> float | None:
    return rec.detail.fold_window_s


def start_up(rec) -> float | None:
    """Launch to the first fold's start: the tool's start-up, the data prepared, the folds
    scheduled."""
    starts = [sp["start"] for sp in valid_spans(rec)
              if sp.get("step") == FOLD_STEP and sp.get("kind") == "compute"]
    if not starts or rec.launch_epoch is None:
        return None
    return max(0.0, min(starts) - rec.launch_epoch)


def _row(ix: Index, impl: str, runner: str, workers: list[int]) -> dict:
    walls, windows, startups, facts = {}, {}, {}, {}
    for w in workers:
        recs = ix.select("parallel", impl=impl, runner=runner, size=w)
        walls[w] = samples(recs)
        walls[w]["points"] = [{"wall": r.wall_s, "usable": r.usable, "warmup": r.warmup,
                               "status": r.status} for r in recs]
        windows[w] = samples(recs, fold_window)
        startups[w] = samples(recs, start_up)
        facts[w] = _facts([r for r in recs if r.usable] or recs)
    first = workers[0]
    # runs stored before the trace kept the window have only whole wall times
    timed = windows if all(windows[w]["n"] for w in workers) else walls
    speedups = {w: _ratio(ratio(timed[first], timed[w])) for w in workers[1:]}
    for w, s in speedups.items():
        if s:
            s.update(ideal=w / first, efficiency=s["value"] / (w / first))
    return {"impl": impl, "runner": runner, "label": label(impl, runner),
            "colour": ix.colour(impl), "walls": walls, "windows": windows, "startups": startups,
            "from_window": timed is windows, "facts": facts, "speedups": speedups}


def _facts(recs) -> dict:
    """What the trace showed of the folds, as most of the slot's samples showed it."""
    def pick(key):
        return most_common(getattr(r.detail, key) for r in recs
                           if getattr(r.detail, key) is not None)
    facts = {"max_concurrent_folds": pick("max_concurrent_folds"), "fold_pids": pick("fold_pids"),
             "folds_in_main_process": pick("folds_in_main_process"), "folds": pick("folds")}
    facts["verdict"] = _verdict(facts)
    return facts


def _verdict(f: dict) -> str | None:
    if not f["folds"]:
        return None
    if (f["max_concurrent_folds"] or 0) < 2:
        return "one fold at a time"
    if f["fold_pids"] == 1:
        return (f"up to {f['max_concurrent_folds']} folds at once, as threads of one process "
                "(they share one interpreter lock)")
    return f"up to {f['max_concurrent_folds']} folds at once in {f['fold_pids']} processes"


def _ratio(r: stats.Ratio | None) -> dict | None:
    if r is None:
        return None
    return {"value": r.value, "low": r.low, "high": r.high, "n_a": r.n_a, "n_b": r.n_b}


def _against_reference(row: dict, reference: dict | None, workers: list[int]) -> None:
    """Speed-up relative to the reference's, and the extra time per fold at each N: both over
    the fold windows where both rows have them, else over whole wall times."""
    row["vs_reference_speedup"], row["overhead_per_fold_s"] = {}, {}
    both = row["from_window"] and (reference or {}).get("from_window")
    key = "windows" if both else "walls"
    row["overhead_from_window"] = bool(both)
    for w in workers:
        mine, theirs = row[key][w]["median"], (reference or {}).get(key, {}).get(w, {})
        folds = row["facts"][w]["folds"]
        row["overhead_per_fold_s"][w] = (
            (mine - theirs["median"]) / folds if mine is not None and theirs.get("median")
            is not None and folds and row is not reference else None)
        s, b = row["speedups"].get(w), (reference or {}).get("speedups", {}).get(w)
        row["vs_reference_speedup"][w] = s["value"] / b["value"] if s and b else None


# ---------------------------------------------------------------- chart

def charts(data: dict) -> dict[str, str | None]:
    if not data.get("measured"):
        return {"parallel_speedup": None}
    return {"parallel_speedup": speedup_chart(data)}


def speedup_chart(data: dict) -> str | None:
    rows, workers = data["rows"], data["workers"]
    if len(workers) < 2 or not any(r["speedups"] for r in rows):
        return None

    def draw(fig):
        wall_ax, speed_ax = fig.subplots(1, 2, sharey=True)
        labels = [r["label"] for r in rows][::-1]
        for y, row in enumerate(rows[::-1]):
            col = row["colour"]
            for i, w in enumerate(workers):
                pts = row["walls"][w]["points"]
                offsets = [y + (i - (len(workers) - 1) / 2) * 0.3 + o
                           for o in c.offsets(len(pts), 0.1)]
                c.plot_points(wall_ax, [p["wall"] for p in pts], offsets, pts, col, c.marker(i),
                              horizontal=False)
            for w, s in row["speedups"].items():
                if not s:
                    continue
                if s["low"] is not None:
                    speed_ax.plot([s["low"], s["high"]], [y, y], color=col, linewidth=1.2)
                speed_ax.plot([s["value"]], [y], marker="o", color=col, linestyle="none")
        for i, w in enumerate(workers):  # legend of the markers: one per worker count
            wall_ax.plot([], [], c.marker(i), color=c.NEUTRAL, linestyle="none",
                         label=f"{w} worker{'s' if w > 1 else ''}")
        wall_ax.legend(fontsize=8, loc="lower right")
        wall_ax.set_xscale("log")
        c.seconds_axis(wall_ax.xaxis)
        wall_ax.set_xlabel("wall time, every sample (log scale)")
        wall_ax.set_yticks(range(len(labels)), labels)
        for ideal in sorted({s["ideal"] for r in rows for s in r["speedups"].values() if s}):
            speed_ax.axvline(ideal, color="black", linestyle="--", linewidth=1)
            speed_ax.text(ideal, len(rows) - 0.4, f" ideal ×{ideal:g}", fontsize=8)
        speed_ax.axvline(1.0, color="#999999", linewidth=1)
        for ref in (r for r in rows if r["label"] == data["reference_label"]):
            for s in ref["speedups"].values():
                if s:
                    speed_ax.axvline(s["value"], color=ref["colour"], linestyle=":", linewidth=1)
        speed_ax.set_xlabel(f"speed-up T{workers[0]} / T{workers[-1]} (median ratio)")

    return c.render(draw, 10, 0.35 * len(rows) + 1.5, "parallel_speedup",
                    "Wall time per worker count and speed-up against the ideal")


SECTION = Section("parallel", "Parallel", build, charts)
