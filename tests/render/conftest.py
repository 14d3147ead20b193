"""The checked-in fixture run (schema v1, read through the store's migration), its numbers and
its page, computed once per session: charts take most of a render's time."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.commands import report
from bench.render import page
from bench.render.load import RunData, load_run

FIXTURE = Path(__file__).parent.parent / "fixtures" / "run-fixture"


def copy_run(reports: Path, name: str = "run-fixture", **info_changes) -> Path:
    run_dir = reports / name
    shutil.copytree(FIXTURE, run_dir)
    if info_changes:
        info = json.loads((run_dir / "run.json").read_text())
        info.update(info_changes)
        (run_dir / "run.json").write_text(json.dumps(info))
    return run_dir


@pytest.fixture(scope="session")
def run() -> RunData:
    return load_run(FIXTURE)


@pytest.fixture(scope="session")
def built(run) -> dict:
    """Every section's data, by section name."""
    return page.build(run)


@pytest.fixture(scope="session")
def fixture_charts(built) -> dict:
    return page.build_charts(built)


@pytest.fixture
def cached_charts(monkeypatch, fixture_charts):
    """Renders of unchanged copies of the fixture reuse its charts (test_render checks once
    that a full render gives the same bytes)."""
    monkeypatch.setattr(page, "build_charts", lambda data: fixture_charts)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, fixture_charts) -> dict:
    """The fixture rendered by `bench report` into a reports directory of its own."""
    reports = tmp_path_factory.mktemp("reports")
    run_dir = copy_run(reports)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(page, "build_charts", lambda data: fixture_charts)
        rc = report.main([str(run_dir), "--out", str(reports)])
    return {"rc": rc, "reports": reports, "run_dir": run_dir,
            "page": (run_dir / "index.html").read_text(encoding="utf-8")}
