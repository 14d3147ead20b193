"""Run the Titanic pipeline as a prefect flow: `python -m impl_prefect --workdir DIR`.

Without PREFECT_API_URL each run starts prefect's temporary API server; with it, the run
reports to that server. Rerunning the same command after a failure resumes through the
tasks' cache policy and persisted results.
"""
from __future__ import annotations

import sys

from core import cli, stage
from impl_prefect.launch import HANDOFFS, exit_status, keep_prefect_state_in, run_flow


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_prefect", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=HANDOFFS, default=HANDOFFS[0],
                    help="hand-off between tasks: values (memory) or files (default %(default)s)")
    args = ap.parse_args(argv)
    workdir = args.workdir.resolve()
    keep_prefect_state_in(workdir)
    stage.stage(workdir, cli.params_from(args), args.data)
    return exit_status(run_flow(workdir, args.mode))


if __name__ == "__main__":
    sys.exit(main())
