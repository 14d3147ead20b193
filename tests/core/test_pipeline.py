"""The core pipeline and baseline: equivalence across hand-offs and formats, and bad input."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from core import data, io, layout, params, stage
from core.errors import UserError
from tests.helpers import runner
from tests.helpers.inputs import kaggle_csv


def test_default_data_is_the_full_passenger_list_without_leaking_columns():
    df = data.load_default()
    assert len(df) == 1309
    assert list(df.columns) == list(data.COLUMNS)
    assert "boat" not in df.columns and "body" not in df.columns
    assert set(df["survived"]) == {0, 1}


@pytest.mark.parametrize("fmt", ["csv", "pickle", "parquet"])
def test_baseline_memory_and_files_agree_for_every_format(tmp_path, fmt, baseline_outputs):
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(wd), "--format", fmt,
                    "--handoff", "memory"], wd)
    assert r.rc == 0, r.stderr
    assert runner.sha256(wd / layout.PREDICTIONS) == baseline_outputs["csv"][0]
    assert (wd / layout.METRICS).read_text() == baseline_outputs[fmt][1]
    assert r.steps == list(runner.STEPS)


def test_all_formats_give_identical_predictions_and_plausible_accuracy(baseline_outputs):
    assert len({sha for sha, _ in baseline_outputs.values()}) == 1
    metrics = json.loads(baseline_outputs["csv"][1])
    assert 0.75 <= metrics["accuracy"] <= 0.86
    assert metrics["n_test"] == 262


@pytest.mark.parametrize("fmt", ["csv", "pickle", "parquet"])
def test_table_round_trip_is_exact(tmp_path, fmt):
    df = data.load_default()
    path = tmp_path / io.table_name("t", fmt)
    io.write_table("load", df, path, fmt)
    back = io.read_table("load", path, fmt)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert back["age"].equals(df["age"])


def test_staging_leaves_unchanged_files_untouched(tmp_path):
    p = params.Params()
    stage.stage(tmp_path, p)
    before = {rel: (tmp_path / rel).stat().st_mtime_ns for rel in (layout.DATA, layout.PARAMS)}
    stage.stage(tmp_path, p)
    after = {rel: (tmp_path / rel).stat().st_mtime_ns for rel in (layout.DATA, layout.PARAMS)}
    assert before == after
    assert params.read(tmp_path / layout.PARAMS) == p


def test_scale_enlarges_only_the_training_side(tmp_path):
    from core import steps
    raw = data.load_default()
    train1, test1 = steps.load(raw, params.Params(scale=1))
    train3, test3 = steps.load(raw, params.Params(scale=3))
    assert len(train3) == 3 * len(train1)
    pd.testing.assert_frame_equal(test1, test3)
    assert not set(test1["passenger_id"]) & set(train3["passenger_id"])


def test_kaggle_train_csv_runs_end_to_end(tmp_path):
    csv = kaggle_csv(tmp_path / "train.csv")
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(wd), "--data", str(csv)], wd)
    assert r.rc == 0, r.stderr
    preds = pd.read_csv(wd / layout.PREDICTIONS)
    assert len(preds) == 24 and set(preds["survived_pred"]) <= {0, 1}


@pytest.mark.parametrize("argv,expected", [
    (["--format", "feather"], "invalid choice"),
    (["--scale", "0"], "--scale"),
    (["--scale", "x"], "--scale"),
])
def test_bad_options_get_one_line_and_nonzero_exit(tmp_path, argv, expected):
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(wd), *argv], wd)
    assert r.rc == 2 and expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_params_refuse_unknown_keys(tmp_path):
    (tmp_path / "p.yaml").write_text("seed: 1\nlearning_rate: 3\n")
    with pytest.raises(UserError, match="unknown key"):
        params.read(tmp_path / "p.yaml")


@pytest.mark.parametrize("step", runner.STEPS)
def test_baseline_injected_failure_stops_at_the_step(tmp_path, step):
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(wd)], wd, fail_at=step)
    assert r.rc != 0 and "InjectedFailure" in r.stderr
    assert r.steps == list(runner.STEPS[:runner.STEPS.index(step)])


def test_crash_kills_the_process_group_midway_through_a_write(tmp_path):
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(wd)], wd,
                   crash_at="preprocess")
    assert r.rc == -9
    partial = wd / layout.train_features("parquet")
    assert partial.exists() and not (wd / layout.test_features("parquet")).exists()
    assert r.survivors == []
