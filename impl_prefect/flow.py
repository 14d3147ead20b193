"""The Titanic pipeline as a prefect flow: one task per step, each calling the core functions.

`titanic` hands values over between tasks, the way prefect users write a flow; prefect persists
every task's result, and a rerun reuses each task whose cache key it already holds.
`titanic_files` hands over the paths of files written by core.io instead, like luigi and
snakemake, so that the tools can be compared at equal IO.

Each task receives only what it uses: the parameters it reads from params.yaml, the values or
files of the tasks before it, the paths it writes. Its cache key is its own source and those
inputs by content (impl_prefect/cache.py), so a changed hyperparameter reruns train and what
follows it, and new data reruns everything.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from prefect import flow, task

from core import filesteps, layout, memsteps
from core.params import Params
from impl_prefect.cache import CACHE_POLICY

step = functools.partial(task, cache_policy=CACHE_POLICY, persist_result=True)


@step(name="load")
def load(raw_csv: Path, test_size: float, seed: int, scale: int):
    return memsteps.load(raw_csv, Params(test_size=test_size, seed=seed, scale=scale))


@step(name="preprocess")
def preprocess(train_raw, test_raw):
    return memsteps.preprocess(train_raw, test_raw)


@step(name="train")
def train(train_features, n_estimators: int, max_depth: int, seed: int):
    forest = Params(n_estimators=n_estimators, max_depth=max_depth, seed=seed)
    return memsteps.train(train_features, forest)


@step(name="predict")
def predict(model, test_features, predictions_out: str):
    return memsteps.predict(model, test_features, predictions_out)


@step(name="evaluate")
def evaluate(predictions, test_features, metrics_out: str) -> dict:
    return memsteps.evaluate(predictions, test_features, metrics_out)


@flow(name="titanic")
def titanic(workdir: str, params: dict[str, Any]) -> dict:
    """`params`: params.yaml as staged; each task is given the entries it reads."""
    p = Params(**params)
    at = functools.partial(_path, workdir)
    train_raw, test_raw = load(Path(at(layout.DATA)), p.test_size, p.seed, p.scale)
    train_features, test_features = preprocess(train_raw, test_raw)
    model = train(train_features, p.n_estimators, p.max_depth, p.seed)
    predictions = predict(model, test_features, at(layout.PREDICTIONS))
    return evaluate(predictions, test_features, at(layout.METRICS))


# The files hand-off: input files are Paths (keyed by their content), outputs are str paths.

@step(name="load")
def load_files(raw_csv: Path, test_size: float, seed: int, scale: int, fmt: str,
               train_out: str, test_out: str) -> tuple[Path, Path]:
    filesteps.load(raw_csv, Params(test_size=test_size, seed=seed, scale=scale, format=fmt),
                   train_out, test_out)
    return Path(train_out), Path(test_out)


@step(name="preprocess")
def preprocess_files(train_in: Path, test_in: Path, fmt: str,
                     train_out: str, test_out: str) -> tuple[Path, Path]:
    filesteps.preprocess(train_in, test_in, fmt, train_out, test_out)
    return Path(train_out), Path(test_out)


@step(name="train")
def train_files(train_features_in: Path, fmt: str, n_estimators: int, max_depth: int, seed: int,
                model_out: str) -> Path:
    filesteps.train(train_features_in, Params(n_estimators=n_estimators, max_depth=max_depth,
                                              seed=seed, format=fmt), model_out)
    return Path(model_out)


@step(name="predict")
def predict_files(model_in: Path, test_features_in: Path, fmt: str, predictions_out: str) -> Path:
    filesteps.predict(model_in, test_features_in, fmt, predictions_out)
    return Path(predictions_out)


@step(name="evaluate")
def evaluate_files(predictions_in: Path, test_features_in: Path, fmt: str,
                   metrics_out: str) -> Path:
    filesteps.evaluate(predictions_in, test_features_in, fmt, metrics_out)
    return Path(metrics_out)


@flow(name="titanic-files")
def titanic_files(workdir: str, params: dict[str, Any]) -> Path:
    """Same parameters as `titanic`; each task returns the paths it wrote for the next one."""
    p = Params(**params)
    fmt = p.format
    at = functools.partial(_path, workdir)
    train_raw, test_raw = load_files(Path(at(layout.DATA)), p.test_size, p.seed, p.scale, fmt,
                                     at(layout.train_raw(fmt)), at(layout.test_raw(fmt)))
    train_features, test_features = preprocess_files(
        train_raw, test_raw, fmt, at(layout.train_features(fmt)), at(layout.test_features(fmt)))
    model = train_files(train_features, fmt, p.n_estimators, p.max_depth, p.seed,
                        at(layout.MODEL))
    predictions = predict_files(model, test_features, fmt, at(layout.PREDICTIONS))
    return evaluate_files(predictions, test_features, fmt, at(layout.METRICS))


FLOWS = {"memory": titanic, "files": titanic_files}


def _path(workdir: str, rel: str) -> str:
    return str(layout.resolve(workdir, rel))
