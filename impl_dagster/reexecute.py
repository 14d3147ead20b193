"""Re-execute the latest failed Dagster run from its failure: `python -m impl_dagster.reexecute
--workdir DIR`, typed where the failed `dagster asset materialize` ran.

Dagster 1.13 offers "re-execute from failure" in its UI and GraphQL API and, from Python, as
`execute_job(job, instance, reexecution_options=ReexecutionOptions.from_failure(run_id,
instance))` (the documented call, below); no `dagster` CLI command does it. The new run takes
the failed run's job and run config (its executor), reuses the outputs the failed run stored
through its IO manager for the assets it materialized, and executes the failed asset and every
asset after it.
"""
from __future__ import annotations

import argparse
import os
import sys

from dagster import (DagsterInstance, DagsterRunStatus, ReexecutionOptions, RunsFilter,
                     execute_job)
from dagster._utils.hosted_user_process import recon_job_from_origin  # as the CLI does
from impl_dagster import instance as dagster_home


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m impl_dagster.reexecute",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default=".", help="where the failed run ran (default: here)")
    args = ap.parse_args(argv)
    os.chdir(args.workdir)
    dagster_home.keep_dagster_state_in(os.getcwd())
    with DagsterInstance.get() as instance:
        failed = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.FAILURE]), limit=1)
        if not failed:
            print("error: no failed run in this Dagster instance to re-execute",
                  file=sys.stderr)
            return 1
        parent = failed[0]
        # the job where the failed run found it (`-m impl_dagster.defs`, its __ASSET_JOB)
        job = recon_job_from_origin(parent.job_code_origin)
        options = ReexecutionOptions.from_failure(parent.run_id, instance)
        result = execute_job(job, instance, reexecution_options=options)
        return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
