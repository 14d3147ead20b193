"""What `bench` needs to know to run the prefect flow (stdlib only; see bench/contract.md).

Where prefect keeps its state, all inside the working directory:
- `.prefect/` is PREFECT_HOME: the SQLite database of flow and task runs, profiles, memo
  store. It is TOOL_HOME, what a machine that ran prefect before already has, so the `cold`
  scenario copies a pre-initialised one in.
- `.prefect-results/` holds the persisted task results, which are prefect's cache: a rerun
  finds a finished task there by its cache key. It is deliberately outside TOOL_HOME: a copied
  tool home must not carry another run's cache, or a `cold` run would skip steps.
"""
from __future__ import annotations

import sys
from pathlib import Path

NAME = "prefect"
MODES = {
    "memory": "tasks hand values over; results persisted in the workdir; temporary API server "
              "started by each run",
    "files": "tasks hand over paths of files written by core.io (as luigi and snakemake do); "
             "temporary API server started by each run",
    "server": "as memory, against a standing `prefect server` (the set-up a team would run)",
}
FORMAT_MODES = {"files"}
SOURCE_FILES = ("impl_prefect/flow.py", "impl_prefect/__main__.py")
TOOL_HOME: tuple[str, ...] = (".prefect",)
RESULTS_DIR = ".prefect-results"
SERVICES = {"server": "prefect-server"}

# A fresh database took 16-18 s to come up on a busy 2-core machine, against prefect's 20 s.
STARTUP_TIMEOUT_S = "120"


def tool_environment(workdir: Path) -> dict[str, str]:
    """Variables that keep every piece of prefect state inside `workdir` and its output quiet."""
    workdir = Path(workdir).resolve()
    return {
        "PREFECT_HOME": str(workdir / TOOL_HOME[0]),
        "PREFECT_LOCAL_STORAGE_PATH": str(workdir / RESULTS_DIR),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": STARTUP_TIMEOUT_S,
    }


def _handoff(mode: str) -> str:
    return "files" if mode == "files" else "memory"


def command(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None = None,
            service_url: str | None = None) -> list[str]:
    argv = [sys.executable, "-m", "impl_prefect", "--workdir", str(workdir),
            "--mode", _handoff(mode), "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, service_url: str | None = None) -> dict[str, str]:
    env = tool_environment(workdir)
    # Without a URL (e.g. drawing the DAG before any service is up) prefect falls back to its
    # temporary server, which serves the same flow.
    if mode == "server" and service_url:
        env["PREFECT_API_URL"] = _api_url(service_url)
    return env


def _api_url(service_url: str) -> str:
    url = service_url.rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def dag_command(workdir: Path, mode: str) -> list[str] | None:
    # prefect has no static DAG without a flow run: this runs the flow (reusing its cache) and
    # prints the task-run graph the prefect API reports for that run.
    return [sys.executable, "-m", "impl_prefect.dag", "--workdir", str(workdir),
            "--mode", _handoff(mode)]


def recovery_commands(workdir: Path, mode: str, *, fmt: str, scale: int,
                      data: str | None = None) -> list[list[str]]:
    return []  # after a SIGKILL the plain rerun recovers: unfinished tasks left no cache entry


def service_command(name: str, state_dir: Path, port: int) -> list[str]:
    _check_service(name)
    return [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
            "--port", str(port), "--analytics-off"]


def service_environment(name: str, state_dir: Path) -> dict[str, str]:
    _check_service(name)
    home = Path(state_dir).resolve() / "prefect-home"
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def service_health_path(name: str) -> str:
    _check_service(name)
    return "/api/health"


def _check_service(name: str) -> None:
    if name not in SERVICES.values():
        raise ValueError(f"unknown service {name!r}; prefect provides {sorted(SERVICES.values())}")


# -- the scaling scenarios (bench/contract.md) ----------------------------------------------

SYNTHETIC_MODES = ("memory", "files")


def synthetic_command(workdir: Path, mode: str, *, shape: str, n: int) -> list[str]:
    """N trivial tasks as a `chain` or a `fanout` (pertask scenario)."""
    return [sys.executable, "-m", "impl_prefect.synthetic", "--workdir", str(workdir), "--mode", mode,
            "--shape", shape, "--n", str(n)]


PARALLEL_RUNNERS = {"threads": "ThreadPoolTaskRunner(max_workers=N), prefect's default task runner",
                    "processes": "ProcessPoolTaskRunner(max_workers=N), prefect's runner for "
                                 "CPU-bound tasks",
                    "dask": "prefect-dask DaskTaskRunner on a dask LocalCluster of N worker "
                            "processes, started and stopped by the harness"}
CLUSTER_RUNNERS = ("dask",)  # runners that need cluster_command's cluster running


def parallel_command(workdir: Path, runner: str, *, workers: int, grid: str = "full",
                     cluster_address: str | None = None) -> list[str]:
    """The model selection with `workers` workers (parallel scenario)."""
    argv = [sys.executable, "-m", "impl_prefect.selection", "--workdir", str(workdir), "--runner", runner,
            "--workers", str(workers), "--grid", grid]
    return argv + (["--cluster-address", cluster_address] if cluster_address else [])


# -- the rerun scenario (bench/rerun.py) ----------------------------------------------------
# Edits of the train task in a copy of the code: one that changes the model (with the
# parameter setting giving the same model, for the baseline's right answer), one comment-only.
RERUN_WRAPPER_EDIT = {
    "path": "impl_prefect/flow.py",
    "old": "    return memsteps.train(train_features, params)\n",
    "new": '    return memsteps.train(train_features, Params(**{**vars(params), "max_depth": 4}))\n',
    "equivalent_param": "max_depth=4",
}
RERUN_COMMENT_EDIT = {
    "path": "impl_prefect/flow.py",
    "old": "def train(train_features, params: Params):\n",
    "new": "def train(train_features, params: Params):\n"
           "    # The forest's settings all come from params.yaml.\n",
}
# prefect logs each task run's final state (Completed or Cached) at INFO only.
RERUN_ENVIRONMENT = {"PREFECT_LOGGING_LEVEL": "INFO"}


def rerun_reason(stdout_text: str, stderr_text: str) -> str | None:
    """Which tasks missed prefect's cache (ran) and which hit it, from the task-run states."""
    import re  # only this optional hook needs it
    states = {}
    for name, state in re.findall(r"Task run '([a-z_]+)-[0-9a-f]+' - Finished in state (\w+)",
                                  stdout_text + "\n" + stderr_text):
        states[name] = state
    if not states:
        return None
    ran = [n for n, s in states.items() if s != "Cached"]
    cached = [n for n, s in states.items() if s == "Cached"]
    return (f"cache key changed (task ran): {', '.join(ran) or 'none'}; "
            f"cache hit: {', '.join(cached) or 'none'}")


def cluster_command(state_dir: Path, port: int, workers: int) -> list[str]:
    """A dask LocalCluster of `workers` one-thread worker processes on 127.0.0.1:port; prints
    `address tcp://...` when its workers are up, stops on SIGTERM."""
    return [sys.executable, "-m", "impl_prefect.dask_cluster", "--state-dir", str(state_dir),
            "--port", str(port), "--workers", str(workers)]


def cluster_environment(state_dir: Path) -> dict[str, str]:
    """The cluster's files (dask's temp and spill space, the workers' prefect home) in state_dir."""
    state_dir = Path(state_dir).resolve()
    return {"DASK_TEMPORARY_DIRECTORY": str(state_dir / "dask-tmp"),
            "PREFECT_HOME": str(state_dir / "prefect-home"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
