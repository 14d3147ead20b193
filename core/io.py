"""The only place artefacts are read and written, so IO cost is traced identically for every tool.

pandas is imported only where a table is read or written: a task that hands over JSON (the
cost-per-task workload) pays nothing for it, in any tool.
"""
from __future__ import annotations

import io as _io
import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

from core import FORMATS, instrument
from core.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

SUFFIX = {"csv": "csv", "pickle": "pkl", "parquet": "parquet"}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def table_name(stem: str, fmt: str) -> str:
    return f"{stem}.{SUFFIX[check_format(fmt)]}"


def _table_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    buf = _io.BytesIO()
    if fmt == "csv":
        # pandas writes floats with repr precision; read_table parses them back with round_trip
        df.to_csv(buf, index=False, na_rep="")
    elif fmt == "pickle":
        df.to_pickle(buf, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        df.to_parquet(buf, index=False, engine="pyarrow")
    return buf.getvalue()


def _write_bytes(step: str, path: str | os.PathLike, serialise) -> int:
    """Serialise and write (both are the write's cost); with BENCH_CRASH_AT=step, die after
    half of the bytes reached the file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with instrument.span(step, "write") as s:
        payload = serialise()
        f = open(path, "wb")
        if instrument.crash_requested(step):
            f.write(payload[: len(payload) // 2])
            f.flush()
            os.fsync(f.fileno())
            instrument.crash_now()
        with f:
            f.write(payload)
        s.bytes = len(payload)
    return len(payload)


def write_table(step: str, df: pd.DataFrame, path: str | os.PathLike, fmt: str) -> int:
    check_format(fmt)
    return _write_bytes(step, path, lambda: _table_bytes(df, fmt))


def read_table(step: str, path: str | os.PathLike, fmt: str) -> pd.DataFrame:
    check_format(fmt)
    import pandas as pd

    with instrument.span(step, "read") as s:
        s.bytes = os.path.getsize(path)
        if fmt == "csv":
            return pd.read_csv(path, keep_default_na=False, na_values=[""])
        if fmt == "pickle":
            return pd.read_pickle(path)
        return pd.read_parquet(path, engine="pyarrow")


def write_model(step: str, model, path: str | os.PathLike) -> int:
    return _write_bytes(step, path, lambda: pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def read_model(step: str, path: str | os.PathLike):
    with instrument.span(step, "read") as s:
        data = Path(path).read_bytes()
        s.bytes = len(data)
    return pickle.loads(data)


def write_json(step: str, obj: dict, path: str | os.PathLike) -> int:
    return _write_bytes(step, path,
                        lambda: (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def read_json(step: str, path: str | os.PathLike) -> dict:
    with instrument.span(step, "read") as s:
        data = Path(path).read_bytes()
        s.bytes = len(data)
    return json.loads(data)
