"""run.json: what every record of a run shares (provenance, configuration, the servers it
started), stored once per run and rewritten atomically as the run goes on."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Callable

from bench.store.records import SCHEMA_VERSION, SchemaError, version_message

# Charts of runs stored before adapters declared their colours draw them from this palette,
# in the order the run lists its implementations.
LEGACY_PALETTE = ("#555555", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                  "#e377c2", "#17becf", "#bcbd22")


@dataclasses.dataclass
class ImplInfo:
    """One implementation as the run saw it."""
    adapter: str                     # the adapter module, e.g. impl_luigi.adapter
    modes: dict[str, str]            # mode -> description, the default first
    default_mode: str
    format_modes: list[str]
    colour: str
    services: dict[str, str] = dataclasses.field(default_factory=dict)  # set-up -> server
    setups: dict[str, dict] = dataclasses.field(default_factory=dict)   # name -> facts
    keeps_home: bool = False
    source_files: list[str] = dataclasses.field(default_factory=list)
    version: str | None = None
    source_hash: str | None = None
    environment: dict[str, Any] = dataclasses.field(default_factory=dict)
    reference: bool = False
    package: str | None = None


@dataclasses.dataclass
class RunInfo:
    run_id: str
    profile: str
    config: dict
    command: list[str]
    started_at: str
    impls: dict[str, ImplInfo]
    started_epoch: float | None = None
    finished_at: str | None = None
    git: dict = dataclasses.field(default_factory=dict)
    machine: dict = dataclasses.field(default_factory=dict)
    python: dict = dataclasses.field(default_factory=dict)
    packages: dict[str, str] = dataclasses.field(default_factory=dict)
    source_hashes: dict[str, str] = dataclasses.field(default_factory=dict)
    environment: dict[str, str] = dataclasses.field(default_factory=dict)
    adapter_problems: list[str] = dataclasses.field(default_factory=list)
    continuations: list[dict] = dataclasses.field(default_factory=list)
    services: list[dict] = dataclasses.field(default_factory=list)
    sessions: list[dict] = dataclasses.field(default_factory=list)
    floor: dict | None = None
    fixture: bool = False
    note: str | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def served(self) -> frozenset:
        """(impl, mode) pairs an older run (schema < 3) measured against a server."""
        return frozenset((impl, mode) for impl, i in self.impls.items() for mode in i.services
                         if mode in i.modes)

    @property
    def reference(self) -> str | None:
        """The implementation every other one was verified against."""
        return next((name for name, i in self.impls.items() if i.reference), None)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, raw: dict) -> "RunInfo":
        raw = _migrate(dict(raw))
        names = {f.name for f in dataclasses.fields(cls)}
        impl_names = {f.name for f in dataclasses.fields(ImplInfo)}
        raw["impls"] = {name: ImplInfo(**{k: v for k, v in i.items() if k in impl_names})
                        for name, i in (raw.get("impls") or {}).items()}
        return cls(**{k: v for k, v in raw.items() if k in names})


REFERENCE_ADAPTER = "core.adapter"  # the module of the reference in every v1 run


def _from_v1(raw: dict) -> dict:
    """v1 knew the reference by its adapter module and let the report pick the colours."""
    impls = {}
    for i, (name, impl) in enumerate((raw.get("impls") or {}).items()):
        impl = dict(impl)
        impl.setdefault("colour", LEGACY_PALETTE[i % len(LEGACY_PALETTE)])
        impl["reference"] = impl.get("adapter") == REFERENCE_ADAPTER
        impls[name] = impl
    raw["impls"] = impls
    raw["schema_version"] = 2
    return raw


def _from_v2(raw: dict) -> dict:
    """v2 listed the servers by mode; a mode with one ran in the team set-up."""
    raw["schema_version"] = 3
    return raw


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _from_v1, 2: _from_v2}


def _migrate(raw: dict) -> dict:
    version = raw.get("schema_version")
    while version in MIGRATIONS:
        raw = MIGRATIONS[version](raw)
        version = raw["schema_version"]
    if version != SCHEMA_VERSION:
        raise SchemaError(version_message(version))
    return raw


def write(run_dir: Path, info: RunInfo) -> None:
    tmp = run_dir / "run.json.tmp"
    tmp.write_text(info.to_json(), encoding="utf-8")
    os.replace(tmp, run_dir / "run.json")


def read(run_dir: Path) -> RunInfo:
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise SchemaError(f"{run_dir} has no run.json: not a benchmark run directory")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise SchemaError(f"{path}: not a run description")
    try:
        return RunInfo.from_dict(raw)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise SchemaError(f"{path}: not a valid run description ({exc})") from None
