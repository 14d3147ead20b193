"""What `bench` needs to know to run the gokart pipeline (stdlib only; see bench/contract.md).

gokart hands values over as its own pickles, named by each task's unique id, in the workspace
`DIR/resources/`; `--format` is accepted and recorded in params.yaml (whose hash is in every
unique id, so a new format reruns every task) but changes nothing about the hand-off.
"""
from __future__ import annotations

import sys
from pathlib import Path

NAME = "gokart"
MODES = {
    "local": "gokart.build: luigi's in-process scheduler, one worker; gokart pickles every "
             "task's result into the workdir",
}
FORMAT_MODES: set[str] = set()
# dag.py is left out: it prints the tree for the report, it is not pipeline code.
SOURCE_FILES = ("impl_gokart/pipeline.py", "impl_gokart/__main__.py")
TOOL_HOME: tuple[str, ...] = ()  # gokart keeps no machine-level state: its pickles are the state
SERVICES: dict[str, str] = {}


def command(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None = None,
            service_url: str | None = None) -> list[str]:
    argv = [sys.executable, "-m", "impl_gokart", "--workdir", str(workdir),
            "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, service_url: str | None = None) -> dict[str, str]:
    # The command passes gokart its workspace inside the workdir explicitly, and luigi.build
    # takes no pid lock: nothing to move.
    return {}


def dag_command(workdir: Path, mode: str) -> list[str] | None:
    """gokart's tree printer, with each task's unique id and COMPLETE/PENDING in that workdir."""
    return [sys.executable, "-m", "impl_gokart.dag", "--workdir", str(workdir)]


def recovery_commands(workdir: Path, mode: str, *, fmt: str, scale: int,
                      data: str | None = None) -> list[list[str]]:
    """[] because gokart recovers by itself, as tests/test_gokart.py shows: a task killed
    before or during its dump leaves no output under its name (luigi's atomic write), so the
    plain rerun redoes it."""
    return []


# -- the scaling scenarios (bench/contract.md) ----------------------------------------------

SYNTHETIC_MODES = ("local",)


def synthetic_command(workdir: Path, mode: str, *, shape: str, n: int) -> list[str]:
    """N trivial tasks as a `chain` or a `fanout` (pertask scenario)."""
    return [sys.executable, "-m", "impl_gokart.synthetic", "--workdir", str(workdir),
            "--shape", shape, "--n", str(n)]


PARALLEL_RUNNERS = {"workers": "gokart.build(workers=N): luigi workers, one forked process per running task"}


def parallel_command(workdir: Path, runner: str, *, workers: int,
                     cluster_address: str | None = None) -> list[str]:
    """The model selection with `workers` workers (parallel scenario)."""
    argv = [sys.executable, "-m", "impl_gokart.selection", "--workdir", str(workdir), "--runner", runner,
            "--workers", str(workers)]
    return argv + (["--cluster-address", cluster_address] if cluster_address else [])
