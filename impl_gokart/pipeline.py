"""The Titanic pipeline as gokart tasks: one TaskOnKart per step, wired by TaskInstanceParameters.

Each task calls the core step on values and `dump`s the result; gokart pickles it under the
workspace as `<name>_<unique id>.pkl`, the unique id being an md5 of the task's significant
parameters and of its upstream tasks' ids. A task is complete when its pickles exist, so a
rerun executes only the tasks whose pickles are missing. gokart writes each pickle through
luigi's atomic LocalTarget: a temporary file renamed into place once fully written.

The staged data and params.yaml enter as external tasks whose content hash is a significant
parameter: new data or parameters give every task downstream new unique ids, hence new
pickles, and the old ones stay beside them.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import gokart
import luigi
from gokart.file_processor import TextFileProcessor

from core import layout, memsteps
from core.params import read as read_params

WORKSPACE = "resources"  # gokart's default workspace name, inside the working directory


class StagedFile(gokart.TaskOnKart):
    """A file the command stages before gokart runs; gokart only checks that it exists.

    An external TaskOnKart rather than a luigi.ExternalTask: gokart's tree printer refuses
    requirements that are not TaskOnKart."""
    path = luigi.PathParameter(significant=False)
    md5 = luigi.Parameter()
    run = None  # luigi's mark of an external task
    # Otherwise TaskOnKart wraps run in a completeness check, and the task would look runnable.
    complete_check_at_run = gokart.ExplicitBoolParameter(default=False, significant=False)

    def output(self):
        return self.make_target(str(self.path), use_unique_id=False, processor=TextFileProcessor())


class StagedData(StagedFile):
    """DIR/data/titanic.csv"""


class StagedParams(StagedFile):
    """DIR/params.yaml (seed, hyperparameters, format, scale)"""


class TitanicTask(gokart.TaskOnKart):
    def load_part(self, upstream: str, part: str):
        """One named output of an upstream task, where `load(upstream)` would read them all:
        at --scale K the training side is K times larger, and predict needs only the test side."""
        return self.load(self.input()[upstream][part])

    def staged_path(self, name: str) -> str:
        return self.input()[name].path()


class Load(TitanicTask):
    data = gokart.TaskInstanceParameter(expected_type=StagedData)
    settings = gokart.TaskInstanceParameter(expected_type=StagedParams)

    def output(self):
        return {"train": self.make_target("titanic/train_raw.pkl"),
                "test": self.make_target("titanic/test_raw.pkl")}

    def run(self):
        train, test = memsteps.load(self.staged_path("data"),
                                    read_params(self.staged_path("settings")))
        self.dump(train, "train")
        self.dump(test, "test")


class Preprocess(TitanicTask):
    raw = gokart.TaskInstanceParameter(expected_type=Load)

    def output(self):
        return {"train": self.make_target("titanic/train_features.pkl"),
                "test": self.make_target("titanic/test_features.pkl")}

    def run(self):
        raw = self.load("raw")
        train, test = memsteps.preprocess(raw["train"], raw["test"])
        self.dump(train, "train")
        self.dump(test, "test")


class Train(TitanicTask):
    features = gokart.TaskInstanceParameter(expected_type=Preprocess)
    settings = gokart.TaskInstanceParameter(expected_type=StagedParams)

    def output(self):
        return self.make_target("titanic/model.pkl")

    def run(self):
        params = read_params(self.staged_path("settings"))
        self.dump(memsteps.train(self.load_part("features", "train"), params))


class Predict(TitanicTask):
    model = gokart.TaskInstanceParameter(expected_type=Train)
    features = gokart.TaskInstanceParameter(expected_type=Preprocess)
    workdir = luigi.PathParameter(significant=False)

    def output(self):
        return self.make_target("titanic/predictions.pkl")

    def run(self):
        predictions_csv = layout.resolve(self.workdir, layout.PREDICTIONS)
        self.dump(memsteps.predict(self.load("model"), self.load_part("features", "test"),
                                   predictions_csv))


class Evaluate(TitanicTask):
    predictions = gokart.TaskInstanceParameter(expected_type=Predict)
    features = gokart.TaskInstanceParameter(expected_type=Preprocess)
    workdir = luigi.PathParameter(significant=False)

    def output(self):
        return self.make_target("titanic/metrics.pkl")

    def run(self):
        metrics_json = layout.resolve(self.workdir, layout.METRICS)
        self.dump(memsteps.evaluate(self.load("predictions"), self.load_part("features", "test"),
                                    metrics_json))


def file_md5(path: Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def titanic(workdir: str | Path) -> Evaluate:
    """The task graph of a staged working directory, with gokart's workspace inside it."""
    workdir = Path(workdir).resolve()
    kart = {"workspace_directory": str(workdir / WORKSPACE)}

    def staged(kind: type[StagedFile], rel: str) -> StagedFile:
        path = layout.resolve(workdir, rel)
        return kind(path=path, md5=file_md5(path), **kart)

    settings = staged(StagedParams, layout.PARAMS)
    raw = Load(data=staged(StagedData, layout.DATA), settings=settings, **kart)
    features = Preprocess(raw=raw, **kart)
    model = Train(features=features, settings=settings, **kart)
    predictions = Predict(model=model, features=features, workdir=workdir, **kart)
    return Evaluate(predictions=predictions, features=features, workdir=workdir, **kart)
