"""The model selection as Dagster assets: `prepared` (load + preprocess, files through core.io
in the format of params.yaml), one asset per (candidate, fold) pair built by a factory, and
`selection`, depending on every fold, which picks the winner, trains it and writes the
deliverables (core.selection). The default executor runs the folds in parallel processes, at
most `max_concurrent` at once (run config).

The grid's name comes from DIR/selection_grid.json (written by `python -m
impl_dagster.selection`), read when Dagster loads this module from DIR:

    cd DIR && dagster asset materialize --select '*' -m impl_dagster.selection_defs \\
        --config-json '{"execution": {"config": {"multiprocess": {"max_concurrent": N}}}}'
"""
from __future__ import annotations

import json
import os

from dagster import AssetIn, Definitions, asset

from core import selection
from impl_dagster.adapter import SELECTION_SPEC


def _fold_name(task: selection.FoldTask) -> str:
    return "fold_" + task.name.replace("-", "_")  # an asset name is a Python identifier


@asset
def prepared():
    """load + preprocess: interim/train_features and test_features."""
    selection.prepare(os.getcwd())


def fold_asset(grid_name: str, task: selection.FoldTask):
    @asset(name=_fold_name(task), deps=[prepared])
    def fold():
        """Fit on k-1 folds, score the held-out one; write interim/folds/<task>.json."""
        return selection.run_fold(os.getcwd(), selection.grid_of(grid_name), task)["roc_auc"]
    return fold


def selection_asset(grid_name: str, tasks: list):
    @asset(name="selection", ins={_fold_name(t): AssetIn(_fold_name(t)) for t in tasks})
    def choose(**scores):
        """The best candidate by mean score, trained on all the training data."""
        return selection.reduce(os.getcwd(), selection.grid_of(grid_name))
    return choose


def build(grid: str) -> list:
    tasks = selection.fold_tasks(selection.grid_of(grid))
    return [prepared, *(fold_asset(grid, t) for t in tasks), selection_asset(grid, tasks)]


with open(SELECTION_SPEC) as spec:
    defs = Definitions(assets=build(**json.load(spec)))
