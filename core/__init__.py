"""The Titanic pipeline as plain functions: no workflow framework is imported here."""

STEPS = ("load", "preprocess", "train", "predict", "evaluate")
FORMATS = ("csv", "pickle", "parquet")
