"""A new tool is one folder and one registry line: a throwaway adapter, written here and never
committed, reuses the luigi pipeline under another name, declares a server, a parallel runner
and rerun edits of its own, and with nothing else passes the conformance suite, runs its
team set-up (its server) through the harness, and appears in the fixture report."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench.engine import registry
from bench.render.publish import render_run
from bench.store import records
from tests.fixtures import fixture_run
from tests.helpers import report_facts
from tests.helpers.runner import REPO

ADAPTER = '''
"""A throwaway tool for the tests: the luigi pipeline under another name. It runs luigi's
commands (copied beside it as luigi_adapter.py, imports renamed) and declares set-ups, a
server, a parallel runner and a colour of its own."""
import dataclasses
import sys
from pathlib import Path

from core.contract import Adapter, Doc, Parallel, Service, Setup
from impl_clone.luigi_adapter import ADAPTER as LUIGI

DOCS = (Doc("Using the Central Scheduler",
            "https://luigi.readthedocs.io/en/stable/central_scheduler.html"),)


def scheduler(state_dir, port):
    return [str(Path(sys.executable).with_name("luigid")), "--address", "127.0.0.1",
            "--port", str(port), "--state-path", str(Path(state_dir) / "state.pickle"),
            "--logdir", str(state_dir)]


def parallel_command(workdir, runner, *, setup, workers, grid, cluster_address, service_url):
    return LUIGI.parallel.command(workdir, next(iter(LUIGI.parallel.runners)), setup=setup,
                                  workers=workers, grid=grid, cluster_address=None,
                                  service_url=service_url)


ADAPTER = dataclasses.replace(
    LUIGI,
    name="clone",
    package="impl_clone",
    colour="#17becf",
    source_files=tuple(f.replace("impl_luigi", "impl_clone") for f in LUIGI.source_files),
    setups=(Setup("laptop", "its in-process scheduler", why="the default", docs=DOCS),
            Setup("team", "a central scheduler", why="what a team runs", docs=DOCS,
                  service=Service(name="clone-scheduler", command=scheduler,
                                  environment=LUIGI.setups[1].service.environment,
                                  health_path="/api/task_list?data={}"))),
    parallel=Parallel(runners={"pool": "luigi workers under another name"},
                      command=parallel_command),
)
'''


ADAPTER_MODE = registry.load(("impl_luigi.adapter",)).adapters[0].default_mode


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """impl_clone/: a copy of impl_luigi's package (imports renamed) with the adapter above."""
    root = tmp_path_factory.mktemp("new-tool")
    package = root / "impl_clone"
    shutil.copytree(REPO / "impl_luigi", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "adapter.py").rename(package / "luigi_adapter.py")
    for path in package.glob("*.py"):
        path.write_text(path.read_text().replace("impl_luigi", "impl_clone"))
    (package / "adapter.py").write_text(textwrap.dedent(ADAPTER))
    return root


def env_with(clone: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["PYTHONPATH"] = os.pathsep.join([str(clone), str(REPO)])
    env[registry.OVERRIDE_ENV] = "core.adapter,impl_clone.adapter"
    return env


def test_the_new_tool_passes_the_conformance_suite(clone):
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/conformance", "-k", "clone or registry"], cwd=REPO,
                       env=env_with(clone), capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-4000:]
    assert " passed" in r.stdout and "failed" not in r.stdout


def test_the_harness_runs_its_team_setup_and_lists_it(clone, tmp_path):
    listed = subprocess.run([sys.executable, "-m", "bench", "list"], cwd=REPO,
                            env=env_with(clone), capture_output=True, text=True, timeout=120)
    assert "clone" in listed.stdout and "starts clone-scheduler" in listed.stdout
    out = tmp_path / "reports"
    r = subprocess.run([sys.executable, "-m", "bench", "run", "--impl", "clone", "--scenario",
                        "cold", "--setup", "team", "--rounds", "1", "--no-warmup", "--out",
                        str(out)], cwd=REPO, env=env_with(clone), capture_output=True,
                       text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    (run_dir,) = out.iterdir()
    (rec,) = records.load(run_dir / "records.jsonl")
    assert (rec.mode, rec.setup, rec.status) == (ADAPTER_MODE, "team", "ok"), rec.stderr_tail


def test_the_new_tool_appears_in_the_fixture_report(clone, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(clone))
    loaded = registry.load(registry.ADAPTERS + ("impl_clone.adapter",))
    assert "clone" in loaded.by_name(), loaded.problems
    page = render_run(fixture_run.build(tmp_path / "run", loaded)).read_text()
    facts = report_facts.facts(page)
    assert "clone" in {row[0] for row in facts["tables"][0][1:]}
    cells = " ".join(cell for table in facts["tables"] for row in table for cell in row)
    mode = ADAPTER_MODE
    assert {f"clone · {mode} · laptop", "clone · pool · laptop", f"clone · {mode} · team"} <= {
        cell for table in facts["tables"] for row in table for cell in row}, cells
