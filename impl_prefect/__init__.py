"""The Titanic pipeline as a prefect flow of tasks (prefect is imported only by flow.py)."""
