"""One module per scenario: what it measures, which slots it has, how one execution runs.

bench/scenarios/catalog.py lists them in the order `bench list` and the report show them.
"""
