"""What a tool costs before any of your code runs: import time, distributions, disk size.

Import time is measured in a fresh child process (the harness never imports a tool). The
installed distributions a tool pulls in are read from package metadata: the closure of its
requirements, with their files' size on disk.
"""
from __future__ import annotations

import functools
import importlib.metadata as metadata
import sys
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bench.execute import Outcome

# What stands for "the tool" per implementation; an adapter may declare its own.
IMPORTS = {"baseline": ("core.steps",)}
DISTRIBUTIONS = {"baseline": ("pandas", "scikit-learn", "pyarrow", "pyyaml")}
MARKER = "BENCH_IMPORT_S="


def tool_imports(impl) -> tuple[str, ...]:
    return tuple(getattr(impl.module, "FOOTPRINT_IMPORTS", IMPORTS.get(impl.name, (impl.name,))))


def tool_distributions(impl) -> tuple[str, ...]:
    return tuple(getattr(impl.module, "FOOTPRINT_DISTRIBUTIONS",
                         DISTRIBUTIONS.get(impl.name, (impl.name,))))


def import_command(impl) -> list[str]:
    modules = ", ".join(tool_imports(impl))
    code = ("import time; t = time.perf_counter(); "
            f"import {modules}; "
            f"print({MARKER!r} + repr(time.perf_counter() - t))")
    return [sys.executable, "-c", code]


def parse_import_time(outcome: Outcome) -> float | None:
    try:
        text = Path(outcome.stdout_path).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(MARKER):
            return round(float(line[len(MARKER):]), 6)
    return None


def installed(impl) -> dict:
    packages = closure(tool_distributions(impl))
    return {"distributions": len(packages),
            "install_bytes": sum(p["bytes"] for p in packages),
            "packages": packages}


def closure(roots: tuple[str, ...]) -> list[dict]:
    """Every installed distribution reachable from roots through requirements (no extras)."""
    seen: dict[str, dict] = {}
    todo = [canonicalize_name(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        info = _distribution(name)
        if info is None:
            continue
        seen[name] = {"name": info["name"], "version": info["version"], "bytes": info["bytes"]}
        todo += info["requires"]
    return sorted(seen.values(), key=lambda p: p["name"].lower())


@functools.lru_cache(maxsize=None)
def _distribution(name: str) -> dict | None:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    requires = []
    env = {**default_environment(), "extra": ""}
    for raw in dist.requires or ():
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate(env):
            requires.append(canonicalize_name(req.name))
    return {"name": dist.metadata["Name"], "version": dist.version,
            "bytes": _size(dist), "requires": tuple(requires)}


def _size(dist) -> int:
    total = 0
    for file in dist.files or ():
        try:
            total += Path(dist.locate_file(file)).stat().st_size
        except OSError:
            continue
    return total
