"""The pertask scenario: see bench/profiles.py SCENARIOS."""
from __future__ import annotations


def run(ctx, ex, impl, scratch) -> dict:
    raise NotImplementedError("the pertask scenario is not built yet")
