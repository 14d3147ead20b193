"""Run the Titanic pipeline with Dagster: `python -m impl_dagster --workdir DIR`.

Stages DIR/data/titanic.csv and DIR/params.yaml, then, from DIR, runs what Dagster's docs have
a user type to materialize every asset:

    dagster asset materialize --select '*' -m impl_dagster.defs          # --mode pickles
    dagster asset materialize --select '*' -m impl_dagster.defs \\
        -c impl_dagster/in_process.yaml                                  # --mode in_process
    dagster asset materialize --select '*' -m impl_dagster.defs_files    # --mode files

in this process, with DAGSTER_HOME in DIR/.dagster (impl_dagster/instance.py). Every
materialization is a new run of every asset; after a failure, `python -m impl_dagster.reexecute`
typed in DIR re-executes the failed run from its failure.
"""
from __future__ import annotations

import os
import sys

from core import cli, stage
from impl_dagster import instance
from impl_dagster.adapter import materialize_args, MODES


def parse(argv):
    ap = cli.parser("python -m impl_dagster", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=MODES, default=MODES[0],
                    help="pickles: Dagster's default IO manager and executor; in_process: the "
                         "same in one process; files: files through core.io "
                         "(default %(default)s)")
    return ap.parse_args(argv)


@cli.guarded
def main(argv=None) -> int:
    args = parse(argv)
    workdir = args.workdir.resolve()
    stage.stage(workdir, cli.params_from(args), args.data)
    instance.keep_dagster_state_in(workdir)
    os.chdir(workdir)
    return instance.run_cli(materialize_args(args.mode))


if __name__ == "__main__":
    sys.exit(main())
