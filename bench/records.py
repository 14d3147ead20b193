"""Stored results: one immutable, validated record per execution, appended to records.jsonl.

A run directory holds `run.json` (what all records share: provenance, config) and
`records.jsonl` (one line per execution, flushed as soon as it ends).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

STATUSES = ("ok", "expected_failure", "unexpected_failure", "timeout", "invalid_output")
OUTCOMES = (None, "recovered", "refused", "silently_wrong", "failed")
PHASES = ("timed", "prepare", "recovery")


class SchemaError(Exception):
    """A stored file this code cannot read (newer schema, or not our format)."""


@dataclasses.dataclass(frozen=True)
class Record:
    run_id: str
    impl: str
    mode: str
    scenario: str
    round: int
    status: str
    wall_s: float
    step: str | None = None
    scale: int = 1
    format: str | None = None
    warmup: bool = False
    phase: str = "timed"
    outcome: str | None = None
    exit_code: int | None = None
    cpu_s: float | None = None
    max_rss_kb: int | None = None          # peak of the sampled sum over the process tree
    max_rss_single_kb: int | None = None   # peak of the largest single process
    steps_executed: tuple[str, ...] = ()
    steps_expected: tuple[str, ...] | None = None
    spans: tuple[dict, ...] = ()
    io: dict = dataclasses.field(default_factory=dict)
    verify: dict = dataclasses.field(default_factory=dict)
    launch_epoch: float | None = None
    end_epoch: float | None = None
    stderr_tail: str = ""
    detail: dict = dataclasses.field(default_factory=dict)  # scenario-specific facts
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self):
        if self.schema_version != SCHEMA_VERSION:
            raise SchemaError(f"record schema {self.schema_version}, this code reads {SCHEMA_VERSION}")
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} not in {OUTCOMES}")
        if self.phase not in PHASES:
            raise ValueError(f"phase {self.phase!r} not in {PHASES}")
        if not (self.wall_s >= 0):
            raise ValueError(f"wall_s must be >= 0, got {self.wall_s!r}")
        object.__setattr__(self, "steps_executed", tuple(self.steps_executed))
        if self.steps_expected is not None:
            object.__setattr__(self, "steps_expected", tuple(self.steps_expected))
        object.__setattr__(self, "spans", tuple(self.spans))

    @property
    def key(self) -> tuple:
        """Identity of an execution slot: what `--continue` uses to skip finished work."""
        return (self.round, self.impl, self.mode, self.scenario, self.step, self.scale,
                self.format, self.phase)

    @property
    def usable(self) -> bool:
        """May enter a median: verified, timed, not a warm-up."""
        return self.status in ("ok",) and self.phase == "timed" and not self.warmup

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Record":
        version = raw.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SchemaError(_version_message(version))
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


def _version_message(version) -> str:
    if isinstance(version, int) and version > SCHEMA_VERSION:
        return (f"stored with schema version {version}, newer than this code's "
                f"{SCHEMA_VERSION}: update the code to read it")
    return f"unknown schema version {version!r} (this code reads {SCHEMA_VERSION})"


def append(path: Path, record: Record) -> None:
    """Append one record and make it durable before the next execution starts."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(record.to_json() + "\n")
        f.flush()
        os.fsync(f.fileno())


def load(path: Path) -> list[Record]:
    """Read records; a truncated last line (an interrupted append) is ignored, anything else is not."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # no trailing newline: the write was cut short
                break
            raise SchemaError(f"{path}:{i + 1}: not a JSON record") from None
        records.append(Record.from_dict(raw))
    return records


def write_run_info(run_dir: Path, info: dict) -> None:
    info = {"schema_version": SCHEMA_VERSION, **info}
    tmp = run_dir / "run.json.tmp"
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, run_dir / "run.json")


def read_run_info(run_dir: Path) -> dict:
    path = run_dir / "run.json"
    if not path.is_file():
        raise SchemaError(f"{run_dir} has no run.json: not a benchmark run directory")
    info = json.loads(path.read_text(encoding="utf-8"))
    if info.get("schema_version") != SCHEMA_VERSION:
        raise SchemaError(f"{path}: " + _version_message(info.get("schema_version")))
    return info
