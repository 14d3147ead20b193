"""Cost per task: per (tool, mode, shape), a straight-line fit of wall time on N
(analysis/fit.py cites the method), its residuals, whether cost is linear in N, and every size
at which the tool failed."""
from __future__ import annotations

import re
import statistics

from bench.engine.profiles import SHAPES
from bench.render import charts as c
from bench.render.analysis import fit
from bench.render.analysis.groups import Index, label
from bench.render.load import RunData
from bench.render.sections.base import Section
from bench.store.records import Record

SHAPE_NAMES = {"chain": "chain (task i needs task i−1)",
               "fanout": "fan-out (N independent tasks, then one gather)"}
MESSAGE_LINE = re.compile(r"\b\w*(Error|Exception|Timeout|Killed)\b.*")


def build(run: RunData, ix: Index) -> dict:
    recs = ix.select("pertask")
    if not recs:
        return {"measured": False}
    rows = [_row(ix, impl, mode, shape, group)
            for impl, mode in ix.pairs("pertask") for shape in _shapes(r.variant for r in recs)
            if (group := [r for r in recs if (r.impl, r.mode, r.variant) == (impl, mode, shape)])]
    return {"measured": True, "method": fit.METHOD, "rows": rows,
            "sizes": sorted({r.size for r in recs}),
            "failures": [_failure(r) for r in recs if r.status != "ok"]}


def _shapes(present) -> list[str]:
    present = set(present) - {None}
    return [s for s in SHAPES if s in present] + sorted(present - set(SHAPES))


def _row(ix: Index, impl: str, mode: str, shape: str, group: list[Record]) -> dict:
    usable = [r for r in group if r.usable]
    fitted = fit.fit([r.size for r in usable], [r.wall_s for r in usable])
    return {"impl": impl, "mode": mode, "shape": shape, "label": label(impl, mode),
            "colour": ix.colour(impl),
            "n_usable": len(usable), "sizes": sorted({r.size for r in group}),
            "failed_sizes": sorted({r.size for r in group if r.status != "ok" and not r.warmup}),
            "fit": _fit_data(fitted), "medians": _medians(usable),
            "points": [{"n": r.size, "wall_s": r.wall_s, "usable": r.usable, "warmup": r.warmup,
                        "status": r.status, "round": r.round, "ran": r.detail.not_run is None}
                       for r in sorted(group, key=lambda r: (r.size, r.round))]}


def _medians(usable: list[Record]) -> list[dict]:
    by_n: dict[int, list[float]] = {}
    for r in usable:
        by_n.setdefault(r.size, []).append(r.wall_s)
    return [{"n": n, "median_s": statistics.median(walls), "samples": len(walls)}
            for n, walls in sorted(by_n.items())]


def _fit_data(f: fit.LinearFit | None) -> dict | None:
    if f is None:
        return None
    cv = f.curvature
    return {"fixed_s": _coef(f.fixed), "per_task_s": _coef(f.per_task),
            "n_samples": f.n_samples, "sizes": list(f.sizes),
            "residuals": [{"n": n, "wall_s": w, "residual_s": r} for n, w, r in f.residuals],
            "max_relative_residual": f.max_relative_residual,
            "curvature": None if cv is None else {
                **_coef(cv.coefficient), "departure": cv.departure,
                "significant": cv.significant, "material": cv.material},
            "linear": f.linear}


def _coef(cf: fit.Coefficient) -> dict:
    return {"value": cf.value, "low": cf.low, "high": cf.high}


def _failure(r: Record) -> dict:
    message = r.detail.tool_message or r.detail.error or r.stderr_tail.strip()
    # a timed-out tool was still working: its last output line is progress, not a reason
    if r.status == "timeout":
        title = (r.detail.not_run
                 or f"timed out after {r.wall_s:.0f} s (the profile's limit per run)")
    else:
        title = headline(message)
    return {"label": label(r.impl, r.mode), "shape": r.variant, "n": r.size, "round": r.round,
            "warmup": r.warmup, "status": r.status, "not_run": r.detail.not_run,
            "wall_s": r.wall_s, "headline": title, "message": message, "log": r.detail.log}


def headline(message: str) -> str:
    """The line that names the failure (the last exception-like line), else the last line."""
    lines = [ln.strip() for ln in (message or "").splitlines() if ln.strip()]
    named = [m.group(0) for ln in lines if (m := MESSAGE_LINE.search(ln))]
    return (named or lines or [""])[-1][:200]


# ---------------------------------------------------------------- charts

def charts(data: dict) -> dict[str, str | None]:
    if not data.get("measured"):
        return {"pertask_fit": None, "pertask_residuals": None}
    fitted = [r for r in data["rows"] if r["fit"]]
    return {"pertask_fit": _chart(data["rows"], "pertask_fit", residuals=False),
            "pertask_residuals": _chart(fitted, "pertask_residuals", residuals=True)}


def _chart(rows: list[dict], name: str, residuals: bool) -> str | None:
    shapes = _shapes(r["shape"] for r in rows)
    if not shapes:
        return None
    pairs = list(dict.fromkeys((r["impl"], r["mode"]) for r in rows))

    def draw(fig):
        axes = fig.subplots(1, len(shapes), squeeze=False)[0]
        for ax, shape in zip(axes, shapes):
            for row in (r for r in rows if r["shape"] == shape):
                i = pairs.index((row["impl"], row["mode"]))
                _draw_row(ax, row, c.marker(i), residuals)
            ax.set_title(SHAPE_NAMES.get(shape, shape))
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
    return c.render(draw, 8.0, 3.9, name, title)


def _draw_row(ax, row: dict, mk: str, residuals: bool) -> None:
    f, col = row["fit"], row["colour"]
    if residuals:
        if f:
            ax.plot([p["n"] for p in f["residuals"]], [p["residual_s"] for p in f["residuals"]],
                    linestyle="none", color=col, marker=mk, markersize=4.5, alpha=0.8,
                    label=row["label"])
        return
    ran = [p for p in row["points"] if p["ran"]]
    c.plot_points(ax, [p["n"] for p in ran], [p["wall_s"] for p in ran], ran, col, mk,
                  label=row["label"])
    if f:
        top = max(f["sizes"])
        ax.plot([0, top], [f["fixed_s"]["value"],
                           f["fixed_s"]["value"] + f["per_task_s"]["value"] * top],
                color=col, linewidth=1.0, alpha=0.7)


SECTION = Section("pertask", "Cost per task", build, charts)
