"""Run the pertask workload with snakemake: `python -m impl_snakemake.synthetic --workdir DIR
--mode script|run_jobs|threads --shape chain|fanout --n N`, the snakemake CLI on Synthetic.smk
(script: rules) or run_jobs/Synthetic.smk (run: rules)."""
from __future__ import annotations

import sys

from core import cli, synthetic
from impl_snakemake import adapter
from impl_snakemake.launch import add_snakemake_options, keep_tool_state_inside, run_snakemake


def snakemake_options(args) -> list[str]:
    """As the pipeline's options (same modes), on the synthetic Snakefile. --config keys need
    two letters or more, hence `count`."""
    options = adapter.snakemake_options(args.workdir, args.mode, args.workflow_profile,
                                        snakefile="Synthetic.smk")
    return options + ["--config", f"shape={args.shape}", f"count={args.n}"]


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_snakemake.synthetic", "N trivial snakemake jobs", argv,
                           modes=adapter.ADAPTER.mode_names, extra=add_snakemake_options)
    keep_tool_state_inside(args.workdir)
    return run_snakemake(snakemake_options(args))


if __name__ == "__main__":
    sys.exit(main())
