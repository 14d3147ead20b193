"""Print the pipeline's task tree as luigi reports it: `python -m impl_luigi.dag --workdir DIR`.

luigi's own tree printer (`luigi.tools.deps_tree`) with the root task and the parameters of
the run staged in DIR (its params.yaml), so the tree shows that run's tasks and whether each
is COMPLETE or PENDING there. A workdir with nothing staged shows the defaults.
"""
from __future__ import annotations

import sys

import luigi.configuration
import luigi.tools.deps_tree

from core import cli, layout
from core.params import read as read_params
from impl_luigi.__main__ import task_argv
from impl_luigi.launch import CONFIG


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_luigi.dag", __doc__.splitlines()[0])
    args = ap.parse_args(argv)
    staged = args.workdir / layout.PARAMS
    params = read_params(staged) if staged.is_file() else cli.params_from(args)
    luigi.configuration.add_config_path(str(CONFIG))
    # deps_tree reads its command line from sys.argv, like the `luigi-deps-tree` script.
    sys.argv = ["luigi-deps-tree", *task_argv(args.workdir.absolute(), params)]
    luigi.tools.deps_tree.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
