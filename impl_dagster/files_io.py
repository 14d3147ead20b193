"""An IO manager handing the Titanic assets over as files written and read by core.io, in the
format of params.yaml (as luigi and snakemake hand them over), at the paths of core.layout.

Dagster calls `handle_output` with the value an asset returned and `load_input` when a
downstream asset needs it, so the assets (assets.py) are the same as with the default IO
manager; only where their values live changes. `load` and `preprocess` return a pair of tables
(training and test side): two files each. `predict` and `evaluate` return the deliverables,
which core.memsteps already wrote at out/predictions.csv and out/metrics.json: those files are
what is handed over, so they are not written twice.
"""
from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableIOManager, InputContext, OutputContext

from core import io, layout
from core.params import read as read_params

DELIVERABLES = {"predict": layout.PREDICTIONS, "evaluate": layout.METRICS}


class CoreFilesIOManager(ConfigurableIOManager):
    """Each asset's value as the files core.layout names for its step."""

    path: str = "."

    def _at(self, rel: str) -> Path:
        return layout.resolve(Path(self.path).resolve(), rel)

    def _format(self) -> str:
        return read_params(self._at(layout.PARAMS)).format

    def handle_output(self, context: OutputContext, obj) -> None:
        step = context.asset_key.to_user_string()
        fmt = self._format()
        files = [self._at(rel) for rel in layout.outputs(fmt)[step]]
        if step in ("load", "preprocess"):
            for table, path in zip(obj, files, strict=True):
                io.write_table(step, table, path, fmt)
        elif step == "train":
            io.write_model(step, obj, files[0])
        elif not files[0].is_file():
            raise FileNotFoundError(f"{step} did not write {DELIVERABLES[step]}")
        context.add_output_metadata({"files": [str(p) for p in files]})

    def load_input(self, context: InputContext):
        upstream = context.upstream_output.asset_key.to_user_string()
        step = context.op_def.name  # the asset reading it
        fmt = self._format()
        files = [self._at(rel) for rel in layout.outputs(fmt)[upstream]]
        if upstream in ("load", "preprocess"):
            return tuple(io.read_table(step, path, fmt) for path in files)
        if upstream == "train":
            return io.read_model(step, files[0])
        if upstream == "predict":
            return io.read_table(step, files[0], "csv")
        return io.read_json(step, files[0])
