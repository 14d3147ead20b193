"""Read one stored run: run.json, records.jsonl, floor.json, sources/, setup-files/ and dags/,
nothing else.

Everything the report shows comes from these files, so a run directory renders the same way
after the benchmark's code has changed (as long as its schema version is one the store reads:
older ones are migrated by bench.store).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bench.store import records, run_info
from bench.store.records import Record
from bench.store.run_info import RunInfo

MAX_SOURCE_BYTES = 200_000  # a stored source bigger than this is not something a user wrote
RAW_FILES = ("run.json", "records.jsonl", "floor.json")


@dataclasses.dataclass
class RunData:
    run_dir: Path
    info: RunInfo
    records: list[Record]
    floor: dict | None = None
    floor_problem: str | None = None
    sources: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    dags: dict[str, str] = dataclasses.field(default_factory=dict)
    # impl -> repository-relative path -> text: the configuration files its set-ups read
    setup_files: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.info.run_id or self.run_dir.name)


def load_run(run_dir: Path) -> RunData:
    """Raises bench.store.records.SchemaError when the run is not readable by this code."""
    run_dir = Path(run_dir)
    info = run_info.read(run_dir)
    recs = records.load(run_dir / "records.jsonl", info.served)
    floor, problem = _floor(run_dir / "floor.json")
    return RunData(run_dir=run_dir, info=info, records=recs, floor=floor, floor_problem=problem,
                   sources=_sources(run_dir / "sources"), dags=_dags(run_dir / "dags"),
                   setup_files=_sources(run_dir / "setup-files"))


def _floor(path: Path) -> tuple[dict | None, str | None]:
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"floor.json is not readable JSON ({exc.__class__.__name__})"
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        return None, "floor.json has no pytest-benchmark 'benchmarks' list"
    return data, None


def _sources(root: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    if not root.is_dir():
        return out
    for impl_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        files = {}
        for path in sorted(p for p in impl_dir.rglob("*") if p.is_file()):
            if path.stat().st_size > MAX_SOURCE_BYTES:
                continue
            try:
                files[path.relative_to(impl_dir).as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
        out[impl_dir.name] = files
    return out


def _dags(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(root.iterdir()) if p.is_file()}
