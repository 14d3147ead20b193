"""Run the Titanic pipeline with gokart: stage the inputs, then gokart.build the final task."""
from __future__ import annotations

import sys

from core import cli, stage
from impl_gokart import pipeline
from impl_gokart.launch import build


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_gokart", __doc__.splitlines()[0])
    ap.add_argument("--scheduler-url", default=None,
                    help="a central luigid (default: luigi's in-process scheduler)")
    args = ap.parse_args(argv)
    stage.stage(args.workdir, cli.params_from(args), args.data)
    return build(pipeline.titanic(args.workdir), args.scheduler_url)


if __name__ == "__main__":
    sys.exit(main())
