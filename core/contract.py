"""The adapter contract: everything `bench` knows about one implementation, as one typed value.

Each implementation's `adapter.py` builds `ADAPTER = Adapter(...)` from the standard library
only: `bench` imports adapters into its own process and never a workflow framework. Every
callable has one signature, stated below, so the harness calls it the same way for every tool.
`Adapter.__post_init__` checks the whole value when the adapter module is imported, so a
half-written adapter fails with one line naming what is wrong.

bench/contract.md documents every field; tests/engine/test_contract_doc.py fails when this
module and that page disagree.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable, Mapping

Argv = list[str]
Env = dict[str, str]

NAME = re.compile(r"[a-z][a-z0-9_]*")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# Where a tool runs: alone with its zero-configuration defaults, or as a team runs it together.
LAPTOP, TEAM = "laptop", "team"
SETUPS = (LAPTOP, TEAM)


class ContractError(ValueError):
    """An adapter value that breaks the contract; the message names the field."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ContractError(message)


@dataclasses.dataclass(frozen=True)
class Mode:
    """One way of running the pipeline with the tool."""
    name: str
    description: str
    files: bool  # tabular artefacts handed over as files: the --format option matters


@dataclasses.dataclass(frozen=True)
class Service:
    """A server the harness starts on 127.0.0.1 for a set-up, and stops by PID.

    command(state_dir, port) -> argv, which must not daemonise; environment(state_dir,
    database_url) -> variables keeping its state in state_dir (database_url: the PostgreSQL
    database the harness started for it when `database` is set, else None); health_path: an
    HTTP path that answers 200 once it serves."""
    name: str
    command: Callable[[Path, int], Argv]
    environment: Callable[[Path, str | None], Env]
    health_path: str
    database: bool = False  # keeps its state in PostgreSQL, as a team's server does


@dataclasses.dataclass(frozen=True)
class Doc:
    """A page of the tool's own documentation."""
    title: str
    url: str


@dataclasses.dataclass(frozen=True)
class Setup:
    """Where the tool runs: `laptop` (zero configuration: local scheduler, temporary server, CLI
    defaults) or `team` (what its users run together: a central scheduler, a standing server,
    a shared profile). Every scenario can run in both; records say which."""
    name: str
    summary: str                      # one line: what this set-up is
    why: str                          # one line: why it is the idiomatic choice
    docs: tuple[Doc, ...]             # the tool's pages the why rests on
    service: Service | None = None    # the server the set-up needs, started by the harness
    files: tuple[str, ...] = ()       # repository-relative configuration files it reads
    settings: tuple[tuple[str, str], ...] = ()  # (setting, why a team sets it)
    unavailable: str | None = None    # why it cannot run on this machine, if it cannot


@dataclasses.dataclass(frozen=True)
class Cluster:
    """A cluster process the harness starts for some parallel runners (untimed), stops by PID.

    command(state_dir, port, workers) -> argv of a process that prints `ready_prefix` followed
    by its address on stdout once its workers are up, and runs until SIGTERM."""
    runners: tuple[str, ...]
    command: Callable[[Path, int, int], Argv]
    environment: Callable[[Path], Env]
    ready_prefix: str = "address "


@dataclasses.dataclass(frozen=True)
class Synthetic:
    """The pertask workload: N trivial tasks as a chain or a fan-out (core/synthetic.py).

    command(workdir, mode, *, setup, shape, n, service_url) -> argv."""
    modes: tuple[str, ...]
    command: Callable[..., Argv]


@dataclasses.dataclass(frozen=True)
class Parallel:
    """The model selection (core/selection.py) with N workers.

    command(workdir, runner, *, setup, workers, grid, cluster_address, service_url) -> argv;
    cluster_address is None unless the runner is one of cluster.runners."""
    runners: Mapping[str, str]  # runner -> one-line description
    command: Callable[..., Argv]
    cluster: Cluster | None = None

    def needs_cluster(self, runner: str) -> bool:
        return self.cluster is not None and runner in self.cluster.runners


@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace `old` (found exactly once) by `new` in `path`, relative to a copy of the code."""
    path: str
    old: str
    new: str


@dataclasses.dataclass(frozen=True)
class Rerun:
    """What the rerun scenario needs from a tool.

    wrapper_edit changes the tool's own train task or rule so that it trains another model;
    equivalent_param is the `--param KEY=VALUE` giving the baseline that same model.
    comment_edit adds a comment only. environment: variables for both runs (a log level that
    shows the tool's reasons). reason(stdout, stderr, written) -> the tool's own account of
    what it reran and why, or None; `written` lists the workdir files the rerun wrote.
    switches: modes that only the rerun scenario runs, each a common, documented switch that
    changes what the tool reruns (its own row of the matrix)."""
    wrapper_edit: Edit
    equivalent_param: str
    comment_edit: Edit
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    reason: Callable[[str, str, list[str]], str | None] | None = None
    switches: tuple[Mode, ...] = ()


@dataclasses.dataclass(frozen=True)
class Footprint:
    """What stands for the tool in the footprint scenario: modules whose import time is the
    tool's, and distributions whose requirement closure is its install footprint."""
    imports: tuple[str, ...]
    distributions: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Reference:
    """Set on the one plain implementation every other one is verified against: the mode whose
    predictions are the right answer, and the parallel runner whose selection is."""
    mode: str
    parallel_runner: str


@dataclasses.dataclass(frozen=True)
class Deliverables:
    """Where a run put what it delivers: the predictions and the metrics."""
    predictions: Path
    metrics: Path


def no_environment(workdir: Path, mode: str, *, setup: str, service_url: str | None,
                   home: Path) -> Env:
    return {}


def no_recovery(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int,
                data: str | None, service_url: str | None) -> list[Argv]:
    return []


def fixed_deliverables(workdir: Path, settings: Mapping) -> Deliverables:
    """core.layout's fixed places, whatever the settings."""
    return Deliverables(Path(workdir) / "out" / "predictions.csv",
                        Path(workdir) / "out" / "metrics.json")


@dataclasses.dataclass(frozen=True)
class Adapter:
    """One implementation of the pipeline, as the harness sees it.

    command(workdir, mode, *, setup, fmt, scale, data, service_url) -> argv running the whole
    pipeline; the same command serves a first run and a resume. service_url is the set-up's
    server (http://127.0.0.1:PORT), else None.
    environment(workdir, mode, *, setup, service_url, home) -> variables keeping all tool state
    inside workdir, and the tool's machine-level state (keeps_home) in `home`, a directory the
    harness keeps at one path per run and set-up (fresh for a first run).
    dag_command(workdir, mode) -> argv printing the DAG as the tool reports it, or None.
    recovery_commands(workdir, mode, *, setup, fmt, scale, data, service_url) -> what a user
    types, in order, after a failure or a crash when the plain rerun does not resume.
    deliverables(workdir, settings) -> where the run put its predictions and metrics, given
    the settings it was staged with (params.yaml as a mapping)."""
    name: str
    package: str                          # importable package of the implementation
    modes: tuple[Mode, ...]               # the first is the default
    command: Callable[..., Argv]
    source_files: tuple[str, ...]         # repository-relative files a user of the tool writes
    footprint: Footprint
    colour: str                           # #rrggbb, the tool's colour in every chart
    cold_prior_s: float                   # expected cold run on a 2-core machine (estimates)
    environment: Callable[..., Env] = no_environment
    dag_command: Callable[[Path, str], Argv | None] | None = None
    recovery_commands: Callable[..., list[Argv]] = no_recovery
    deliverables: Callable[[Path, Mapping], Deliverables] = fixed_deliverables
    setups: tuple[Setup, ...] = ()        # laptop, then team; the reference: laptop only
    keeps_home: bool = False              # machine-level state (a database, caches)
    skips_finished: bool = True           # a plain rerun skips steps whose results exist
    state_dirs: tuple[str, ...] = ()      # workdir-relative tool bookkeeping, not results
    env_prefixes: tuple[str, ...] = ()    # caller variables that would steer the tool
    frameworks: tuple[str, ...] = ()      # top-level modules the harness must never import
    synthetic: Synthetic | None = None
    parallel: Parallel | None = None
    rerun: Rerun | None = None
    reference: Reference | None = None    # only the plain baseline sets it

    def __post_init__(self):
        _require(bool(NAME.fullmatch(self.name)), f"name {self.name!r}: lower-case identifier")
        _require(bool(re.fullmatch(r"[A-Za-z_][\w.]*", self.package)),
                 f"{self.name}: package {self.package!r} is not a module name")
        _require(bool(self.modes) and all(isinstance(m, Mode) for m in self.modes),
                 f"{self.name}: modes must be a non-empty tuple of Mode")
        names = [m.name for m in self.modes]
        _require(len(set(names)) == len(names), f"{self.name}: duplicate mode names {names}")
        _require(all(isinstance(p, str) for p in self.source_files),
                 f"{self.name}: source_files must be strings")
        _require(bool(COLOUR.fullmatch(self.colour)), f"{self.name}: colour {self.colour!r} "
                 "must be #rrggbb")
        _require(self.cold_prior_s > 0, f"{self.name}: cold_prior_s must be > 0")
        declared = tuple(s.name for s in self.setups)
        wanted = (LAPTOP,) if self.reference else SETUPS
        _require(declared == wanted, f"{self.name}: setups must be {', '.join(wanted)} in that "
                 f"order, got {', '.join(declared) or 'none'}")
        _require(all(s.unavailable or s.docs for s in self.setups),
                 f"{self.name}: every set-up cites the tool's docs")
        if self.synthetic:
            unknown = set(self.synthetic.modes) - set(names)
            _require(not unknown, f"{self.name}: synthetic modes {sorted(unknown)} are not modes")
        if self.parallel:
            _require(bool(self.parallel.runners), f"{self.name}: parallel declares no runner")
            if self.parallel.cluster:
                unknown = set(self.parallel.cluster.runners) - set(self.parallel.runners)
                _require(not unknown, f"{self.name}: cluster runners {sorted(unknown)} unknown")
        if self.rerun:
            _require("=" in self.rerun.equivalent_param,
                     f"{self.name}: rerun.equivalent_param must be KEY=VALUE")
            clash = {m.name for m in self.rerun.switches} & set(names)
            _require(not clash, f"{self.name}: rerun switches reuse mode names {sorted(clash)}")
        if self.reference:
            _require(self.reference.mode in names, f"{self.name}: reference mode unknown")
            _require(self.parallel is not None
                     and self.reference.parallel_runner in self.parallel.runners,
                     f"{self.name}: reference parallel runner unknown")

    # -------------------------------------------------------------- what the harness derives

    @property
    def default_mode(self) -> str:
        return self.modes[0].name

    @property
    def mode_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modes)

    def mode(self, name: str) -> Mode:
        for m in self.modes + (self.rerun.switches if self.rerun else ()):
            if m.name == name:
                return m
        raise KeyError(f"{self.name} has no mode {name!r}")

    def uses_format(self, mode: str) -> bool:
        return self.mode(mode).files

    def setup(self, name: str) -> Setup:
        for s in self.setups:
            if s.name == name:
                return s
        raise KeyError(f"{self.name} has no set-up {name!r}")

    @property
    def setup_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.setups)

    def runs_in(self, setup: str) -> bool:
        """Declared and available on this machine."""
        return setup in self.setup_names and self.setup(setup).unavailable is None

    def service_for(self, setup: str) -> Service | None:
        return self.setup(setup).service if setup in self.setup_names else None

    @property
    def resumes(self) -> bool:
        """The plain rerun of the same command skips finished steps. The reference has no
        resume rules, and some tools start a new run every time (their resume is a recovery
        command): for both a rerun runs every step."""
        return self.reference is None and self.skips_finished

    def handoff_modes(self) -> tuple[str, ...]:
        """The default mode plus the first mode of the other hand-off kind (files vs values):
        the modes whose resume and IO behaviour differ."""
        chosen = [self.default_mode]
        default_files = self.uses_format(self.default_mode)
        for m in self.modes:
            if m.files != default_files:
                chosen.append(m.name)
                break
        return tuple(chosen)

