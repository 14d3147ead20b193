"""The page skeleton: the sections in page order, built in the order their data depends on,
rendered by Jinja2 templates (templates/) into one self-contained HTML page.

Autoescaping is on for every .html and .j2 template, and undefined names are errors. Stored
text (messages, sources, run.json) reaches the page only through autoescaping; the only values
marked safe are matplotlib's SVG charts and Pygments' highlighted sources.
"""
from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from bench.render import charts, fmt
from bench.render.analysis import stats
from bench.render.analysis.groups import Index
from bench.render.load import RunData
from bench.render.sections import (code, cost, failure, guide, io, method, parallel, pertask,
                                   rerun, scorecard, setups, shape, summary)
from bench.render.sections.base import Section

TEMPLATES = Path(__file__).parent / "templates"
# Page order, which is also the navigation's.
SECTIONS: tuple[Section, ...] = (scorecard.SECTION,
                                 summary.SECTION, setups.SECTION, io.SECTION, failure.SECTION,
                                 cost.SECTION, code.SECTION, shape.SECTION, pertask.SECTION,
                                 parallel.SECTION, rerun.SECTION, guide.SECTION, method.SECTION)
# filter name -> fmt function (fmt.count is `thousands`: Jinja's own `count` is a length)
FILTERS = {"seconds": fmt.seconds, "signed_seconds": fmt.signed_seconds, "number": fmt.number,
           "thousands": fmt.count, "nbytes": fmt.nbytes, "kib_as_bytes": fmt.kib_as_bytes,
           "percent": fmt.percent, "ratio": fmt.ratio, "ratio_short": fmt.ratio_short,
           "spread": fmt.spread, "excluded": fmt.excluded}


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(TEMPLATES),
            # Pygments' stylesheet, generated for the installed version; .css: not escaped
            jinja2.DictLoader({"highlight.css": "{% raw %}" + code.highlight_css()
                               + "{% endraw %}"})]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"),
                                            default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters.update(FILTERS)
    env.globals.update(figure_id=charts.figure_id, ci_percent=int(stats.CI_LEVEL * 100))
    return env


def build_order(sections=SECTIONS) -> list[Section]:
    """Sections ordered so that each comes after the ones whose data it needs."""
    by_name = {s.name: s for s in sections}
    done: dict[str, Section] = {}

    def visit(s: Section, path: tuple[str, ...]) -> None:
        if s.name in done:
            return
        if s.name in path:
            raise ValueError(f"sections need each other: {' -> '.join(path + (s.name,))}")
        for need in s.needs:
            visit(by_name[need], path + (s.name,))
        done[s.name] = s

    for s in sections:
        visit(s, ())
    return list(done.values())


def build(run: RunData) -> dict[str, dict]:
    """Every section's data, by section name."""
    ix = Index(run.info, run.records, run.run_dir)
    data: dict[str, dict] = {}
    for s in build_order():
        data[s.name] = s.build(run, ix, **{need: data[need] for need in s.needs})
    return data


def build_charts(data: dict[str, dict]) -> dict[str, str | None]:
    """Every chart of the page by name (figure id chart-<name>), None where a run has no data."""
    out: dict[str, str | None] = {}
    for s in SECTIONS:
        out.update(s.charts(data[s.name]))
    return out


def render(data: dict[str, dict], svgs: dict[str, str | None]) -> str:
    return environment().get_template("page.html.j2").render(
        sections=SECTIONS, built=data, charts=svgs, summary=data["summary"])


def render_section(section: Section, data: dict, svgs: dict[str, str | None]) -> str:
    """One section's HTML alone, as the page includes it."""
    return environment().get_template(section.template).render(data=data, charts=svgs)


def page(run: RunData) -> str:
    data = build(run)
    return render(data, build_charts(data))
