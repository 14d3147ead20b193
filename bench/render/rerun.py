"""Report section for the rerun scenario: numbers (section), SVG charts (charts), HTML (html).

A matrix tool x change: each cell's class (bench/rerun.py decides it when measuring and stores
it in `detail.classification`), the steps that ran against the minimal correct set, and the
reason the tool gave. Classes are facts about one rerun, not statistics: no median is taken.
"""
from __future__ import annotations

from bench.profiles import CHANGES
from bench.render.groups import Index, label

TITLE = "What reruns after a change"
CLASS_ORDER = ("exact", "over-eager", "under-run", "stale", "failed")
LEGEND = {
    "exact": "reran exactly the minimal correct set of steps",
    "over-eager": "reran more than needed; the result is right",
    "under-run": "reran less than needed, yet the result matches (the change did not reach it)",
    "stale": "kept an output that no longer matches its inputs: a wrong result, checked "
             "against the baseline run on the changed input",
    "failed": "the rerun did not finish (exit status, timeout) or the change could not be "
              "prepared",
}
COLOURS = {"exact": "#1a7f37", "over-eager": "#9a6700", "under-run": "#0969da",
           "stale": "#cf222e", "failed": "#6e7781"}
CHANGE_TEXT = {
    "data": "one passenger's survival label corrected in the input data",
    "param": "a model hyperparameter in params.yaml (--param)",
    "core_code": "a behaviour-changing edit of the core train function",
    "wrapper_code": "a behaviour-changing edit of the tool's own train task or rule",
    "comment": "a comment added to that task or rule",
    "touch": "the input file's modification time, content unchanged",
}


def section(ix: Index) -> dict:
    recs = [r for r in ix.select("rerun") if not r.warmup]
    if not recs:
        return {"measured": False}
    changes = [c for c in CHANGES if any(r.step == c for r in recs)]
    changes += sorted({r.step for r in recs if r.step not in CHANGES})
    rows = []
    for impl in ix.impls:
        for mode in ix.modes(impl, "rerun"):
            mine = [r for r in recs if r.impl == impl and r.mode == mode]
            if mine:
                rows.append(_row(impl, mode, mine, changes))
    minimal = {c: next((list(r.detail.get("minimal", r.steps_expected or ()))
                        for r in recs if r.step == c), []) for c in changes}
    return {"measured": True, "changes": changes, "minimal": minimal, "rows": rows,
            "totals": {k: sum(row["counts"].get(k, 0) for row in rows) for k in CLASS_ORDER}}


def _row(impl: str, mode: str, recs, changes: list[str]) -> dict:
    cells = {}
    for change in changes:
        rounds = sorted((r for r in recs if r.step == change), key=lambda r: r.round)
        if rounds:
            cells[change] = _cell(rounds)
    counts: dict[str, int] = {}
    for cell in cells.values():
        counts[cell["class"]] = counts.get(cell["class"], 0) + 1
    return {"impl": impl, "mode": mode, "label": label(impl, mode), "cells": cells,
            "counts": counts}


def _cell(rounds) -> dict:
    last = rounds[-1]
    d = last.detail
    classes = [r.detail.get("classification") or _class_of_status(r.status) for r in rounds]
    return {
        "class": classes[-1],
        "consistent": len(set(classes)) == 1,
        "rounds": len(rounds),
        "executed": list(d.get("executed", last.steps_executed)),
        "minimal": list(d.get("minimal", last.steps_expected or ())),
        "reason": d.get("reason"),
        "status": last.status,
        "wall_s": last.wall_s,
        "error": d.get("error"),
        "edit": d.get("edit"),
        "change_visible": d.get("change_visible"),
        "predictions_match": last.verify.get("predictions_match"),
    }


def _class_of_status(status: str) -> str:
    return "failed" if status != "ok" else "exact"


def charts(section: dict) -> dict[str, str | None]:
    return {}  # the matrix is the picture: classes are categories, not numbers to plot


def html(section: dict, charts: dict) -> str:
    from bench.render.html import e, note, table
    head = f'<section id="rerun"><h2>{e(TITLE)}</h2>'
    if not section.get("measured"):
        return (head + note("Not measured in this run: the rerun scenario runs in the scaling "
                            "and full profiles (python -m bench all --scaling).") + "</section>")
    changes = section["changes"]
    intro = ("<p>After a complete run, one thing changes and the same command runs again. "
             "Each cell says what the tool did, against the minimal correct set of steps "
             "derived from the DAG (load → preprocess → train → predict → evaluate); "
             "the right result is the baseline's on the changed input, code or parameter. "
             "One rerun per cell: which steps run is deterministic, the time is one sample.</p>")
    headers = ["tool · mode"] + [f"{c} (needs: {_steps(section['minimal'].get(c))})"
                                  for c in changes]
    rows = [[e(row["label"])] + [_cell_html(row["cells"].get(c), e) for c in changes]
            for row in section["rows"]]
    what = table(["change", "what changed"],
                 [[e(c), e(CHANGE_TEXT.get(c, c))] for c in changes])
    return (head + intro + table(headers, rows, "rerun-matrix") + _legend(e)
            + "<h3>The changes</h3>" + what + "</section>")


def _cell_html(cell: dict | None, e) -> str:
    if cell is None:
        return '<span class="na">not run</span>'
    klass = cell["class"]
    badge = (f'<b class="rerun-{e(klass)}" style="color:{COLOURS.get(klass, "#000")}">'
             f'{e(klass)}</b>')
    if not cell["consistent"]:
        badge += '<span class="sub bad">differs between rounds</span>'
    parts = [badge, f'<span class="sub">ran: {e(_steps(cell["executed"]))}</span>']
    if cell["error"]:
        parts.append(f'<span class="sub bad">{e(cell["error"])}</span>')
    reason = cell["reason"]
    parts.append(f'<span class="sub">tool\'s reason: {e(reason)}</span>' if reason
                 else '<span class="sub na">the tool gives no reason</span>')
    return "<br>".join(parts)


def _steps(steps) -> str:
    return ", ".join(steps) if steps else "none"


def _legend(e) -> str:
    items = "".join(f'<li><b style="color:{COLOURS[k]}">{e(k)}</b>: {e(v)}</li>'
                    for k, v in LEGEND.items())
    return f'<ul class="legend">{items}</ul>'
