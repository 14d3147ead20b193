"""The steps with artefacts handed over as values (prefect's default, the in-memory baseline).

Only the staged input is read and only the deliverables (predictions, metrics) are written.
For a step whose result the caller persists itself, BENCH_CRASH_AT kills the process group
right after the compute, before the caller could persist anything.
"""
from __future__ import annotations

from core import instrument, io, steps
from core.params import Params


def _crash_after_compute(step: str) -> None:
    if instrument.crash_requested(step):
        instrument.crash_now()


def load(raw_csv, params: Params):
    instrument.fail_if_requested("load")
    result = steps.load(io.read_table("load", raw_csv, "csv"), params)
    _crash_after_compute("load")
    return result


def preprocess(train, test):
    result = steps.preprocess(train, test)
    _crash_after_compute("preprocess")
    return result


def train(train_features, params: Params):
    result = steps.train(train_features, params)
    _crash_after_compute("train")
    return result


def predict(model, test_features, predictions_out):
    predictions = steps.predict(model, test_features)
    io.write_table("predict", predictions, predictions_out, "csv")
    return predictions


def evaluate(predictions, test_features, metrics_out) -> dict:
    metrics = steps.evaluate(predictions, test_features)
    io.write_json("evaluate", metrics, metrics_out)
    return metrics
