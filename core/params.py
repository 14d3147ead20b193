"""Run parameters, staged as DIR/params.yaml so every tool can declare them as an input."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from core.errors import UserError
from core.io import check_format


@dataclasses.dataclass(frozen=True)
class Params:
    seed: int = 42
    test_size: float = 0.2
    n_estimators: int = 100
    max_depth: int = 7
    format: str = "parquet"
    scale: int = 1

    def __post_init__(self):
        check_format(self.format)
        if not isinstance(self.scale, int) or isinstance(self.scale, bool) or self.scale < 1:
            raise UserError(f"scale must be a whole number >= 1, got {self.scale!r}")
        if not 0 < self.test_size < 1:
            raise UserError(f"test_size must be between 0 and 1, got {self.test_size!r}")
        if self.n_estimators < 1 or self.max_depth < 1:
            raise UserError("n_estimators and max_depth must be >= 1")

    def to_yaml(self) -> str:
        return yaml.safe_dump(dataclasses.asdict(self), sort_keys=True)


def read(path: str | Path) -> Params:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read parameters {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise UserError(f"parameters file {path} is not a mapping")
    known = {f.name for f in dataclasses.fields(Params)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(f"parameters file {path}: unknown key(s) {', '.join(unknown)}")
    return Params(**raw)
