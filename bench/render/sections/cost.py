"""What each tool costs on top of the code: first run, cold run, start-up, no-op rerun, memory,
CPU and state on disk, each against the reference with the same kind of hand-off; the install
footprint; and each tool's modes against its default mode."""
from __future__ import annotations

from bench.render import charts as c
from bench.render.analysis import stats
from bench.render.analysis.groups import Index, label, most_common, ratio, samples, split_value
from bench.render.load import RunData
from bench.render.sections.base import Section

SCENARIOS = ("first_run", "cold", "noop")


def build(run: RunData, ix: Index) -> dict:
    pairs = list(dict.fromkeys(ix.pairs("cold") + ix.pairs("first_run") + ix.pairs("noop")))
    pairs.sort(key=lambda p: (ix.impls.index(p[0]), ix.modes(p[0]).index(p[1])))
    return {"rows": [_row(ix, impl, mode) for impl, mode in pairs],
            "footprint": _footprint(ix), "modes": _modes(ix)}


def _reference_mode(ix: Index, impl: str, mode: str) -> str | None:
    """The reference's mode with the same kind of hand-off (files or values) as this mode."""
    files = ix.handoff_is_files(impl, mode)
    for m in ix.modes(ix.reference, "cold"):
        if ix.handoff_is_files(ix.reference, m) == files:
            return m
    return ix.default_mode(ix.reference)


def _row(ix: Index, impl: str, mode: str) -> dict:
    cold_recs = ix.select("cold", impl, mode)
    row = {"impl": impl, "mode": mode, "label": label(impl, mode), "colour": ix.colour(impl),
           "default": mode == ix.default_mode(impl),
           "first_run": samples(ix.select("first_run", impl, mode)),
           "cold": samples(cold_recs), "startup": samples(cold_recs, split_value("startup")),
           "noop": samples(ix.select("noop", impl, mode)),
           "rss_kb": samples(cold_recs, lambda r: r.max_rss_kb),
           "cpu_s": samples(cold_recs, lambda r: r.cpu_s),
           "state_bytes": most_common(r.io.get("state_bytes") for r in cold_recs if r.usable),
           "points": {s: [{"round": r.round, "wall": r.wall_s, "usable": r.usable,
                           "status": r.status, "warmup": r.warmup}
                          for r in ix.select(s, impl, mode)]
                      for s in SCENARIOS}}
    row["reference"] = None
    if ix.reference is None or impl == ix.reference:
        return row
    ref_mode = _reference_mode(ix, impl, mode)
    if ref_mode is not None:
        ref = samples(ix.select("cold", ix.reference, ref_mode))
        if ref["n"] and row["cold"]["n"]:
            row["reference"] = {"mode": ref_mode, "label": label(ix.reference, ref_mode),
                                "difference_s": row["cold"]["median"] - ref["median"],
                                "ratio": ratio(row["cold"], ref)}
    return row


def _import_s(r) -> float | None:
    v = r.detail.import_s
    if v is None:   # no import time stored: the whole process stands in
        return r.wall_s
    return v if stats.is_finite(v) else None


def _footprint(ix: Index) -> list[dict]:
    out = []
    for impl in ix.impls:
        recs = ix.select("footprint", impl)
        if not recs:
            continue
        usable = [r for r in recs if r.usable]
        packages = next((r.detail.packages for r in usable if r.detail.packages), ())
        out.append({"impl": impl, "colour": ix.colour(impl), "import": samples(recs, _import_s),
                    "distributions": most_common(r.detail.distributions for r in usable),
                    "install_bytes": most_common(r.detail.install_bytes for r in usable),
                    "largest": _largest_packages(packages),
                    "points": [{"round": r.round, "value": r.detail.import_s
                                if r.detail.import_s is not None else r.wall_s,
                                "usable": r.usable, "status": r.status, "warmup": r.warmup}
                               for r in recs]})
    return out


def _largest_packages(packages, count: int = 5) -> list[dict]:
    sized = [p for p in packages if isinstance(p, dict) and stats.is_finite(p.get("bytes"))]
    return sorted(sized, key=lambda p: -p["bytes"])[:count]


def _modes(ix: Index) -> list[dict]:
    out = []
    for impl in ix.impls:
        modes = ix.modes(impl, "cold")
        if len(modes) < 2:
            continue
        default = samples(ix.select("cold", impl, modes[0]))
        rows = []
        for mode in modes:
            cold = samples(ix.select("cold", impl, mode))
            rows.append({"mode": mode, "default": mode == modes[0],
                         "description": ix.description(impl, mode),
                         "cold": cold, "noop": samples(ix.select("noop", impl, mode)),
                         "ratio": ratio(cold, default) if mode != modes[0] else None})
        out.append({"impl": impl, "default": modes[0], "rows": rows})
    return out


# ---------------------------------------------------------------- charts

PANELS = (("first_run", "first run (fresh tool home)"), ("cold", "cold run"),
          ("noop", "no-op rerun"))


def charts(data: dict) -> dict[str, str | None]:
    return {"cost": cost_chart(data["rows"]), "footprint": footprint_chart(data["footprint"])}


def cost_chart(rows: list[dict]) -> str | None:
    panels = [(k, t) for k, t in PANELS if any(r["points"][k] for r in rows)]
    if not panels:
        return None

    def draw(fig):
        axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
        labels = [r["label"] for r in rows][::-1]
        for ax, (key, title) in zip(axes, panels):
            for y, r in enumerate(rows[::-1]):
                pts = r["points"][key]
                c.plot_points(ax, [p["wall"] for p in pts],
                              [y + o for o in c.offsets(len(pts), 0.4)], pts, r["colour"], "o")
                if r[key]["n"]:
                    ax.plot([r[key]["median"]] * 2, [y - 0.3, y + 0.3], color="black", linewidth=1.5)
            ax.set_yticks(range(len(labels)), labels)
            ax.set_xscale("log")
            c.seconds_axis(ax.xaxis)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("seconds (log scale)")

    return c.render(draw, 10, 0.3 * len(rows) + 1.3, "cost",
                    "First run, cold run and no-op rerun per tool and mode")


def footprint_chart(footprint: list[dict]) -> str | None:
    if not footprint:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        names = [f["impl"] for f in footprint][::-1]
        for y, f in enumerate(footprint[::-1]):
            pts = f["points"]
            c.plot_points(ax, [p["value"] for p in pts], [y + o for o in c.offsets(len(pts), 0.4)],
                          pts, f["colour"], "o")
            if f["import"]["n"]:
                ax.plot([f["import"]["median"]] * 2, [y - 0.3, y + 0.3], color="black",
                        linewidth=1.5)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("seconds to import the tool in a fresh process (black tick: median)")
        ax.set_xlim(left=0)

    return c.render(draw, 10, 0.32 * len(footprint) + 1.0, "footprint", "Import time per tool")


SECTION = Section("cost", "Cost on top", build, charts)
