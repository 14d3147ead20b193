"""The floor: what writing and reading the training table costs in-process, per format and size.

Run by bench/scenarios/floor.py as `python -m pytest bench/scenarios/floor_cases.py
--benchmark-json ...` in a child process; sizes and formats come from FLOOR_SCALES /
FLOOR_FORMATS, the scratch directory from FLOOR_DIR. It uses core.io, the very code every pipeline writes through, on the
table the `load` step writes (train_raw) at each scale.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from core import data, io, steps
from core.params import Params

SCALES = [int(s) for s in os.environ.get("FLOOR_SCALES", "1").split(",")]
FORMATS = os.environ.get("FLOOR_FORMATS", "parquet").split(",")
CASES = [(fmt, scale) for scale in SCALES for fmt in FORMATS]


@functools.lru_cache(maxsize=None)
def _table(scale: int):
    train, _test = steps.load(data.load_default(), Params(scale=scale))
    return train


def _path(fmt: str, scale: int) -> Path:
    root = Path(os.environ.get("FLOOR_DIR", "."))
    root.mkdir(parents=True, exist_ok=True)
    return root / io.table_name(f"train_raw_x{scale}", fmt)


@pytest.mark.parametrize("fmt,scale", CASES, ids=[f"{f}-x{s}" for f, s in CASES])
def test_write(benchmark, fmt, scale):
    table, path = _table(scale), _path(fmt, scale)
    benchmark.group = f"write-{fmt}"
    nbytes = benchmark(io.write_table, "load", table, path, fmt)
    benchmark.extra_info.update(kind="write", format=fmt, scale=scale, bytes=nbytes,
                                rows=len(table))


@pytest.mark.parametrize("fmt,scale", CASES, ids=[f"{f}-x{s}" for f, s in CASES])
def test_read(benchmark, fmt, scale):
    table, path = _table(scale), _path(fmt, scale)
    io.write_table("load", table, path, fmt)
    benchmark.group = f"read-{fmt}"
    back = benchmark(io.read_table, "load", path, fmt)
    assert len(back) == len(table)
    benchmark.extra_info.update(kind="read", format=fmt, scale=scale,
                                bytes=path.stat().st_size, rows=len(table))
