"""The Titanic passenger list: the copy scikit-learn ships, or a user CSV normalised to one schema."""
from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from core.errors import UserError

# OpenML 40945 as shipped in scikit-learn's test data: no network needed.
_OPENML_ARFF = ("datasets", "tests", "data", "openml", "id_40945", "data-v1-dl-16826755.arff.gz")

COLUMNS = ("passenger_id", "survived", "pclass", "name", "sex", "age", "sibsp", "parch",
           "ticket", "fare", "cabin", "embarked")
# the values the features are built from (core.steps); anything else would be encoded as neither
CATEGORIES = {"sex": ("male", "female"), "embarked": ("C", "Q", "S")}
REQUIRED = ("survived", "pclass", "name", "sex", "age", "sibsp", "parch", "fare", "embarked")
NUMERIC = ("survived", "pclass", "age", "sibsp", "parch", "fare")
# Label-leaking (boat: lifeboat number, body: body identification number) or absent from Kaggle.
DROPPED = ("boat", "body", "home_dest")

DEFAULT_SOURCE = "openml-40945 (scikit-learn package data)"


def _arff_path() -> Path:
    import sklearn
    return Path(sklearn.__file__).parent.joinpath(*_OPENML_ARFF)


def load_default() -> pd.DataFrame:
    from sklearn.externals import _arff
    with gzip.open(_arff_path(), "rt", encoding="utf-8") as f:
        arff = _arff.load(f)
    names = [a[0].replace(".", "_") for a in arff["attributes"]]
    df = pd.DataFrame(arff["data"], columns=names)
    df.insert(0, "passenger_id", range(1, len(df) + 1))
    return normalise(df, source=DEFAULT_SOURCE)


def _canonical(name: str) -> str:
    """Kaggle's `PassengerId`, `SibSp`, OpenML's `home.dest` -> passenger_id, sibsp, home_dest."""
    name = name.strip()
    if name == "PassengerId":
        return "passenger_id"
    return name.lower().replace(".", "_")


def read_user_csv(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data file not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise UserError(f"data file is empty: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"data file is not a readable CSV: {path}: {first}") from None
    return normalise(df.rename(columns=_canonical), source=str(path))


def normalise(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate and coerce to the canonical schema; every problem is one UserError line."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise UserError(f"{source}: missing required column(s): {', '.join(missing)}")
    if len(df) == 0:
        raise UserError(f"{source}: no rows")
    df = df.drop(columns=[c for c in DROPPED if c in df.columns])
    if "passenger_id" not in df.columns:
        df.insert(0, "passenger_id", range(1, len(df) + 1))
    for optional in ("ticket", "cabin"):
        if optional not in df.columns:
            df[optional] = pd.NA
    for col in NUMERIC + ("passenger_id",):
        coerced = pd.to_numeric(df[col], errors="coerce")
        bad = coerced.isna() & df[col].notna()
        if bad.any():
            example = df.loc[bad, col].iloc[0]
            raise UserError(f"{source}: column {col!r} must be numeric; "
                            f"row {int(bad.to_numpy().argmax()) + 2} has {example!r}")
        df[col] = coerced
    for col in ("survived", "pclass", "sibsp", "parch", "passenger_id"):
        if df[col].isna().any():
            raise UserError(f"{source}: column {col!r} has empty values")
    if not df["survived"].isin([0, 1]).all():
        raise UserError(f"{source}: column 'survived' must contain only 0 and 1")
    if df["survived"].nunique() < 2:
        raise UserError(f"{source}: column 'survived' needs both classes to train a model")
    if not df["pclass"].isin([1, 2, 3]).all():
        raise UserError(f"{source}: column 'pclass' must contain only 1, 2 and 3")
    for col, allowed in CATEGORIES.items():
        present = df[col].dropna()
        bad = present[~present.isin(allowed)]
        if len(bad):
            raise UserError(f"{source}: column {col!r} must contain only "
                            f"{', '.join(allowed)}; row {int(bad.index[0]) + 2} has {bad.iloc[0]!r}")
    if df["sex"].isna().any():
        raise UserError(f"{source}: column 'sex' has empty values")
    if df["passenger_id"].duplicated().any():
        raise UserError(f"{source}: column 'passenger_id' has duplicates")
    out = df[list(COLUMNS)].copy()
    for col in ("passenger_id", "survived", "pclass", "sibsp", "parch"):
        out[col] = out[col].astype("int64")
    for col in ("age", "fare"):
        out[col] = out[col].astype("float64")
    for col in ("name", "sex", "ticket", "cabin", "embarked"):
        out[col] = out[col].astype("str").where(out[col].notna(), None)
    return out.reset_index(drop=True)
