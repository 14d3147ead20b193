"""Stage a command's input and parameters into its working directory, byte-stable across reruns."""
from __future__ import annotations

import os
from pathlib import Path

from core import data, layout
from core.params import Params


def _write_if_changed(path: Path, payload: bytes) -> bool:
    """Leave an unchanged file untouched so that no tool sees a rerun as a change."""
    if path.is_file() and path.read_bytes() == payload:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".staging")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
    return True


def staged_csv_bytes(data_path: str | None) -> bytes:
    df = data.load_default() if data_path is None else data.read_user_csv(data_path)
    return df.to_csv(index=False, na_rep="").encode()


def stage(workdir: str | Path, params: Params, data_path: str | None = None) -> None:
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(workdir / layout.DATA, staged_csv_bytes(data_path))
    _write_if_changed(workdir / layout.PARAMS, params.to_yaml().encode())
