"""The Titanic pipeline as luigi Tasks: one Task per step, wired by requires/output/run.

The step logic lives in core.filesteps; a Task only says which files it needs and makes.
Every output is written through `temporary_path()`, luigi's own atomic write: a run killed
mid-write leaves a `*-luigi-tmp-*` file, never a truncated output that `complete()` would trust.
(Load and Preprocess rename their two outputs one after the other: a kill in the microseconds
between the renames, which BENCH_CRASH_AT never hits, would leave one of them, and luigi's
rename_dont_move would then refuse to replace it on the rerun.)

luigi decides that a task is done when its outputs exist, and nothing else: a changed
data file or params.yaml in a complete workdir is not noticed (see tests/test_luigi.py).
"""
from __future__ import annotations

import luigi
import luigi.format

from core import FORMATS, filesteps, layout
from core.params import Params, read as read_params


class StagedData(luigi.ExternalTask):
    """DIR/data/titanic.csv, staged by the command before luigi runs."""
    workdir = luigi.PathParameter(absolute=True)

    def output(self):
        return luigi.LocalTarget(layout.resolve(self.workdir, layout.DATA))


class StagedParams(luigi.ExternalTask):
    """DIR/params.yaml (seed, hyperparameters, format, scale), staged by the command."""
    workdir = luigi.PathParameter(absolute=True)

    def output(self):
        return luigi.LocalTarget(layout.resolve(self.workdir, layout.PARAMS))


class TitanicTask(luigi.Task):
    """Parameters shared by every step; the workdir makes task ids unique per working directory,
    so a central luigid never mistakes one directory's finished task for another's."""
    workdir = luigi.PathParameter(absolute=True)
    format = luigi.ChoiceParameter(choices=FORMATS, default=Params.format)
    scale = luigi.IntParameter(default=1)

    def target(self, rel: str) -> luigi.LocalTarget:
        return luigi.LocalTarget(layout.resolve(self.workdir, rel), format=luigi.format.Nop)

    def staged_params(self) -> StagedParams:
        return StagedParams(workdir=self.workdir)

    def read_staged_params(self, target: luigi.LocalTarget) -> Params:
        """The staged params.yaml, which must agree with this task's own parameters (they
        differ only if someone runs the luigi CLI by hand against another staging)."""
        params = read_params(target.path)
        if (params.format, params.scale) != (self.format, self.scale):
            raise ValueError(f"{target.path} has format={params.format} scale={params.scale}, "
                             f"the task format={self.format} scale={self.scale}")
        return params


class Load(TitanicTask):
    def requires(self):
        return {"data": StagedData(workdir=self.workdir), "params": self.staged_params()}

    def output(self):
        return {"train": self.target(layout.train_raw(self.format)),
                "test": self.target(layout.test_raw(self.format))}

    def run(self):
        params = self.read_staged_params(self.input()["params"])
        out = self.output()
        with out["train"].temporary_path() as train, out["test"].temporary_path() as test:
            filesteps.load(self.input()["data"].path, params, train, test)


class Preprocess(TitanicTask):
    def requires(self):
        return self.clone(Load)

    def output(self):
        return {"train": self.target(layout.train_features(self.format)),
                "test": self.target(layout.test_features(self.format))}

    def run(self):
        raw, out = self.input(), self.output()
        with out["train"].temporary_path() as train, out["test"].temporary_path() as test:
            filesteps.preprocess(raw["train"].path, raw["test"].path, self.format, train, test)


class Train(TitanicTask):
    def requires(self):
        return {"features": self.clone(Preprocess), "params": self.staged_params()}

    def output(self):
        return self.target(layout.MODEL)

    def run(self):
        params = self.read_staged_params(self.input()["params"])
        with self.output().temporary_path() as model:
            filesteps.train(self.input()["features"]["train"].path, params, model)


class Predict(TitanicTask):
    def requires(self):
        return {"model": self.clone(Train), "features": self.clone(Preprocess)}

    def output(self):
        return self.target(layout.PREDICTIONS)

    def run(self):
        inputs = self.input()
        with self.output().temporary_path() as predictions:
            filesteps.predict(inputs["model"].path, inputs["features"]["test"].path,
                              self.format, predictions)


class Evaluate(TitanicTask):
    def requires(self):
        return {"predictions": self.clone(Predict), "features": self.clone(Preprocess)}

    def output(self):
        return self.target(layout.METRICS)

    def run(self):
        inputs = self.input()
        with self.output().temporary_path() as metrics:
            filesteps.evaluate(inputs["predictions"].path, inputs["features"]["test"].path,
                               self.format, metrics)
