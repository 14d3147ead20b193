"""The model selection as gokart tasks: Prepare -> one Fold per (candidate, fold) -> Reduce.

`python -m impl_gokart.selection --workdir DIR --workers N` stages the input, then runs
gokart.build(root, workers=N): gokart passes `workers` on to luigi.build, so with N > 1 each
running task is a forked process, as in luigi. Each task dumps its result (the fold's score,
the winner) as gokart's own pickle under DIR/resources/; the score files and the deliverables
are written by core as in every tool.
"""
from __future__ import annotations

import logging
import sys

import gokart
import luigi
from gokart.build import GokartBuildError

from core import cli, selection
from core.errors import UserError

RUNNERS = ("workers",)
WORKSPACE = "resources"


class SelectionTask(gokart.TaskOnKart):
    # significant: a task id names its working directory, as the luigi tasks' do
    workdir = luigi.Parameter()
    grid = luigi.ChoiceParameter(choices=tuple(selection.GRIDS), default="full")

    def shared(self) -> dict:
        return {"workdir": self.workdir, "grid": self.grid,
                "workspace_directory": self.workspace_directory}


class Prepare(SelectionTask):
    def run(self):
        selection.prepare(self.workdir)
        self.dump(True)


class Fold(SelectionTask):
    task = luigi.Parameter()  # core.selection.FoldTask.name, e.g. d4-n300-f0

    def requires(self):
        return Prepare(**self.shared())

    def run(self):
        grid = selection.GRIDS[self.grid]
        self.dump(selection.run_fold(self.workdir, grid, selection.fold_task(grid, self.task)))


class Reduce(SelectionTask):
    def requires(self):
        grid = selection.GRIDS[self.grid]
        return [Fold(task=t.name, **self.shared()) for t in selection.fold_tasks(grid)]

    def run(self):
        self.dump(selection.reduce(self.workdir, selection.GRIDS[self.grid]))


def build(root: Reduce, workers: int, scheduler_url: str | None = None) -> int:
    if scheduler_url:  # gokart.build always builds with its own in-process scheduler
        result = luigi.build([root], workers=workers, scheduler_url=scheduler_url,
                             detailed_summary=True, log_level="CRITICAL")
        if not result.status.name.startswith("SUCCESS"):
            print(f"error: luigi ended with {result.status.name}", file=sys.stderr)
            return 1
    else:
        try:
            gokart.build(root, return_value=False, log_level=logging.CRITICAL, workers=workers)
        except GokartBuildError as failed:
            print(f"error: gokart build failed: {str(failed).strip()}", file=sys.stderr)
            return 1
    if not root.complete():
        print("error: gokart did not complete the Reduce task", file=sys.stderr)
        return 1
    return 0


@cli.guarded
def main(argv=None) -> int:
    ap = selection.parser("python -m impl_gokart.selection", RUNNERS)
    ap.add_argument("--scheduler-url", default=None,
                    help="a central luigid (default: luigi's in-process scheduler)")
    args = ap.parse_args(argv)
    if args.cluster_address:
        raise UserError("runner 'workers' takes no --cluster-address")
    workdir = selection.stage_from(args)
    root = Reduce(workdir=str(workdir), grid=args.grid,
                  workspace_directory=str(workdir / WORKSPACE))
    return build(root, args.workers, args.scheduler_url)


if __name__ == "__main__":
    sys.exit(main())
