"""The model selection as gokart tasks: Prepare -> one Fold per (candidate, fold) -> Reduce.

`python -m impl_gokart.selection --workdir DIR --workers N` stages the input, then builds the
root as the pipeline does (impl_gokart/launch.py) with `workers=N`, which gokart passes on to
luigi.build: with N > 1 each running task is a forked process, as in luigi. Each task dumps its result (the fold's score,
the winner) as gokart's own pickle under DIR/resources/; the score files and the deliverables
are written by core as in every tool.
"""
from __future__ import annotations

import sys

import gokart
import luigi

from core import cli, selection
from core.errors import UserError
from impl_gokart.launch import build

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
    return build(root, args.scheduler_url, workers=args.workers)


if __name__ == "__main__":
    sys.exit(main())
