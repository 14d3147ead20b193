"""The gokart pipeline as `bench` sees it (stdlib only; bench/contract.md).

gokart hands values over as its own pickles, named by each task's unique id, in the workspace
`DIR/resources/`; `--format` is accepted and recorded in params.yaml (whose hash is in every
unique id, so a new format reruns every task) but changes nothing about the hand-off.
"""
from __future__ import annotations

import sys
from pathlib import Path

from core.contract import (LAPTOP, TEAM, Adapter, Doc, Edit, Footprint, Mode, Parallel, Rerun,
                           Service, Setup, Synthetic)


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_gokart", "--workdir", str(workdir),
            "--format", fmt, "--scale", str(scale), *_scheduler(setup, service_url)]
    return argv + (["--data", data] if data else [])


def _scheduler(setup: str, service_url: str | None) -> list[str]:
    if setup != TEAM:
        return []
    if not service_url:
        raise ValueError("the team set-up needs service_url (the URL of a running luigid)")
    return ["--scheduler-url", service_url]


def luigid_command(state_dir: Path, port: int) -> list[str]:
    state_dir = Path(state_dir)
    return [str(Path(sys.executable).with_name("luigid")), "--address", "127.0.0.1",
            "--port", str(port), "--state-path", str(state_dir / "state.pickle"),
            "--logdir", str(state_dir)]


def dag_command(workdir: Path, mode: str) -> list[str]:
    """gokart's tree printer, with each task's unique id and COMPLETE/PENDING in that workdir."""
    return [sys.executable, "-m", "impl_gokart.dag", "--workdir", str(workdir)]


# The command passes gokart its workspace inside the workdir explicitly, and luigi.build takes
# no pid lock: no environment to add. No recovery commands either: a task killed before or
# during its dump leaves no output under its name (luigi's atomic write), so the plain rerun
# redoes it, as the tests show.


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
    """gokart prints nothing; what it reran shows as outputs under new unique ids."""
    fresh = [path.split("/")[-1].rsplit("_", 1)[0] for path in written
             if path.startswith("resources/titanic/") and path.endswith(".pkl")]
    return f"outputs under new unique ids: {', '.join(fresh)}" if fresh else None


TRAIN_DUMP = '        self.dump(memsteps.train(self.load_part("features", "train"), params))\n'
READ_PARAMS = '        params = read_params(self.staged_path("settings"))\n'

ADAPTER = Adapter(
    name="gokart",
    package="impl_gokart",
    modes=(Mode("pickles", "gokart TaskOnKart tasks, one worker; gokart pickles every task's "
                           "result into the workdir", files=False),),
    command=command,
    dag_command=dag_command,
    # dag.py is left out: it prints the tree for the report, it is not pipeline code
    source_files=("impl_gokart/pipeline.py", "impl_gokart/__main__.py",
                  "impl_gokart/launch.py"),
    footprint=Footprint(imports=("gokart",), distributions=("gokart",)),
    colour="#7570b3",
    cold_prior_s=3.0,
    env_prefixes=("LUIGI_",),
    frameworks=("gokart", "luigi"),
    setups=(
        Setup(LAPTOP, "gokart.build: luigi's in-process scheduler",
              why="how gokart's docs run a pipeline from Python",
              docs=(Doc("gokart: Tutorial", "https://gokart.readthedocs.io/en/latest/"
                                            "tutorial.html"),)),
        Setup(TEAM, "the same tasks against a central luigid on 127.0.0.1 (--scheduler-url)",
              why="gokart tasks are luigi tasks: a team shares luigi's central scheduler, which "
                  "keeps two workers off the same task and shows the graph in its visualiser",
              docs=(Doc("luigi: Using the Central Scheduler",
                        "https://luigi.readthedocs.io/en/stable/central_scheduler.html"),),
              service=Service(name="luigid", command=luigid_command,
                              environment=lambda state_dir, database_url: {},
                              health_path="/api/task_list?data=%7B%7D")),
    ),
    synthetic=Synthetic(modes=("pickles",), command=synthetic_command),
    parallel=Parallel(
        runners={"workers": "gokart.build(workers=N): luigi workers, one forked process per "
                            "running task"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("impl_gokart/pipeline.py", TRAIN_DUMP,
                          '        params = type(params)(**{**vars(params), "max_depth": 4})\n'
                          + TRAIN_DUMP),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_gokart/pipeline.py", READ_PARAMS,
                          "        # The forest's settings all come from params.yaml.\n"
                          + READ_PARAMS),
        reason=rerun_reason),
)
