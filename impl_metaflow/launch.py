"""How this implementation starts Metaflow: its state kept in the workdir, and the flow file's
own command line run in this process.

`python flow.py run` is what Metaflow's docs have a user type. Metaflow's runtime then starts
every task as `[sys.executable, sys.argv[0], "step", ...]`, in the same process group, so the
flow file must be argv[0] whoever starts the runtime. `run_cli` sets argv as that command
would and calls the flow class, which runs Metaflow's CLI (FlowSpec(use_cli=True)) and exits:
the same runtime, the same tasks and the same interpreter count as the typed command, after
the staging done in this process.
"""
from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path

from impl_metaflow.adapter import tool_environment


def keep_metaflow_state_in(workdir: Path) -> None:
    """Point Metaflow's locations into `workdir` unless the caller did (the harness does);
    Metaflow reads them when it is first imported, so this must come before that, and the
    tasks inherit them."""
    if "metaflow" in sys.modules:
        raise RuntimeError("metaflow was imported before its state was moved into the workdir")
    for name, value in tool_environment(workdir).items():
        os.environ.setdefault(name, value)
    Path(os.environ["TMPDIR"]).mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = None  # tempfile keeps the directory it chose first


def run_cli(flow_file: Path, args: list[str]) -> int:
    """`python <flow_file> <args...>`, in this process; returns the exit status."""
    from metaflow import FlowSpec

    module = importlib.import_module(f"impl_metaflow.{Path(flow_file).stem}")
    flow_class = next(v for v in vars(module).values() if isinstance(v, type)
                      and issubclass(v, FlowSpec) and v.__module__ == module.__name__)
    sys.argv = [str(flow_file), *args]
    try:
        flow_class()  # runs Metaflow's CLI on sys.argv and always exits
    except SystemExit as finished:
        code = finished.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
