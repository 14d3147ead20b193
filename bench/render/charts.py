"""Charts as inline SVG strings, drawn with matplotlib's Agg-free SVG path (no pyplot state).

Every chart draws every sample as a point; bars appear only where a wall time is split into
parts. Samples that cannot enter a median are drawn too, warm-ups hollow and failures as
crosses, so they are visible without being mistaken for measurements.
"""
from __future__ import annotations

import atexit
import io
import itertools
import os
import re
import shutil
import tempfile

# matplotlib caches its font list under ~/.config or ~/.cache; rendering a report must not
# write into the user's home, so its cache lives in a directory removed at exit.
if "MPLCONFIGDIR" not in os.environ:
    os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="bench-matplotlib-")
    atexit.register(shutil.rmtree, os.environ["MPLCONFIGDIR"], ignore_errors=True)

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # before anything imports pyplot: no display, no GUI toolkit

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from bench.render import fmt  # noqa: E402

STYLE = {
    "svg.fonttype": "none",          # text stays text: small, selectable, searchable
    "svg.hashsalt": "bench-report",  # stable ids, so the same records give the same bytes
    "font.size": 9,
    "font.family": "DejaVu Sans",  # shipped with matplotlib, so metrics are always right
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
}
SVG_FONTS = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif"
TOOL_COLOURS = {"baseline": "#555555", "luigi": "#2a6fbb", "prefect": "#1a9e77",
                "snakemake": "#d95f02"}
EXTRA_COLOURS = itertools.cycle(["#7570b3", "#e7298a", "#66a61e", "#a6761d"])
MARKERS = ("o", "s", "^", "D", "v", "P")
PART_COLOURS = {"startup": "#b0b0b0", "compute": "#4c72b0", "io": "#dd8452",
                "orchestration": "#c9b8e6"}
PART_NAMES = {"startup": "start-up", "compute": "compute", "io": "file IO",
              "orchestration": "orchestration"}
KIND_COLOURS = {"compute": PART_COLOURS["compute"], "read": "#e9a66a", "write": "#c4542a"}
EXCLUDED = "#c0392b"
WARMUP = "#9a9a9a"


def colour(impl: str) -> str:
    if impl not in TOOL_COLOURS:
        TOOL_COLOURS[impl] = next(EXTRA_COLOURS)
    return TOOL_COLOURS[impl]


def marker(index: int) -> str:
    return MARKERS[index % len(MARKERS)]


def to_svg(fig: Figure, chart_id: str, title: str) -> str:
    """Inline-ready SVG: no XML prolog, ids prefixed per chart, sized by its container."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    # Where DejaVu is not installed, fall back to a sans-serif font rather than the browser's serif.
    svg = svg.replace("font-family: 'DejaVu Sans'", f"font-family: {SVG_FONTS}")
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{chart_id}-\1"', svg)
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"',
                 rf'<svg\1 class="chart-svg" role="img" aria-label="{_attr(title)}"', svg, count=1)
    return svg.strip()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _render(draw, width: float, height: float, chart_id: str, title: str) -> str:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        draw(fig)
        return to_svg(fig, chart_id, title)


def _points(ax, xs, ys, pts, col, mk, horizontal=False, label=None):
    """Usable samples filled; warm-ups hollow grey; failed or unverified ones red crosses."""
    groups = {"ok": [], "warmup": [], "failed": []}
    for x, y, p in zip(xs, ys, pts):
        if y is not None:
            groups[_kind(p)].append((x, y))
    styles = {"ok": dict(color=col, marker=mk, alpha=0.8, markersize=4.5, label=label),
              "warmup": dict(color=WARMUP, marker="o", markerfacecolor="none", markersize=4.5),
              "failed": dict(color=EXCLUDED, marker="x", markersize=5)}
    for kind, found in groups.items():
        if found:
            a, b = zip(*found)
            ax.plot(*((b, a) if horizontal else (a, b)), linestyle="none", **styles[kind])


def _kind(point: dict) -> str:
    if point["usable"]:
        return "ok"
    return "warmup" if point.get("warmup") and point.get("status") == "ok" else "failed"


def _seconds_axis(axis) -> None:
    """Log scale labelled in plain seconds (1 s, 2 s, 5 s...) instead of powers of ten."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt.seconds_tick(v)))
    axis.set_minor_formatter(NullFormatter())


def _scale_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"×{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _spread(n: int, width: float = 0.28) -> list[float]:
    """Small deterministic offsets, so equal values stay visible side by side."""
    if n <= 1:
        return [0.0] * n
    return [-width / 2 + width * i / (n - 1) for i in range(n)]


# --- wall time split ------------------------------------------------------------------------

def breakdown(rows: list[dict], chart_id: str = "breakdown") -> str | None:
    rows = [r for r in rows if r["wall"]["n"]]
    if not rows:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        labels = [r["label"] for r in rows][::-1]
        ordered = rows[::-1]
        left = [0.0] * len(rows)
        for part in ("startup", "compute", "io", "orchestration"):
            widths = [r[part]["median"] or 0 for r in ordered]
            ax.barh(labels, widths, left=left, color=PART_COLOURS[part], height=0.55,
                    label=f"{PART_NAMES[part]} (median)")
            left = [a + b for a, b in zip(left, widths)]
        for y, r in enumerate(ordered):
            pts = r["points"]
            offs = _spread(len(pts), 0.4)
            _points(ax, [y + o for o in offs], [p["wall"] for p in pts], pts, "#111111", "o",
                    horizontal=True)
        ax.set_xlabel("seconds: bars are the median of each part, dots every run's wall time "
                      "(hollow: warm-up, ×: failed)")
        ax.set_xlim(left=0)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=4,
                   fontsize=8, frameon=False)

    return _render(draw, 10, 0.34 * len(rows) + 1.3, chart_id, "Cold run wall time split into parts")


# --- IO against scale ------------------------------------------------------------------------

def io_sweep(sweep: dict, floor_rt: dict[str, list[dict]], chart_id: str = "io-sweep") -> str | None:
    formats = sweep["formats"]
    if not formats or not sweep["series"]:
        return None
    memory = [s for s in sweep["series"] if s["in_memory"]]

    def draw(fig):
        axes = fig.subplots(1, len(formats), sharey=True, squeeze=False)[0]
        mode_marks = {}
        for ax, f in zip(axes, formats):
            for s in [s for s in sweep["series"] if s["format"] == f]:
                mk = mode_marks.setdefault(s["label"], marker(len(mode_marks)))
                _series_on(ax, s, colour(s["impl"]), mk, "io")
            for s in memory:
                med = [(p["scale"], p["io"]["median"]) for p in s["per_scale"] if p["io"]["n"]]
                if med:
                    ax.plot(*zip(*med), color=colour(s["impl"]), linestyle=":", linewidth=1.2,
                            marker="_", markersize=10,
                            label=f"{s['label']} in memory (lower bound)")
            floor = floor_rt.get(f) or []
            if floor:
                ax.plot([p["scale"] for p in floor], [p["seconds"] for p in floor], color="black",
                        linestyle="--", linewidth=1.2, marker="_", markersize=12,
                        label="floor: write+read in-process")
            ax.set_xscale("log")
            ax.set_yscale("log")
            _scale_axis(ax.xaxis)
            _seconds_axis(ax.yaxis)
            ax.set_title(f, fontsize=10)
            ax.set_xlabel("data scale (row multiplier)")
        axes[0].set_ylabel("file IO seconds per run (read + write spans)")
        handles, labels = _unique_legend(axes)
        fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False)

    return _render(draw, 10, 3.8, chart_id, "File IO time against data scale, per format")


def _series_on(ax, s: dict, col: str, mk: str, key: str):
    pts = s["points"]
    _points(ax, [p["scale"] * (1 + 0.04 * o) for p, o in zip(pts, _spread(len(pts), 2))],
            [p[key] for p in pts], pts, col, mk)
    med = [(p["scale"], p[key]["median"]) for p in s["per_scale"] if p[key]["n"]]
    if med:
        ax.plot(*zip(*med), color=col, marker=mk, linewidth=1.2, markersize=0, label=s["label"])


def _unique_legend(axes):
    seen = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    return list(seen.values()), list(seen.keys())


def io_bytes(sweep: dict, floor_points: list[dict], chart_id: str = "io-bytes") -> str | None:
    series = [s for s in sweep["series"] if any(p["io_bytes"] for p in s["per_scale"])]
    if not series:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        mode_marks = {}
        fmt_styles = {f: ls for f, ls in zip(sweep["formats"], ("-", "--", "-.", ":"))}
        for s in series:
            mk = mode_marks.setdefault(s["label"], marker(len(mode_marks)))
            pts = [(p["scale"], p["io_bytes"]) for p in s["per_scale"] if p["io_bytes"]]
            name = f"{s['label']}, {s['format'] or 'in memory'}"
            ax.plot(*zip(*pts), color=colour(s["impl"]), marker=mk, markersize=4,
                    linestyle=fmt_styles.get(s["format"], ":"), linewidth=1, label=name, alpha=0.85)
        floor = [p for p in floor_points if p["bytes"] and p["op"] == "write"]
        for f in sweep["formats"]:
            pts = sorted((p["scale"], p["bytes"]) for p in floor if p["format"] == f)
            if pts:
                ax.plot(*zip(*pts), color="black", linestyle=fmt_styles.get(f, ":"), linewidth=0.8,
                        marker="|", label=f"floor table, {f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _scale_axis(ax.xaxis)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.nbytes(v)))
        ax.set_xlabel("data scale (row multiplier)")
        ax.set_ylabel("bytes read + written per run (from spans)")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)

    return _render(draw, 10, 3.4, chart_id, "Bytes handed over against data scale")


# --- resume ----------------------------------------------------------------------------------

def resume(rows: list[dict], chart_id: str = "resume") -> str | None:
    rows = [r for r in rows if r["steps"]]
    if not rows:
        return None

    def draw(fig):
        axes = fig.subplots(1, len(rows), squeeze=False)[0]
        for ax, row in zip(axes, rows):
            col = colour(row["impl"])
            names = [s["step"] for s in row["steps"]]
            cold = row["cold"]
            if cold["n"]:
                ax.axhspan(cold["q1"], cold["q3"], color="#dddddd", alpha=0.7, label="cold run IQR")
                ax.axhline(cold["median"], color="#333333", linestyle="--", linewidth=1,
                           label="cold run median")
            for i, s in enumerate(row["steps"]):
                pts = s["points"]
                _points(ax, [i + o for o in _spread(len(pts))], [p["wall"] for p in pts], pts,
                        col, "o")
                if s["wall"]["n"]:
                    ax.plot([i - 0.25, i + 0.25], [s["wall"]["median"]] * 2, color=col, linewidth=2)
            ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
            ax.set_title(row["label"], fontsize=9)
            ax.set_ylim(bottom=0)
        axes[0].set_ylabel("seconds to finish after a failure at the step")
        handles, labels = _unique_legend(axes)
        fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)

    return _render(draw, 10, 3.2, chart_id,
                   "Time to finish after a failure at each step, against a cold run")


# --- cost on top -----------------------------------------------------------------------------

COST_PANELS = (("first_run", "first run (fresh tool home)"), ("cold", "cold run"),
               ("noop", "no-op rerun"))


def cost(rows: list[dict], chart_id: str = "cost") -> str | None:
    panels = [(k, t) for k, t in COST_PANELS if any(r["points"][k] for r in rows)]
    if not panels:
        return None

    def draw(fig):
        axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
        labels = [r["label"] for r in rows][::-1]
        for ax, (key, title) in zip(axes, panels):
            for y, r in enumerate(rows[::-1]):
                pts = r["points"][key]
                _points(ax, [p["wall"] for p in pts], [y + o for o in _spread(len(pts), 0.4)],
                        pts, colour(r["impl"]), "o")
                if r[key]["n"]:
                    ax.plot([r[key]["median"]] * 2, [y - 0.3, y + 0.3], color="black", linewidth=1.5)
            ax.set_yticks(range(len(labels)), labels)
            ax.set_xscale("log")
            _seconds_axis(ax.xaxis)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("seconds (log scale)")

    return _render(draw, 10, 0.3 * len(rows) + 1.3, chart_id,
                   "First run, cold run and no-op rerun per tool and mode")


def footprint(footprint: list[dict], chart_id: str = "footprint") -> str | None:
    if not footprint:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        names = [f["impl"] for f in footprint][::-1]
        for y, f in enumerate(footprint[::-1]):
            pts = f["points"]
            _points(ax, [p["value"] for p in pts], [y + o for o in _spread(len(pts), 0.4)],
                    pts, colour(f["impl"]), "o")
            if f["import"]["n"]:
                ax.plot([f["import"]["median"]] * 2, [y - 0.3, y + 0.3], color="black",
                        linewidth=1.5)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("seconds to import the tool in a fresh process (black tick: median)")
        ax.set_xlim(left=0)

    return _render(draw, 10, 0.32 * len(footprint) + 1.0, chart_id, "Import time per tool")


# --- Gantt -----------------------------------------------------------------------------------

def gantt(rows: list[dict], steps: list[str], chart_id: str = "gantt") -> str | None:
    if not rows:
        return None

    def draw(fig):
        axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
        for ax, g in zip(axes, rows):
            present = {str(sp["step"]) for sp in g["spans"]}
            names = (["start-up"] + [s for s in steps if s in present]
                     + sorted(present - set(steps)))
            y = {name: len(names) - 1 - i for i, name in enumerate(names)}
            first = min(s["start"] for s in g["spans"])
            ax.broken_barh([(0, first)], (y["start-up"] - 0.35, 0.7), color=PART_COLOURS["startup"])
            for s in g["spans"]:
                ax.broken_barh([(s["start"], max(s["end"] - s["start"], g["wall_s"] / 800))],
                               (y[str(s["step"])] - 0.35, 0.7),
                               color=KIND_COLOURS.get(s["kind"], "#888"))
            ax.axvline(g["wall_s"], color="black", linewidth=0.8, linestyle=":")
            ax.set_yticks(list(y.values()), list(y.keys()))
            ax.set_xlim(0, g["wall_s"] * 1.01)
            which = (f"median of n={g['n']}: {fmt.seconds(g['median_s'])}" if g["n"] > 1
                     else "the only usable cold run")
            ax.set_title(f"{g['label']}: round {g['round']}, {fmt.seconds(g['wall_s'])} ({which})",
                         fontsize=9, loc="left")
        axes[-1].set_xlabel("seconds since launch (dotted line: process exit)")
        handles = [Patch(color=PART_COLOURS["startup"], label="start-up")] + [
            Patch(color=c, label=k) for k, c in KIND_COLOURS.items()] + [
            Line2D([], [], color="white", label="gaps: orchestration")]
        fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8, frameon=False)

    return _render(draw, 10, 1.65 * len(rows) + 0.8, chart_id,
                   "Timeline of one representative cold run per tool")
