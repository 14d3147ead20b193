"""Report section for the pertask scenario: numbers (section), SVG charts (charts), HTML (html).

Per (tool, mode, shape): a straight-line fit of wall time on N (bench/fit.py cites the method),
its residuals, whether cost is linear in N, and every size at which the tool failed.
"""
from __future__ import annotations

import re
import statistics

from bench import fit
from bench.records import Record
from bench.render.groups import Index, label

TITLE = "Cost per task"
SHAPES = ("chain", "fanout")
SHAPE_NAMES = {"chain": "chain (task i needs task i−1)",
               "fanout": "fan-out (N independent tasks, then one gather)"}
MESSAGE_LINE = re.compile(r"\b\w*(Error|Exception|Timeout|Killed)\b.*")


def section(ix: Index) -> dict:
    recs = ix.select("pertask")
    if not recs:
        return {"measured": False}
    rows = [_row(impl, mode, shape, group)
            for impl, mode in ix.pairs("pertask") for shape in SHAPES
            if (group := [r for r in recs if (r.impl, r.mode, r.step) == (impl, mode, shape)])]
    return {"measured": True, "method": fit.METHOD, "rows": rows,
            "sizes": sorted({r.scale for r in recs}),
            "failures": [_failure(r) for r in recs if r.status != "ok"]}


def _row(impl: str, mode: str, shape: str, group: list[Record]) -> dict:
    usable = [r for r in group if r.usable]
    fitted = fit.fit([r.scale for r in usable], [r.wall_s for r in usable])
    return {"impl": impl, "mode": mode, "shape": shape, "label": label(impl, mode),
            "n_usable": len(usable), "sizes": sorted({r.scale for r in group}),
            "failed_sizes": sorted({r.scale for r in group if r.status != "ok" and not r.warmup}),
            "fit": _fit_data(fitted), "medians": _medians(usable),
            "points": [{"n": r.scale, "wall_s": r.wall_s, "usable": r.usable, "warmup": r.warmup,
                        "status": r.status, "round": r.round, "ran": "not_run" not in r.detail}
                       for r in sorted(group, key=lambda r: (r.scale, r.round))]}


def _medians(usable: list[Record]) -> list[dict]:
    by_n: dict[int, list[float]] = {}
    for r in usable:
        by_n.setdefault(r.scale, []).append(r.wall_s)
    return [{"n": n, "median_s": statistics.median(walls), "samples": len(walls)}
            for n, walls in sorted(by_n.items())]


def _fit_data(f: fit.LinearFit | None) -> dict | None:
    if f is None:
        return None
    c = f.curvature
    return {"fixed_s": _coef(f.fixed), "per_task_s": _coef(f.per_task),
            "n_samples": f.n_samples, "sizes": list(f.sizes),
            "residuals": [{"n": n, "wall_s": w, "residual_s": r} for n, w, r in f.residuals],
            "max_relative_residual": f.max_relative_residual,
            "curvature": None if c is None else {
                **_coef(c.coefficient), "departure": c.departure,
                "significant": c.significant, "material": c.material},
            "linear": f.linear}


def _coef(c: fit.Coefficient) -> dict:
    return {"value": c.value, "low": c.low, "high": c.high}


def _failure(r: Record) -> dict:
    message = r.detail.get("tool_message") or r.detail.get("error") or r.stderr_tail.strip()
    # a timed-out tool was still working: its last output line is progress, not a reason
    if r.status == "timeout":
        title = (r.detail.get("not_run")
                 or f"timed out after {r.wall_s:.0f} s (the profile's limit per run)")
    else:
        title = headline(message)
    return {"label": label(r.impl, r.mode), "shape": r.step, "n": r.scale, "round": r.round,
            "warmup": r.warmup, "status": r.status, "not_run": r.detail.get("not_run"),
            "wall_s": r.wall_s, "headline": title, "message": message,
            "log": r.detail.get("log")}


def headline(message: str) -> str:
    """The line that names the failure (the last exception-like line), else the last line."""
    lines = [ln.strip() for ln in (message or "").splitlines() if ln.strip()]
    named = [m.group(0) for ln in lines if (m := MESSAGE_LINE.search(ln))]
    return (named or lines or [""])[-1][:200]


# ---------------------------------------------------------------- charts

def charts(section: dict) -> dict[str, str | None]:
    if not section.get("measured"):
        return {"pertask_fit": None, "pertask_residuals": None}
    fitted = [r for r in section["rows"] if r["fit"]]
    return {"pertask_fit": _chart(section["rows"], "pertask_fit", residuals=False),
            "pertask_residuals": _chart(fitted, "pertask_residuals", residuals=True)}


def _chart(rows: list[dict], chart_id: str, residuals: bool) -> str | None:
    from bench.render import charts as c

    shapes = [s for s in SHAPES if any(r["shape"] == s for r in rows)]
    if not shapes:
        return None
    pairs = list(dict.fromkeys((r["impl"], r["mode"]) for r in rows))

    def draw(fig):
        axes = fig.subplots(1, len(shapes), squeeze=False)[0]
        for ax, shape in zip(axes, shapes):
            for row in (r for r in rows if r["shape"] == shape):
                i = pairs.index((row["impl"], row["mode"]))
                _draw_row(ax, row, c.colour(row["impl"]), c.marker(i), residuals, c)
            ax.set_title(SHAPE_NAMES[shape])
            ax.set_xlabel("N tasks")
            ax.set_ylabel("residual (s)" if residuals else "wall time (s)")
            if residuals:
                ax.axhline(0, color="#888888", linewidth=0.8)
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)),
                       frameon=False)

    title = ("Residuals of the straight-line fit" if residuals
             else "Wall time against the number of tasks, with the fitted lines")
    return c._render(draw, 8.0, 3.9, chart_id, title)


def _draw_row(ax, row: dict, col: str, mk: str, residuals: bool, c) -> None:
    f = row["fit"]
    if residuals:
        if f:
            ax.plot([p["n"] for p in f["residuals"]], [p["residual_s"] for p in f["residuals"]],
                    linestyle="none", color=col, marker=mk, markersize=4.5, alpha=0.8,
                    label=row["label"])
        return
    ran = [p for p in row["points"] if p["ran"]]
    c._points(ax, [p["n"] for p in ran], [p["wall_s"] for p in ran], ran, col, mk,
              label=row["label"])
    if f:
        top = max(f["sizes"])
        ax.plot([0, top], [f["fixed_s"]["value"], f["fixed_s"]["value"] + f["per_task_s"]["value"] * top],
                color=col, linewidth=1.0, alpha=0.7)


# ---------------------------------------------------------------- HTML

def html(section: dict, charts: dict) -> str:
    from bench.render.html import e, figure, note, table

    head = f'<section id="pertask"><h2>{e(TITLE)}</h2>'
    if not section.get("measured"):
        return (head + note("Not measured in this run: the pertask scenario runs in the scaling "
                            "and full profiles (python -m bench all --scaling).") + "</section>")
    rows = [[e(r["label"]), e(r["shape"]), *_fit_cells(r["fit"], e), e(_medians_text(r)),
             e(_sizes(r))] for r in section["rows"]]
    failures = [[e(f["label"]), e(f["shape"]), e(f["n"]), e(_round(f)),
                 e(f["status"].replace("_", " ")), _message_cell(f, e)]
                for f in section["failures"]]
    return "".join([
        head,
        "<p>N trivial tasks, each writing a tiny JSON file through the same core function in "
        "every tool, as a chain and as a fan-out. Wall time is fitted as fixed + N × per-task: "
        "the fixed part is start-up and teardown, the slope is what each extra task costs.</p>",
        figure(charts.get("pertask_fit"), "chart-pertask-fit",
               "Every run as a point (crosses: failed or unverified; hollow: warm-up), and the "
               "straight line fitted to the usable ones."),
        table(["tool · mode", "shape", "fixed", "per task", "max |residual| / fit",
               "linear in N?", "median wall by N", "sizes (failed)"], rows, "pertask"),
        figure(charts.get("pertask_residuals"), "chart-pertask-residuals",
               "Residuals (measured − fitted) of the usable runs: a curve rather than a band "
               "around 0 means cost is not linear in N."),
        f"<p class=\"method\">{e(section['method'])}</p>",
        "<h3>Failures</h3>",
        table(["tool · mode", "shape", "N", "round", "status", "tool's message"], failures,
              "pertask-failures")
        if failures else note("No tool failed at any N in this run."),
        "</section>",
    ])


def _fit_cells(f: dict | None, e) -> list[str]:
    if f is None:
        return ['<span class="na">fewer than 2 sizes with usable runs</span>'] + [""] * 3
    # a per-task cost of a second or more (a process per job) reads better in seconds
    per_task_in_s = abs(f["per_task_s"]["value"]) >= 1.0
    return [_coef_cell(f["fixed_s"], 1.0, "s", e),
            _coef_cell(f["per_task_s"], *((1.0, "s") if per_task_in_s else (1000.0, "ms")), e),
            e(f"{f['max_relative_residual']:.1%}"), e(_linear_text(f))]


def _coef_cell(c: dict, factor: float, unit: str, e) -> str:
    value = f"{c['value'] * factor:.3g} {unit}"
    if c["low"] is None:
        return f'{e(value)}<span class="sub">no interval (too few samples)</span>'
    return (f'{e(value)}<span class="sub">95 % CI [{c["low"] * factor:.3g}, '
            f'{c["high"] * factor:.3g}]</span>')


def _linear_text(f: dict) -> str:
    if f["linear"] is None:
        return "cannot tell (fewer than 3 sizes)"
    c = f["curvature"]
    if f["linear"]:
        return "yes"
    bend = "grows faster" if c["value"] > 0 else "grows slower"
    return f"no: {bend} than linear (up to {c['departure']:.0%} off the line)"


def _medians_text(row: dict) -> str:
    from bench.render import fmt
    return " · ".join(f"{m['n']}: {fmt.seconds(m['median_s'])}" for m in row["medians"]) or "—"


def _sizes(row: dict) -> str:
    failed = set(row["failed_sizes"])
    return ", ".join(f"{n}" + (" (failed)" if n in failed else "") for n in row["sizes"])


def _round(f: dict) -> str:
    return "warm-up" if f["warmup"] else str(f["round"])


def _message_cell(f: dict, e) -> str:
    prefix = f"{f['not_run']}. " if f["not_run"] else ""
    preview = prefix + (f["headline"] or "no message")
    if not f["message"]:
        return e(preview)
    return f"<details><summary>{e(preview)}</summary><pre>{e(f['message'])}</pre></details>"
