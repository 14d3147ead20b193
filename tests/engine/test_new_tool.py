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
"""A throwaway tool for the tests: the luigi pipeline under another name."""
import sys
from pathlib import Path

from core.contract import (Adapter, Doc, Edit, Footprint, Mode, Parallel, Rerun, Service,
                           Setup)

CONFIG = Path(__file__).resolve().with_name("luigi.cfg")
DOCS = (Doc("Using the Central Scheduler",
            "https://luigi.readthedocs.io/en/stable/central_scheduler.html"),)


def command(workdir, mode, *, setup, fmt, scale, data, service_url):
    argv = [sys.executable, "-m", "impl_clone", "--workdir", str(workdir), "--format", fmt,
            "--scale", str(scale)]
    if service_url:
        argv += ["--scheduler-url", service_url]
    return argv + (["--data", data] if data else [])


def environment(workdir, mode, *, setup, service_url, home):
    return {"LUIGI_CONFIG_PATH": str(CONFIG)}


def scheduler(state_dir, port):
    return [str(Path(sys.executable).with_name("luigid")), "--address", "127.0.0.1",
            "--port", str(port), "--state-path", str(Path(state_dir) / "state.pickle"),
            "--logdir", str(state_dir)]


def parallel_command(workdir, runner, *, setup, workers, grid, cluster_address, service_url):
    return [sys.executable, "-m", "impl_clone.selection", "--workdir", str(workdir),
            "--runner", "workers", "--workers", str(workers), "--grid", grid]


TRAIN = "        with self.output().temporary_path() as model:\\n"

ADAPTER = Adapter(
    name="clone",
    package="impl_clone",
    modes=(Mode("local", "the luigi pipeline under another name", files=True),),
    command=command,
    environment=environment,
    dag_command=lambda workdir, mode: [sys.executable, "-m", "luigi.tools.deps_tree",
                                       "--module", "impl_clone.pipeline", "Evaluate",
                                       "--workdir", str(workdir)],
    source_files=("impl_luigi/pipeline.py",),
    footprint=Footprint(imports=("luigi",), distributions=("luigi",)),
    colour="#17becf",
    cold_prior_s=3.0,
    env_prefixes=("LUIGI_",),
    frameworks=("luigi",),
    setups=(Setup("laptop", "its in-process scheduler", why="the default", docs=DOCS),
            Setup("team", "a central scheduler", why="what a team runs", docs=DOCS,
                  service=Service(name="clone-scheduler", command=scheduler,
                                  environment=lambda state_dir, database_url: {
                                      "LUIGI_CONFIG_PATH": str(CONFIG)},
                                  health_path="/api/task_list?data={}"))),
    parallel=Parallel(runners={"pool": "luigi workers under another name"},
                      command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("impl_clone/pipeline.py",
                          'filesteps.train(self.input()["features"]["train"].path, params, model)',
                          'filesteps.train(self.input()["features"]["train"].path, '
                          'Params(**{**vars(params), "max_depth": 4}), model)'),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_clone/pipeline.py", TRAIN, "        # a comment\\n" + TRAIN)),
)
'''


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """impl_clone/: a copy of impl_luigi's package (imports renamed) with the adapter above."""
    root = tmp_path_factory.mktemp("new-tool")
    package = root / "impl_clone"
    shutil.copytree(REPO / "impl_luigi", package,
                    ignore=shutil.ignore_patterns("__pycache__", "adapter.py"))
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
                        "modes", "--setup", "team", "--rounds", "1", "--no-warmup", "--out",
                        str(out)], cwd=REPO, env=env_with(clone), capture_output=True,
                       text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    (run_dir,) = out.iterdir()
    (rec,) = records.load(run_dir / "records.jsonl")
    assert (rec.mode, rec.setup, rec.status) == ("local", "team", "ok"), rec.stderr_tail


def test_the_new_tool_appears_in_the_fixture_report(clone, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(clone))
    loaded = registry.load(registry.ADAPTERS + ("impl_clone.adapter",))
    assert "clone" in loaded.by_name(), loaded.problems
    page = render_run(fixture_run.build(tmp_path / "run", loaded)).read_text()
    facts = report_facts.facts(page)
    assert "clone" in {row[0] for row in facts["tables"][0][1:]}
    cells = " ".join(cell for table in facts["tables"] for row in table for cell in row)
    assert {"clone · local · laptop", "clone · pool · laptop", "clone · local · team"} <= {
        cell for table in facts["tables"] for row in table for cell in row}, cells
