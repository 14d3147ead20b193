"""Where each luigi task puts its outputs: a directory named after the task's parameters.

luigi decides that a task is done when its outputs exist, and nothing else. Its docs' answer
is to make the output path "some function of the parameters" (Example: Top Artists), so that
a task with other parameters has other, still missing, outputs. The same function serves the
pipeline (pipeline.py) and the adapter, which must find the final outputs without luigi; hence
stdlib only.
"""
from __future__ import annotations

from typing import Mapping

# Every parameter Predict and Evaluate carry (their own and those inherited upstream), as
# core.params names them; their outputs are the run's deliverables.
FINAL_PARAMS = ("format", "max_depth", "n_estimators", "scale", "seed", "test_size")


def slug(params: Mapping[str, str]) -> str:
    """{'seed': '42', 'format': 'csv'} -> 'format=csv,seed=42'. The workdir is left out: it is
    where the directory lives, not what it holds."""
    return ",".join(f"{name}={params[name]}" for name in sorted(params) if name != "workdir")


def output_path(area: str, params: Mapping[str, str], name: str) -> str:
    """The workdir-relative path of one output, e.g. interim/train/<slug>/model.pkl."""
    return f"{area}/{slug(params)}/{name}"


def deliverables(settings: Mapping) -> tuple[str, str]:
    """Predict's and Evaluate's outputs for a run staged with `settings` (params.yaml as a
    mapping), written as luigi serialises parameters (str of the int or float)."""
    final = {name: str(settings[name]) for name in FINAL_PARAMS}
    return output_path("out", final, "predictions.csv"), output_path("out", final, "metrics.json")
