"""The Titanic pipeline as a Metaflow flow whose steps hand over files written by core.io, in
the format of params.yaml (as luigi and snakemake do); Metaflow itself stores only the small
artifact `params`.

    cd DIR && python impl_metaflow/flow_files.py run       # a new run: every step
    cd DIR && python impl_metaflow/flow_files.py resume    # after a failure

The steps write straight to their final paths: a task that dies mid-write never reaches
Metaflow's "task ok", so no later `resume` clones it; the step runs again and overwrites. Each step imports
core.filesteps itself, as in flow.py.
"""
from __future__ import annotations

from pathlib import Path

from metaflow import FlowSpec, Parameter, step

from core import layout
from core.params import read as read_params


class TitanicFilesFlow(FlowSpec):
    """Titanic: load -> preprocess -> train -> predict -> evaluate, artefacts as files."""

    # relative, so that a resumed run works in its own directory (see flow.py)
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
        """Validate and split the staged data; write both sides in the run's format."""
        from core import filesteps
        fmt = self.params.format
        filesteps.load(self.at(layout.DATA), self.params,
                       self.at(layout.train_raw(fmt)), self.at(layout.test_raw(fmt)))
        self.next(self.preprocess)

    @step
    def preprocess(self):
        """Impute from the training side; write the features of both sides."""
        from core import filesteps
        fmt = self.params.format
        filesteps.preprocess(self.at(layout.train_raw(fmt)), self.at(layout.test_raw(fmt)), fmt,
                             self.at(layout.train_features(fmt)),
                             self.at(layout.test_features(fmt)))
        self.next(self.train)

    @step
    def train(self):
        """Fit the random forest; write interim/model.pkl."""
        from core import filesteps
        filesteps.train(self.at(layout.train_features(self.params.format)), self.params,
                        self.at(layout.MODEL))
        self.next(self.predict)

    @step
    def predict(self):
        """Predict the test side; write out/predictions.csv."""
        from core import filesteps
        fmt = self.params.format
        filesteps.predict(self.at(layout.MODEL), self.at(layout.test_features(fmt)), fmt,
                          self.at(layout.PREDICTIONS))
        self.next(self.evaluate)

    @step
    def evaluate(self):
        """Score the predictions; write out/metrics.json."""
        from core import filesteps
        fmt = self.params.format
        filesteps.evaluate(self.at(layout.PREDICTIONS), self.at(layout.test_features(fmt)), fmt,
                           self.at(layout.METRICS))
        self.next(self.end)

    @step
    def end(self):
        """Nothing left to do: the deliverables are in out/."""


if __name__ == "__main__":
    TitanicFilesFlow()
