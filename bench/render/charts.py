"""Matplotlib plumbing for the report's charts: style, inline SVG export, points and axes.

What each chart shows is drawn by its section (bench/render/sections/); colours of the tools
come from the run (ImplInfo.colour), carried in the section's data. Every chart draws every
sample as a point; samples that cannot enter a median are drawn too, warm-ups hollow and
failures as crosses, so they are visible without being mistaken for measurements.
"""
from __future__ import annotations

import atexit
import io
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
MARKERS = ("o", "s", "^", "D", "v", "P")
PART_COLOURS = {"startup": "#b0b0b0", "compute": "#4c72b0", "io": "#dd8452",
                "orchestration": "#c9b8e6"}
PART_NAMES = {"startup": "start-up", "compute": "compute", "io": "file IO",
              "orchestration": "orchestration"}
KIND_COLOURS = {"compute": PART_COLOURS["compute"], "read": "#e9a66a", "write": "#c4542a"}
NEUTRAL = "#555555"
EXCLUDED = "#c0392b"
WARMUP = "#9a9a9a"


def figure_id(name: str) -> str:
    """The page id of a chart (chart-io-sweep for io_sweep), also the prefix of its SVG ids."""
    return "chart-" + name.replace("_", "-")


def marker(index: int) -> str:
    return MARKERS[index % len(MARKERS)]


def render(draw, width: float, height: float, name: str, title: str) -> str:
    """Call draw(fig) on a fresh figure in the report's style and return it as inline SVG."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        draw(fig)
        return to_svg(fig, figure_id(name), title)


def to_svg(fig: Figure, prefix: str, title: str) -> str:
    """Inline-ready SVG: no XML prolog, ids prefixed per chart, sized by its container."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    # Where DejaVu is not installed, fall back to a sans-serif font rather than the browser's serif.
    svg = svg.replace("font-family: 'DejaVu Sans'", f"font-family: {SVG_FONTS}")
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"',
                 rf'<svg\1 class="chart-svg" role="img" aria-label="{_attr(title)}"', svg, count=1)
    return svg.strip()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def plot_points(ax, xs, ys, pts, col, mk, horizontal=False, label=None):
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


def seconds_axis(axis) -> None:
    """Log scale labelled in plain seconds (1 s, 2 s, 5 s...) instead of powers of ten."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt.seconds_tick(v)))
    axis.set_minor_formatter(NullFormatter())


def scale_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"×{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def bytes_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt.nbytes(v)))


def offsets(n: int, width: float = 0.28) -> list[float]:
    """Small deterministic offsets, so equal values stay visible side by side."""
    if n <= 1:
        return [0.0] * n
    return [-width / 2 + width * i / (n - 1) for i in range(n)]


def legend_handles(patches: list[tuple[str, str]], lines: list[tuple[str, str]] = ()) -> list:
    """Legend entries not drawn as such: (label, colour) filled boxes, then lines."""
    return ([Patch(color=col, label=lab) for lab, col in patches]
            + [Line2D([], [], color=col, label=lab) for lab, col in lines])


def unique_legend(axes):
    seen = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    return list(seen.values()), list(seen.keys())
