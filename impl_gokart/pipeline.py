"""The Titanic pipeline as gokart tasks: one TaskOnKart per step, wired by TaskInstanceParameters.

Each task receives the settings it uses as its own luigi Parameters, and nothing else:

    Load   seed, test_size, scale        Train  n_estimators, max_depth, seed

Each task calls the core step on values and `dump`s the result; gokart pickles it under the
workspace as `<name>_<unique id>.pkl`, the unique id being an md5 of the task's significant
parameters and of its upstream tasks' ids. A task is complete when its outputs exist, so a
rerun executes only the tasks whose outputs are missing; a changed setting gives that task and
every task downstream new ids, hence new outputs, and the old ones stay beside them. gokart
writes each pickle through luigi's atomic LocalTarget: a temporary file renamed into place
once fully written. The deliverables, predictions CSV and metrics JSON, are gokart targets
too (`resources/titanic/predictions_<unique id>.csv`), so they are named by the same ids.

The staged data enters as an external task whose content md5 is a significant parameter:
gokart's documented way to make tasks rerun is "adding an arbitrary parameter" so that the
hash changes (gokart docs, Task Settings: Rerun task); here the parameter is computed from the
file instead of bumped by hand, so new data gives every task new ids.

`--format` names no parameter: every hand-off is gokart's pickle, whatever the format.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import gokart
import luigi
from gokart.file_processor import TextFileProcessor

from core import layout, memsteps
from core.params import Params

WORKSPACE = "resources"  # gokart's default workspace name, inside the working directory


class StagedData(gokart.TaskOnKart):
    """DIR/data/titanic.csv, staged by the command; gokart only checks that it exists.

    An external TaskOnKart rather than a luigi.ExternalTask: gokart's tree printer refuses
    requirements that are not TaskOnKart."""
    path = luigi.PathParameter(significant=False)
    md5 = luigi.Parameter()  # the file's content: new data, new ids downstream
    run = None  # luigi's mark of an external task
    # Otherwise TaskOnKart wraps run in a completeness check, and the task would look runnable.
    complete_check_at_run = gokart.ExplicitBoolParameter(default=False, significant=False)

    def output(self):
        return self.make_target(str(self.path), use_unique_id=False, processor=TextFileProcessor())


class TitanicTask(gokart.TaskOnKart):
    def load_part(self, upstream: str, part: str):
        """One named output of an upstream task, where `load(upstream)` would read them all:
        at --scale K the training side is K times larger, and predict needs only the test side."""
        return self.load(self.input()[upstream][part])

    def write_deliverable(self, name: str, write):
        """core writes the file (a CSV, a JSON) under a temporary name, renamed into the
        target's place once whole, as gokart's own dumps are; returns what `write` returns."""
        final = self.output()[name].path()
        Path(final).parent.mkdir(parents=True, exist_ok=True)
        partial = f"{final}-tmp-{os.getpid()}"
        result = write(partial)
        os.replace(partial, final)
        return result


class Load(TitanicTask):
    data = gokart.TaskInstanceParameter(expected_type=StagedData)
    seed = luigi.IntParameter(default=Params.seed)
    test_size = luigi.FloatParameter(default=Params.test_size)
    scale = luigi.IntParameter(default=Params.scale)

    def output(self):
        return {"train": self.make_target("titanic/train_raw.pkl"),
                "test": self.make_target("titanic/test_raw.pkl")}

    def run(self):
        params = Params(seed=self.seed, test_size=self.test_size, scale=self.scale)
        train, test = memsteps.load(self.input()["data"].path(), params)
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
    n_estimators = luigi.IntParameter(default=Params.n_estimators)
    max_depth = luigi.IntParameter(default=Params.max_depth)
    seed = luigi.IntParameter(default=Params.seed)

    def output(self):
        return self.make_target("titanic/model.pkl")

    def run(self):
        params = Params(n_estimators=self.n_estimators, max_depth=self.max_depth, seed=self.seed)
        self.dump(memsteps.train(self.load_part("features", "train"), params))


class Predict(TitanicTask):
    model = gokart.TaskInstanceParameter(expected_type=Train)
    features = gokart.TaskInstanceParameter(expected_type=Preprocess)

    def output(self):
        return {"csv": self.make_target("titanic/predictions.csv"),
                "frame": self.make_target("titanic/predictions.pkl")}

    def run(self):
        model, test = self.load("model"), self.load_part("features", "test")
        frame = self.write_deliverable("csv", lambda path: memsteps.predict(model, test, path))
        self.dump(frame, "frame")


class Evaluate(TitanicTask):
    predictions = gokart.TaskInstanceParameter(expected_type=Predict)
    features = gokart.TaskInstanceParameter(expected_type=Preprocess)

    def output(self):
        return {"json": self.make_target("titanic/metrics.json"),
                "dict": self.make_target("titanic/metrics.pkl")}

    def run(self):
        predictions = self.load_part("predictions", "frame")
        test = self.load_part("features", "test")
        metrics = self.write_deliverable(
            "json", lambda path: memsteps.evaluate(predictions, test, path))
        self.dump(metrics, "dict")


def file_md5(path: Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def titanic(workdir: str | Path, params: Params) -> Evaluate:
    """The task graph of a staged working directory, each task given the settings it uses,
    with gokart's workspace inside the workdir."""
    workdir = Path(workdir).resolve()
    kart = {"workspace_directory": str(workdir / WORKSPACE)}
    data_csv = layout.resolve(workdir, layout.DATA)
    data = StagedData(path=data_csv, md5=file_md5(data_csv), **kart)
    raw = Load(data=data, seed=params.seed, test_size=params.test_size, scale=params.scale,
               **kart)
    features = Preprocess(raw=raw, **kart)
    model = Train(features=features, n_estimators=params.n_estimators,
                  max_depth=params.max_depth, seed=params.seed, **kart)
    predictions = Predict(model=model, features=features, **kart)
    return Evaluate(predictions=predictions, features=features, **kart)


def deliverables(root: Evaluate) -> dict[str, str]:
    """Where the graph's predictions and metrics are (gokart targets, named by unique ids)."""
    return {"predictions": root.predictions.output()["csv"].path(),
            "metrics": root.output()["json"].path()}
