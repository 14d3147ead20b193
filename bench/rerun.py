"""The rerun scenario: see bench/profiles.py SCENARIOS."""
from __future__ import annotations


def run(ctx, ex, impl, scratch) -> dict:
    raise NotImplementedError("the rerun scenario is not built yet")
