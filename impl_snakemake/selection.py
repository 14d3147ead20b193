"""Run the model selection with snakemake: `python -m impl_snakemake.selection --workdir DIR
--runner script|run_jobs|threads --workers N` stages the input, then runs the selection
Snakefile with --cores N.

script: Selection.smk, each job a Python process running scripts/selection/<rule>.py.
run_jobs: run_jobs/Selection.smk, each run: job a new snakemake process.
threads: run_jobs/Selection.smk with --force-use-threads, each run: job a thread of the
snakemake process (the GIL is released only inside scikit-learn's tree building).
"""
from __future__ import annotations

import sys
from pathlib import Path

from core import cli, selection
from core.errors import UserError
from impl_snakemake import adapter
from impl_snakemake.launch import add_snakemake_options, keep_tool_state_inside, run_snakemake

RUNNERS = tuple(adapter.ADAPTER.parallel.runners)


def snakemake_options(workdir: Path, runner: str, workers: int, grid: str,
                      profile: str = adapter.NO_PROFILE) -> list[str]:
    options = adapter.snakemake_options(workdir, runner, profile, snakefile="Selection.smk",
                                        cores=workers)
    return options + ["--config", f"selection_grid={grid}"]  # --config takes every later word


@cli.guarded
def main(argv=None) -> int:
    ap = selection.parser("python -m impl_snakemake.selection", RUNNERS)
    add_snakemake_options(ap)
    args = ap.parse_args(argv)
    if args.cluster_address:
        raise UserError(f"runner {args.runner!r} takes no --cluster-address")
    workdir = selection.stage_from(args)
    keep_tool_state_inside(workdir)
    return run_snakemake(snakemake_options(workdir, args.runner, args.workers, args.grid,
                                           args.workflow_profile))


if __name__ == "__main__":
    sys.exit(main())
