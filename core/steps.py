"""The pipeline's compute, one function per step, on in-memory values.

Each function is traced as a `compute` span and honours BENCH_FAIL_AT at its start; file and
value hand-off wrappers live in `filesteps` and `memsteps`.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

from core import data, instrument
from core.params import Params

TITLES = ("Mr", "Mrs", "Miss", "Master", "Rare")
TITLE_ALIASES = {"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs", "Lady": "Rare", "Countess": "Rare",
                 "the Countess": "Rare", "Dona": "Rare"}
DECKS = ("A", "B", "C", "D", "E", "F", "G", "U")
PORTS = ("C", "Q", "S")
ID, LABEL = "passenger_id", "survived"


def _compute(step: str):
    def wrap(fn):
        @functools.wraps(fn)
        def traced(*args, **kwargs):
            instrument.fail_if_requested(step)
            with instrument.span(step, "compute"):
                return fn(*args, **kwargs)
        return traced
    return wrap


@_compute("load")
def load(raw: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate, split deterministically, then enlarge only the training side by `scale`."""
    raw = data.normalise(raw, source="staged data")
    train, test = train_test_split(raw, test_size=params.test_size, random_state=params.seed,
                                   stratify=raw[LABEL])
    train = train.sort_values(ID, kind="stable")
    test = test.sort_values(ID, kind="stable").reset_index(drop=True)
    # Copies of a passenger stay on the training side, so the test set never sees them.
    train = pd.concat([train] * params.scale, ignore_index=True)
    return train, test


def _title(names: pd.Series) -> pd.Series:
    raw = names.fillna("").str.extract(r",\s*([^.]+)\.", expand=False).fillna("").str.strip()
    raw = raw.replace(TITLE_ALIASES)
    return raw.where(raw.isin(TITLES), "Rare")


def _imputation(train: pd.DataFrame) -> dict:
    """Statistics learnt from the training side only, then applied to both sides."""
    titles = _title(train["name"])
    age_by_title = train["age"].groupby(titles).median()
    ports = train["embarked"].dropna()
    return {
        "age_global": float(train["age"].median()),
        "age_by_title": {k: float(v) for k, v in age_by_title.dropna().items()},
        "fare_by_class": {int(k): float(v) for k, v in
                          train["fare"].groupby(train["pclass"]).median().dropna().items()},
        "fare_global": float(train["fare"].median()),
        "embarked": str(ports.mode().sort_values().iloc[0]) if len(ports) else "S",
    }


def _features(df: pd.DataFrame, stats: dict) -> pd.DataFrame:
    title = _title(df["name"])
    age = df["age"].astype("float64")
    age = age.fillna(title.map(stats["age_by_title"]).astype("float64")).fillna(stats["age_global"])
    fare = df["fare"].astype("float64")
    fare = fare.fillna(df["pclass"].map(stats["fare_by_class"]).astype("float64"))
    fare = fare.fillna(stats["fare_global"])
    embarked = df["embarked"].fillna(stats["embarked"])
    deck = df["cabin"].fillna("U").astype("str").str[0]
    deck = deck.where(deck.isin(DECKS), "U")
    family = df["sibsp"] + df["parch"] + 1
    out = pd.DataFrame({
        ID: df[ID].astype("int64").to_numpy(),
        LABEL: df[LABEL].astype("int64").to_numpy(),
        "pclass": df["pclass"].astype("float64").to_numpy(),
        "sex_male": (df["sex"] == "male").astype("float64").to_numpy(),
        "age": age.to_numpy(),
        "fare_log": np.log1p(fare.to_numpy()),
        "sibsp": df["sibsp"].astype("float64").to_numpy(),
        "parch": df["parch"].astype("float64").to_numpy(),
        "family_size": family.astype("float64").to_numpy(),
        "is_alone": (family == 1).astype("float64").to_numpy(),
    })
    for t in TITLES:
        out[f"title_{t}"] = (title == t).astype("float64").to_numpy()
    for d in DECKS:
        out[f"deck_{d}"] = (deck == d).astype("float64").to_numpy()
    for p in PORTS:
        out[f"embarked_{p}"] = (embarked == p).astype("float64").to_numpy()
    return out


@_compute("preprocess")
def preprocess(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    stats = _imputation(train)
    return _features(train, stats), _features(test, stats)


def _xy(features: pd.DataFrame):
    return features.drop(columns=[ID, LABEL]).to_numpy(dtype="float64"), features[LABEL].to_numpy()


@_compute("train")
def train(train_features: pd.DataFrame, params: Params) -> RandomForestClassifier:
    x, y = _xy(train_features)
    model = RandomForestClassifier(n_estimators=params.n_estimators, max_depth=params.max_depth,
                                   random_state=params.seed, n_jobs=1)
    return model.fit(x, y)


@_compute("predict")
def predict(model: RandomForestClassifier, test_features: pd.DataFrame) -> pd.DataFrame:
    x, _ = _xy(test_features)
    return pd.DataFrame({
        ID: test_features[ID].to_numpy(),
        "survived_pred": model.predict(x).astype("int64"),
        "survived_proba": model.predict_proba(x)[:, 1],
    })


@_compute("evaluate")
def evaluate(predictions: pd.DataFrame, test_features: pd.DataFrame) -> dict:
    truth = test_features.set_index(ID)[LABEL].loc[predictions[ID]].to_numpy()
    return {
        "accuracy": float(accuracy_score(truth, predictions["survived_pred"])),
        "roc_auc": float(roc_auc_score(truth, predictions["survived_proba"])),
        "n_test": int(len(predictions)),
    }
