"""Model selection as independent tasks: k-fold cross-validation over a hyperparameter grid,
then a reduce that picks the best candidate and trains the final model.

Every tool runs the same three kinds of task, all defined here:
  prepare  load + preprocess, as the main pipeline (interim/train_features.<fmt>, ...)
  fold     one (candidate, fold) pair: fit on k-1 folds, score ROC AUC on the held-out fold,
           write interim/folds/<task>.json
  reduce   highest mean score wins (ties: the earlier candidate of the grid, i.e. the
           shallower and smaller forest), train it on the whole training set, write
           out/predictions.csv and out/metrics.json exactly as the main pipeline does, and
           out/selection.json (every candidate's mean score and the winner)

`python -m core.selection --workdir DIR --runner processes --workers N` is the plain-Python
reference: a multiprocessing pool of N forked processes. With N=1 the folds run in a loop in
the main process, the program a user writes before parallelising: its time is T1 of the
speed-up, without a pool's fork and pickling costs that nobody would pay for one process.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from core import cli, filesteps, instrument, io, layout, stage, steps
from core.errors import UserError
from core.params import Params, read as read_params

FOLDS_DIR = "interim/folds"
SELECTION = "out/selection.json"
RUNNERS = ("processes",)


@dataclasses.dataclass(frozen=True)
class Grid:
    max_depth: tuple[int, ...]
    n_estimators: tuple[int, ...]
    folds: int

    def candidates(self) -> list[dict]:
        return [{"max_depth": d, "n_estimators": n}
                for d in self.max_depth for n in self.n_estimators]


# full: 4 candidates x 3 folds = 12 fold tasks of ~0.3-0.6 s each on one core (2026 EPYC);
# tiny: 2 x 2 = 4 fold tasks of a few ms, for tests and the quick profile (CI smoke run).
GRIDS = {
    "full": Grid(max_depth=(4, 8), n_estimators=(300, 500), folds=3),
    "tiny": Grid(max_depth=(3, 6), n_estimators=(20,), folds=2),
}


@dataclasses.dataclass(frozen=True)
class FoldTask:
    candidate: dict
    fold: int

    @property
    def name(self) -> str:
        return f"{candidate_name(self.candidate)}-f{self.fold}"

    @property
    def score_path(self) -> str:
        return f"{FOLDS_DIR}/{self.name}.json"


def candidate_name(candidate: dict) -> str:
    return f"d{candidate['max_depth']}-n{candidate['n_estimators']}"


def grid_of(name: str) -> Grid:
    if name not in GRIDS:
        raise UserError(f"unknown grid {name!r}; choose one of {', '.join(GRIDS)}")
    return GRIDS[name]


def fold_tasks(grid: Grid) -> list[FoldTask]:
    return [FoldTask(c, f) for c in grid.candidates() for f in range(grid.folds)]


def fold_task(grid: Grid, name: str) -> FoldTask:
    """The task a tool names by its string id (snakemake wildcards, luigi parameters)."""
    for task in fold_tasks(grid):
        if task.name == name:
            return task
    raise UserError(f"no fold task {name!r} in this grid")


# ---------------------------------------------------------------- the three kinds of task

def prepare(workdir: str | Path) -> None:
    p = lambda rel: layout.resolve(workdir, rel)  # noqa: E731
    params = read_params(p(layout.PARAMS))
    fmt = params.format
    filesteps.load(p(layout.DATA), params, p(layout.train_raw(fmt)), p(layout.test_raw(fmt)))
    filesteps.preprocess(p(layout.train_raw(fmt)), p(layout.test_raw(fmt)), fmt,
                         p(layout.train_features(fmt)), p(layout.test_features(fmt)))


def prepared_outputs(fmt: str) -> list[str]:
    return [layout.train_features(fmt), layout.test_features(fmt)]


def run_fold(workdir: str | Path, grid: Grid, task: FoldTask, out_path=None) -> dict:
    """out_path: where to write the score (a tool's atomic temporary path), default its own."""
    params = read_params(layout.resolve(workdir, layout.PARAMS))
    features = io.read_table("fold", layout.resolve(workdir, layout.train_features(params.format)),
                             params.format)
    with instrument.span("fold", "compute"):
        score = _fold_score(features, params, grid, task)
    result = {"task": task.name, **task.candidate, "fold": task.fold, "roc_auc": score}
    io.write_json("fold", result, out_path or layout.resolve(workdir, task.score_path))
    return result


def _fold_score(features, params: Params, grid: Grid, task: FoldTask) -> float:
    x, y = steps._xy(features)
    splitter = StratifiedKFold(n_splits=grid.folds, shuffle=True, random_state=params.seed)
    fit_rows, held_out = list(splitter.split(x, y))[task.fold]
    model = RandomForestClassifier(random_state=params.seed, n_jobs=1, **task.candidate)
    model.fit(x[fit_rows], y[fit_rows])
    return float(roc_auc_score(y[held_out], model.predict_proba(x[held_out])[:, 1]))


def choose(scores: list[dict], grid: Grid) -> tuple[dict, list[dict]]:
    """The best candidate by mean fold score; on a tie, the earlier one of the grid."""
    table = []
    for candidate in grid.candidates():
        mine = [s["roc_auc"] for s in scores
                if s["max_depth"] == candidate["max_depth"]
                and s["n_estimators"] == candidate["n_estimators"]]
        if len(mine) != grid.folds:
            raise UserError(f"candidate {candidate_name(candidate)} has {len(mine)} fold "
                            f"scores, expected {grid.folds}")
        table.append({**candidate, "mean_roc_auc": float(np.mean(mine)), "folds": mine})
    best = max(range(len(table)), key=lambda i: (table[i]["mean_roc_auc"], -i))
    return grid.candidates()[best], table


def reduce(workdir: str | Path, grid: Grid) -> dict:
    p = lambda rel: layout.resolve(workdir, rel)  # noqa: E731
    scores = [_read_score(p(task.score_path)) for task in fold_tasks(grid)]
    with instrument.span("reduce", "compute"):
        best, table = choose(scores, grid)
    params = read_params(p(layout.PARAMS))
    final = dataclasses.replace(params, **best)
    fmt = params.format
    model = steps.train(io.read_table("reduce", p(layout.train_features(fmt)), fmt), final)
    test_features = io.read_table("reduce", p(layout.test_features(fmt)), fmt)
    predictions = steps.predict(model, test_features)
    io.write_table("predict", predictions, p(layout.PREDICTIONS), "csv")
    io.write_json("evaluate", steps.evaluate(predictions, test_features), p(layout.METRICS))
    io.write_json("reduce", {"best": best, "candidates": table}, p(SELECTION))
    return best


def reduce_outputs() -> list[str]:
    return [layout.PREDICTIONS, layout.METRICS, SELECTION]


def _read_score(path: Path) -> dict:
    with instrument.span("reduce", "read") as s:
        raw = Path(path).read_bytes()
        s.bytes = len(raw)
    return json.loads(raw)


# ---------------------------------------------------------------- the plain-Python reference

def _fold_in_pool(job: tuple[str, str, FoldTask]) -> dict:
    workdir, grid_name, task = job
    return run_fold(workdir, GRIDS[grid_name], task)


def run_processes(workdir: Path, grid_name: str, workers: int) -> dict:
    grid = GRIDS[grid_name]
    prepare(workdir)
    tasks = fold_tasks(grid)
    if workers == 1:
        for task in tasks:
            run_fold(workdir, grid, task)
    else:
        # fork: the children start with pandas and scikit-learn already imported, as a user's
        # Pool on Linux does by default
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_fold_in_pool, [(str(workdir), grid_name, t) for t in tasks], chunksize=1)
    return reduce(workdir, grid)


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def parser(prog: str, runners: tuple[str, ...]):
    """The options every selection command shares (the adapters' parallel_command)."""
    ap = cli.parser(prog, "Model selection (k-fold CV over a grid, then a reduce) in parallel")
    ap.add_argument("--runner", choices=runners, default=runners[0])
    ap.add_argument("--workers", type=positive, default=1,
                    help="tasks running at once (default %(default)s)")
    ap.add_argument("--grid", choices=tuple(GRIDS), default="full",
                    help="hyperparameter grid and number of folds (default %(default)s)")
    ap.add_argument("--cluster-address", default=None,
                    help="address of a running cluster (runners that use one)")
    return ap


def stage_from(args) -> Path:
    workdir = args.workdir.resolve()
    stage.stage(workdir, cli.params_from(args), args.data)
    return workdir


@cli.guarded
def main(argv=None) -> int:
    args = parser("python -m core.selection", RUNNERS).parse_args(argv)
    if args.cluster_address:
        raise UserError("runner 'processes' takes no --cluster-address")
    run_processes(stage_from(args), args.grid, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
