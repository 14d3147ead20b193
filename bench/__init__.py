"""Measure, store, render: `python -m bench all`. No workflow framework is imported here."""
