"""The Titanic pipeline as Dagster software-defined assets: one @asset per step, each calling
core.memsteps. An asset names what it reads by its parameters, so Dagster draws the graph
load -> preprocess -> train -> predict -> evaluate from the function signatures; the values
between the assets are stored and loaded by the IO manager the Definitions choose (defs.py:
Dagster's default filesystem IO manager, pickles; defs_files.py: files through core.io).

Every asset runs with the workdir as its current directory (the command is typed there), which
holds the staged data/titanic.csv and params.yaml; the `run_dir` resource finds them.
"""
from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, asset

from core import layout, memsteps
from core.params import Params
from core.params import read as read_params


class RunDir(ConfigurableResource):
    """The working directory of the run: the staged input, params.yaml and out/."""

    path: str = "."

    def at(self, rel: str) -> str:
        return str(layout.resolve(Path(self.path).resolve(), rel))

    def params(self) -> Params:
        return read_params(self.at(layout.PARAMS))


@asset
def load(run_dir: RunDir):
    """Validate and split the staged data; enlarge the training side by `scale`."""
    return memsteps.load(run_dir.at(layout.DATA), run_dir.params())


@asset
def preprocess(load):
    """Impute from the training side; build the features of both sides."""
    train_raw, test_raw = load
    return memsteps.preprocess(train_raw, test_raw)


@asset
def train(preprocess, run_dir: RunDir):
    """Fit the random forest on the training features."""
    train_features, _ = preprocess
    return memsteps.train(train_features, run_dir.params())


@asset
def predict(train, preprocess, run_dir: RunDir):
    """Predict the test side; write out/predictions.csv."""
    _, test_features = preprocess
    return memsteps.predict(train, test_features, run_dir.at(layout.PREDICTIONS))


@asset
def evaluate(predict, preprocess, run_dir: RunDir):
    """Score the predictions; write out/metrics.json."""
    _, test_features = preprocess
    return memsteps.evaluate(predict, test_features, run_dir.at(layout.METRICS))


ASSETS = [load, preprocess, train, predict, evaluate]
