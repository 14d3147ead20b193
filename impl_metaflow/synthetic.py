"""The pertask workload with Metaflow: `python -m impl_metaflow.synthetic --workdir DIR
--shape chain|fanout --n N [--mode artifacts|files]`.

chain: chain_flow.py, one recursive step, a task per iteration; fanout: fanout_flow.py, a
foreach of N tasks and a join. Both run as `python <flow file> run ...` in this process
(launch.py), from DIR. Metaflow refuses a foreach wider than --max-num-splits (default 100), so
it is raised to N; --max-workers keeps Metaflow's default of 16.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from core import cli, synthetic
from impl_metaflow import launch

HERE = Path(__file__).resolve().parent
MODES = ("artifacts", "files")
FLOWS = {"chain": HERE / "chain_flow.py", "fanout": HERE / "fanout_flow.py"}
MAX_NUM_SPLITS = 100  # Metaflow's default


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_metaflow.synthetic", "N trivial Metaflow tasks", argv,
                           modes=MODES)
    launch.keep_metaflow_state_in(args.workdir)
    os.chdir(args.workdir)
    options = ["run", "--n", str(args.n), "--handoff", args.mode]
    if args.shape == "fanout" and args.n > MAX_NUM_SPLITS:
        options += ["--max-num-splits", str(args.n)]
    return launch.run_cli(FLOWS[args.shape], options)


if __name__ == "__main__":
    sys.exit(main())
