"""The model selection as luigi Tasks: Prepare -> one Fold per (candidate, fold) -> Reduce.

`python -m impl_luigi.selection --workdir DIR --workers N` stages the input, then runs
luigi.build(workers=N) with the local scheduler. With N > 1 luigi forks one process per
running task, so folds run in parallel processes; with N = 1 they run one after the other in
the luigi process itself.
"""
from __future__ import annotations

import sys

import luigi
import luigi.configuration
import luigi.format

from core import FORMATS, cli, layout, selection
from core.errors import UserError
from core.params import Params
from impl_luigi.launch import CONFIG, add_scheduler_option, quiet_logging
from impl_luigi.pipeline import StagedData

RUNNERS = ("workers",)


class StagedParams(luigi.ExternalTask):
    """DIR/params.yaml, staged by the command: core.selection reads its seed and format."""
    workdir = luigi.PathParameter(absolute=True)

    def output(self):
        return luigi.LocalTarget(layout.resolve(self.workdir, layout.PARAMS))


class SelectionTask(luigi.Task):
    workdir = luigi.PathParameter(absolute=True)
    format = luigi.ChoiceParameter(choices=FORMATS, default=Params.format)
    grid = luigi.ChoiceParameter(choices=tuple(selection.GRIDS), default="full")

    def target(self, rel: str) -> luigi.LocalTarget:
        return luigi.LocalTarget(layout.resolve(self.workdir, rel), format=luigi.format.Nop)

    def shared(self) -> dict:
        return {"workdir": self.workdir, "format": self.format, "grid": self.grid}


class Prepare(SelectionTask):
    """load + preprocess; core writes both feature tables (not through luigi's temporary
    paths: the parallel scenario injects no crash, and a rerun only needs them to exist)."""

    def requires(self):
        return [StagedData(workdir=self.workdir), StagedParams(workdir=self.workdir)]

    def output(self):
        return [self.target(rel) for rel in selection.prepared_outputs(self.format)]

    def run(self):
        selection.prepare(self.workdir)


class Fold(SelectionTask):
    task = luigi.Parameter()  # core.selection.FoldTask.name, e.g. d4-n300-f0

    def requires(self):
        return Prepare(**self.shared())

    def output(self):
        return self.target(self.fold().score_path)

    def fold(self) -> selection.FoldTask:
        return selection.fold_task(selection.GRIDS[self.grid], self.task)

    def run(self):
        with self.output().temporary_path() as tmp:
            selection.run_fold(self.workdir, selection.GRIDS[self.grid], self.fold(), tmp)


class Reduce(SelectionTask):
    def requires(self):
        grid = selection.GRIDS[self.grid]
        return [Fold(task=t.name, **self.shared()) for t in selection.fold_tasks(grid)]

    def output(self):
        return [self.target(rel) for rel in selection.reduce_outputs()]

    def run(self):
        selection.reduce(self.workdir, selection.GRIDS[self.grid])


def build(root: Reduce, workers: int, scheduler_url: str | None = None) -> int:
    summary = quiet_logging()
    where = {"scheduler_url": scheduler_url} if scheduler_url else {"local_scheduler": True}
    result = luigi.build([root], workers=workers, detailed_summary=True, **where)
    if result.status.name.startswith("SUCCESS") and root.complete():
        return 0
    print(f"error: luigi ended with {result.status.name}\n{summary.text.strip()}", file=sys.stderr)
    return 1


@cli.guarded
def main(argv=None) -> int:
    ap = selection.parser("python -m impl_luigi.selection", RUNNERS)
    add_scheduler_option(ap)
    args = ap.parse_args(argv)
    if args.cluster_address:
        raise UserError("runner 'workers' takes no --cluster-address")
    workdir = selection.stage_from(args)
    luigi.configuration.add_config_path(str(CONFIG))
    return build(Reduce(workdir=workdir, format=args.format, grid=args.grid), args.workers,
                 args.scheduler_url)


if __name__ == "__main__":
    sys.exit(main())
