"""Print the pipeline's task tree as gokart reports it: `python -m impl_gokart.dag --workdir DIR`.

gokart's own tree printer (`gokart.make_task_info_as_tree_str`, what `--tree-info-mode`
writes) shows each task's unique id and whether its outputs exist in DIR (COMPLETE/PENDING).
The task graph is built in Python (its tasks are wired by TaskInstanceParameters), so the
printer is called here rather than through a command line.
"""
from __future__ import annotations

import sys

import gokart

from core import cli, layout, stage
from core.params import read as read_params
from impl_gokart import pipeline


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_gokart.dag", __doc__.splitlines()[0])
    args = ap.parse_args(argv)
    # A workdir staged by an earlier run keeps its own settings and data, which the ids hold.
    if not (args.workdir / layout.PARAMS).is_file():
        stage.stage(args.workdir, cli.params_from(args), args.data)
    root = pipeline.titanic(args.workdir, read_params(args.workdir / layout.PARAMS))
    print(gokart.make_task_info_as_tree_str(root).strip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
