"""The model selection with Dagster: `python -m impl_dagster.selection --workdir DIR --workers N
[--grid full|tiny]` stages the input, writes DIR/selection_grid.json, then runs, from DIR,
`dagster asset materialize --select '*' -m impl_dagster.selection_defs` with the default
executor's multiprocess option `max_concurrent: N`, in this process.
"""
from __future__ import annotations

import json
import os
import sys

from core import cli, selection
from core.errors import UserError
from impl_dagster import instance
from impl_dagster.adapter import SELECTION_SPEC

RUNNERS = ("multiprocess",)


@cli.guarded
def main(argv=None) -> int:
    args = selection.parser("python -m impl_dagster.selection", RUNNERS).parse_args(argv)
    if args.cluster_address:
        raise UserError("runner 'multiprocess' takes no --cluster-address")
    workdir = selection.stage_from(args)
    (workdir / SELECTION_SPEC).write_text(json.dumps({"grid": args.grid}) + "\n")
    instance.keep_dagster_state_in(workdir)
    os.chdir(workdir)
    config = {"execution": {"config": {"multiprocess": {"max_concurrent": args.workers}}}}
    return instance.run_cli(["asset", "materialize", "--select", "*",
                             "-m", "impl_dagster.selection_defs",
                             "--config-json", json.dumps(config)])


if __name__ == "__main__":
    sys.exit(main())
