"""The implementations `bench` knows: one adapter module per line (bench/contract.md).

Adding a tool is its folder, one line in ADAPTERS, and its pins. An adapter that cannot be
imported, that breaks the contract or that pulls a workflow framework into the harness is
reported in one line and left out; it never stops the others.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from core.contract import Adapter, ContractError

ADAPTERS = (
    "core.adapter",
    "impl_luigi.adapter",
    "impl_prefect.adapter",
    "impl_snakemake.adapter",
    "impl_gokart.adapter",
    "impl_metaflow.adapter",
    "impl_dagster.adapter",
)
# Tests point the harness at other adapters through this variable (comma-separated modules).
OVERRIDE_ENV = "BENCH_ADAPTERS"


@dataclasses.dataclass(frozen=True)
class Loaded:
    adapters: tuple[Adapter, ...]
    modules: tuple[str, ...]   # the adapter module of each, in the same order
    problems: tuple[str, ...]  # one line per adapter left out

    def by_name(self) -> dict[str, Adapter]:
        return {a.name: a for a in self.adapters}

    @property
    def reference(self) -> Adapter | None:
        """The plain implementation every other one is verified against."""
        return next((a for a in self.adapters if a.reference is not None), None)

    @property
    def env_prefixes(self) -> tuple[str, ...]:
        """Caller variables that would steer one of the tools from outside."""
        return tuple(dict.fromkeys(p for a in self.adapters for p in a.env_prefixes))


def adapter_modules() -> tuple[str, ...]:
    override = os.environ.get(OVERRIDE_ENV, "").strip()
    if override:
        return tuple(m.strip() for m in override.split(",") if m.strip())
    return ADAPTERS


def load(modules: tuple[str, ...] | None = None) -> Loaded:
    found: list[tuple[str, Adapter, set[str]]] = []
    problems = []
    for name in modules or adapter_modules():
        before = set(sys.modules)
        try:
            module = importlib.import_module(name)
            adapter = module.ADAPTER
        except ContractError as exc:
            problems.append(f"{name}: breaks the adapter contract ({exc})")
            continue
        except Exception as exc:  # a half-written adapter must not stop the others
            problems.append(f"{name}: not available ({type(exc).__name__}: {exc})")
            continue
        if not isinstance(adapter, Adapter):
            problems.append(f"{name}: ADAPTER is a {type(adapter).__name__}, not core.contract."
                            "Adapter")
            continue
        found.append((name, adapter, set(sys.modules) - before))
    frameworks = {f for _, a, _ in found for f in a.frameworks}
    adapters, kept = [], []
    for name, adapter, imported in found:
        pulled = sorted(f for f in frameworks if f in imported)
        if pulled:
            problems.append(f"{name}: imports {', '.join(pulled)} into the harness; an adapter "
                            "must be stdlib-only (bench/contract.md)")
            continue
        adapters.append(adapter)
        kept.append(name)
    names = [a.name for a in adapters]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ContractError(f"two adapters share the name(s) {', '.join(duplicated)}")
    return Loaded(tuple(adapters), tuple(kept), tuple(problems))


def package_dir(adapter: Adapter) -> Path:
    """The folder of the adapter's package: what a pipeline command imports besides core."""
    spec = importlib.util.find_spec(adapter.package)
    if spec is None or spec.origin is None and not spec.submodule_search_locations:
        raise ContractError(f"{adapter.name}: package {adapter.package!r} not importable")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return Path(spec.origin).resolve().parent  # a single-module implementation
