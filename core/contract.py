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
    """A server the harness starts on 127.0.0.1 for the modes that need it, and stops by PID.

    command(state_dir, port) -> argv; environment(state_dir) -> variables keeping its state in
    state_dir; health_path: an HTTP path that answers 200 once it serves."""
    name: str
    modes: tuple[str, ...]
    command: Callable[[Path, int], Argv]
    environment: Callable[[Path], Env]
    health_path: str


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

    command(workdir, mode, *, shape, n) -> argv."""
    modes: tuple[str, ...]
    command: Callable[..., Argv]


@dataclasses.dataclass(frozen=True)
class Parallel:
    """The model selection (core/selection.py) with N workers.

    command(workdir, runner, *, workers, grid, cluster_address) -> argv; cluster_address is
    None unless the runner is one of cluster.runners."""
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
    what it reran and why, or None; `written` lists the workdir files the rerun wrote."""
    wrapper_edit: Edit
    equivalent_param: str
    comment_edit: Edit
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    reason: Callable[[str, str, list[str]], str | None] | None = None


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


def no_environment(workdir: Path, mode: str, *, service_url: str | None) -> Env:
    return {}


def no_recovery(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None,
                service_url: str | None) -> list[Argv]:
    return []


@dataclasses.dataclass(frozen=True)
class Adapter:
    """One implementation of the pipeline, as the harness sees it.

    command(workdir, mode, *, fmt, scale, data, service_url) -> argv running the whole
    pipeline; the same command serves a first run and a resume.
    environment(workdir, mode, *, service_url) -> variables keeping all tool state inside
    workdir. dag_command(workdir, mode) -> argv printing the DAG as the tool reports it, or
    None. recovery_commands(workdir, mode, *, fmt, scale, data, service_url) -> what a user
    types, in order, after the tool refused to resume."""
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
    tool_home: tuple[str, ...] = ()       # workdir-relative machine-level state (prefect's home)
    state_dirs: tuple[str, ...] = ()      # workdir-relative tool bookkeeping, not results
    env_prefixes: tuple[str, ...] = ()    # caller variables that would steer the tool
    frameworks: tuple[str, ...] = ()      # top-level modules the harness must never import
    services: tuple[Service, ...] = ()
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
        for service in self.services:
            unknown = set(service.modes) - set(names)
            _require(not unknown, f"{self.name}: service {service.name} names unknown modes "
                     f"{sorted(unknown)}")
        served = [m for s in self.services for m in s.modes]
        _require(len(set(served)) == len(served), f"{self.name}: a mode needs two services")
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
        for m in self.modes:
            if m.name == name:
                return m
        raise KeyError(f"{self.name} has no mode {name!r}")

    def uses_format(self, mode: str) -> bool:
        return self.mode(mode).files

    def service_for(self, mode: str) -> Service | None:
        return next((s for s in self.services if mode in s.modes), None)

    @property
    def resumes(self) -> bool:
        """The reference has no resume rules: a rerun always runs every step."""
        return self.reference is None

    def handoff_modes(self) -> tuple[str, ...]:
        """The default mode plus the first mode of the other hand-off kind (files vs values),
        leaving out modes that need a server: the modes whose resume and IO behaviour differ."""
        chosen = [self.default_mode]
        default_files = self.uses_format(self.default_mode)
        for m in self.modes:
            if self.service_for(m.name) is None and m.files != default_files:
                chosen.append(m.name)
                break
        return tuple(chosen)

