"""Report section for the parallel scenario: numbers (section), SVG charts (charts), HTML (html)."""
from __future__ import annotations

from bench.render.groups import Index

TITLE = "Parallel fan-out"


def section(ix: Index) -> dict:
    return {"measured": bool(ix.select("parallel"))}


def charts(section: dict) -> dict[str, str | None]:
    return {}


def html(section: dict, charts: dict) -> str:
    from bench.render.html import e, note
    return (f'<section id="parallel"><h2>{e(TITLE)}</h2>'
            + note("Not measured in this run: the parallel scenario runs in the scaling and full "
                   "profiles (python -m bench all --scaling).")
            + "</section>")
