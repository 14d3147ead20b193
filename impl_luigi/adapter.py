"""The luigi pipeline as `bench` sees it (stdlib only; bench/contract.md)."""
from __future__ import annotations

import json
import re
import sys
import urllib.parse
from pathlib import Path
from typing import Mapping

from core.contract import (LAPTOP, TEAM, Adapter, Deliverables, Doc, Edit, Footprint, Mode,
                           Parallel, Rerun, Service, Setup, Synthetic, fixed_deliverables)
from impl_luigi import naming  # stdlib only: the output naming the pipeline uses

CONFIG = Path(__file__).resolve().with_name("luigi.cfg")


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_luigi", "--workdir", str(workdir),
            "--format", fmt, "--scale", str(scale), *_scheduler(setup, service_url)]
    return argv + (["--data", data] if data else [])


def _scheduler(setup: str, service_url: str | None) -> list[str]:
    """The team's luigid, or luigi's in-process scheduler (the command's default)."""
    if setup != TEAM:
        return []
    if not service_url:
        raise ValueError("the team set-up needs service_url (the URL of a running luigid)")
    return ["--scheduler-url", service_url]


def environment(workdir: Path, mode: str, *, setup: str, service_url: str | None,
                home: Path) -> dict[str, str]:
    return {"LUIGI_CONFIG_PATH": str(CONFIG)}


def dag_command(workdir: Path, mode: str) -> list[str]:
    """luigi's own tree printer (luigi.tools.deps_tree) for the run staged in that workdir,
    its parameters included, with each task's COMPLETE/PENDING state there."""
    return [sys.executable, "-m", "impl_luigi.dag", "--workdir", str(workdir)]


# core.selection's own record: the model selection writes core.layout's fixed places.
SELECTION_RECORD = "out/selection.json"


def deliverables(workdir: Path, settings: Mapping) -> Deliverables:
    """Predict's and Evaluate's outputs, in the directory named after the run's parameters."""
    workdir = Path(workdir)
    if not settings or (workdir / SELECTION_RECORD).is_file():
        return fixed_deliverables(workdir, settings)
    predictions, metrics = naming.deliverables(settings)
    return Deliverables(workdir / predictions, workdir / metrics)


def recovery_commands(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int,
                      data: str | None, service_url: str | None) -> list[list[str]]:
    """Laptop: [] because luigi recovers by itself, as the tests show: with atomic outputs a
    killed task leaves only a *-luigi-tmp-* file, never an output, so the plain rerun redoes
    it. Team: luigid refuses the task to any new worker while it believes the dead worker
    still runs it (exit status already_running, for up to about two minutes); the user waits
    until luigid lets it go (impl_luigi/wait_for_luigid.py), then reruns."""
    if setup != TEAM:
        return []
    wait = [sys.executable, "-m", "impl_luigi.wait_for_luigid",
            *_scheduler(setup, service_url), "--workdir", str(workdir)]
    rerun = command(workdir, mode, setup=setup, fmt=fmt, scale=scale, data=data,
                    service_url=service_url)
    return [wait, rerun]


def luigid_command(state_dir: Path, port: int) -> list[str]:
    # Not --background, so the harness holds luigid's own PID; --state-path and --logdir keep
    # its pickle and log out of /var/lib/luigi-server and /var/log.
    state_dir = Path(state_dir)
    return [str(Path(sys.executable).with_name("luigid")), "--address", "127.0.0.1",
            "--port", str(port), "--state-path", str(state_dir / "state.pickle"),
            "--logdir", str(state_dir)]


def luigid_environment(state_dir: Path, database_url: str | None) -> dict[str, str]:
    return {"LUIGI_CONFIG_PATH": str(CONFIG)}


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_luigi.synthetic", "--workdir", str(workdir),
            "--shape", shape, "--n", str(n), *_scheduler(setup, service_url)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_luigi.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid,
            *_scheduler(setup, service_url)]


SUMMARY = re.compile(r"===== Luigi Execution Summary =====\s*(.*?)\s*===== Luigi Execution "
                     r"Summary =====", re.S)
CATEGORY = re.compile(r"^\* (\d+ .*):$")
TASK = re.compile(r"^\s+- \d+ (\w+)[(.]")


def rerun_reason(stdout: str, stderr: str, written: list[str]) -> str | None:
    """luigi's execution summary, each category with the task families in it: luigi's whole
    account of a rerun (a task is complete when its outputs exist)."""
    found = SUMMARY.findall(stderr)
    if not found:
        return None
    parts, families = [], []
    for line in found[-1].splitlines():
        if CATEGORY.match(line):
            if parts and families:
                parts[-1] += ": " + ", ".join(families)
            parts.append(CATEGORY.match(line).group(1))
            families = []
        elif TASK.match(line):
            families.append(TASK.match(line).group(1))
        elif line.strip() and not line.startswith("Scheduled"):
            if parts and families:
                parts[-1] += ": " + ", ".join(families)
                families = []
            parts.append(line.strip())
    return "luigi: " + "; ".join(parts)


# a scheduler API call (not a static page), so 200 means the scheduler answers
RUNNING_TASKS = "/api/task_list?data=" + urllib.parse.quote(json.dumps({"status": "RUNNING"}))
TRAIN_DEPTH = "max_depth=self.max_depth"
TRAIN_OUTPUT = "        with self.output().temporary_path() as model:\n"

ADAPTER = Adapter(
    name="luigi",
    package="impl_luigi",
    modes=(Mode("files", "luigi Tasks handing files over (LocalTarget, atomic writes), one "
                         "worker", files=True),),
    command=command,
    environment=environment,
    dag_command=dag_command,
    recovery_commands=recovery_commands,
    deliverables=deliverables,
    # wait_for_luigid.py (recovery tooling for the team set-up) and dag.py (the tree printer
    # for the report) are left out: they are not pipeline code
    source_files=("impl_luigi/pipeline.py", "impl_luigi/naming.py", "impl_luigi/__main__.py",
                  "impl_luigi/launch.py", "impl_luigi/luigi.cfg"),
    footprint=Footprint(imports=("luigi",), distributions=("luigi",)),
    colour="#2a6fbb",
    cold_prior_s=3.5,
    env_prefixes=("LUIGI_",),
    frameworks=("luigi",),
    setups=(
        Setup(LAPTOP, "luigi's in-process scheduler (--local-scheduler)",
              why="the zero-configuration way luigi's docs start with; they call it not "
                  "recommended for production",
              docs=(Doc("Using the Central Scheduler",
                        "https://luigi.readthedocs.io/en/stable/central_scheduler.html"),),
              files=("impl_luigi/luigi.cfg",)),
        Setup(TEAM, "a central luigid on 127.0.0.1, its visualiser included (--scheduler-url)",
              why="luigi's docs recommend the central scheduler for production: it stops two "
                  "workers running the same task and shows the pipeline in its visualiser",
              docs=(Doc("Using the Central Scheduler",
                        "https://luigi.readthedocs.io/en/stable/central_scheduler.html"),),
              service=Service(name="luigid", command=luigid_command,
                              environment=luigid_environment, health_path=RUNNING_TASKS),
              files=("impl_luigi/luigi.cfg",)),
    ),
    synthetic=Synthetic(modes=("files",), command=synthetic_command),
    parallel=Parallel(
        runners={"workers": "luigi --workers N: one forked process per running task"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("impl_luigi/pipeline.py", TRAIN_DEPTH, "max_depth=4"),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_luigi/pipeline.py", TRAIN_OUTPUT,
                          "        # The forest's settings are this task's parameters.\n"
                          + TRAIN_OUTPUT),
        # luigi has no switch that makes it look at content, times or code: complete() is
        # output existence (luigi docs, Example: Top Artists), so it has one row.
        reason=rerun_reason),
)
