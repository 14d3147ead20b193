"""Run the pertask workload with snakemake: `python -m impl_snakemake.synthetic --workdir DIR
--mode processes|threads --shape chain|fanout --n N`, the snakemake CLI on Synthetic.smk."""
from __future__ import annotations

import sys
from pathlib import Path

from core import cli, synthetic
from impl_snakemake import adapter
from impl_snakemake.launch import add_profile_option, keep_tool_state_inside, run_snakemake

SNAKEFILE = Path(__file__).resolve().with_name("Synthetic.smk")


def snakemake_options(args) -> list[str]:
    """As the pipeline's options (same modes), on the synthetic Snakefile. --config keys need
    two letters or more, hence `count`."""
    options = adapter.snakemake_options(args.workdir, args.mode, args.workflow_profile)
    options[options.index("--snakefile") + 1] = str(SNAKEFILE)
    return options + ["--config", f"shape={args.shape}", f"count={args.n}"]


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_snakemake.synthetic", "N trivial snakemake jobs", argv,
                           modes=adapter.ADAPTER.mode_names, extra=add_profile_option)
    keep_tool_state_inside(args.workdir)
    return run_snakemake(snakemake_options(args))


if __name__ == "__main__":
    sys.exit(main())
