"""What `bench` needs to know to run the plain-Python baseline (stdlib only; see bench/contract.md)."""
from __future__ import annotations

import sys
from pathlib import Path

NAME = "baseline"
MODES = {
    "files": "plain function calls, artefacts handed over as files through core.io",
    "memory": "plain function calls, artefacts handed over as values (the lower bound)",
}
FORMAT_MODES = {"files"}
SOURCE_FILES = ("core/baseline.py",)
TOOL_HOME: tuple[str, ...] = ()
SERVICES: dict[str, str] = {}


def command(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None = None,
            service_url: str | None = None) -> list[str]:
    argv = [sys.executable, "-m", "core.baseline", "--workdir", str(workdir),
            "--handoff", mode, "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, service_url: str | None = None) -> dict[str, str]:
    return {}


def dag_command(workdir: Path, mode: str) -> list[str] | None:
    return None  # a plain script has no DAG of its own to report


def recovery_commands(workdir: Path, mode: str, *, fmt: str, scale: int,
                      data: str | None = None) -> list[list[str]]:
    return []  # the baseline always starts from the beginning: rerunning is the recovery


# -- the scaling scenarios (bench/contract.md) ----------------------------------------------

SYNTHETIC_MODES = ("files",)


def synthetic_command(workdir: Path, mode: str, *, shape: str, n: int) -> list[str]:
    """N trivial tasks as a `chain` or a `fanout` (pertask scenario)."""
    return [sys.executable, "-m", "core.synthetic", "--workdir", str(workdir),
            "--shape", shape, "--n", str(n)]


PARALLEL_RUNNERS = {"processes": "multiprocessing.Pool with N processes: the plain-Python reference"}


def parallel_command(workdir: Path, runner: str, *, workers: int, grid: str = "full",
                     cluster_address: str | None = None) -> list[str]:
    """The model selection with `workers` workers (parallel scenario)."""
    argv = [sys.executable, "-m", "core.selection", "--workdir", str(workdir), "--runner", runner,
            "--workers", str(workers), "--grid", grid]
    return argv + (["--cluster-address", cluster_address] if cluster_address else [])


# -- the rerun scenario (bench/rerun.py) ----------------------------------------------------
# Edits of the train step call in a copy of the code: one that changes the model (with the
# parameter setting giving the same model, for the baseline's right answer), one comment-only.
RERUN_WRAPPER_EDIT = {
    "path": "core/baseline.py",
    "old": "    filesteps.train(p(layout.train_features(fmt)), params, p(layout.MODEL))\n",
    "new": '    params = type(params)(**{**vars(params), "max_depth": 4})\n'
           "    filesteps.train(p(layout.train_features(fmt)), params, p(layout.MODEL))\n",
    "equivalent_param": "max_depth=4",
}
RERUN_COMMENT_EDIT = {
    "path": "core/baseline.py",
    "old": "    filesteps.train(p(layout.train_features(fmt)), params, p(layout.MODEL))\n",
    "new": "    # The forest's settings all come from params.yaml.\n"
           "    filesteps.train(p(layout.train_features(fmt)), params, p(layout.MODEL))\n",
}


def rerun_reason(stdout_text: str, stderr_text: str) -> str | None:
    return "no rerun rules: the script runs every step"
