"""The Titanic pipeline as Dagster software-defined assets (see defs.py)."""
