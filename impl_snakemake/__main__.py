"""Run the Titanic pipeline with snakemake: stage the input into DIR, then run the Snakefile there."""
from __future__ import annotations

import sys

from core import cli, stage
from impl_snakemake.adapter import ADAPTER, snakemake_options
from impl_snakemake.launch import add_profile_option, keep_tool_state_inside, run_snakemake


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_snakemake", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=ADAPTER.mode_names, default=ADAPTER.default_mode,
                    help="how snakemake executes run: jobs (default %(default)s)")
    add_profile_option(ap)
    args = ap.parse_args(argv)
    stage.stage(args.workdir, cli.params_from(args), args.data)
    keep_tool_state_inside(args.workdir)
    return run_snakemake(snakemake_options(args.workdir, args.mode, args.workflow_profile))


if __name__ == "__main__":
    sys.exit(main())
