"""Report section for the parallel scenario: numbers (section), SVG charts (charts), HTML (html).

Records: scenario `parallel`, mode = the runner, scale = the number of workers; detail holds
what the trace showed of the folds (bench/parallel.py fold_concurrency).
"""
from __future__ import annotations

from bench import stats
from bench.render import groups
from bench.render.groups import BASELINE, Index

TITLE = "Parallel fan-out"
METHOD = ("speed-up = median wall time at the fewest workers / median at N workers, each "
          "median over that slot's verified samples; its 95 % interval is a percentile "
          f"bootstrap ({stats.BOOTSTRAP_RESAMPLES} resamples of each side independently), given "
          f"only when both sides have at least {stats.MIN_SAMPLES_FOR_CI} samples")


def section(ix: Index) -> dict:
    recs = ix.select("parallel")
    if not recs:
        return {"measured": False}
    workers = sorted({r.scale for r in recs})
    rows = [_row(ix, impl, mode, workers) for impl, mode in ix.pairs("parallel")]
    baseline = next((r for r in rows if r["impl"] == BASELINE), None)
    for row in rows:
        _against_baseline(row, baseline, workers)
    folds = groups.most_common(r.detail.get("folds") for r in recs if r.detail.get("folds"))
    return {"measured": True, "workers": workers, "folds": folds, "rows": rows,
            "baseline": baseline["label"] if baseline else None, "method": METHOD}


def _row(ix: Index, impl: str, mode: str, workers: list[int]) -> dict:
    walls, facts = {}, {}
    for w in workers:
        recs = ix.select("parallel", impl=impl, mode=mode, scale=w)
        walls[w] = groups.samples(recs)
        walls[w]["points"] = [{"wall": r.wall_s, "usable": r.usable, "warmup": r.warmup,
                               "status": r.status} for r in recs]
        facts[w] = _facts([r for r in recs if r.usable] or recs)
    first = workers[0]
    speedups = {w: _ratio(groups.ratio(walls[first], walls[w])) for w in workers[1:]}
    for w, s in speedups.items():
        if s:
            s.update(ideal=w / first, efficiency=s["value"] / (w / first))
    return {"impl": impl, "mode": mode, "label": groups.label(impl, mode),
            "walls": walls, "facts": facts, "speedups": speedups}


def _facts(recs) -> dict:
    """What the trace showed of the folds, as most of the slot's samples showed it."""
    pick = lambda key: groups.most_common(r.detail.get(key) for r in recs  # noqa: E731
                                          if r.detail.get(key) is not None)
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


def _against_baseline(row: dict, baseline: dict | None, workers: list[int]) -> None:
    """Speed-up relative to the plain-Python one, and the extra time per fold at each N."""
    row["vs_baseline_speedup"], row["overhead_per_fold_s"] = {}, {}
    for w in workers:
        mine, theirs = row["walls"][w]["median"], (baseline or {}).get("walls", {}).get(w, {})
        folds = row["facts"][w]["folds"]
        row["overhead_per_fold_s"][w] = (
            (mine - theirs["median"]) / folds if mine is not None and theirs.get("median")
            is not None and folds and row is not baseline else None)
        s, b = row["speedups"].get(w), (baseline or {}).get("speedups", {}).get(w)
        row["vs_baseline_speedup"][w] = s["value"] / b["value"] if s and b else None


# ---------------------------------------------------------------- chart

def charts(section: dict) -> dict[str, str | None]:
    if not section.get("measured"):
        return {"parallel_speedup": None}
    return {"parallel_speedup": speedup_chart(section)}


def speedup_chart(section: dict, chart_id: str = "chart-parallel-speedup") -> str | None:
    from bench.render import charts as c

    rows, workers = section["rows"], section["workers"]
    if len(workers) < 2 or not any(r["speedups"] for r in rows):
        return None

    def draw(fig):
        wall_ax, speed_ax = fig.subplots(1, 2, sharey=True)
        labels = [r["label"] for r in rows][::-1]
        for y, row in enumerate(rows[::-1]):
            col = c.colour(row["impl"])
            for i, w in enumerate(workers):
                pts = row["walls"][w]["points"]
                offsets = [y + (i - (len(workers) - 1) / 2) * 0.3 + o
                           for o in c._spread(len(pts), 0.1)]
                c._points(wall_ax, [p["wall"] for p in pts], offsets, pts, col, c.marker(i),
                          horizontal=False)
            for w, s in row["speedups"].items():
                if not s:
                    continue
                if s["low"] is not None:
                    speed_ax.plot([s["low"], s["high"]], [y, y], color=col, linewidth=1.2)
                speed_ax.plot([s["value"]], [y], marker="o", color=col, linestyle="none")
        for i, w in enumerate(workers):  # legend of the markers: one per worker count
            wall_ax.plot([], [], c.marker(i), color="#555555", linestyle="none",
                         label=f"{w} worker{'s' if w > 1 else ''}")
        wall_ax.legend(fontsize=8, loc="lower right")
        wall_ax.set_xscale("log")
        c._seconds_axis(wall_ax.xaxis)
        wall_ax.set_xlabel("wall time, every sample (log scale)")
        wall_ax.set_yticks(range(len(labels)), labels)
        for ideal in sorted({s["ideal"] for r in rows for s in r["speedups"].values() if s}):
            speed_ax.axvline(ideal, color="black", linestyle="--", linewidth=1)
            speed_ax.text(ideal, len(rows) - 0.4, f" ideal ×{ideal:g}", fontsize=8)
        speed_ax.axvline(1.0, color="#999999", linewidth=1)
        base = next((r for r in rows if r["impl"] == BASELINE), None)
        for s in (base or {}).get("speedups", {}).values():
            if s:
                speed_ax.axvline(s["value"], color=c.colour(BASELINE), linestyle=":",
                                 linewidth=1)
        speed_ax.set_xlabel(f"speed-up T{workers[0]} / T{workers[-1]} (median ratio)")

    return c._render(draw, 10, 0.35 * len(rows) + 1.5, chart_id,
                     "Wall time per worker count and speed-up against the ideal")


# ---------------------------------------------------------------- html

def html(section: dict, charts: dict) -> str:
    from bench.render.html import e, figure, note, spread_cell, table

    head = f'<section id="parallel"><h2>{e(TITLE)}</h2>'
    if not section.get("measured"):
        return (head + note("Not measured in this run: the parallel scenario runs in the scaling "
                            "and full profiles (python -m bench all --scaling).") + "</section>")
    workers = section["workers"]
    more = workers[1:]
    headers = (["tool · runner"] + [f"wall, {w} worker{'s' if w > 1 else ''}" for w in workers]
               + [f"speed-up at {w} workers (ideal ×{w / workers[0]:g})" for w in more]
               + [f"÷ baseline's speed-up at {w}" for w in more]
               + [f"overhead per fold at {w}" for w in workers]
               + [f"folds at {w} worker{'s' if w > 1 else ''} (trace)" for w in workers])
    rows = []
    for row in section["rows"]:
        cells = [e(row["label"])]
        cells += [spread_cell(row["walls"][w]) for w in workers]
        cells += [_speedup_cell(row["speedups"].get(w)) for w in more]
        cells += [_number(row["vs_baseline_speedup"].get(w), "×") for w in more]
        cells += [_seconds(row["overhead_per_fold_s"].get(w)) for w in workers]
        # at every worker count: a runner may overlap more folds than it was given workers
        cells += [e(row["facts"][w]["verdict"] or "no fold spans") for w in workers]
        rows.append(cells)
    folds = section.get("folds")
    intro = (f"<p>The Titanic model selection as independent tasks: {e(folds or '?')} fold tasks "
             "(k-fold cross-validation over a hyperparameter grid), then a reduce that trains "
             "the best candidate. Every execution's predictions are checked byte for byte "
             "against the plain-Python selection run with one worker. The plain baseline runs "
             "its folds in a loop with one worker and in a multiprocessing pool with more: its "
             "speed-up is what the machine itself allows.</p>")
    notes = "".join(note(t) for t in (
        f"Method: {section['method']}. Overhead per fold = (median wall - the baseline's median "
        "wall at the same number of workers) / folds.",
        "A dask cluster is started before the timed run and stopped after it (untimed): the "
        "timed run is what a team pays per flow run once a cluster is up. Its workers' CPU "
        "time is not in the record's cpu_s, which covers the command's own process tree.",
        "Concurrency comes from the fold spans in the trace: how many fold computations "
        "overlapped at most, and in how many processes they ran."))
    return (head + intro + table(headers, rows)
            + figure(charts.get("parallel_speedup"), "chart-parallel-speedup",
                     "Left: every sample of wall time (marker = worker count; hollow = warm-up, "
                     "cross = failed or unverified). Right: speed-up with its interval where "
                     "there are enough samples; dashed line = ideal, dotted line = the "
                     "baseline's speed-up, grey line = no speed-up.")
            + notes + "</section>")


def _speedup_cell(s: dict | None) -> str:
    from bench.render.html import e

    if not s:
        return '<span class="na">n/a</span>'
    text = f"×{s['value']:.2f}"
    if s["low"] is not None:
        text += f'<span class="sub">[{s["low"]:.2f}, {s["high"]:.2f}] 95 % CI</span>'
    else:
        text += f'<span class="sub">n={s["n_a"]} vs {s["n_b"]}: no interval</span>'
    share = f"{s['efficiency'] * 100:.0f} % of ideal"
    return text + f'<span class="sub">{e(share)}</span>'


def _number(value: float | None, prefix: str = "") -> str:
    return '<span class="na">n/a</span>' if value is None else f"{prefix}{value:.2f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return '<span class="na">n/a</span>'
    return f"{value * 1000:+.0f} ms"
