"""The pertask workload with Dagster: `python -m impl_dagster.synthetic --workdir DIR --shape
chain|fanout --n N [--mode pickles|in_process]`.

Writes DIR/synthetic.json (shape and N, read by synthetic_defs.py), then, from DIR, runs
`dagster asset materialize --select '*' -m impl_dagster.synthetic_defs` in this process, with
`-c impl_dagster/in_process.yaml` for in_process, as __main__.py runs the pipeline.
"""
from __future__ import annotations

import json
import os
import sys

from core import cli, synthetic
from impl_dagster import instance
from impl_dagster.adapter import IN_PROCESS_CONFIG, SYNTHETIC_SPEC as SPEC


MODES = ("pickles", "in_process")


@cli.guarded
def main(argv=None) -> int:
    args = synthetic.parse("python -m impl_dagster.synthetic", "N trivial Dagster assets", argv,
                           modes=MODES)
    (args.workdir / SPEC).write_text(json.dumps({"shape": args.shape, "n": args.n}) + "\n")
    instance.keep_dagster_state_in(args.workdir)
    os.chdir(args.workdir)
    argv = ["asset", "materialize", "--select", "*", "-m", "impl_dagster.synthetic_defs"]
    return instance.run_cli(argv + (["-c", str(IN_PROCESS_CONFIG)]
                                    if args.mode == "in_process" else []))


if __name__ == "__main__":
    sys.exit(main())
