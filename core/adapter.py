"""The plain-Python baseline as `bench` sees it (stdlib only; bench/contract.md)."""
from __future__ import annotations

import sys
from pathlib import Path

from core.contract import (LAPTOP, Adapter, Doc, Edit, Footprint, Mode, Parallel, Reference,
                           Rerun, Setup, Synthetic)


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "core.baseline", "--workdir", str(workdir),
            "--handoff", mode, "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "core.synthetic", "--workdir", str(workdir),
            "--shape", shape, "--n", str(n)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "core.selection", "--workdir", str(workdir), "--runner", runner,
            "--workers", str(workers), "--grid", grid]


# Edits of the train step call in a copy of the code: one that changes the model (with the
# parameter setting giving the same model, for the right answer), one comment-only.
TRAIN_CALL = "    filesteps.train(p(layout.train_features(fmt)), params, p(layout.MODEL))\n"

ADAPTER = Adapter(
    name="baseline",
    package="core",
    modes=(
        Mode("files", "plain function calls, artefacts handed over as files through core.io",
             files=True),
        Mode("memory", "plain function calls, artefacts handed over as values (the lower bound)",
             files=False),
    ),
    command=command,
    source_files=("core/baseline.py",),
    footprint=Footprint(imports=("core.steps",),
                        distributions=("pandas", "scikit-learn", "pyarrow", "pyyaml")),
    colour="#555555",
    cold_prior_s=2.5,
    # a plain script has no DAG of its own to report, and always starts from the beginning:
    # rerunning is its recovery; it runs the same on a laptop and in a team
    setups=(Setup(LAPTOP, "python -m core.baseline: the steps in order, nothing to set up",
                  why="the script a notebook becomes first: the reference every tool is "
                      "compared with",
                  docs=(Doc("The Python Tutorial: Modules",
                            "https://docs.python.org/3/tutorial/modules.html"),)),),
    synthetic=Synthetic(modes=("files",), command=synthetic_command),
    parallel=Parallel(
        runners={"processes": "multiprocessing.Pool with N processes: the plain-Python "
                              "reference"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("core/baseline.py", TRAIN_CALL,
                          '    params = type(params)(**{**vars(params), "max_depth": 4})\n'
                          + TRAIN_CALL),
        equivalent_param="max_depth=4",
        comment_edit=Edit("core/baseline.py", TRAIN_CALL,
                          "    # The forest's settings all come from params.yaml.\n" + TRAIN_CALL),
        reason=lambda stdout, stderr, written: "no rerun rules: the script runs every step"),
    reference=Reference(mode="memory", parallel_runner="processes"),
)
