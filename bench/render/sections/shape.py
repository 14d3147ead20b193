"""The shape of each pipeline: the DAG each tool reported (dags/), and a timeline of the cold
run closest to its median for each tool's default mode."""
from __future__ import annotations

from bench.render import charts as c
from bench.render import fmt
from bench.render.analysis import stats
from bench.render.analysis.groups import Index, label, split, valid_spans
from bench.render.load import RunData
from bench.render.sections.base import Section


def build(run: RunData, ix: Index) -> dict:
    dags = []
    for name, text in run.dags.items():
        impl, _, mode = name.partition("-")
        dags.append({"name": name, "impl": impl, "mode": mode or None, "text": text})
    shown = {d["impl"] for d in dags}  # one DAG per tool is enough: modes share the pipeline
    missing = [impl for impl in ix.impls if impl != ix.reference and impl not in shown]
    return {"dags": dags, "dags_missing": missing, "steps": ix.steps,
            "gantt": [g for g in (_gantt(ix, impl) for impl in ix.impls) if g]}


def _gantt(ix: Index, impl: str) -> dict | None:
    """The cold run of the default mode closest to that mode's median wall time."""
    mode = ix.default_mode(impl)
    recs = [r for r in ix.select("cold", impl, mode)
            if r.usable and valid_spans(r) and r.launch_epoch]
    if not recs:
        return None
    centre = stats.median([r.wall_s for r in recs])
    rep = min(recs, key=lambda r: (abs(r.wall_s - centre), r.round))
    t0 = rep.launch_epoch
    spans = [{"step": s.get("step"), "kind": s.get("kind"), "start": s["start"] - t0,
              "end": s["end"] - t0, "bytes": s.get("bytes", 0), "pid": s.get("pid")}
             for s in sorted(valid_spans(rep), key=lambda s: s["start"])]
    return {"impl": impl, "mode": mode, "label": label(impl, mode), "round": rep.round,
            "wall_s": rep.wall_s, "median_s": centre, "n": len(recs), "split": split(rep),
            "spans": spans, "pids": len({s["pid"] for s in spans})}


def charts(data: dict) -> dict[str, str | None]:
    return {"gantt": gantt_chart(data["gantt"], data["steps"])}


def gantt_chart(rows: list[dict], steps: list[str]) -> str | None:
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
            ax.broken_barh([(0, first)], (y["start-up"] - 0.35, 0.7),
                           color=c.PART_COLOURS["startup"])
            for s in g["spans"]:
                ax.broken_barh([(s["start"], max(s["end"] - s["start"], g["wall_s"] / 800))],
                               (y[str(s["step"])] - 0.35, 0.7),
                               color=c.KIND_COLOURS.get(s["kind"], "#888"))
            ax.axvline(g["wall_s"], color="black", linewidth=0.8, linestyle=":")
            ax.set_yticks(list(y.values()), list(y.keys()))
            ax.set_xlim(0, g["wall_s"] * 1.01)
            which = (f"median of n={g['n']}: {fmt.seconds(g['median_s'])}" if g["n"] > 1
                     else "the only usable cold run")
            ax.set_title(f"{g['label']}: round {g['round']}, {fmt.seconds(g['wall_s'])} ({which})",
                         fontsize=9, loc="left")
        axes[-1].set_xlabel("seconds since launch (dotted line: process exit)")
        handles = c.legend_handles([("start-up", c.PART_COLOURS["startup"])]
                                   + list(c.KIND_COLOURS.items()),
                                   [("gaps: orchestration", "white")])
        fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8, frameon=False)

    return c.render(draw, 10, 1.65 * len(rows) + 0.8, "gantt",
                    "Timeline of one representative cold run per tool")


SECTION = Section("shape", "Pipeline shape", build, charts)
