"""bench/contract.md documents every field of every dataclass of core/contract.py, and only
those: the page and the code cannot drift apart."""
from __future__ import annotations

import dataclasses
import re

from core import contract
from tests.helpers.runner import REPO

CLASSES = (contract.Adapter, contract.Mode, contract.Service, contract.Doc, contract.Setup,
           contract.Deliverables, contract.Synthetic,
           contract.Parallel, contract.Cluster, contract.Rerun, contract.Edit,
           contract.Footprint, contract.Reference)


def documented() -> dict[str, list[str]]:
    """Section title -> the first-column names of its table."""
    sections, current = {}, None
    for line in (REPO / "bench" / "contract.md").read_text().splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif current and (m := re.match(r"^\| `(\w+)` \|", line)):
            sections[current].append(m.group(1))
    return sections


def test_every_dataclass_field_is_documented_in_order_and_nothing_else():
    page = documented()
    for cls in CLASSES:
        assert cls.__name__ in page, f"bench/contract.md has no section {cls.__name__}"
        assert page[cls.__name__] == [f.name for f in dataclasses.fields(cls)], cls.__name__


def test_the_contract_module_has_no_undocumented_dataclass():
    found = {name for name, value in vars(contract).items()
             if dataclasses.is_dataclass(value) and isinstance(value, type)}
    assert found == {cls.__name__ for cls in CLASSES}
