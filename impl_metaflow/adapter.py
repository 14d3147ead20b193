"""The Metaflow pipeline as `bench` sees it (stdlib only; bench/contract.md).

Where Metaflow keeps its state; it reads these settings once, when `metaflow` is imported:
- `.metaflow/` under METAFLOW_DATASTORE_SYSROOT_LOCAL: the local datastore (the artifacts,
  content-addressed pickles, and the task logs) and the local metadata (runs, tasks, attempts,
  `latest_run`, the run `resume` starts from). Unset, Metaflow uses the first `.metaflow/` it
  finds in the current directory *or any parent*, and creates one in the current directory
  only when there is none above it.
- METAFLOW_HOME (~/.metaflowconfig): the configuration profiles; a run only reads it.
- METAFLOW_CLIENT_CACHE_PATH (/tmp/metaflow_client): the Client API's cache.
- METAFLOW_USER: Metaflow records a user with every run and refuses to run as `root`
  ("Unknown user") unless a user name is given.
- TMPDIR: the runtime holds a temporary file open for the whole run (the flow's config
  values for the tasks); a killed run leaves it behind, so it goes to the workdir's .tmp/, as
  the harness's TMPDIR does anyway.
A local run keeps no machine-level state, so nothing goes to the harness's `home`.

A plain rerun of the command is a new Metaflow run: every step executes again, after a complete
run as after a failed one. Metaflow's way back from a failure is `python flow.py resume`, which
clones the finished tasks of the failed run and runs the rest: the declared recovery command.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from core.contract import (LAPTOP, TEAM, Adapter, Doc, Edit, Footprint, Mode, Parallel, Rerun,
                           Setup, Synthetic)

HERE = Path(__file__).resolve().parent
FLOW_FILES = {"artifacts": HERE / "flow.py", "files": HERE / "flow_files.py"}
DATASTORE = ".metaflow"  # datastore + local metadata, under METAFLOW_DATASTORE_SYSROOT_LOCAL
TMP_DIR = ".tmp"


def tool_environment(workdir: Path) -> dict[str, str]:
    """Variables that keep every Metaflow location inside `workdir`."""
    workdir = Path(workdir).resolve()
    return {
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(workdir),
        # the defaults, stated so that no configuration profile can switch to S3 or a service
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_HOME": str(workdir / ".metaflowconfig"),
        "METAFLOW_CLIENT_CACHE_PATH": str(workdir / ".metaflow_client"),
        "METAFLOW_USER": "bench",
        "TMPDIR": str(workdir / TMP_DIR),
    }


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_metaflow", "--workdir", str(workdir), "--mode", mode,
            "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, setup: str, service_url: str | None,
                home: Path) -> dict[str, str]:
    return tool_environment(workdir)


def dag_command(workdir: Path, mode: str) -> list[str]:
    """Metaflow's own description of the graph: each step, its docstring and its successors."""
    return [sys.executable, str(FLOW_FILES[mode]), "show"]


def recovery_commands(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int,
                      data: str | None, service_url: str | None) -> list[list[str]]:
    """`python flow.py resume`, typed in the workdir: a new run that clones every task the
    latest `run` finished and executes the failed step and all after it. The staged input and
    the flow's parameters are those of the run it resumes."""
    return [[sys.executable, str(FLOW_FILES[mode]), "resume"]]


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_metaflow.synthetic", "--workdir", str(workdir),
            "--mode", mode, "--shape", shape, "--n", str(n)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_metaflow.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid]


TASK_LINE = re.compile(r"\[(\d+)/(\w+)/\d+ \(pid \d+\)\] Task is starting")
CLONE_LINE = re.compile(r"Cloning previously run task \d+/(\w+)/\d+")
RUN_LINE = re.compile(r"Workflow starting \(run-id (\d+)\)")


def rerun_reason(stdout: str, stderr: str, written: list[str]) -> str | None:
    """Metaflow's console: the new run's id, the tasks it started and any it cloned. It never
    says why a step runs: a `run` has no rule that could skip one."""
    text = stdout + "\n" + stderr
    run = RUN_LINE.search(text)
    if not run:
        return None
    started = list(dict.fromkeys(step for _, step in TASK_LINE.findall(text)))
    cloned = list(dict.fromkeys(CLONE_LINE.findall(text)))
    reason = (f"a new run (run-id {run.group(1)}); Metaflow compares nothing with earlier runs. "
              f"Tasks started: {', '.join(started) or 'none'}")
    return reason + (f"; cloned from the origin run: {', '.join(cloned)}" if cloned else "")


TRAIN_CALL = "        self.model = memsteps.train(self.train_features, self.params)\n"
SERVICE_DOCS = (
    Doc("Metaflow admin docs: Service Architecture",
        "https://docs.outerbounds.com/engineering/service-architecture/"),
    Doc("Netflix/metaflow-service: README", "https://github.com/Netflix/metaflow-service"),
)

ADAPTER = Adapter(
    name="metaflow",
    package="impl_metaflow",
    modes=(
        Mode("artifacts", "a FlowSpec, one @step per pipeline step; values handed over as "
                          "Metaflow artifacts (pickled into its local datastore)", files=False),
        Mode("files", "the same flow handing over files written by core.io (as luigi and "
                      "snakemake do); Metaflow stores only the run's settings", files=True),
    ),
    command=command,
    environment=environment,
    dag_command=dag_command,
    recovery_commands=recovery_commands,
    source_files=("impl_metaflow/flow.py", "impl_metaflow/flow_files.py",
                  "impl_metaflow/__main__.py", "impl_metaflow/launch.py"),
    footprint=Footprint(imports=("metaflow",), distributions=("metaflow",)),
    colour="#e7298a",
    # 7 tasks (start, 5 steps, end), each a local process: 14.7 s cold on a 2-core machine
    # with a load of 2.5 beside it
    cold_prior_s=15.0,
    # every `run` is a new run: a plain rerun executes every step, and `resume` is the
    # recovery command (the noop and resume findings)
    skips_finished=False,
    state_dirs=(DATASTORE,),
    env_prefixes=("METAFLOW_",),
    frameworks=("metaflow",),
    setups=(
        Setup(LAPTOP, "Metaflow's local mode: local metadata and local datastore in the "
                      "workdir's .metaflow/, every task a local process, no service",
              why="the default out of the box after `pip install metaflow`: Metaflow's docs "
                  "describe it as computation in local subprocesses with data and metadata "
                  "in a local directory",
              docs=(SERVICE_DOCS[0],
                    Doc("Metaflow: Debugging Flows (resume)",
                        "https://docs.metaflow.org/metaflow/debugging"))),
        Setup(TEAM, "Metaflow's shared mode: every run recorded by the Metaflow metadata "
                    "service and its PostgreSQL database (METAFLOW_DEFAULT_METADATA=service, "
                    "METAFLOW_SERVICE_URL)",
              why="Metaflow's docs require the metadata service and its database for a team: "
                  "runs tracked centrally and shared through the Client API and the UI",
              docs=SERVICE_DOCS,
              unavailable="Metaflow's metadata service (Netflix/metaflow-service) is published "
                          "only as source on GitHub and as Docker images: it is not on PyPI, "
                          "Debian or npm, the only registries this machine reaches, and no "
                          "Docker daemon runs here; its documented deployment is "
                          "docker-compose (PostgreSQL itself is available)"),
    ),
    synthetic=Synthetic(modes=("artifacts", "files"), command=synthetic_command),
    parallel=Parallel(
        runners={"local": "Metaflow's local runtime: a foreach of fold tasks, at most N task "
                          "processes at once (run --max-workers N)"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("impl_metaflow/flow.py", TRAIN_CALL,
                          "        from dataclasses import replace\n"
                          "        self.model = memsteps.train(self.train_features,\n"
                          "                                    replace(self.params, max_depth=4))\n"),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_metaflow/flow.py", TRAIN_CALL,
                          "        # The forest's settings all come from params.yaml.\n"
                          + TRAIN_CALL),
        reason=rerun_reason),
)
