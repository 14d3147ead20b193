"""Run the Titanic pipeline with snakemake: stage the input into DIR, then run the Snakefile there."""
from __future__ import annotations

import sys

from core import cli, stage
from impl_snakemake.adapter import ADAPTER, snakemake_options
from impl_snakemake.launch import add_snakemake_options, keep_tool_state_inside, run_snakemake


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_snakemake", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=ADAPTER.mode_names, default=ADAPTER.default_mode,
                    help="script: rules, run: jobs, or run: jobs in threads (default "
                         "%(default)s)")
    add_snakemake_options(ap, rerun_triggers=True)
    args = ap.parse_args(argv)
    stage.stage(args.workdir, cli.params_from(args), args.data)
    keep_tool_state_inside(args.workdir)
    return run_snakemake(snakemake_options(args.workdir, args.mode, args.workflow_profile,
                                           rerun_triggers=args.rerun_triggers))


if __name__ == "__main__":
    sys.exit(main())
