"""footprint: what a tool costs before any of your code runs: import time, distributions, disk
size.

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

from bench.engine import measured
from bench.engine.process import Outcome
from bench.scenarios.base import Scenario, slot
from core.contract import Adapter

MARKER = "BENCH_IMPORT_S="


def import_command(adapter: Adapter) -> list[str]:
    modules = ", ".join(adapter.footprint.imports)
    code = ("import time; t = time.perf_counter(); "
            f"import {modules}; "
            f"print({MARKER!r} + repr(time.perf_counter() - t))")
    return [sys.executable, "-c", code]


def parse_import_time(outcome: Outcome) -> float | None:
    for line in outcome.stdout_text.splitlines():
        if line.startswith(MARKER):
            return round(float(line[len(MARKER):]), 6)
    return None


def installed(adapter: Adapter) -> dict:
    packages = closure(adapter.footprint.distributions)
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


def slots(selection, adapter, profile, choice):
    wanted = not choice.modes or adapter.default_mode in choice.modes
    if not wanted:
        return []
    return [slot(selection, adapter, adapter.default_mode, "footprint", format=None)]


def run(ws, ex, adapter, scratch):
    workdir = ws.new_workdir(scratch)
    done = ws.run(import_command(adapter), adapter, ex.slot.mode, ex.slot.setup, workdir,
                  scratch, size=1, home=ws.fresh_home(scratch),
                  label="import")
    import_s = parse_import_time(done.outcome)
    ok = done.outcome.exit_code == 0 and import_s is not None
    detail = {**installed(adapter), "import_s": import_s,
              "process_wall_s": round(done.outcome.wall_s, 6)}
    if not ok:
        detail["log"] = ws.keep_log(done.outcome, measured.log_name(ex))
    status = "ok" if ok else ("timeout" if done.outcome.timed_out else "unexpected_failure")
    return {**measured.fields(done), "wall_s": import_s if ok else 0.0, "detail": detail,
            "status": status}


SCENARIO = Scenario(
    name="footprint",
    description="import time of each tool in a fresh process, installed distributions and size",
    slots=slots, run=run)
