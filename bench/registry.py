"""The implementations `bench` knows: one adapter module per line (see bench/contract.md).

Adding a tool is one folder, one line in ADAPTERS, and its pins. An adapter that cannot be
imported yet is reported in one line and left out; it never stops the others.
"""
from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

ADAPTERS = (
    "core.adapter",
    "impl_luigi.adapter",
    "impl_prefect.adapter",
    "impl_snakemake.adapter",
    "impl_gokart.adapter",
)
BASELINE = "baseline"
# Tests point the harness at fake adapters through this variable (comma-separated modules).
OVERRIDE_ENV = "BENCH_ADAPTERS"

REQUIRED = ("NAME", "MODES", "FORMAT_MODES", "SOURCE_FILES", "TOOL_HOME", "SERVICES",
            "command", "environment", "dag_command", "recovery_commands")
# The harness must stay free of these: tools run only in child processes.
FRAMEWORKS = ("luigi", "prefect", "snakemake")
SERVICE_HOOKS = ("service_command", "service_environment", "service_health_path")


@dataclasses.dataclass(frozen=True)
class Impl:
    """An adapter and what the harness derives from it."""
    module: ModuleType

    @property
    def name(self) -> str:
        return self.module.NAME

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self.module.MODES)

    @property
    def default_mode(self) -> str:
        return self.modes[0]

    @property
    def is_baseline(self) -> bool:
        return self.name == BASELINE

    def uses_format(self, mode: str) -> bool:
        return mode in self.module.FORMAT_MODES

    def service(self, mode: str) -> str | None:
        return self.module.SERVICES.get(mode)

    @property
    def resumes(self) -> bool:
        """The plain baseline has no resume rules: a rerun always runs every step."""
        return not self.is_baseline

    @property
    def synthetic_modes(self) -> tuple[str, ...]:
        """Modes that run the synthetic N-task workload (pertask scenario)."""
        return tuple(getattr(self.module, "SYNTHETIC_MODES", ()))

    @property
    def parallel_runners(self) -> tuple[str, ...]:
        """Ways to run the model selection in parallel (parallel scenario); stored as the mode."""
        return tuple(getattr(self.module, "PARALLEL_RUNNERS", {}))

    @property
    def package_dir(self) -> Path:
        return Path(self.module.__file__).resolve().parent

    def handoff_modes(self) -> tuple[str, ...]:
        """The default mode plus the first mode of the other hand-off kind (files vs values),
        leaving out modes that need a server: the modes whose resume and IO behaviour differ."""
        chosen = [self.default_mode]
        default_files = self.uses_format(self.default_mode)
        for mode in self.modes:
            if self.service(mode) is None and self.uses_format(mode) != default_files:
                chosen.append(mode)
                break
        return tuple(chosen)


@dataclasses.dataclass(frozen=True)
class Loaded:
    impls: tuple[Impl, ...]
    problems: tuple[str, ...]  # one line per adapter left out

    def by_name(self) -> dict[str, Impl]:
        return {impl.name: impl for impl in self.impls}


def adapter_modules() -> tuple[str, ...]:
    override = os.environ.get(OVERRIDE_ENV, "").strip()
    if override:
        return tuple(m.strip() for m in override.split(",") if m.strip())
    return ADAPTERS


def load(modules: tuple[str, ...] | None = None) -> Loaded:
    impls, problems = [], []
    for name in modules or adapter_modules():
        before = set(sys.modules)
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # a half-written adapter must not stop the others
            problems.append(f"{name}: not available ({type(exc).__name__}: {exc})")
            continue
        pulled = sorted(f for f in FRAMEWORKS if f in sys.modules and f not in before)
        if pulled:
            problems.append(f"{name}: imports {', '.join(pulled)} into the harness; an adapter "
                            "must be stdlib-only (bench/contract.md)")
            continue
        missing = _missing(module)
        if missing:
            problems.append(f"{name}: incomplete adapter, missing {', '.join(missing)}")
            continue
        impls.append(Impl(module))
    names = [impl.name for impl in impls]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"two adapters share the name(s) {', '.join(duplicated)}")
    return Loaded(tuple(impls), tuple(problems))


def _missing(module: ModuleType) -> list[str]:
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if not missing and any(module.SERVICES.values()):
        missing = [hook for hook in SERVICE_HOOKS if not hasattr(module, hook)]
    return missing
