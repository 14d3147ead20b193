"""The prefect flow as `bench` sees it (stdlib only; bench/contract.md).

Where prefect keeps its state:
- PREFECT_HOME (the SQLite database of flow and task runs, profiles, the memo store) is the
  tool's machine-level home: the harness keeps it at one path per run and set-up, initialised
  once, as a machine that ran prefect before has one ~/.prefect (prefect skips block
  registration only when its memo matches a hash that includes the database's path). Typed
  by hand without PREFECT_HOME, the command puts it in the workdir, never under ~.
- `.prefect-results/` in the workdir holds the persisted task results, which are prefect's
  cache: a rerun finds a finished task there by its cache key. It is deliberately outside the
  home: a shared home must not carry another run's cache, or a `cold` run would skip steps.
- prefect-dask lives in a side directory, `.venv-dask-site/` (requirements-dask.txt), on
  PYTHONPATH only for the dask runner and its cluster: prefect imports every installed prefect
  collection when its server starts, so installed beside prefect it would put `distributed`
  into every run's temporary server.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from core.contract import (LAPTOP, TEAM, Adapter, Cluster, Doc, Edit, Footprint, Mode, Parallel,
                           Rerun, Service, Setup, Synthetic)

REPO = Path(__file__).resolve().parents[1]
DASK_SITE = REPO / ".venv-dask-site"
DASK_INSTALL = ("pip install -c constraints.txt --no-deps --target .venv-dask-site "
                "-r requirements-dask.txt")
HOME = ".prefect"
RESULTS_DIR = ".prefect-results"
# A fresh database took 16-18 s to come up on a busy 2-core machine, against prefect's 20 s.
STARTUP_TIMEOUT_S = "120"


def tool_environment(workdir: Path) -> dict[str, str]:
    """Variables that keep every piece of prefect state inside `workdir` and its output quiet."""
    workdir = Path(workdir).resolve()
    return {
        "PREFECT_HOME": str(workdir / HOME),
        "PREFECT_LOCAL_STORAGE_PATH": str(workdir / RESULTS_DIR),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": STARTUP_TIMEOUT_S,
    }


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_prefect", "--workdir", str(workdir),
            "--mode", mode, "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, setup: str, service_url: str | None,
                home: Path) -> dict[str, str]:
    """The team's standing server through PREFECT_API_URL, as prefect's docs configure a
    client; without it (the laptop) each run starts prefect's temporary server."""
    env = {**tool_environment(workdir), "PREFECT_HOME": str(Path(home).resolve())}
    if setup == TEAM and service_url:
        env["PREFECT_API_URL"] = _api_url(service_url)
    return env


def _api_url(service_url: str) -> str:
    url = service_url.rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def dag_command(workdir: Path, mode: str) -> list[str]:
    # prefect has no static DAG without a flow run: this runs the flow (reusing its cache) and
    # prints the task-run graph the prefect API reports for that run.
    return [sys.executable, "-m", "impl_prefect.dag", "--workdir", str(workdir),
            "--mode", mode]


# after a SIGKILL the plain rerun recovers: unfinished tasks left no cache entry, so the
# adapter declares no recovery commands


def server_command(state_dir: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
            "--port", str(port), "--analytics-off"]


def server_environment(state_dir: Path, database_url: str | None) -> dict[str, str]:
    """The server's own home in state_dir, its runs in the team's PostgreSQL database."""
    home = Path(state_dir).resolve() / "prefect-home"
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    return env


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_prefect.synthetic", "--workdir", str(workdir),
            "--mode", mode, "--shape", shape, "--n", str(n)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_prefect.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid]
    argv += ["--cluster-address", cluster_address] if cluster_address else []
    # what a user of the dask runner has: prefect-dask importable, here from its side directory
    return ["env", f"PYTHONPATH={dask_path()}", *argv] if runner == "dask" else argv


def dask_path() -> str:
    """PYTHONPATH of the dask runner and its cluster: the repository, then prefect-dask."""
    return os.pathsep.join((str(REPO), str(DASK_SITE)))


def cluster_command(state_dir: Path, port: int, workers: int) -> list[str]:
    """A dask LocalCluster of `workers` one-thread worker processes on 127.0.0.1:port; prints
    `address tcp://...` when its workers are up, stops on SIGTERM."""
    return [sys.executable, "-m", "impl_prefect.dask_cluster", "--state-dir", str(state_dir),
            "--port", str(port), "--workers", str(workers)]


def cluster_environment(state_dir: Path) -> dict[str, str]:
    """The cluster's files (dask's temp and spill space, the workers' prefect home) in state_dir."""
    state_dir = Path(state_dir).resolve()
    return {"PYTHONPATH": dask_path(),
            "DASK_TEMPORARY_DIRECTORY": str(state_dir / "dask-tmp"),
            "PREFECT_HOME": str(state_dir / "prefect-home"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


TASK_STATE = re.compile(r"Task run '([a-z_]+)-[0-9a-f]+' - Finished in state (\S+)")


def rerun_reason(stdout: str, stderr: str, written: list[str]) -> str | None:
    """prefect's own words for each task run's end, grouped: a task that found its cache key
    ends `Cached(type=COMPLETED)`, one that ran (no record under its key) `Completed()`.
    prefect names neither the key nor a miss in its log, at INFO or at DEBUG."""
    states: dict[str, str] = {}
    for name, state in TASK_STATE.findall(stdout + "\n" + stderr):
        states[name] = state
    if not states:
        return None
    by_state: dict[str, list[str]] = {}
    for name, state in states.items():
        by_state.setdefault(state, []).append(name)
    return "; ".join(f"Finished in state {state}: {', '.join(names)}"
                     for state, names in by_state.items())


TRAIN_TASK = "def train(train_features, n_estimators: int, max_depth: int, seed: int):\n"
TRAIN_FOREST = "    forest = Params(n_estimators=n_estimators, max_depth=max_depth, seed=seed)\n"

ADAPTER = Adapter(
    name="prefect",
    package="impl_prefect",
    modes=(
        Mode("memory", "tasks hand values over; results persisted in the workdir",
             files=False),
        Mode("files", "tasks hand over paths of files written by core.io (as luigi and "
                      "snakemake do)", files=True),
    ),
    command=command,
    environment=environment,
    dag_command=dag_command,
    source_files=("impl_prefect/flow.py", "impl_prefect/cache.py", "impl_prefect/__main__.py",
                  "impl_prefect/launch.py"),
    footprint=Footprint(imports=("prefect",), distributions=("prefect",)),
    colour="#1a9e77",
    cold_prior_s=12.0,
    keeps_home=True,
    state_dirs=(HOME,),
    env_prefixes=("PREFECT_",),
    frameworks=("prefect",),
    setups=(
        Setup(LAPTOP, "no server: each run starts prefect's temporary API server on SQLite",
              why="what a flow does with no configuration at all (prefect's docs: run a flow "
                  "by calling it)",
              docs=(Doc("Prefect: Settings and profiles",
                        "https://docs.prefect.io/v3/develop/settings-and-profiles"),)),
        Setup(TEAM, "a standing `prefect server` on 127.0.0.1 backed by PostgreSQL, the "
                    "client pointed at it with PREFECT_API_URL",
              why="a self-hosted server keeps every run and shows it in its UI to the whole "
                  "team; prefect's docs keep SQLite for lightweight single-server use and name "
                  "PostgreSQL for an external database",
              docs=(Doc("Prefect: Self-host a Prefect server",
                        "https://docs.prefect.io/v3/manage/self-host"),
                    Doc("Prefect: Settings reference (database connection URL)",
                        "https://docs.prefect.io/v3/api-ref/settings-ref")),
              service=Service(name="prefect-server", command=server_command,
                              environment=server_environment, health_path="/api/health",
                              database=True),
              settings=(
                  ("PREFECT_API_URL=http://127.0.0.1:PORT/api (every flow run)",
                   "the client reports to the team's server instead of starting a temporary "
                   "one per run; prefect's docs set it with `prefect config set`"),
                  ("PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://... (the server)",
                   "the server's runs, logs and events in the team's PostgreSQL instead of a "
                   "SQLite file in the server's home"),
                  ("prefect server start --host 127.0.0.1 --port PORT --analytics-off",
                   "loopback here (a team binds its network address); no start-up telemetry "
                   "call from a machine that may be offline"),
                  ("PREFECT_LOCAL_STORAGE_PATH=$WORKDIR/.prefect-results (every flow run)",
                   "task results, which are prefect's cache, stay with the work: the server "
                   "keeps states, not results (a team sharing results across machines gives "
                   "the tasks a storage block instead)"),
              )),
    ),
    synthetic=Synthetic(modes=("memory", "files"), command=synthetic_command),
    parallel=Parallel(
        runners={"threads": "ThreadPoolTaskRunner(max_workers=N), prefect's default task runner",
                 "processes": "ProcessPoolTaskRunner(max_workers=N), prefect's runner for "
                              "CPU-bound tasks",
                 "dask": "prefect-dask DaskTaskRunner on a dask LocalCluster of N worker "
                         "processes, started and stopped by the harness"},
        command=parallel_command,
        cluster=Cluster(runners=("dask",), command=cluster_command,
                        environment=cluster_environment)),
    rerun=Rerun(
        wrapper_edit=Edit("impl_prefect/flow.py", TRAIN_FOREST,
                          TRAIN_FOREST.replace("max_depth=max_depth", "max_depth=4")),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_prefect/flow.py", TRAIN_TASK,
                          TRAIN_TASK + "    # The forest's settings all come from params.yaml.\n"),
        # prefect logs each task run's final state (Completed or Cached) at INFO only
        environment={"PREFECT_LOGGING_LEVEL": "INFO"},
        reason=rerun_reason),
)
