"""The new renderer shows the facts the old one showed: tables row by row and cell by cell,
list items and definitions one by one, against a golden file rendered from the same fixture
run by the renderer before the redesign (tests/fixtures/report-facts-before-redesign.json)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers.report_facts import facts, numbers

GOLDEN = Path(__file__).parent.parent / "fixtures" / "report-facts-before-redesign.json"

# Texts that changed on purpose (old -> new); their numbers must still match.
CHANGED_TEXTS = {
    # the servers are named by the service ids the run stored, no longer typed into the page
    "Peak memory excludes servers the harness starts once for a mode (luigid, prefect server); "
    "their start-up is not part of any run.":
    "Peak memory excludes servers the harness starts once for a mode (luigid, prefect-server); "
    "their start-up is not part of any run.",
}


# Numbers that changed on purpose: parallel speed-up and overhead per fold are computed over
# the window in which the folds ran, not over whole wall times (so a tool's start-up no longer
# reads as parallel overhead); that table gained start-up and fold-window columns. Their text
# stays the same with the numbers masked.
CHANGED_NUMBER_COLUMNS = {"tool · runner": ("speed-up at", "÷ ", "overhead per fold")}
ADDED_COLUMNS = {"tool · runner": ("start-up · fold window",)}
CHANGED_NUMBER_ITEMS = ("With 2 workers, ",)
# Items the old page did not have: how the harness's clock works (methodology).
ADDED_ITEMS = ("The wall time starts just before the process is spawned",)
NUMBER = re.compile(r"[-+×]?\d[\d.,]*")


def _masked(text: str) -> str:
    return NUMBER.sub("#", text)


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def now(rendered) -> dict:
    return facts(rendered["page"])


def _without_setups(text: str) -> str:
    """Since records carry a set-up, every label names it (`luigi · local · laptop`); the
    golden file predates set-ups."""
    return re.sub(r" · (laptop|team)\b", "", text)


def _same(new: str, old: str, where: str) -> None:
    assert numbers(new) == numbers(old), f"{where}: numbers differ\n new: {new}\n old: {old}"
    assert _without_setups(new) == CHANGED_TEXTS.get(old, old), \
        f"{where}: text differs\n new: {new}\n old: {old}"


def _kept_columns(header: list[str]) -> list[int]:
    added = ADDED_COLUMNS.get(header[0], ())
    return [c for c, h in enumerate(header) if not h.startswith(added)]


def test_same_tables(now, golden):
    assert len(now["tables"]) == len(golden["tables"])
    for t, (new, old) in enumerate(zip(now["tables"], golden["tables"])):
        assert len(new) == len(old), f"table {t} ({old[0][0]}...): rows"
        kept = _kept_columns(new[0])
        changed = CHANGED_NUMBER_COLUMNS.get(old[0][0], ())
        for r, (new_row, old_row) in enumerate(zip(new, old)):
            new_row = [new_row[c] for c in kept]
            assert len(new_row) == len(old_row), f"table {t} row {r}: cells"
            for c, (a, b) in enumerate(zip(new_row, old_row)):
                where = f"table {t} ({old[0][0]}...) row {r} cell {c} ({old[0][c]})"
                if r and old[0][c].startswith(changed) if changed else False:
                    assert _masked(_without_setups(a)) == _masked(b), where
                else:
                    _same(a, b, where)


def test_same_items(now, golden):
    items = [t for t in now["items"] if not t.startswith(ADDED_ITEMS)]
    assert len(now["items"]) - len(items) == len(ADDED_ITEMS)
    assert len(items) == len(golden["items"])
    for i, (a, b) in enumerate(zip(items, golden["items"])):
        if b.startswith(CHANGED_NUMBER_ITEMS):
            assert _masked(_without_setups(a)) == _masked(b), f"item {i}"
        else:
            _same(a, b, f"item {i}")


def test_every_changed_text_is_still_there(now, golden):
    """The allowance above is for texts the golden file has, each changed exactly as listed."""
    texts = golden["items"] + [c for t in golden["tables"] for row in t for c in row]
    new_texts = [_without_setups(c) for c in now["items"]
                 + [c for t in now["tables"] for row in t for c in row]]
    for old, new in CHANGED_TEXTS.items():
        assert old in texts and new in new_texts
