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


def parallel_command(workdir: Path, runner: str, *, workers: int, grid: str = "full",
                     cluster_address: str | None = None) -> list[str]:
    """The model selection with `workers` workers (parallel scenario)."""
    argv = [sys.executable, "-m", "impl_gokart.selection", "--workdir", str(workdir), "--runner", runner,
            "--workers", str(workers), "--grid", grid]
    return argv + (["--cluster-address", cluster_address] if cluster_address else [])


# -- the rerun scenario (bench/rerun.py) ----------------------------------------------------
# Edits of the train task in a copy of the code: one that changes the model (with the
# parameter setting giving the same model, for the baseline's right answer), one comment-only.
RERUN_WRAPPER_EDIT = {
    "path": "impl_gokart/pipeline.py",
    "old": '        self.dump(memsteps.train(self.load_part("features", "train"), params))\n',
    "new": '        params = type(params)(**{**vars(params), "max_depth": 4})\n'
           '        self.dump(memsteps.train(self.load_part("features", "train"), params))\n',
    "equivalent_param": "max_depth=4",
}
RERUN_COMMENT_EDIT = {
    "path": "impl_gokart/pipeline.py",
    "old": '        params = read_params(self.staged_path("settings"))\n',
    "new": "        # The forest's settings all come from params.yaml.\n"
           '        params = read_params(self.staged_path("settings"))\n',
}


def rerun_reason(stdout_text: str, stderr_text: str, *, written: list[str]) -> str | None:
    """gokart prints nothing; what it reran shows as outputs under new unique ids."""
    fresh = [path.split("/")[-1].rsplit("_", 1)[0] for path in written
             if path.startswith("resources/titanic/") and path.endswith(".pkl")]
    return f"outputs under new unique ids: {', '.join(fresh)}" if fresh else None
