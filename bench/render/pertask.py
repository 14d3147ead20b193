"""Report section for the pertask scenario: numbers (section), SVG charts (charts), HTML (html)."""
from __future__ import annotations

from bench.render.groups import Index

TITLE = "Cost per task"


def section(ix: Index) -> dict:
    return {"measured": bool(ix.select("pertask"))}


def charts(section: dict) -> dict[str, str | None]:
    return {}


def html(section: dict, charts: dict) -> str:
    from bench.render.html import e, note
    return (f'<section id="pertask"><h2>{e(TITLE)}</h2>'
            + note("Not measured in this run: the pertask scenario runs in the scaling and full "
                   "profiles (python -m bench all --scaling).")
            + "</section>")
