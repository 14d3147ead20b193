"""The steps with artefacts handed over as files, all through core.io (luigi, snakemake, baseline).

Every function takes explicit paths, so a tool can point outputs at its own atomic temporary
paths. BENCH_FAIL_AT fires before any input is read.
"""
from __future__ import annotations

from core import instrument, io, steps
from core.params import Params


def load(raw_csv, params: Params, train_out, test_out) -> None:
    instrument.fail_if_requested("load")
    raw = io.read_table("load", raw_csv, "csv")
    train, test = steps.load(raw, params)
    io.write_table("load", train, train_out, params.format)
    io.write_table("load", test, test_out, params.format)


def preprocess(train_in, test_in, fmt: str, train_out, test_out) -> None:
    instrument.fail_if_requested("preprocess")
    train = io.read_table("preprocess", train_in, fmt)
    test = io.read_table("preprocess", test_in, fmt)
    train_features, test_features = steps.preprocess(train, test)
    io.write_table("preprocess", train_features, train_out, fmt)
    io.write_table("preprocess", test_features, test_out, fmt)


def train(train_features_in, params: Params, model_out) -> None:
    instrument.fail_if_requested("train")
    model = steps.train(io.read_table("train", train_features_in, params.format), params)
    io.write_model("train", model, model_out)


def predict(model_in, test_features_in, fmt: str, predictions_out) -> None:
    instrument.fail_if_requested("predict")
    model = io.read_model("predict", model_in)
    predictions = steps.predict(model, io.read_table("predict", test_features_in, fmt))
    io.write_table("predict", predictions, predictions_out, "csv")


def evaluate(predictions_in, test_features_in, fmt: str, metrics_out) -> None:
    instrument.fail_if_requested("evaluate")
    predictions = io.read_table("evaluate", predictions_in, "csv")
    test_features = io.read_table("evaluate", test_features_in, fmt)
    io.write_json("evaluate", steps.evaluate(predictions, test_features), metrics_out)
