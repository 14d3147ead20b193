"""Run the model selection with snakemake: `python -m impl_snakemake.selection --workdir DIR
--runner cores|threads --workers N` stages the input, then runs Selection.smk with --cores N.

cores: snakemake's default local execution, each run: job in a new Python process.
threads: --force-use-threads, each run: job in a thread of the snakemake process (the GIL is
released only inside scikit-learn's tree building).
"""
from __future__ import annotations

import sys
from pathlib import Path

from core import cli, selection
from core.errors import UserError
from impl_snakemake.launch import add_profile_option, keep_tool_state_inside, run_snakemake

RUNNERS = ("cores", "threads")
SNAKEFILE = Path(__file__).resolve().with_name("Selection.smk")


def snakemake_options(workdir: Path, runner: str, workers: int, grid: str,
                      profile: str | None = None) -> list[str]:
    options = ["--snakefile", str(SNAKEFILE), "--directory", str(workdir),
               "--cores", str(workers)]
    options += ["--workflow-profile", profile] if profile else []
    if runner == "threads":
        options.append("--force-use-threads")
    return options + ["--config", f"selection_grid={grid}"]  # --config takes every later word


@cli.guarded
def main(argv=None) -> int:
    ap = selection.parser("python -m impl_snakemake.selection", RUNNERS)
    add_profile_option(ap)
    args = ap.parse_args(argv)
    if args.cluster_address:
        raise UserError(f"runner {args.runner!r} takes no --cluster-address")
    workdir = selection.stage_from(args)
    keep_tool_state_inside(workdir)
    return run_snakemake(snakemake_options(workdir, args.runner, args.workers, args.grid,
                                           args.workflow_profile))


if __name__ == "__main__":
    sys.exit(main())
