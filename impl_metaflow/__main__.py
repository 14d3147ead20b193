"""Run the Titanic pipeline with Metaflow: `python -m impl_metaflow --workdir DIR`.

Stages DIR/data/titanic.csv and DIR/params.yaml, then, from DIR, runs what Metaflow's docs
have a user type: `python impl_metaflow/flow.py run` (flow_files.py for --mode files), in this
process (impl_metaflow/launch.py). Every run is a new Metaflow run that executes every step;
after a failure, `python impl_metaflow/flow.py resume` typed in DIR reuses the finished steps.
"""
from __future__ import annotations

import os
import sys

from core import cli, stage
from impl_metaflow import launch
from impl_metaflow.adapter import FLOW_FILES


def parse(argv):
    ap = cli.parser("python -m impl_metaflow", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=tuple(FLOW_FILES), default="artifacts",
                    help="hand-off between steps: Metaflow artifacts, or files through core.io "
                         "(default %(default)s)")
    return ap.parse_args(argv)


@cli.guarded
def main(argv=None) -> int:
    args = parse(argv)
    workdir = args.workdir.resolve()
    launch.keep_metaflow_state_in(workdir)
    stage.stage(workdir, cli.params_from(args), args.data)
    # the flow reads DIR as its `workdir` parameter, default "."; tasks inherit the cwd
    os.chdir(workdir)
    return launch.run_cli(FLOW_FILES[args.mode], ["run"])


if __name__ == "__main__":
    sys.exit(main())
