"""The Titanic pipeline as a prefect flow: one task per step, each calling the core functions.

`titanic` hands values over between tasks, the way prefect users write a flow; prefect persists
every task's result, and a rerun reuses each task whose cache key it already holds.
`titanic_files` hands over the paths of files written by core.io instead, like luigi and
snakemake, so that the tools can be compared at equal IO.
"""
from __future__ import annotations

import functools
from typing import Any

from prefect import flow, task
from prefect.cache_policies import FLOW_PARAMETERS, TASK_SOURCE, Inputs

from core import filesteps, layout, memsteps
from core.params import Params

# A task's cache key is its own code, the flow's parameters (the staged data by content hash,
# the run parameters, the working directory) and its scalar arguments.
# - The default policy also holds RUN_ID: a new flow run would never reuse a finished task.
# - INPUTS without TASK_SOURCE lets two tasks called with equal arguments share one result.
# - Values handed over between tasks stay out of the key: prefect hashes them with cloudpickle,
#   and a fitted model read back from the persisted results pickles to other bytes than the
#   model as trained, so every rerun would execute predict and evaluate again. They are
#   determined by the flow's parameters and the upstream tasks, which the key already holds.
HANDED_OVER = ["train_raw", "test_raw", "train_features", "test_features", "model", "predictions"]
CACHE_POLICY = TASK_SOURCE + FLOW_PARAMETERS + Inputs(exclude=HANDED_OVER)

step = functools.partial(task, cache_policy=CACHE_POLICY, persist_result=True)


@step(name="load")
def load(raw_csv: str, params: Params):
    return memsteps.load(raw_csv, params)


@step(name="preprocess")
def preprocess(train_raw, test_raw):
    return memsteps.preprocess(train_raw, test_raw)


@step(name="train")
def train(train_features, params: Params):
    return memsteps.train(train_features, params)


@step(name="predict")
def predict(model, test_features, predictions_out: str):
    return memsteps.predict(model, test_features, predictions_out)


@step(name="evaluate")
def evaluate(predictions, test_features, metrics_out: str) -> dict:
    return memsteps.evaluate(predictions, test_features, metrics_out)


@flow(name="titanic")
def titanic(workdir: str, params: dict[str, Any], data_md5: str) -> dict:
    """`data_md5` is the staged data's content hash: as a flow parameter it is in every
    task's cache key, so new data reruns every task."""
    settings = Params(**params)
    at = functools.partial(_path, workdir)
    train_raw, test_raw = load(at(layout.DATA), settings)
    train_features, test_features = preprocess(train_raw, test_raw)
    model = train(train_features, settings)
    predictions = predict(model, test_features, at(layout.PREDICTIONS))
    return evaluate(predictions, test_features, at(layout.METRICS))


@step(name="load")
def load_files(raw_csv: str, params: Params, train_out: str, test_out: str) -> tuple[str, str]:
    filesteps.load(raw_csv, params, train_out, test_out)
    return train_out, test_out


@step(name="preprocess")
def preprocess_files(train_in: str, test_in: str, fmt: str,
                     train_out: str, test_out: str) -> tuple[str, str]:
    filesteps.preprocess(train_in, test_in, fmt, train_out, test_out)
    return train_out, test_out


@step(name="train")
def train_files(train_features_in: str, params: Params, model_out: str) -> str:
    filesteps.train(train_features_in, params, model_out)
    return model_out


@step(name="predict")
def predict_files(model_in: str, test_features_in: str, fmt: str, predictions_out: str) -> str:
    filesteps.predict(model_in, test_features_in, fmt, predictions_out)
    return predictions_out


@step(name="evaluate")
def evaluate_files(predictions_in: str, test_features_in: str, fmt: str, metrics_out: str) -> str:
    filesteps.evaluate(predictions_in, test_features_in, fmt, metrics_out)
    return metrics_out


@flow(name="titanic-files")
def titanic_files(workdir: str, params: dict[str, Any], data_md5: str) -> str:
    """Same parameters as `titanic`; each task returns the paths it wrote for the next one."""
    settings = Params(**params)
    fmt = settings.format
    at = functools.partial(_path, workdir)
    train_raw, test_raw = load_files(at(layout.DATA), settings,
                                     at(layout.train_raw(fmt)), at(layout.test_raw(fmt)))
    train_features, test_features = preprocess_files(
        train_raw, test_raw, fmt, at(layout.train_features(fmt)), at(layout.test_features(fmt)))
    model = train_files(train_features, settings, at(layout.MODEL))
    predictions = predict_files(model, test_features, fmt, at(layout.PREDICTIONS))
    return evaluate_files(predictions, test_features, fmt, at(layout.METRICS))


FLOWS = {"memory": titanic, "files": titanic_files}


def _path(workdir: str, rel: str) -> str:
    return str(layout.resolve(workdir, rel))
