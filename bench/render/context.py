"""The numbers of every report section, computed from one run's stored records.

`build(run)` returns plain dicts and lists: what the templates print and what the tests check.
Nothing here formats HTML; sentences are built here because their numbers are data too.
"""
from __future__ import annotations

import collections
import re

from bench import stats
from bench.render import guide, summary
from bench.render import parallel as parallel_view
from bench.render import pertask as pertask_view
from bench.render import rerun as rerun_view
from bench.render.groups import (BASELINE, Index, detail_value, label, most_common, nested,
                                 ratio, samples, split, split_value, valid_spans)
from bench.render.load import RunData

FORMAT_ORDER = ("csv", "pickle", "parquet")


def build(run: RunData) -> dict:
    ix = Index(run.info, run.records, run.run_dir)
    ctx = {
        "run_id": run.run_id,
        "io": io_section(ix, run),
        "failure": failure_section(ix),
        "cost": cost_section(ix),
        "code": code_section(ix, run),
        "shape": shape_section(ix, run),
        "pertask": pertask_view.section(ix),
        "parallel": parallel_view.section(ix),
        "rerun": rerun_view.section(ix),
    }
    ctx["guide"] = guide.build(ctx)
    ctx["summary"] = summary.build(ix, run, ctx)
    ctx["method"] = summary.method(ix, run, len(floor_points(run.floor)))
    return ctx


# --- 2. file IO ------------------------------------------------------------------------------

def io_section(ix: Index, run: RunData) -> dict:
    breakdown = [_breakdown(ix, impl, mode) for impl, mode in ix.pairs("cold")]
    return {
        "breakdown": breakdown,
        "sweep": _sweep(ix),
        "floor": floor_points(run.floor),
        "floor_problem": run.floor_problem,
        "lower_bound": _lower_bound(ix),
        "cross_check": _cross_check(ix),
    }


def _breakdown(ix: Index, impl: str, mode: str) -> dict:
    recs = ix.select("cold", impl, mode)
    row = {"impl": impl, "mode": mode, "label": label(impl, mode),
           "files": ix.handoff_is_files(impl, mode), "wall": samples(recs)}
    for part in ("startup", "compute", "io", "orchestration"):
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
                         key=lambda f: (f is None, _format_rank(f)))
        for f in formats:
            series.append(_series(ix, impl, mode, f))
    scales = sorted({r.scale for r in recs})
    formats = sorted({r.format for r in recs if r.format}, key=_format_rank)
    return {"scales": scales, "formats": formats, "series": series}


def _format_rank(f):
    return (FORMAT_ORDER.index(f) if f in FORMAT_ORDER else len(FORMAT_ORDER), f or "")


def _series(ix: Index, impl: str, mode: str, fmt_: str | None) -> dict:
    recs = ix.select("io", impl, mode, fmt=fmt_)
    per_scale = []
    for scale in sorted({r.scale for r in recs}):
        at = [r for r in recs if r.scale == scale]
        byte_counts = [(split(r) or {}).get("write_bytes", 0) + (split(r) or {}).get("read_bytes", 0)
                       for r in at if r.usable]
        per_scale.append({"scale": scale, "io": samples(at, split_value("io")),
                          "wall": samples(at), "io_bytes": most_common(byte_counts)})
    return {"impl": impl, "mode": mode, "format": fmt_, "label": label(impl, mode),
            "in_memory": fmt_ is None, "per_scale": per_scale,
            "points": [{"scale": r.scale, "io": (split(r) or {}).get("io"), "wall": r.wall_s,
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
    return sorted(out, key=lambda p: (_format_rank(p["format"]), p["scale"], p["op"]))


def _floor_facts(bench: dict) -> dict | None:
    params = {**(bench.get("extra_info") or {}), **(bench.get("params") or {})}
    name_tokens = re.split(r"[\[\]\-_,/ ]+", str(bench.get("name", "")))
    op = _pick(params, ("op", "operation", "direction", "kind"),
               [t for t in name_tokens if t in ("read", "write")])
    fmt_ = _pick(params, ("format", "fmt"), [t for t in name_tokens if t in FORMAT_ORDER])
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
    for (f, scale), ops in sorted(by.items(), key=lambda kv: (_format_rank(kv[0][0]), kv[0][1])):
        out[f].append({"scale": scale, "seconds": sum(p["median"] for p in ops.values()),
                       "ops": sorted(ops), "bytes": max((p["bytes"] or 0) for p in ops.values()) or None})
    return dict(out)


def _lower_bound(ix: Index) -> dict | None:
    """The plain script with values in memory: what any hand-off is compared against."""
    mem = [m for m in ix.modes(BASELINE, "cold") if not ix.handoff_is_files(BASELINE, m)]
    if not mem:
        return None
    recs = ix.select("cold", BASELINE, mem[0])
    return {"mode": mem[0], "label": label(BASELINE, mem[0]), "wall": samples(recs),
            "io": samples(recs, split_value("io"))}


def _cross_check(ix: Index) -> dict | None:
    """File baseline minus in-memory baseline should be close to the file baseline's IO spans."""
    modes = ix.modes(BASELINE, "cold")
    files = [m for m in modes if ix.handoff_is_files(BASELINE, m)]
    mem = [m for m in modes if not ix.handoff_is_files(BASELINE, m)]
    if not files or not mem:
        return None
    f_recs, m_recs = ix.select("cold", BASELINE, files[0]), ix.select("cold", BASELINE, mem[0])
    f_wall, m_wall = samples(f_recs), samples(m_recs)
    f_io = samples(f_recs, split_value("io"))
    if f_wall["median"] is None or m_wall["median"] is None:
        return None
    return {"files_mode": files[0], "memory_mode": mem[0],
            "difference_s": f_wall["median"] - m_wall["median"],
            "files_io_s": f_io["median"], "ratio": ratio(f_wall, m_wall)}


# --- 3. failure ------------------------------------------------------------------------------

def failure_section(ix: Index) -> dict:
    return {"resume": [_resume(ix, impl, mode) for impl, mode in ix.pairs("resume")],
            "crash": [_crash_row(ix, impl, mode, step) for impl, mode in ix.pairs("crash")
                      for step in _steps_of(ix, "crash", impl, mode)]}


def _steps_of(ix: Index, scenario: str, impl: str, mode: str) -> list[str]:
    present = {r.step for r in ix.select(scenario, impl, mode, phase=None)}
    return [s for s in ix.steps if s in present]


def _resume(ix: Index, impl: str, mode: str) -> dict:
    cold = samples(ix.select("cold", impl, mode))
    steps = []
    for step in _steps_of(ix, "resume", impl, mode):
        recs = ix.select("resume", impl, mode, step=step)
        here = samples(recs)
        executed = [tuple(r.steps_executed) for r in recs if r.status == "ok"]
        steps.append({
            "step": step, "wall": here, "ratio": ratio(here, cold) if cold["n"] else None,
            "saved_s": (cold["median"] - here["median"]) if cold["n"] and here["n"] else None,
            "executed": list(most_common(executed) or ()),
            "executed_varies": len(set(executed)) > 1,
            "expected": list(most_common(tuple(r.steps_expected or ()) for r in recs) or ()),
            "steps_match": _all_true(r.verify.get("steps_match") for r in recs),
            "statuses": dict(collections.Counter(r.status for r in recs)),
            "points": [{"round": r.round, "wall": r.wall_s, "usable": r.usable,
                        "status": r.status, "warmup": r.warmup} for r in recs],
        })
    return {"impl": impl, "mode": mode, "label": label(impl, mode), "cold": cold, "steps": steps}


def _all_true(values) -> bool | None:
    values = [v for v in values if v is not None]
    return all(values) if values else None


def _crash_row(ix: Index, impl: str, mode: str, step: str) -> dict:
    recs = ix.select("crash", impl, mode, step=step)
    recovery_recs = ix.select("crash", impl, mode, step=step, phase="recovery")
    recoveries = [r.detail.get("recovery") or {} for r in recs]
    commands = next((c.get("commands") for c in recoveries if c.get("commands")), None)
    if not commands:
        commands = next((r.detail.get("commands") for r in recovery_recs
                         if r.detail.get("commands")), [])
    message = next((str(r.detail["tool_message"]) for r in recs if r.detail.get("tool_message")), "")
    recovery_walls = [c["wall_s"] for c in recoveries if stats.is_finite(c.get("wall_s"))]
    if not recovery_walls:
        recovery_walls = [r.wall_s for r in recovery_recs]
    return {
        "impl": impl, "mode": mode, "label": label(impl, mode), "step": step, "n": len(recs),
        "outcomes": dict(collections.Counter(r.outcome or "unknown" for r in recs)),
        "outcome": most_common(r.outcome or "unknown" for r in recs),
        "statuses": dict(collections.Counter(r.status for r in recs)),
        "tool_message": message,
        "tool_message_line": key_line(message),
        "recovery_commands": [summary.argv_text(c) for c in commands],
        "recovery_wall": recovery_walls,
        "recovery_exit_codes": [c.get("exit_code") for c in recoveries if "exit_code" in c]
        or [r.exit_code for r in recovery_recs],
        "recovery_verified": _all_true(
            [(c.get("verify") or {}).get("predictions_match") for c in recoveries]
            + [r.verify.get("predictions_match") for r in recovery_recs]),
        "leftovers": _leftovers(recs),
        "logs": [log for log in dict.fromkeys(r.detail.get("log") for r in recs)
                 if isinstance(log, str) and ix.run_dir and (ix.run_dir / log).is_file()],
        "rerun_wall": [r.wall_s for r in recs],
        "rerun_steps": list(most_common(tuple(r.steps_executed) for r in recs) or ()),
    }


KEY_LINE = re.compile(r"error|exception|incomplete|lock|refus|cannot|failed|traceback", re.I)


def key_line(message: str) -> str:
    """The line of a tool's message that says what went wrong, for the table; the rest folds."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if KEY_LINE.search(line):
            # "SomeException:" alone says little: its next line is the explanation
            return f"{line} {lines[i + 1]}" if line.endswith(":") and i + 1 < len(lines) else line
    return lines[-1] if lines else ""


def _leftovers(recs) -> dict[str, list[str]]:
    found: dict[str, list[str]] = collections.defaultdict(list)
    for r in recs:
        left = r.detail.get("leftovers") or {}
        for kind, items in list(left.items()) + [("survivors", r.detail.get("survivors") or [])]:
            for item in items or []:
                if item not in found[kind]:
                    found[kind].append(str(item))
    return {k: v for k, v in found.items() if v}


# --- 4. cost on top --------------------------------------------------------------------------

def cost_section(ix: Index) -> dict:
    pairs = list(dict.fromkeys(ix.pairs("cold") + ix.pairs("first_run") + ix.pairs("noop")))
    pairs.sort(key=lambda p: (ix.impls.index(p[0]), ix.modes(p[0]).index(p[1])))
    return {"rows": [_cost_row(ix, impl, mode) for impl, mode in pairs],
            "footprint": _footprint(ix), "modes": _modes(ix)}


def _reference_mode(ix: Index, impl: str, mode: str) -> str | None:
    """The plain script with the same kind of hand-off (files or values) as this mode."""
    files = ix.handoff_is_files(impl, mode)
    for m in ix.modes(BASELINE, "cold"):
        if ix.handoff_is_files(BASELINE, m) == files:
            return m
    return ix.default_mode(BASELINE)


def _cost_row(ix: Index, impl: str, mode: str) -> dict:
    cold_recs = ix.select("cold", impl, mode)
    row = {"impl": impl, "mode": mode, "label": label(impl, mode),
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
                      for s in ("first_run", "cold", "noop")}}
    ref_mode = _reference_mode(ix, impl, mode)
    row["reference"] = None
    if impl != BASELINE and ref_mode is not None:
        ref = samples(ix.select("cold", BASELINE, ref_mode))
        if ref["n"] and row["cold"]["n"]:
            row["reference"] = {"mode": ref_mode, "label": label(BASELINE, ref_mode),
                                "difference_s": row["cold"]["median"] - ref["median"],
                                "ratio": ratio(row["cold"], ref)}
    return row


def _footprint(ix: Index) -> list[dict]:
    out = []
    for impl in ix.impls:
        recs = ix.select("footprint", impl)
        if not recs:
            continue
        usable = [r for r in recs if r.usable]
        import_s = samples(recs, lambda r: detail_value("import_s")(r) if "import_s" in r.detail
                           else r.wall_s)
        packages = next((r.detail.get("packages") for r in usable if r.detail.get("packages")), [])
        out.append({"impl": impl, "import": import_s,
                    "distributions": most_common(r.detail.get("distributions") for r in usable),
                    "install_bytes": most_common(r.detail.get("install_bytes") for r in usable),
                    "largest": _largest_packages(packages),
                    "points": [{"round": r.round, "value": r.detail.get("import_s", r.wall_s),
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
                         "description": nested(ix.info, f"impls.{impl}.modes.{mode}"),
                         "cold": cold, "noop": samples(ix.select("noop", impl, mode)),
                         "ratio": ratio(cold, default) if mode != modes[0] else None})
        out.append({"impl": impl, "default": modes[0], "rows": rows})
    return out


# --- 5. code ---------------------------------------------------------------------------------

def code_section(ix: Index, run: RunData) -> dict:
    latest = {}
    for r in ix.select("codesize", phase=None):
        if r.impl not in latest or r.round >= latest[r.impl].round:
            latest[r.impl] = r
    base = latest.get(BASELINE)
    rows = []
    for impl in [i for i in ix.impls if i in latest]:
        d = latest[impl].detail
        totals = {k: d.get(k) for k in ("sloc", "tokens", "gzip_bytes")}
        diff = ({k: totals[k] - base.detail.get(k) for k in totals
                 if stats.is_finite(totals[k]) and stats.is_finite(base.detail.get(k))}
                if base is not None and impl != BASELINE else None)
        files = [{"path": p, **v} for p, v in sorted((d.get("files") or {}).items())]
        rows.append({"impl": impl, **totals, "over_baseline": diff, "files": files})
    order = {impl: i for i, impl in enumerate(ix.impls)}
    sources = [{"impl": impl, "files": [{"path": p, "text": t} for p, t in files.items()]}
               for impl, files in sorted(run.sources.items(),
                                         key=lambda kv: (order.get(kv[0], len(order)), kv[0]))]
    return {"rows": rows, "sources": sources}


# --- 6. shape --------------------------------------------------------------------------------

def shape_section(ix: Index, run: RunData) -> dict:
    dags = []
    for name, text in run.dags.items():
        impl, _, mode = name.partition("-")
        dags.append({"name": name, "impl": impl, "mode": mode or None, "text": text})
    shown = {d["impl"] for d in dags}  # one DAG per tool is enough: modes share the pipeline
    missing = [impl for impl in ix.impls if impl != BASELINE and impl not in shown]
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


