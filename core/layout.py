"""Where each artefact lives inside a working directory; shared by every tool and the harness."""
from __future__ import annotations

from pathlib import Path

from core.io import table_name

DATA = "data/titanic.csv"
PARAMS = "params.yaml"
PREDICTIONS = "out/predictions.csv"
METRICS = "out/metrics.json"
MODEL = "interim/model.pkl"


def train_raw(fmt: str) -> str:
    return f"interim/{table_name('train_raw', fmt)}"


def test_raw(fmt: str) -> str:
    return f"interim/{table_name('test_raw', fmt)}"


def train_features(fmt: str) -> str:
    return f"interim/{table_name('train_features', fmt)}"


def test_features(fmt: str) -> str:
    return f"interim/{table_name('test_features', fmt)}"


def outputs(fmt: str) -> dict[str, list[str]]:
    """Files each step writes when artefacts are handed over as files."""
    return {
        "load": [train_raw(fmt), test_raw(fmt)],
        "preprocess": [train_features(fmt), test_features(fmt)],
        "train": [MODEL],
        "predict": [PREDICTIONS],
        "evaluate": [METRICS],
    }


def resolve(workdir: str | Path, rel: str) -> Path:
    return Path(workdir) / rel
