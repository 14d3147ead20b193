"""The Titanic pipeline as luigi Tasks: one Task per step, wired by requires/output/run.

Each setting is a luigi Parameter of the task that uses it, carried downstream with
luigi.util's @requires and @inherits, luigi's documented answer to "parameter explosion":

    Load        seed, test_size, scale, format
    Preprocess  @requires(Load): Load's
    Train       @requires(Preprocess): those, plus n_estimators and max_depth
    Predict     @inherits(Train);  Evaluate  @inherits(Predict)

so they are all set on the root task: `luigi --module impl_luigi.pipeline Evaluate --workdir
DIR --n-estimators 50 ...`. Every output lives in a directory named after its task's
parameters (impl_luigi/naming.py): a task with a changed parameter has outputs that do not
exist yet, so luigi runs it and what follows, and the earlier outputs stay beside them.

The step logic lives in core.filesteps; a Task only says which files it needs and makes.
Every output is written through `temporary_path()`, luigi's own atomic write: a run killed
mid-write leaves a `*-luigi-tmp-*` file, never a truncated output that `complete()` would trust.
(Load and Preprocess rename their two outputs one after the other: a kill in the microseconds
between the renames, which BENCH_CRASH_AT never hits, would leave one of them, and luigi's
rename_dont_move would then refuse to replace it on the rerun.)

luigi decides that a task is done when its outputs exist, and nothing else: new content in
the data file, or edited code, is not noticed (tests/tools/test_luigi.py).
"""
from __future__ import annotations

import luigi
import luigi.format
from luigi.util import inherits, requires

from core import FORMATS, filesteps, layout
from core.io import table_name
from core.params import Params
from impl_luigi import naming


class StagedData(luigi.ExternalTask):
    """DIR/data/titanic.csv, staged by the command before luigi runs."""
    workdir = luigi.PathParameter(absolute=True)

    def output(self):
        return luigi.LocalTarget(layout.resolve(self.workdir, layout.DATA))


class TitanicTask(luigi.Task):
    """The workdir makes task ids unique per working directory, so a central luigid never
    mistakes one directory's finished task for another's."""
    workdir = luigi.PathParameter(absolute=True)

    def target(self, area: str, name: str) -> luigi.LocalTarget:
        """DIR/<area>/<this task's parameters>/<name>"""
        rel = naming.output_path(area, self.to_str_params(only_significant=True), name)
        return luigi.LocalTarget(layout.resolve(self.workdir, rel), format=luigi.format.Nop)


class Load(TitanicTask):
    seed = luigi.IntParameter(default=Params.seed)
    test_size = luigi.FloatParameter(default=Params.test_size)
    scale = luigi.IntParameter(default=Params.scale)
    format = luigi.ChoiceParameter(choices=FORMATS, default=Params.format)

    def requires(self):
        return StagedData(workdir=self.workdir)

    def output(self):
        return {"train": self.target("interim/load", table_name("train_raw", self.format)),
                "test": self.target("interim/load", table_name("test_raw", self.format))}

    def run(self):
        params = Params(seed=self.seed, test_size=self.test_size, scale=self.scale,
                        format=self.format)
        out = self.output()
        with out["train"].temporary_path() as train, out["test"].temporary_path() as test:
            filesteps.load(self.input().path, params, train, test)


@requires(Load)
class Preprocess(TitanicTask):
    def output(self):
        return {"train": self.target("interim/preprocess",
                                     table_name("train_features", self.format)),
                "test": self.target("interim/preprocess",
                                    table_name("test_features", self.format))}

    def run(self):
        raw, out = self.input(), self.output()
        with out["train"].temporary_path() as train, out["test"].temporary_path() as test:
            filesteps.preprocess(raw["train"].path, raw["test"].path, self.format, train, test)


@requires(Preprocess)
class Train(TitanicTask):
    n_estimators = luigi.IntParameter(default=Params.n_estimators)
    max_depth = luigi.IntParameter(default=Params.max_depth)

    def output(self):
        return self.target("interim/train", "model.pkl")

    def run(self):
        params = Params(seed=self.seed, n_estimators=self.n_estimators,
                        max_depth=self.max_depth, format=self.format)
        with self.output().temporary_path() as model:
            filesteps.train(self.input()["train"].path, params, model)


@inherits(Train)
class Predict(TitanicTask):
    def requires(self):
        return {"model": self.clone(Train), "features": self.clone(Preprocess)}

    def output(self):
        return self.target("out", "predictions.csv")

    def run(self):
        inputs = self.input()
        with self.output().temporary_path() as predictions:
            filesteps.predict(inputs["model"].path, inputs["features"]["test"].path,
                              self.format, predictions)


@inherits(Predict)
class Evaluate(TitanicTask):
    def requires(self):
        return {"predictions": self.clone(Predict), "features": self.clone(Preprocess)}

    def output(self):
        return self.target("out", "metrics.json")

    def run(self):
        inputs = self.input()
        with self.output().temporary_path() as metrics:
            filesteps.evaluate(inputs["predictions"].path, inputs["features"]["test"].path,
                               self.format, metrics)
