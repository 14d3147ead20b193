"""Where every number comes from: machine, OS, Python, exact versions, code and command."""
from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench.engine.process import REPO
from bench.engine.registry import package_dir

SKIPPED_PARTS = ("__pycache__", ".pyc", ".egg-info")


def collect(adapters, argv: list[str], run_dir: Path) -> dict:
    return {
        "command_line": [Path(sys.executable).name, "-m", "bench", *argv],
        "started_epoch": time.time(),
        "git": git(),
        "machine": machine(run_dir),
        "python": {"version": platform.python_version(), "implementation":
                   platform.python_implementation(), "executable": sys.executable},
        "packages": packages(),
        "source_hashes": {adapter.name: source_hash(adapter) for adapter in adapters},
    }


def git() -> dict:
    def out(*args) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  timeout=30, check=True).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return None
    # porcelain lines are "XY path": the leading space of " M path" is part of the format
    status = out("status", "--porcelain", "--untracked-files=no")
    return {"commit": out("rev-parse", "HEAD"), "branch": out("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": None if status is None else bool(status),
            "dirty_files": [] if not status else [line[3:] for line in status.splitlines()]}


def machine(run_dir: Path) -> dict:
    return {"hostname": socket.gethostname(), "system": platform.system(),
            "release": platform.release(), "os": _os_name(), "arch": platform.machine(),
            "cpu_model": _cpu_model(), "cpu_count": psutil.cpu_count(),
            "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else None,
            "memory_kb": psutil.virtual_memory().total // 1024,
            "loadavg_at_start": list(os.getloadavg()),
            "filesystem_of_workdirs": _filesystem(Path(run_dir).resolve())}


def packages() -> dict[str, str]:
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name] = dist.version
    return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))


def source_hash(adapter) -> str:
    """sha256 over the implementation's package (its adapter's folder) and its source_files."""
    files = {p for p in package_dir(adapter).rglob("*") if p.is_file() and not _skipped(p)}
    files |= {REPO / rel for rel in adapter.source_files if (REPO / rel).is_file()}
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(REPO) if path.is_relative_to(REPO) else path).encode())
        digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _skipped(path: Path) -> bool:
    return any(part in str(path) for part in SKIPPED_PARTS)


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:  # macOS
        return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return platform.processor() or None


def _filesystem(path: Path) -> str | None:
    """The mount holding the run directories: IO numbers depend on it (tmpfs vs disk)."""
    best = None
    for part in psutil.disk_partitions(all=True):
        if str(path).startswith(part.mountpoint) and (
                best is None or len(part.mountpoint) > len(best.mountpoint)):
            best = part
    return f"{best.fstype} on {best.mountpoint}" if best else None
