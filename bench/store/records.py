"""Stored results: one immutable, validated record per execution, appended to records.jsonl.

Every record carries the schema version it was written with. Records of an older version are
migrated when read (MIGRATIONS), so old runs keep rendering; a newer version is refused with a
message saying so. Each scenario's facts are a typed detail (DETAILS), validated like the rest.
What each field means is bench/records.md.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

SCHEMA_VERSION = 3
# max_rss_kb is the peak of the session's memory sampled this often (seconds): one scan of the
# process table costs well under a millisecond with a hundred processes, so at this rate the
# sampler takes at most about 1 % of one core from the cores the tool runs on.
MEMORY_SAMPLE_S = 0.2

STATUSES = ("ok", "expected_failure", "unexpected_failure", "timeout", "invalid_output")
# crash, crash_job: recovered / refused / silently_wrong / failed;
# resume: resumed / recovered_by_command / reran_finished / failed.
OUTCOMES = (None, "recovered", "refused", "silently_wrong", "failed", "resumed",
            "recovered_by_command", "reran_finished")
PHASES = ("timed", "prepare", "recovery")


class SchemaError(Exception):
    """A stored file this code cannot read (newer schema, or not our format)."""


# ---------------------------------------------------------------- typed details

@dataclasses.dataclass(frozen=True)
class Detail:
    """Facts every scenario may add: where its log was kept, a harness error, survivors."""
    log: str | None = None          # stderr kept beside the records, relative to the run dir
    error: str | None = None        # the harness could not run the timed body: why
    survivors: tuple[str, ...] = ()  # processes of the session alive after it returned

    def to_json(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items()
                if v is not None and v != () and v != [] and v != {}}

    @classmethod
    def from_json(cls, raw: dict) -> "Detail":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - names)
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
        values = dict(raw)
        for f in dataclasses.fields(cls):
            if f.name in values and isinstance(values[f.name], list) and _is_tuple(f):
                values[f.name] = tuple(values[f.name])
        return cls(**values)


def _is_tuple(field: dataclasses.Field) -> bool:
    return str(field.type).startswith("tuple")


@dataclasses.dataclass(frozen=True)
class PipelineDetail(Detail):
    """first_run, cold, io, noop, resume: the untimed preparation's summary, if any."""
    prepare: dict | None = None


@dataclasses.dataclass(frozen=True)
class ResumeDetail(PipelineDetail):
    recovery: dict | None = None    # the declared recovery commands, run from the failed state


@dataclasses.dataclass(frozen=True)
class CrashDetail(PipelineDetail):
    leftovers: dict | None = None   # kind -> workdir-relative paths the kill left
    tool_message: str | None = None
    recovery: dict | None = None    # the declared recovery commands, run and verified


@dataclasses.dataclass(frozen=True)
class FootprintDetail(Detail):
    import_s: float | None = None
    process_wall_s: float | None = None
    distributions: int | None = None
    install_bytes: int | None = None
    packages: tuple[dict, ...] = ()


@dataclasses.dataclass(frozen=True)
class CodesizeDetail(Detail):
    files: dict | None = None       # path -> {sloc, tokens, gzip_bytes}
    sloc: int | None = None
    tokens: int | None = None
    gzip_bytes: int | None = None


@dataclasses.dataclass(frozen=True)
class PertaskDetail(Detail):
    shape: str | None = None
    n: int | None = None
    tool_message: str | None = None
    not_run: str | None = None      # set on a size recorded without running
    failed_at_n: int | None = None


@dataclasses.dataclass(frozen=True)
class ParallelDetail(Detail):
    workers: int | None = None
    runner: str | None = None
    folds: int | None = None
    max_concurrent_folds: int | None = None
    fold_pids: int | None = None
    folds_in_main_process: bool | None = None
    fold_compute_s: float | None = None
    fold_window_s: float | None = None
    cluster: dict | None = None


@dataclasses.dataclass(frozen=True)
class RerunDetail(Detail):
    change: str | None = None
    minimal: tuple[str, ...] = ()
    executed: tuple[str, ...] = ()
    classification: str | None = None
    reason: str | None = None
    edit: dict | None = None
    written: tuple[str, ...] = ()
    change_visible: bool | None = None
    prepare: dict | None = None


@dataclasses.dataclass(frozen=True)
class CalibrationDetail(Detail):
    """One pair: the harness's timing (the record's wall_s) and hyperfine's of the same argv."""
    first: str | None = None                       # "harness" or "hyperfine": who ran first
    hyperfine_times_s: tuple[float, ...] = ()      # its export's results[0].times
    hyperfine_exit_codes: tuple[int, ...] = ()
    hyperfine_process_wall_s: float | None = None  # hyperfine's own process, as the harness saw it
    hyperfine_verified: bool | None = None         # its run's predictions and steps checked
    command: tuple[str, ...] = ()                  # the argv both timed, as a user types it
    ratio: float | None = None                     # wall_s / hyperfine_times_s[0]


DETAILS: dict[str, type[Detail]] = {
    "first_run": PipelineDetail, "cold": PipelineDetail, "io": PipelineDetail,
    "noop": PipelineDetail, "resume": ResumeDetail, "crash": CrashDetail,
    "crash_job": CrashDetail,
    "footprint": FootprintDetail, "codesize": CodesizeDetail, "pertask": PertaskDetail,
    "parallel": ParallelDetail, "rerun": RerunDetail, "calibration": CalibrationDetail,
}


def detail_type(scenario: str) -> type[Detail]:
    return DETAILS.get(scenario, Detail)


# ---------------------------------------------------------------- the record

@dataclasses.dataclass(frozen=True)
class Record:
    run_id: str
    impl: str
    mode: str | None      # the pipeline mode; None for the parallel runners
    scenario: str
    round: int
    status: str
    wall_s: float
    variant: str | None = None    # resume/crash: the step; pertask: the shape; rerun: the change
    size: int = 1                 # data scale K; pertask: N tasks; parallel: workers
    format: str | None = None
    runner: str | None = None     # parallel: how the model selection ran
    setup: str = "laptop"         # where the tool ran: laptop (zero configuration) or team
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
    detail: Detail | None = None  # None: the scenario's detail type with nothing in it
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self):
        if self.schema_version != SCHEMA_VERSION:
            raise SchemaError(f"record schema {self.schema_version}, this code writes "
                              f"{SCHEMA_VERSION}")
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} not in {OUTCOMES}")
        if self.phase not in PHASES:
            raise ValueError(f"phase {self.phase!r} not in {PHASES}")
        if not (self.wall_s >= 0):
            raise ValueError(f"wall_s must be >= 0, got {self.wall_s!r}")
        if (self.runner is None) == (self.scenario == "parallel"):
            raise ValueError("a parallel record names its runner, and only a parallel record")
        if self.detail is None or isinstance(self.detail, dict):
            object.__setattr__(self, "detail",
                               detail_type(self.scenario).from_json(self.detail or {}))
        if not isinstance(self.detail, detail_type(self.scenario)):
            raise ValueError(f"a {self.scenario} record holds a {type(self.detail).__name__}")
        object.__setattr__(self, "steps_executed", tuple(self.steps_executed))
        if self.steps_expected is not None:
            object.__setattr__(self, "steps_expected", tuple(self.steps_expected))
        object.__setattr__(self, "spans", tuple(self.spans))

    @property
    def key(self) -> tuple:
        """Identity of an execution slot: what `--continue` uses to skip finished work."""
        return (self.round, self.impl, self.mode, self.scenario, self.variant, self.size,
                self.format, self.runner, self.setup, self.phase)

    @property
    def usable(self) -> bool:
        """May enter a median: verified, timed, not a warm-up."""
        return self.status == "ok" and self.phase == "timed" and not self.warmup

    def to_json(self) -> str:
        raw = dataclasses.asdict(self)
        raw["detail"] = self.detail.to_json()
        return json.dumps(raw, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], served: frozenset = frozenset()) -> "Record":
        """served: the (impl, mode) pairs an older run measured against a server (its
        run.json's services), which become the team set-up."""
        raw = migrate(raw, served)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


# ---------------------------------------------------------------- migrations

def _from_v1(raw: dict) -> dict:
    """v1 stored the resume step, the pertask shape and the rerun change as `step`, the data
    scale, N tasks and workers as `scale`, and a parallel runner as the `mode`."""
    raw = dict(raw)
    raw["variant"] = raw.pop("step", None)
    raw["size"] = raw.pop("scale", 1)
    if raw.get("scenario") == "parallel":
        raw["runner"], raw["mode"] = raw.get("mode"), None
    detail = dict(raw.get("detail") or {})
    known = {f.name for f in dataclasses.fields(detail_type(raw.get("scenario", "")))}
    raw["detail"] = {k: v for k, v in detail.items() if k in known}
    raw["schema_version"] = 2
    return raw


def _from_v2(raw: dict, served: frozenset) -> dict:
    """v2 had no set-up: a mode that needed a server was the team's."""
    raw = dict(raw)
    raw["setup"] = "team" if (raw.get("impl"), raw.get("mode")) in served else "laptop"
    raw["schema_version"] = 3
    return raw


MIGRATIONS: dict[int, Callable[[dict, frozenset], dict]] = {
    1: lambda raw, served: _from_v1(raw), 2: _from_v2}


def migrate(raw: dict, served: frozenset = frozenset()) -> dict:
    version = raw.get("schema_version")
    while version in MIGRATIONS:
        raw = MIGRATIONS[version](raw, served)
        version = raw["schema_version"]
    if version != SCHEMA_VERSION:
        raise SchemaError(version_message(version))
    return raw


def version_message(version) -> str:
    if isinstance(version, int) and version > SCHEMA_VERSION:
        return (f"stored with schema version {version}, newer than this code's "
                f"{SCHEMA_VERSION}: update the code to read it")
    return f"unknown schema version {version!r} (this code reads up to {SCHEMA_VERSION})"


# ---------------------------------------------------------------- the file
#
# A line is whole once its newline is written. A harness killed in the middle of an append
# leaves a last line without one: reading ignores it (with a note), and the next append first
# cuts the file back to its last whole line, so a cut line never ends up in front of a whole
# one and the execution it belonged to, having no record, runs again (never twice stored).

_noted: set[tuple[str, int]] = set()


def repair(path: Path) -> int:
    """Cut `path` back to its last whole line; returns the bytes removed (0: nothing was cut)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return 0
        keep, block = 0, 65536
        end = size
        while end > 0:
            begin = max(0, end - block)
            found = os.pread(fd, end - begin, begin).rfind(b"\n")
            if found >= 0:
                keep = begin + found + 1
                break
            end = begin
        os.ftruncate(fd, keep)
        os.fsync(fd)
        return size - keep
    finally:
        os.close(fd)


def append_line(path: Path, text: str) -> None:
    """Append one line (repairing a cut last line first) and make it durable: written in one
    go with O_APPEND, then fsynced, the directory too when the file is new."""
    if "\n" in text:
        raise ValueError("a stored line holds no newline")
    path = Path(path)
    repair(path)
    created = not path.exists()
    data = (text + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_lines(path: Path) -> tuple[list[str], str]:
    """The whole lines of `path` (without their newline), and the cut last line ('' if none)."""
    if not Path(path).exists():
        return [], ""
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    *whole, cut = text.split("\n")
    return whole, cut


def note_cut(path: Path, cut: str, out=None) -> None:
    """Say once per file and size that its last line was cut short and is ignored."""
    if not cut or (str(path), len(cut)) in _noted:
        return
    _noted.add((str(path), len(cut)))
    print(f"note: {path}: the last line ({len(cut.encode())} bytes) was cut short by an "
          "interrupted append; it is ignored, and removed before the next append",
          file=out or sys.stderr)


def append(path: Path, record: Record) -> None:
    """Append one record and make it durable before the next execution starts."""
    append_line(path, record.to_json())


def load(path: Path, served: frozenset = frozenset()) -> list[Record]:
    """Read records; a cut last line (an interrupted append, even one that happens to parse)
    is ignored with a note, a broken whole line is refused. served: see Record.from_dict."""
    lines, cut = read_lines(path)
    note_cut(path, cut)
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            raise SchemaError(f"{path}:{i + 1}: not a JSON record") from None
        try:
            records.append(Record.from_dict(raw, served))
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"{path}:{i + 1}: not a valid record ({exc})") from None
    return records
