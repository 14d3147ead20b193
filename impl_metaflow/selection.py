"""The model selection with Metaflow: `python -m impl_metaflow.selection --workdir DIR
--workers N [--grid full|tiny]` stages the input, then runs, from DIR,
`python impl_metaflow/selection_flow.py run --grid G --max-workers N` in this process
(launch.py): Metaflow's local runtime starts each fold task as its own process, at most N at
once.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from core import cli, selection
from core.errors import UserError
from impl_metaflow import launch

FLOW = Path(__file__).resolve().with_name("selection_flow.py")
RUNNERS = ("local",)


@cli.guarded
def main(argv=None) -> int:
    args = selection.parser("python -m impl_metaflow.selection", RUNNERS).parse_args(argv)
    if args.cluster_address:
        raise UserError("runner 'local' takes no --cluster-address")
    workdir = args.workdir.resolve()
    launch.keep_metaflow_state_in(workdir)
    selection.stage_from(args)
    os.chdir(workdir)
    return launch.run_cli(FLOW, ["run", "--grid", args.grid, "--max-workers", str(args.workers)])


if __name__ == "__main__":
    sys.exit(main())
