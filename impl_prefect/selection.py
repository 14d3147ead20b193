"""The model selection as a prefect flow: a prepare task, one fold task per (candidate, fold)
submitted to the flow's task runner, then a reduce task.

`python -m impl_prefect.selection --workdir DIR --runner R --workers N [--cluster-address A]`
  threads    ThreadPoolTaskRunner(max_workers=N), prefect's default runner
  processes  ProcessPoolTaskRunner(max_workers=N), prefect's runner for CPU-bound tasks
  dask       prefect-dask's DaskTaskRunner against the dask cluster at A (one that
             impl_prefect.dask_cluster started with N workers); prefect-dask is installed
             in .venv-dask-site (requirements-dask.txt), which must be on PYTHONPATH

Runs without PREFECT_API_URL start prefect's temporary API server, as the main flow does. The
runners whose tasks run in other processes get that server's URL through the settings prefect
ships with every task (they would otherwise each start a server of their own).
"""
from __future__ import annotations

import sys
from pathlib import Path

from core import cli, selection
from core.errors import UserError
from impl_prefect.launch import console_without_tracebacks, exit_status, keep_prefect_state_in

RUNNERS = ("threads", "processes", "dask")


def build_flow():
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    # Each run starts from an empty workdir: nothing to reuse, so no cache and no persisted
    # results (the scenario measures running in parallel, not resuming).
    step = task(cache_policy=NO_CACHE, persist_result=False)

    @step
    def prepare(workdir: str) -> None:
        selection.prepare(workdir)

    @step
    def fold(workdir: str, grid: str, name: str) -> dict:
        return selection.run_fold(workdir, selection.GRIDS[grid],
                                  selection.fold_task(selection.GRIDS[grid], name))

    @step
    def reduce(workdir: str, grid: str) -> dict:
        return selection.reduce(workdir, selection.GRIDS[grid])

    @flow(name="model-selection")
    def model_selection(workdir: str, grid: str) -> dict:
        prepare(workdir)
        futures = [fold.submit(workdir, grid, t.name)
                   for t in selection.fold_tasks(selection.GRIDS[grid])]
        for future in futures:
            future.result()  # raises the first failed fold's exception
        return reduce(workdir, grid)

    return model_selection


def task_runner(runner: str, workers: int, cluster_address: str | None):
    if runner == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner
        return ThreadPoolTaskRunner(max_workers=workers)
    if runner == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner
        return ProcessPoolTaskRunner(max_workers=workers)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        from impl_prefect.adapter import DASK_INSTALL
        raise UserError("--runner dask needs prefect-dask, kept out of the main environment: "
                        f"`.venv/bin/{DASK_INSTALL}`, then put .venv-dask-site on PYTHONPATH "
                        "(the adapter's command does)") from None
    return DaskTaskRunner(address=cluster_address)


def api_shared_with_other_processes():
    """The temporary API server started here, named in the settings every task carries."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        return temporary_settings({})
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()  # stopped by prefect's own exit hook, as the temporary server always is
    return temporary_settings({PREFECT_API_URL: server.api_url})


def run(workdir: Path, args) -> int:
    console_without_tracebacks()
    model_selection = build_flow().with_options(
        task_runner=task_runner(args.runner, args.workers, args.cluster_address))
    with api_shared_with_other_processes():
        state = model_selection(str(workdir), args.grid, return_state=True)
    return exit_status(state)


@cli.guarded
def main(argv=None) -> int:
    args = selection.parser("python -m impl_prefect.selection", RUNNERS).parse_args(argv)
    if (args.runner == "dask") != bool(args.cluster_address):
        raise UserError("--cluster-address is required by --runner dask and only by it")
    workdir = args.workdir.resolve()
    keep_prefect_state_in(workdir)
    selection.stage_from(args)
    return run(workdir, args)


if __name__ == "__main__":
    sys.exit(main())
