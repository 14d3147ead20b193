"""The Dagster pipeline as `bench` sees it (stdlib only; bench/contract.md).

Where Dagster keeps its state: DAGSTER_HOME, the instance, holds dagster.yaml, the SQLite
run, event-log and schedule storage (history/, schedules/) and, with the default IO manager,
every asset's pickled value (storage/). The command keeps it in the workdir's .dagster/, as a
project directory keeps it for its user; dagster.yaml turns telemetry off, which otherwise
writes under $DAGSTER_HOME/logs/ or ~/.dagster/. Nothing goes to the harness's `home`.

Every `dagster asset materialize` is a new run that executes every selected asset, after a
complete run as after a failed one. Dagster's way back from a failure is re-execution "from
failure" of the failed run, offered by its UI, GraphQL and Python API but by no CLI command in
1.13; impl_dagster/reexecute.py is the documented Python call (the recovery command).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from core.contract import (LAPTOP, TEAM, Adapter, Doc, Edit, Footprint, Mode, Parallel, Rerun,
                           Service, Setup, Synthetic)

HERE = Path(__file__).resolve().parent
HOME_DIR = ".dagster"
MODES = ("pickles", "in_process", "files")
DEFS = {"pickles": "impl_dagster.defs", "in_process": "impl_dagster.defs",
        "files": "impl_dagster.defs_files"}
IN_PROCESS_CONFIG = HERE / "in_process.yaml"
SYNTHETIC_SPEC = "synthetic.json"  # shape and N of the pertask workload, in the workdir
SELECTION_SPEC = "selection_grid.json"  # the grid of the model selection, in the workdir


def materialize_args(mode: str) -> list[str]:
    """`dagster ...` arguments materializing every asset in `mode`."""
    argv = ["asset", "materialize", "--select", "*", "-m", DEFS[mode]]
    return argv + (["-c", str(IN_PROCESS_CONFIG)] if mode == "in_process" else [])


def tool_environment(workdir: Path) -> dict[str, str]:
    return {"DAGSTER_HOME": str(Path(workdir).resolve() / HOME_DIR)}


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_dagster", "--workdir", str(workdir), "--mode", mode,
            "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, setup: str, service_url: str | None,
                home: Path) -> dict[str, str]:
    return tool_environment(workdir)


def dag_command(workdir: Path, mode: str) -> list[str]:
    """Dagster's own account of the asset graph: each asset and the assets it depends on."""
    return [sys.executable, "-m", "impl_dagster.dag", "--mode", mode]


def recovery_commands(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int,
                      data: str | None, service_url: str | None) -> list[list[str]]:
    """Re-execution from failure of the latest failed run in the workdir's instance: a new run
    that reuses the outputs of the assets the failed run materialized and executes the rest."""
    return [[sys.executable, "-m", "impl_dagster.reexecute", "--workdir", str(workdir)]]


def server_command(state_dir: Path, port: int) -> list[str]:
    """dagster-webserver on 127.0.0.1:port over the Titanic definitions (impl_dagster/webserver.py
    creates its instance, then execs it: the harness holds the server's own PID)."""
    return [sys.executable, "-m", "impl_dagster.webserver", "--state-dir", str(state_dir),
            "--port", str(port)]


def server_environment(state_dir: Path, database_url: str | None) -> dict[str, str]:
    return {"DAGSTER_HOME": str(Path(state_dir).resolve() / "dagster-home")}


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_dagster.synthetic", "--workdir", str(workdir),
            "--mode", mode, "--shape", shape, "--n", str(n)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_dagster.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid]


RUN_LINE = re.compile(r"__ASSET_JOB - ([0-9a-f-]{36}) - \d+ - RUN_START")
STEP_LINE = re.compile(r'STEP_START - Started execution of step "(\w+)"')


def rerun_reason(stdout: str, stderr: str, written: list[str]) -> str | None:
    """Dagster's event log on the console: the new run's id and the steps it started. A
    materialization compares nothing with earlier runs, so Dagster never says why."""
    text = stdout + "\n" + stderr
    run = RUN_LINE.search(text)
    if not run:
        return None
    started = list(dict.fromkeys(STEP_LINE.findall(text)))
    return (f"a new run ({run.group(1)}); `dagster asset materialize` compares nothing with "
            f"earlier runs. Steps started: {', '.join(started) or 'none'}")


TRAIN_CALL = "    return memsteps.train(train_features, run_dir.params())\n"

DOCS = {
    "cli": Doc("Dagster: dagster CLI reference (asset materialize)",
               "https://docs.dagster.io/api/clis/cli"),
    "instance": Doc("Dagster: Dagster instance configuration (DAGSTER_HOME, dagster.yaml)",
                    "https://docs.dagster.io/deployment/oss/oss-instance-configuration"),
    "telemetry": Doc("Dagster: Telemetry", "https://docs.dagster.io/about/telemetry"),
    "webserver": Doc("Dagster: Running Dagster locally (dagster-webserver)",
                     "https://docs.dagster.io/deployment/oss/deployment-options/running-dagster-locally"),
    "reexecution": Doc("Dagster: Re-execution (from failure, Python API)",
                       "https://docs.dagster.io/guides/build/jobs/job-execution"),
}

ADAPTER = Adapter(
    name="dagster",
    package="impl_dagster",
    modes=(
        Mode("pickles", "software-defined assets, one @asset per step; Dagster's default "
                        "filesystem IO manager (pickles in $DAGSTER_HOME/storage) and its "
                        "default multiprocess executor (a process per asset)", files=False),
        Mode("in_process", "the same assets and IO manager with the default executor's "
                           "in_process option (run config): every asset in one process",
             files=False),
        Mode("files", "the same assets with an IO manager handing files over through core.io "
                      "(as luigi and snakemake do), multiprocess executor", files=True),
    ),
    command=command,
    environment=environment,
    dag_command=dag_command,
    recovery_commands=recovery_commands,
    source_files=("impl_dagster/assets.py", "impl_dagster/defs.py",
                  "impl_dagster/defs_files.py", "impl_dagster/files_io.py",
                  "impl_dagster/in_process.yaml", "impl_dagster/__main__.py",
                  "impl_dagster/instance.py", "impl_dagster/reexecute.py"),
    footprint=Footprint(imports=("dagster",), distributions=("dagster", "dagster-webserver")),
    colour="#b8860b",
    cold_prior_s=15.0,
    # every `dagster asset materialize` is a new run: a plain rerun executes every asset, and
    # re-execution from failure is the recovery command (the noop and resume findings)
    skips_finished=False,
    state_dirs=(HOME_DIR,),
    env_prefixes=("DAGSTER_",),
    frameworks=("dagster", "dagster_webserver", "dagster_graphql"),
    setups=(
        Setup(LAPTOP, "the Dagster CLI alone: `dagster asset materialize` against the "
                      "instance in the workdir's .dagster/ (SQLite storage), no server",
              why="Dagster's docs materialize assets from the shell with the CLI; with "
                  "DAGSTER_HOME set, runs are kept in that instance and can be re-executed",
              docs=(DOCS["cli"], DOCS["instance"], DOCS["reexecution"]),
              settings=(("DAGSTER_HOME=$WORKDIR/.dagster",
                         "a persistent instance: without it the CLI uses a temporary one and "
                         "a failed run cannot be re-executed"),
                        ("dagster.yaml: telemetry: enabled: false",
                         "no usage logs under $DAGSTER_HOME/logs or ~/.dagster"))),
        Setup(TEAM, "the same CLI runs and instance, plus a standing `dagster-webserver -h "
                    "127.0.0.1 -p PORT -m impl_dagster.defs` serving the code location's UI",
              why="Dagster's docs have a team run dagster-webserver over its code locations "
                  "to browse assets and launch or re-execute runs from the UI",
              docs=(DOCS["webserver"], DOCS["instance"]),
              service=Service(name="dagster-webserver", command=server_command,
                              environment=server_environment, health_path="/server_info"),
              settings=(("dagster-webserver -h 127.0.0.1 -p PORT -m impl_dagster.defs",
                         "loopback here (a team binds its network address); the Titanic "
                         "definitions as its code location"),
                        ("DAGSTER_HOME=$STATE/dagster-home (the server)",
                         "the server's instance; the shell's runs stay in the workdir's "
                         "instance, as the laptop's do: sharing it needs a run storage both "
                         "reach (dagster-postgres), which is not installed here"))),
    ),
    synthetic=Synthetic(modes=("pickles", "in_process"), command=synthetic_command),
    parallel=Parallel(
        runners={"multiprocess": "Dagster's default executor, one process per fold asset, at "
                                 "most N at once (run config multiprocess: max_concurrent: N)"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("impl_dagster/assets.py", TRAIN_CALL,
                          "    from dataclasses import replace\n"
                          "    return memsteps.train(train_features,\n"
                          "                          replace(run_dir.params(), max_depth=4))\n"),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_dagster/assets.py", TRAIN_CALL,
                          "    # The forest's settings all come from params.yaml.\n" + TRAIN_CALL),
        reason=rerun_reason),
)
