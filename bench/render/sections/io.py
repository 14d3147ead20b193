"""File IO cost: each cold run's wall time split from its spans, the IO sweep against the data
scale, and the in-process pytest-benchmark floor (floor.json) it is compared with."""
from __future__ import annotations

import collections
import re

from bench.engine.profiles import FORMATS
from bench.render import charts as c
from bench.render.analysis import stats
from bench.render.analysis.groups import (Index, label, most_common, ratio, samples, split,
                                          split_value)
from bench.render.load import RunData
from bench.render.sections.base import Section

PARTS = ("startup", "compute", "io", "orchestration")


def build(run: RunData, ix: Index) -> dict:
    floor = floor_points(run.floor)
    sweep = _sweep(ix)
    return {
        "breakdown": [_breakdown(ix, impl, mode) for impl, mode in ix.pairs("cold")],
        "sweep": sweep,
        "sweep_rows": _sweep_rows(sweep, floor),
        "floor": floor,
        "floor_round_trip": floor_round_trip(floor),
        "floor_problem": run.floor_problem,
        "lower_bound": _lower_bound(ix),
        "cross_check": _cross_check(ix),
    }


def _breakdown(ix: Index, impl: str, mode: str) -> dict:
    recs = ix.select("cold", impl, mode)
    row = {"impl": impl, "mode": mode, "label": label(impl, mode), "colour": ix.colour(impl),
           "files": ix.handoff_is_files(impl, mode), "wall": samples(recs)}
    for part in PARTS:
        row[part] = samples(recs, split_value(part))
    wall, io = row["wall"]["median"], row["io"]["median"]
    row["io_share"] = io / wall if wall and io is not None else None
    row["points"] = [{"round": r.round, "wall": r.wall_s, "usable": r.usable, "status": r.status,
                      "warmup": r.warmup, **(split(r) or {})} for r in recs]
    return row


def _sweep(ix: Index) -> dict:
    recs = ix.select("io")
    series = []
    for impl, mode in ix.pairs("io"):
        formats = sorted({r.format for r in recs if r.impl == impl and r.mode == mode},
                         key=lambda f: (f is None, format_rank(f)))
        for f in formats:
            series.append(_series(ix, impl, mode, f))
    return {"scales": sorted({r.size for r in recs}),
            "formats": sorted({r.format for r in recs if r.format}, key=format_rank),
            "series": series}


def format_rank(f):
    return (FORMATS.index(f) if f in FORMATS else len(FORMATS), f or "")


def _series(ix: Index, impl: str, mode: str, fmt_: str | None) -> dict:
    recs = ix.select("io", impl, mode, fmt=fmt_)
    per_scale = []
    for scale in sorted({r.size for r in recs}):
        at = [r for r in recs if r.size == scale]
        byte_counts = [(split(r) or {}).get("write_bytes", 0) + (split(r) or {}).get("read_bytes", 0)
                       for r in at if r.usable]
        per_scale.append({"scale": scale, "io": samples(at, split_value("io")),
                          "wall": samples(at), "io_bytes": most_common(byte_counts)})
    return {"impl": impl, "mode": mode, "format": fmt_, "label": label(impl, mode),
            "colour": ix.colour(impl), "in_memory": fmt_ is None, "per_scale": per_scale,
            "points": [{"scale": r.size, "io": (split(r) or {}).get("io"), "wall": r.wall_s,
                        "usable": r.usable, "status": r.status, "warmup": r.warmup,
                        "round": r.round} for r in recs]}


def floor_points(floor: dict | None) -> list[dict]:
    """pytest-benchmark entries as (op, format, scale, median...), reading params, extra_info or the name."""
    if not floor:
        return []
    out = []
    for bench in floor.get("benchmarks", []):
        facts = _floor_facts(bench)
        st = bench.get("stats") or {}
        if facts is None or not stats.is_finite(st.get("median")):
            continue
        out.append({**facts, "name": bench.get("name"), "median": st["median"],
                    "q1": st.get("q1"), "q3": st.get("q3"), "rounds": st.get("rounds"),
                    "values": [v for v in st.get("data") or [] if stats.is_finite(v)]})
    return sorted(out, key=lambda p: (format_rank(p["format"]), p["scale"], p["op"]))


def _floor_facts(bench: dict) -> dict | None:
    params = {**(bench.get("extra_info") or {}), **(bench.get("params") or {})}
    name_tokens = re.split(r"[\[\]\-_,/ ]+", str(bench.get("name", "")))
    op = _pick(params, ("op", "operation", "direction", "kind"),
               [t for t in name_tokens if t in ("read", "write")])
    fmt_ = _pick(params, ("format", "fmt"), [t for t in name_tokens if t in FORMATS])
    scale = _pick(params, ("scale", "k", "rows_multiplier"),
                  [t.lstrip("x") for t in name_tokens if re.fullmatch(r"x?\d+", t)])
    if op is None or fmt_ is None or scale is None:
        return None
    nbytes = _pick(params, ("bytes", "nbytes", "size_bytes"), [])
    return {"op": str(op), "format": str(fmt_), "scale": int(scale),
            "bytes": int(nbytes) if stats.is_finite(nbytes) else None}


def _pick(params: dict, keys: tuple, fallback: list):
    for k in keys:
        if params.get(k) is not None:
            return params[k]
    return fallback[0] if fallback else None


def floor_round_trip(points: list[dict]) -> dict[str, list[dict]]:
    """Per format: write + read medians at each scale, the least any hand-off through that format costs."""
    by = collections.defaultdict(dict)
    for p in points:
        by[(p["format"], p["scale"])][p["op"]] = p
    out = collections.defaultdict(list)
    for (f, scale), ops in sorted(by.items(), key=lambda kv: (format_rank(kv[0][0]), kv[0][1])):
        out[f].append({"scale": scale, "seconds": sum(p["median"] for p in ops.values()),
                       "ops": sorted(ops), "bytes": max((p["bytes"] or 0) for p in ops.values()) or None})
    return dict(out)


def _memory_and_files(ix: Index) -> tuple[list[str], list[str]]:
    modes = ix.modes(ix.reference, "cold") if ix.reference else []
    return ([m for m in modes if not ix.handoff_is_files(ix.reference, m)],
            [m for m in modes if ix.handoff_is_files(ix.reference, m)])


def _lower_bound(ix: Index) -> dict | None:
    """The reference with values in memory: what any hand-off is compared against."""
    mem, _ = _memory_and_files(ix)
    if not mem:
        return None
    recs = ix.select("cold", ix.reference, mem[0])
    return {"mode": mem[0], "label": label(ix.reference, mem[0]), "wall": samples(recs),
            "io": samples(recs, split_value("io"))}


def _cross_check(ix: Index) -> dict | None:
    """The reference with files minus in memory should be close to its IO spans."""
    mem, files = _memory_and_files(ix)
    if not files or not mem:
        return None
    f_recs = ix.select("cold", ix.reference, files[0])
    m_recs = ix.select("cold", ix.reference, mem[0])
    f_wall, m_wall = samples(f_recs), samples(m_recs)
    f_io = samples(f_recs, split_value("io"))
    if f_wall["median"] is None or m_wall["median"] is None:
        return None
    return {"files_mode": files[0], "memory_mode": mem[0],
            "difference_s": f_wall["median"] - m_wall["median"],
            "files_io_s": f_io["median"], "ratio": ratio(f_wall, m_wall)}


def _sweep_rows(sweep: dict, floor: list[dict]) -> list[dict]:
    """One row per series and scale, with the floor's write and read medians beside it."""
    by = {(p["format"], p["scale"], p["op"]): p for p in floor}
    rows = [{"format": s["format"] or "in memory", "scale": p["scale"], "label": s["label"],
             "io": p["io"], "wall": p["wall"], "io_bytes": p["io_bytes"],
             "floor": [by[key]["median"] for key in ((s["format"], p["scale"], op)
                                                     for op in ("write", "read")) if key in by]}
            for s in sweep["series"] for p in s["per_scale"]]
    return sorted(rows, key=lambda r: (r["format"], r["scale"], r["label"]))


# ---------------------------------------------------------------- charts

def charts(data: dict) -> dict[str, str | None]:
    return {"breakdown": breakdown_chart(data["breakdown"]),
            "io_sweep": sweep_chart(data["sweep"], data["floor_round_trip"]),
            "io_bytes": bytes_chart(data["sweep"], data["floor"])}


def breakdown_chart(rows: list[dict]) -> str | None:
    rows = [r for r in rows if r["wall"]["n"]]
    if not rows:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        labels = [r["label"] for r in rows][::-1]
        ordered = rows[::-1]
        left = [0.0] * len(rows)
        for part in PARTS:
            widths = [r[part]["median"] or 0 for r in ordered]
            ax.barh(labels, widths, left=left, color=c.PART_COLOURS[part], height=0.55,
                    label=f"{c.PART_NAMES[part]} (median)")
            left = [a + b for a, b in zip(left, widths)]
        for y, r in enumerate(ordered):
            pts = r["points"]
            c.plot_points(ax, [y + o for o in c.offsets(len(pts), 0.4)], [p["wall"] for p in pts],
                          pts, "#111111", "o", horizontal=True)
        ax.set_xlabel("seconds: bars are the median of each part, dots every run's wall time "
                      "(hollow: warm-up, ×: failed)")
        ax.set_xlim(left=0)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=4,
                   fontsize=8, frameon=False)

    return c.render(draw, 10, 0.34 * len(rows) + 1.3, "breakdown",
                    "Cold run wall time split into parts")


def sweep_chart(sweep: dict, floor_rt: dict[str, list[dict]]) -> str | None:
    formats = sweep["formats"]
    if not formats or not sweep["series"]:
        return None
    memory = [s for s in sweep["series"] if s["in_memory"]]

    def draw(fig):
        axes = fig.subplots(1, len(formats), sharey=True, squeeze=False)[0]
        mode_marks = {}
        for ax, f in zip(axes, formats):
            for s in [s for s in sweep["series"] if s["format"] == f]:
                mk = mode_marks.setdefault(s["label"], c.marker(len(mode_marks)))
                _series_on(ax, s, mk, "io")
            for s in memory:
                med = [(p["scale"], p["io"]["median"]) for p in s["per_scale"] if p["io"]["n"]]
                if med:
                    ax.plot(*zip(*med), color=s["colour"], linestyle=":", linewidth=1.2,
                            marker="_", markersize=10,
                            label=f"{s['label']} in memory (lower bound)")
            floor = floor_rt.get(f) or []
            if floor:
                ax.plot([p["scale"] for p in floor], [p["seconds"] for p in floor], color="black",
                        linestyle="--", linewidth=1.2, marker="_", markersize=12,
                        label="floor: write+read in-process")
            ax.set_xscale("log")
            ax.set_yscale("log")
            c.scale_axis(ax.xaxis)
            c.seconds_axis(ax.yaxis)
            ax.set_title(f, fontsize=10)
            ax.set_xlabel("data scale (row multiplier)")
        axes[0].set_ylabel("file IO seconds per run (read + write spans)")
        handles, labels = c.unique_legend(axes)
        fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False)

    return c.render(draw, 10, 3.8, "io_sweep", "File IO time against data scale, per format")


def _series_on(ax, s: dict, mk: str, key: str):
    pts = s["points"]
    c.plot_points(ax, [p["scale"] * (1 + 0.04 * o) for p, o in zip(pts, c.offsets(len(pts), 2))],
                  [p[key] for p in pts], pts, s["colour"], mk)
    med = [(p["scale"], p[key]["median"]) for p in s["per_scale"] if p[key]["n"]]
    if med:
        ax.plot(*zip(*med), color=s["colour"], marker=mk, linewidth=1.2, markersize=0,
                label=s["label"])


def bytes_chart(sweep: dict, floor_points: list[dict]) -> str | None:
    series = [s for s in sweep["series"] if any(p["io_bytes"] for p in s["per_scale"])]
    if not series:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        mode_marks = {}
        fmt_styles = {f: ls for f, ls in zip(sweep["formats"], ("-", "--", "-.", ":"))}
        for s in series:
            mk = mode_marks.setdefault(s["label"], c.marker(len(mode_marks)))
            pts = [(p["scale"], p["io_bytes"]) for p in s["per_scale"] if p["io_bytes"]]
            name = f"{s['label']}, {s['format'] or 'in memory'}"
            ax.plot(*zip(*pts), color=s["colour"], marker=mk, markersize=4,
                    linestyle=fmt_styles.get(s["format"], ":"), linewidth=1, label=name, alpha=0.85)
        floor = [p for p in floor_points if p["bytes"] and p["op"] == "write"]
        for f in sweep["formats"]:
            pts = sorted((p["scale"], p["bytes"]) for p in floor if p["format"] == f)
            if pts:
                ax.plot(*zip(*pts), color="black", linestyle=fmt_styles.get(f, ":"), linewidth=0.8,
                        marker="|", label=f"floor table, {f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        c.scale_axis(ax.xaxis)
        c.bytes_axis(ax.yaxis)
        ax.set_xlabel("data scale (row multiplier)")
        ax.set_ylabel("bytes read + written per run (from spans)")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)

    return c.render(draw, 10, 3.4, "io_bytes", "Bytes handed over against data scale")


SECTION = Section("io", "File IO cost", build, charts)
