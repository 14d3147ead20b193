"""The pertask workload as Dagster assets built by a factory, as Dagster's docs build many
similar assets: N assets `task_1 .. task_N`, a chain (task_i depends on task_i-1) or a fan-out
(independent tasks and a `gather` depending on all of them). Each hands its value over through
the default IO manager and writes its tiny JSON file through core.synthetic.

The shape and N come from DIR/synthetic.json (written by `python -m impl_dagster.synthetic`),
read when Dagster loads this module from DIR, in the run's process and in each step's process:

    cd DIR && dagster asset materialize --select '*' -m impl_dagster.synthetic_defs
"""
from __future__ import annotations

import json
from pathlib import Path

from dagster import AssetIn, Definitions, asset

from core import synthetic

from impl_dagster.adapter import SYNTHETIC_SPEC as SPEC


def _at(rel: str) -> Path:
    return Path.cwd() / rel


def chain_task(i: int):
    ins = {"upstream": AssetIn(f"task_{i - 1}")} if i > 1 else {}

    @asset(name=f"task_{i}", ins=ins)
    def task(**upstream):
        return synthetic.link_value(i, upstream.get("upstream"),
                                    _at(synthetic.task_path("chain", i)))
    return task


def fanout_task(i: int):
    @asset(name=f"task_{i}")
    def task():
        return synthetic.leaf(i, _at(synthetic.task_path("fanout", i)))
    return task


def gather_task(n: int):
    @asset(name="gather", ins={f"task_{i}": AssetIn(f"task_{i}") for i in range(1, n + 1)})
    def gather(**values):
        return synthetic.gather_values(values.values(), _at(synthetic.GATHER_PATH))
    return gather


def build(shape: str, n: int) -> list:
    if shape == "chain":
        return [chain_task(i) for i in range(1, n + 1)]
    return [fanout_task(i) for i in range(1, n + 1)] + [gather_task(n)]


def _spec() -> dict:
    return json.loads(_at(SPEC).read_text())


defs = Definitions(assets=build(**_spec()))
