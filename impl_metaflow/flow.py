"""The Titanic pipeline as a Metaflow flow: one @step per pipeline step, each calling core.

Values are handed over as Metaflow artifacts (`self.x = ...`): at the end of every task
Metaflow pickles each new attribute into its content-addressed datastore, and the next task, a
new process, loads what it reads. core reads only the staged input and writes only the
deliverables (out/predictions.csv, out/metrics.json), as core.memsteps does for every tool.

    cd DIR && python impl_metaflow/flow.py run       # a new run: every step
    cd DIR && python impl_metaflow/flow.py resume    # after a failure: the unfinished steps

DIR holds the staged data/titanic.csv and params.yaml (core.stage; `python -m impl_metaflow`
stages them and runs this). The settings are read in `start` and kept as the artifact `params`.

Every task is a new process that imports this file, so each step imports the heavy part of
core (pandas, scikit-learn) itself, as Metaflow's own examples import libraries inside steps:
`start` and `end`, which Metaflow requires, do not pay for them.
"""
from __future__ import annotations

from pathlib import Path

from metaflow import FlowSpec, Parameter, step

from core import layout
from core.params import read as read_params


class TitanicFlow(FlowSpec):
    """Titanic: load -> preprocess -> train -> predict -> evaluate, values as artifacts."""

    # `resume` reuses the parameter values of the run it resumes: relative to each task's
    # cwd, the same value still works in a copied or moved working directory
    workdir = Parameter("workdir", default=".",
                        help="directory holding data/titanic.csv and params.yaml "
                             "(default: the current directory)")

    def at(self, rel: str) -> str:
        return str(layout.resolve(Path(self.workdir).resolve(), rel))

    @step
    def start(self):
        """Read the run's settings from params.yaml into the artifact `params`."""
        self.params = read_params(self.at(layout.PARAMS))
        self.next(self.load)

    @step
    def load(self):
        """Validate and split the staged data; enlarge the training side by `scale`."""
        from core import memsteps
        self.train_raw, self.test_raw = memsteps.load(self.at(layout.DATA), self.params)
        self.next(self.preprocess)

    @step
    def preprocess(self):
        """Impute from the training side; build the features of both sides."""
        from core import memsteps
        self.train_features, self.test_features = memsteps.preprocess(self.train_raw,
                                                                      self.test_raw)
        self.next(self.train)

    @step
    def train(self):
        """Fit the random forest on the training features."""
        from core import memsteps
        self.model = memsteps.train(self.train_features, self.params)
        self.next(self.predict)

    @step
    def predict(self):
        """Predict the test side; write out/predictions.csv."""
        from core import memsteps
        self.predictions = memsteps.predict(self.model, self.test_features,
                                            self.at(layout.PREDICTIONS))
        self.next(self.evaluate)

    @step
    def evaluate(self):
        """Score the predictions; write out/metrics.json."""
        from core import memsteps
        self.metrics = memsteps.evaluate(self.predictions, self.test_features,
                                         self.at(layout.METRICS))
        self.next(self.end)

    @step
    def end(self):
        """Nothing left to do: the deliverables are in out/."""


if __name__ == "__main__":
    TitanicFlow()
