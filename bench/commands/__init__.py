"""One module per verb of `python -m bench`: run, report, list."""
