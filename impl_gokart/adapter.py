"""The gokart pipeline as `bench` sees it (stdlib only; bench/contract.md).

gokart hands values over as its own pickles, named by each task's unique id, in the workspace
`DIR/resources/`; `--format` is accepted and recorded in params.yaml but is a parameter of no
task: it changes nothing about the hand-off, and a new format reruns nothing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Mapping

from core.contract import (LAPTOP, TEAM, Adapter, Deliverables, Doc, Edit, Footprint, Mode,
                           Parallel, Rerun, Service, Setup, Synthetic, fixed_deliverables)

HERE = Path(__file__).resolve().parent
LUIGID_CONFIG = HERE / "luigid.cfg"
# Written by the command after each successful build: where that build's predictions and
# metrics are. Their names hold unique ids that only gokart computes (an md5 over parameters,
# upstream ids and, with serialized_task_definition_check, the tasks' source).
DELIVERED = "out/deliverables.json"

PICKLES, DEFCHECK = "pickles", "defcheck"


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    if mode not in (PICKLES, DEFCHECK):
        raise ValueError(f"gokart has no mode {mode!r}")
    argv = [sys.executable, "-m", "impl_gokart", "--workdir", str(workdir),
            "--format", fmt, "--scale", str(scale), *_scheduler(setup, service_url)]
    if mode == DEFCHECK:
        argv.append("--serialized-task-definition-check")
    return argv + (["--data", data] if data else [])


def _scheduler(setup: str, service_url: str | None) -> list[str]:
    if setup != TEAM:
        return []
    if not service_url:
        raise ValueError("the team set-up needs service_url (the URL of a running luigid)")
    return ["--scheduler-url", service_url]


def deliverables(workdir: Path, settings: Mapping) -> Deliverables:
    """The places the last successful build recorded; core.layout's fixed places when there is
    no record (the model selection writes those; a run that never succeeded has none)."""
    workdir = Path(workdir)
    try:
        record = json.loads((workdir / DELIVERED).read_text())
        return Deliverables(workdir / record["predictions"], workdir / record["metrics"])
    except (OSError, ValueError, KeyError, TypeError):
        return fixed_deliverables(workdir, settings)


def recovery_commands(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int,
                      data: str | None, service_url: str | None) -> list[list[str]]:
    """Laptop: [] because a task killed before or during its dump leaves no output under its
    name (luigi's atomic write), so the plain rerun redoes it, as the tests show. Team: luigid
    refuses the killed task to any new worker while it believes the dead worker still runs
    it; the user waits until luigid lets it go (impl_gokart/wait_for_luigid.py), then reruns."""
    if setup != TEAM:
        return []
    wait = [sys.executable, "-m", "impl_gokart.wait_for_luigid",
            *_scheduler(setup, service_url), "--workdir", str(workdir)]
    rerun = command(workdir, mode, setup=setup, fmt=fmt, scale=scale, data=data,
                    service_url=service_url)
    return [wait, rerun]


def luigid_command(state_dir: Path, port: int) -> list[str]:
    state_dir = Path(state_dir)
    return [str(Path(sys.executable).with_name("luigid")), "--address", "127.0.0.1",
            "--port", str(port), "--state-path", str(state_dir / "state.pickle"),
            "--logdir", str(state_dir)]


def luigid_environment(state_dir: Path, database_url: str | None) -> dict[str, str]:
    return {"LUIGI_CONFIG_PATH": str(LUIGID_CONFIG)}


def dag_command(workdir: Path, mode: str) -> list[str]:
    """gokart's tree printer, with each task's unique id and COMPLETE/PENDING in that workdir."""
    return [sys.executable, "-m", "impl_gokart.dag", "--workdir", str(workdir)]


# The command passes gokart its workspace inside the workdir explicitly, and luigi.build takes
# no pid lock: no environment to add.


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_gokart.synthetic", "--workdir", str(workdir),
            "--shape", shape, "--n", str(n), *_scheduler(setup, service_url)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_gokart.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid,
            *_scheduler(setup, service_url)]


def rerun_reason(stdout: str, stderr: str, written: list[str]) -> str | None:
    """gokart prints nothing about it; what it reran shows as outputs under new unique ids."""
    fresh = sorted({path.split("/")[-1].rsplit("_", 1)[0] for path in written
                    if path.startswith("resources/titanic/")
                    and path.endswith((".pkl", ".csv", ".json"))})
    return f"gokart: outputs under new unique ids: {', '.join(fresh)}" if fresh else None


TRAIN_DEPTH = "max_depth=self.max_depth"
TRAIN_DUMP = '        self.dump(memsteps.train(self.load_part("features", "train"), params))\n'
CENTRAL_SCHEDULER = Doc("luigi: Using the Central Scheduler",
                        "https://luigi.readthedocs.io/en/stable/central_scheduler.html")

ADAPTER = Adapter(
    name="gokart",
    package="impl_gokart",
    modes=(Mode(PICKLES, "gokart TaskOnKart tasks, one worker; gokart pickles every task's "
                         "result into the workdir", files=False),),
    command=command,
    dag_command=dag_command,
    recovery_commands=recovery_commands,
    deliverables=deliverables,
    # dag.py and wait_for_luigid.py are left out: a tree printer for the report and recovery
    # tooling for the team set-up, not pipeline code
    source_files=("impl_gokart/pipeline.py", "impl_gokart/__main__.py",
                  "impl_gokart/launch.py"),
    footprint=Footprint(imports=("gokart",), distributions=("gokart",)),
    colour="#7570b3",
    cold_prior_s=3.0,
    # gokart's per-task logs (task_log, task_params, random_seed, processing_time,
    # module_versions): its bookkeeping, not results
    state_dirs=("resources/log",),
    env_prefixes=("LUIGI_",),
    frameworks=("gokart", "luigi"),
    setups=(
        Setup(LAPTOP, "gokart.build: luigi's in-process scheduler",
              why="how gokart's docs run a pipeline from Python",
              docs=(Doc("gokart: Intro To Gokart (How to running task)",
                        "https://gokart.readthedocs.io/en/latest/intro_to_gokart.html"),)),
        Setup(TEAM, "the same build against a central luigid on 127.0.0.1 (--scheduler-url)",
              why="gokart tasks are luigi tasks and gokart runs on luigi's workers: a team "
                  "shares luigi's central scheduler, which keeps two workers off the same task "
                  "and shows the graph in its visualiser",
              docs=(CENTRAL_SCHEDULER,
                    Doc("gokart: How to improve efficiency when running on multiple workers",
                        "https://gokart.readthedocs.io/en/latest/"
                        "efficient_run_on_multi_workers.html")),
              service=Service(name="luigid", command=luigid_command,
                              environment=luigid_environment,
                              health_path="/api/task_list?data=%7B%7D"),
              files=("impl_gokart/luigid.cfg",),
              settings=(
                  ("[scheduler] stable_done_cooldown_secs = 0 (luigid)",
                   "gokart's unique ids hash a task's parameters and upstream ids, not its "
                   "workspace, so the same task in two workspaces is one task to luigid, "
                   "which for 10 s after one finished ignores the other's claim that it is "
                   "pending (\"not granted run permission\"); gokart's complete_check_at_run "
                   "(on by default) already skips a task whose outputs appeared meanwhile, "
                   "the double run that cooldown guards against"),
              )),
    ),
    synthetic=Synthetic(modes=(PICKLES,), command=synthetic_command),
    parallel=Parallel(
        runners={"workers": "gokart.build(workers=N): luigi workers, one forked process per "
                            "running task"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("impl_gokart/pipeline.py", TRAIN_DEPTH, "max_depth=4"),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_gokart/pipeline.py", TRAIN_DUMP,
                          "        # The forest's settings are this task's parameters.\n"
                          + TRAIN_DUMP),
        reason=rerun_reason,
        switches=(Mode(DEFCHECK, "serialized_task_definition_check=True on every task: each "
                                 "unique id also hashes the source of the task's methods "
                                 "(\"the task will rerun when you modify the scripts of the "
                                 "task\", gokart docs)", files=False),)),
)
