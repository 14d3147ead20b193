"""Input files the tests hand to every pipeline: a Kaggle-layout train.csv and malformed CSVs."""
from __future__ import annotations

import pandas as pd

from core import data

KAGGLE_HEADER = "PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n"


def kaggle_csv(path, rows=120):
    """A small train.csv in Kaggle's layout, built from the shipped data."""
    df = data.load_default().head(rows)
    lines = [KAGGLE_HEADER]
    for i, r in enumerate(df.itertuples(), start=1):
        age = "" if pd.isna(r.age) else repr(r.age)
        cabin = "" if r.cabin is None else r.cabin
        emb = "" if r.embarked is None else r.embarked
        name = '"' + r.name.replace('"', '""') + '"'
        lines.append(f"{i},{r.survived},{r.pclass},{name},{r.sex},{age},{r.sibsp},{r.parch},"
                     f"{r.ticket},{r.fare},{cabin},{emb}\n")
    path.write_text("".join(lines))
    return path


# case -> (file content, or None for a missing file; what the one-line error must say)
BAD_INPUTS = {
    "missing file": (None, "data file not found"),
    "missing columns": ("name,sex\nA,male\n", "missing required column"),
    "empty": ("", "empty"),
    "header only": (KAGGLE_HEADER, "no rows"),
    "non-numeric age": (KAGGLE_HEADER + '1,1,3,"A, Mr. B",male,old,0,0,X,7.25,,S\n'
                        + '2,0,3,"A, Mr. C",male,22,0,0,X,7.25,,S\n', "'age' must be numeric"),
    "unknown sex": (KAGGLE_HEADER + '1,1,3,"A, Mr. B",M,30,0,0,X,7.25,,S\n'
                    + '2,0,3,"A, Mr. C",male,22,0,0,X,7.25,,S\n', "'sex' must contain only"),
}
