"""The model selection as a Metaflow foreach: `start` prepares (load + preprocess, files
through core.io in the format of params.yaml), one `fold` task per (candidate, fold) pair, and
`reduce`, the join, picks the winner, trains it and writes the deliverables (core.selection).

    cd DIR && python impl_metaflow/selection_flow.py run --grid full|tiny --max-workers N
"""
from __future__ import annotations

from pathlib import Path

from metaflow import FlowSpec, Parameter, step


class ModelSelectionFlow(FlowSpec):
    workdir = Parameter("workdir", default=".", help="working directory (relative: to the cwd)")
    grid = Parameter("grid", default="full", help="hyperparameter grid (core.selection.GRIDS)")

    @property
    def root(self) -> str:
        return str(Path(self.workdir).resolve())

    @step
    def start(self):
        """load + preprocess; one fold task name per (candidate, fold)."""
        from core import selection
        selection.prepare(self.root)
        self.fold_names = [t.name for t in selection.fold_tasks(selection.grid_of(self.grid))]
        self.next(self.fold, foreach="fold_names")

    @step
    def fold(self):
        """Fit on k-1 folds, score the held-out one; write interim/folds/<task>.json."""
        from core import selection
        grid = selection.grid_of(self.grid)
        self.score = selection.run_fold(self.root, grid, selection.fold_task(grid, self.input))
        self.next(self.reduce)

    @step
    def reduce(self, inputs):
        """The best candidate by mean score, trained on all the training data."""
        from core import selection
        self.best = selection.reduce(self.root, selection.grid_of(self.grid))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ModelSelectionFlow()
