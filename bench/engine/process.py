"""One execution: a fresh process in a new session, waited for exactly, measured from outside.

The command starts as the leader of a new session, so every process it spawns (prefect's
temporary API server, snakemake's job processes, luigi's workers) carries that session id and
is found by it, also after its parent died. The harness blocks in wait4() on the leader, so the
wall time ends when the process ends, not at the next tick of a polling loop; a sampler thread
beside it reads the session's memory every SAMPLE_S. CPU comes from the kernel's accounting of
the reaped tree (wait4's rusage); IO from this process's own counters, into which the kernel
folds every reaped child (Linux only: elsewhere the IO figures are recorded as unavailable).
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
# One scan of the process table costs about 2 ms with 100 processes here: every 0.2 s that is
# about 1 % of one core, taken from the cores the tool itself runs on.
SAMPLE_S = 0.2
STDERR_TAIL = 4000
# psutil's names of the kernel's IO counters, and the names records store them under.
IO_COUNTERS = {"read_bytes": "read_bytes", "write_bytes": "write_bytes", "write_chars": "wchar"}


@dataclasses.dataclass
class Outcome:
    argv: list[str]
    pid: int  # also the session id of everything the execution started
    exit_code: int | None
    timed_out: bool
    wall_s: float
    cpu_s: float | None
    max_rss_kb: int
    max_rss_single_kb: int
    io: dict | None  # None where the platform gives no per-process IO counters
    launch_epoch: float
    end_epoch: float
    stdout_path: Path
    stderr_path: Path
    survivors: list[str]

    @property
    def stderr_tail(self) -> str:
        return tail(self.stderr_path)

    @property
    def stdout_text(self) -> str:
        return read_text(self.stdout_path)

    @property
    def stderr_text(self) -> str:
        return read_text(self.stderr_path)


def tail(path: Path, limit: int = STDERR_TAIL) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- sessions

def session_members(sid: int) -> list[psutil.Process]:
    """Live processes whose session id is `sid`, the leader included."""
    found = []
    for pid in psutil.pids():
        try:
            if os.getsid(pid) != sid:
                continue
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


def cmdline(proc: psutil.Process | int) -> str:
    try:
        proc = proc if isinstance(proc, psutil.Process) else psutil.Process(proc)
        return " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        return ""


def end_session(sid: int, settle_s: float = 0.2) -> list[str]:
    """Record then SIGKILL every process still in the session; returns their command lines."""
    found = session_members(sid)
    if found and settle_s:
        time.sleep(settle_s)  # a child that is already exiting is not a survivor
        found = session_members(sid)
    described = [cmdline(p) or f"pid {p.pid}" for p in found]
    for proc in found:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(found, timeout=5)
    return described


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _own_io() -> dict[str, int] | None:
    try:
        counters = psutil.Process().io_counters()
    except (AttributeError, psutil.Error):  # macOS has no per-process IO counters
        return None
    return {stored: getattr(counters, name, 0) for name, stored in IO_COUNTERS.items()}


# ---------------------------------------------------------------- running

class Sampler(threading.Thread):
    """Peak of the summed RSS over the session, and of the largest single process."""

    def __init__(self, sid: int):
        super().__init__(daemon=True, name=f"sampler-{sid}")
        self.sid = sid
        self.peak_sum_kb = 0
        self.peak_single_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self._stop_event.wait(SAMPLE_S):
                return

    def sample(self) -> None:
        sizes = []
        for proc in session_members(self.sid):
            try:
                sizes.append(proc.memory_info().rss // 1024)
            except psutil.Error:
                continue
        if sizes:
            self.peak_sum_kb = max(self.peak_sum_kb, sum(sizes))
            self.peak_single_kb = max(self.peak_single_kb, max(sizes))

    def finish(self) -> None:
        self._stop_event.set()
        self.join()


def run(argv: list[str], *, env: dict[str, str], cwd: Path, logs: Path, timeout_s: float,
        label: str = "run") -> Outcome:
    """Run argv to completion (or timeout); never leaves a process behind."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{label}.stdout", logs / f"{label}.stderr"
    io_before = _own_io()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        launch_epoch, t0 = time.time(), time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    expired = threading.Event()
    timer = threading.Timer(timeout_s, lambda: (expired.set(), kill_group(proc.pid)))
    timer.daemon = True
    timer.start()
    try:
        _, status, rusage = os.wait4(proc.pid, 0)
        wall_s = time.perf_counter() - t0
    except BaseException:  # Ctrl-C included: the execution in flight must not outlive us
        kill_group(proc.pid)
        _reap(proc)
        end_session(proc.pid, settle_s=0)
        raise
    finally:
        timer.cancel()
        sampler.finish()
    end_epoch = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)
    io_after = _own_io()
    survivors = end_session(proc.pid)
    io = None
    if io_before is not None and io_after is not None:
        io = {k: io_after[k] - io_before[k] for k in io_after}
    return Outcome(
        argv=list(argv), pid=proc.pid, exit_code=proc.returncode, timed_out=expired.is_set(),
        wall_s=wall_s, cpu_s=round(rusage.ru_utime + rusage.ru_stime, 4),
        max_rss_kb=sampler.peak_sum_kb,
        max_rss_single_kb=max(sampler.peak_single_kb, _maxrss_kb(rusage)),
        io=io, launch_epoch=launch_epoch, end_epoch=end_epoch, stdout_path=out_path,
        stderr_path=err_path, survivors=survivors)


def _maxrss_kb(rusage) -> int:
    """ru_maxrss is in kilobytes on Linux and in bytes on macOS."""
    return int(rusage.ru_maxrss // 1024 if sys.platform == "darwin" else rusage.ru_maxrss)


def _reap(proc: subprocess.Popen) -> None:
    try:
        _, status = os.waitpid(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        proc.returncode = -signal.SIGKILL


# ---------------------------------------------------------------- what the run traced

def read_trace(path: Path) -> list[dict]:
    """Spans from BENCH_TRACE; a line cut short by a SIGKILL is skipped, not fatal."""
    if not path.exists():
        return []
    spans = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            span = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(span, dict) and {"step", "kind", "start", "end"} <= span.keys():
            spans.append(span)
    return sorted(spans, key=lambda s: s["start"])


def steps_executed(spans: list[dict]) -> list[str]:
    """Steps whose compute ran, in order of first start."""
    seen: list[str] = []
    for span in spans:
        if span["kind"] == "compute" and span["step"] not in seen:
            seen.append(span["step"])
    return seen
