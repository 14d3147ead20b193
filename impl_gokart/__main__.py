"""Run the Titanic pipeline with gokart: stage the inputs, then build the final task."""
from __future__ import annotations

import sys

from core import cli, stage
from impl_gokart import pipeline
from impl_gokart.launch import add_options, apply_options, build, record_deliverables


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_gokart", __doc__.splitlines()[0])
    add_options(ap)
    args = ap.parse_args(argv)
    apply_options(args)
    params = cli.params_from(args)
    stage.stage(args.workdir, params, args.data)
    root = pipeline.titanic(args.workdir, params)
    status = build(root, args.scheduler_url)
    if status == 0:
        record_deliverables(args.workdir, pipeline.deliverables(root))
    return status


if __name__ == "__main__":
    sys.exit(main())
