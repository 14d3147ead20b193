"""What every report section declares: its anchor, its place in the navigation, how its
numbers are built (and from which other sections), its charts and its template."""
from __future__ import annotations

import dataclasses
from typing import Callable


@dataclasses.dataclass(frozen=True)
class Section:
    name: str       # the anchor (#io) and the template sections/<name>.html.j2
    nav: str        # its link in the page's navigation
    # build(run, ix, **needed) -> plain data: numbers, labels, sentences; no HTML
    build: Callable[..., dict]
    # charts(data) -> {chart name: inline SVG, or None when the run has no data for it}
    charts: Callable[[dict], dict[str, str | None]]
    needs: tuple[str, ...] = ()   # sections whose data build() takes, by name

    @property
    def template(self) -> str:
        return f"sections/{self.name}.html.j2"
