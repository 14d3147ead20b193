"""The facts a rendered report shows, extracted for comparison: every table as rows of cell
texts, and every list item and definition (warnings, short answers, the decision guide)."""
from __future__ import annotations

import html.parser
import re

NUMBER = re.compile(r"[-+−]?\d+(?:[.,]\d+)*")


class _Facts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.items: list[str] = []
        self._tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._item: list[list[str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "svg"):
            self._skip += 1
        if tag == "table":
            self._tables.append([])
        elif tag == "tr" and self._tables:
            self._tables[-1].append([])
        elif tag in ("td", "th") and self._tables:
            self._cell = []
        elif tag in ("li", "dd", "dt") and not self._tables:
            self._item.append([])
        for part in self._open():
            part.append(" ")

    def _open(self):
        return ([self._cell] if self._cell is not None else []) + self._item[-1:]

    def handle_endtag(self, tag):
        if tag in ("style", "script", "svg"):
            self._skip -= 1
        if tag in ("td", "th") and self._cell is not None and self._tables:
            self._tables[-1][-1].append(_clean(self._cell))
            self._cell = None
        elif tag == "table" and self._tables:
            self.tables.append(self._tables.pop())
        elif tag in ("li", "dd", "dt") and self._item and not self._tables:
            self.items.append(_clean(self._item.pop()))

    def handle_data(self, data):
        if self._skip:
            return
        for part in self._open():
            part.append(data)


def _clean(parts: list[str]) -> str:
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def facts(page: str) -> dict:
    # The scorecard repeats the sections' numbers, with verdicts: each fact is compared where
    # its own section shows it (tests/render/test_scorecard.py checks the scorecard).
    page = re.sub(r'<section id="scorecard">.*?</section>', "", page, flags=re.S)
    parser = _Facts()
    parser.feed(page)
    return {"tables": parser.tables, "items": parser.items}


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)
