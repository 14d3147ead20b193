"""What reruns after a change: a matrix tool x change. Each cell's class (the rerun scenario
decides it when measuring and stores it in `detail.classification`), the steps that ran
against the minimal correct set, and the reason the tool gave. Classes are facts about one
rerun, not statistics: no median is taken, and the matrix is the picture (no chart)."""
from __future__ import annotations

from bench.engine.profiles import CHANGES
from bench.render.analysis.groups import Index, label
from bench.render.load import RunData
from bench.render.sections.base import Section

CLASS_ORDER = ("exact", "over-eager", "under-run", "stale", "failed")
LEGEND = {
    "exact": "reran exactly the minimal correct set of steps",
    "over-eager": "reran more than needed; the result is right",
    "under-run": "reran less than needed, yet the result matches (the change did not reach it)",
    "stale": "kept an output that no longer matches its inputs: a wrong result, checked "
             "against the {reference} run on the changed input",
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


def build(run: RunData, ix: Index) -> dict:
    recs = [r for r in ix.select("rerun") if not r.warmup]
    if not recs:
        return {"measured": False}
    changes = [ch for ch in CHANGES if any(r.variant == ch for r in recs)]
    changes += sorted({r.variant for r in recs if r.variant not in CHANGES})
    rows = []
    for impl in ix.impls:
        for mode in ix.modes(impl, "rerun"):
            mine = [r for r in recs if r.impl == impl and r.mode == mode]
            if mine:
                rows.append(_row(impl, mode, mine, changes))
    minimal = {ch: next((list(r.detail.minimal or r.steps_expected or ())
                         for r in recs if r.variant == ch), []) for ch in changes}
    reference = ix.reference or "reference"
    return {"measured": True, "changes": changes, "minimal": minimal, "rows": rows,
            "reference": reference,
            "change_text": {ch: CHANGE_TEXT.get(ch, ch) for ch in changes},
            "legend": [{"class": k, "colour": COLOURS[k], "text": v.format(reference=reference)}
                       for k, v in LEGEND.items()],
            "totals": {k: sum(row["counts"].get(k, 0) for row in rows) for k in CLASS_ORDER}}


def _row(impl: str, mode: str, recs, changes: list[str]) -> dict:
    cells = {}
    for change in changes:
        rounds = sorted((r for r in recs if r.variant == change), key=lambda r: r.round)
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
    classes = [r.detail.classification or _class_of_status(r.status) for r in rounds]
    return {
        "class": classes[-1],
        "colour": COLOURS.get(classes[-1], "#000"),
        "consistent": len(set(classes)) == 1,
        "rounds": len(rounds),
        "executed": list(d.executed or last.steps_executed),
        "minimal": list(d.minimal or last.steps_expected or ()),
        "reason": d.reason,
        "status": last.status,
        "wall_s": last.wall_s,
        "error": d.error,
        "edit": d.edit,
        "change_visible": d.change_visible,
        "predictions_match": last.verify.get("predictions_match"),
    }


def _class_of_status(status: str) -> str:
    return "failed" if status != "ok" else "exact"


def charts(data: dict) -> dict[str, str | None]:
    return {}  # the matrix is the picture: classes are categories, not numbers to plot


SECTION = Section("rerun", "Reruns after a change", build, charts)
