"""Run a pipeline command the way the harness does: a new session, a private HOME, a trace.

Shared by the tests of every implementation, so each is checked under identical conditions.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from core import layout

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
STEPS = ("load", "preprocess", "train", "predict", "evaluate")


@dataclasses.dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    spans: list[dict]
    survivors: list[str]  # processes of the session still alive after the command returned

    @property
    def steps(self) -> list[str]:
        """Steps whose compute ran, in order of first appearance."""
        seen = []
        for s in sorted(self.spans, key=lambda s: s["start"]):
            if s["kind"] == "compute" and s["step"] not in seen:
                seen.append(s["step"])
        return seen


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BENCH_", "PREFECT_", "LUIGI_", "SNAKEMAKE_", "XDG_"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), PYTHONPATH=str(REPO), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def _session_members(sid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getsid(proc.pid) == sid:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


def run(argv: list[str], workdir: Path, *, env: dict[str, str] | None = None,
        fail_at: str | None = None, crash_at: str | None = None,
        timeout: float = 900) -> Result:
    """Run argv from the repo root in a new session; kill and report any survivor."""
    workdir = Path(workdir)
    trace = workdir.parent / f"{workdir.name}.trace-{time.monotonic_ns()}.jsonl"
    full_env = dict(env or base_env(workdir.parent / f"{workdir.name}.home"))
    full_env["BENCH_TRACE"] = str(trace)
    if fail_at:
        full_env["BENCH_FAIL_AT"] = fail_at
    if crash_at:
        full_env["BENCH_CRASH_AT"] = crash_at
    proc = subprocess.Popen(argv, cwd=REPO, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n[runner] timed out after {timeout} s"
    time.sleep(0.2)  # let a dying child finish exiting before we look for survivors
    survivors = []
    for p in _session_members(proc.pid):
        try:
            survivors.append(" ".join(p.cmdline()) or p.name())
            p.kill()
        except psutil.Error:
            pass
    spans = []
    if trace.exists():
        spans = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    return Result(proc.returncode, out, err, spans, survivors)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ok(result: Result) -> Result:
    assert result.rc == 0, result.stderr
    return result


def predictions_sha(workdir: Path) -> str:
    return sha256(Path(workdir) / layout.PREDICTIONS)


def files_in(workdir: Path) -> set[str]:
    """Every file under workdir, as posix paths relative to it."""
    return {p.relative_to(workdir).as_posix() for p in Path(workdir).rglob("*") if p.is_file()}
