"""One execution: a fresh process in a new session, waited for exactly, measured from outside.

The command starts as the leader of a new session, so every process it spawns (prefect's
temporary API server, snakemake's job processes, luigi's workers) carries that session id and
is found by it, also after its parent died. The harness blocks in wait4() on the leader, so the
wall time ends when the process ends, not at the next tick of a polling loop; a sampler thread
beside it reads the session's memory every SAMPLE_S. CPU comes from the kernel's accounting of
the reaped tree (wait4's rusage); IO from this process's own counters, into which the kernel
folds every reaped child (Linux only: elsewhere the IO figures are recorded as unavailable).

While a `bench run` session runs, every process session is first written to the run's journal
(`sessions.jsonl`, see Journal), so that a harness killed outright (SIGKILL, a power cut of the
harness alone) leaves enough for `--continue` to end what it started, and nothing else.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import contextlib
import threading
import time
from pathlib import Path

import psutil

from bench.store import records
from bench.store.records import MEMORY_SAMPLE_S as SAMPLE_S

REPO = Path(__file__).resolve().parents[2]
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


# ---------------------------------------------------------------- the journal of a run

MARKER = "BENCH_SESSION"  # set on every process the harness starts: "<run_id>/<n>"
JOURNAL = "sessions.jsonl"
_active: "Journal | None" = None
_slot: list | None = None


class Journal:
    """The process sessions a run started, one JSON line per event in `sessions.jsonl`:

    - `begin` (n, marker, slot key, scratch dir, argv), appended and fsynced before the start;
    - `started` (n, pid = session id, the leader's psutil create_time) right after it;
    - `ended` (n) once the session is over and nothing of it is left;
    - `cleared` (n, what was ended, whether the scratch was removed), written by a later
      session (`--continue`) for a session that never ended because the harness was killed.

    Each execution also has an entry of its own (label `execution`, no argv, no pid), begun
    before its scenario starts anything and ended after, so that what the scenario starts by
    other means (a cluster beside the timed run) is found through its scratch dir.

    `started` is written but not fsynced: it sits between the launch and the wait, inside the
    timed window, and a process does not outlive a machine crash, so the line only has to
    outlive the harness, which a completed write() does. The other events are fsynced.
    """

    def __init__(self, run_dir: Path, run_id: str):
        self.run_dir, self.run_id = Path(run_dir), run_id
        self.path = self.run_dir / JOURNAL
        self._lock = threading.Lock()
        self._next = 1 + max((e.get("n", 0) for e in self.events()), default=0)

    def events(self) -> list[dict]:
        lines, cut = records.read_lines(self.path)
        records.note_cut(self.path, cut)
        found = []
        for line in lines:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and isinstance(event.get("n"), int):
                found.append(event)
        return found

    def _write(self, event: dict, *, sync: bool = True) -> None:
        if sync:
            records.append_line(self.path, json.dumps(event, sort_keys=True))
            return
        records.repair(self.path)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event, sort_keys=True) + "\n")

    def begin(self, argv: list[str], scratch: Path, label: str) -> tuple[int, str]:
        with self._lock:
            n, self._next = self._next, self._next + 1
        marker = f"{self.run_id}/{n}"
        self._write({"event": "begin", "n": n, "marker": marker, "slot": _slot,
                     "scratch": os.path.realpath(scratch), "label": label,
                     "argv": [str(a) for a in argv], "at": time.time()})
        return n, marker

    def started(self, n: int, pid: int, create_time: float | None = None) -> None:
        if create_time is None:
            try:
                create_time = psutil.Process(pid).create_time()
            except psutil.Error:
                create_time = None
        self._write({"event": "started", "n": n, "pid": pid, "create_time": create_time},
                    sync=False)

    def ended(self, n: int) -> None:
        self._write({"event": "ended", "n": n, "at": time.time()})

    def sessions(self) -> dict[int, dict]:
        """n -> the merged events of that session."""
        merged: dict[int, dict] = {}
        for event in self.events():
            kind = event.get("event")
            entry = merged.setdefault(event["n"], {"n": event["n"]})
            if kind == "begin":
                entry.update({k: v for k, v in event.items() if k != "event"})
            elif kind == "started":
                entry.update(pid=event.get("pid"), create_time=event.get("create_time"))
            elif kind in ("ended", "cleared"):
                entry[kind] = event
        return merged

    def stale(self) -> list[dict]:
        """Sessions begun and neither ended nor cleared: their harness was killed outright."""
        return [e for e in self.sessions().values()
                if "marker" in e and "ended" not in e and "cleared" not in e]

    def end_stale(self) -> list[dict]:
        """End what the stale sessions left running (identified by `belongs`), remove their
        scratch dirs, and record both as `cleared`; returns those events."""
        stale = self.stale()
        if not stale:
            return []
        # a scratch dir outside the run directory (a journal edited by hand) names nothing
        ended = end_recorded([e if _inside(Path(e.get("scratch") or "/"), self.run_dir)
                              else {k: v for k, v in e.items() if k != "scratch"}
                              for e in stale])
        cleared = []
        for entry in stale:
            scratch = Path(entry.get("scratch") or "")
            removed = False
            if entry.get("scratch") and _inside(scratch, self.run_dir) and scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)
                removed = not scratch.exists()
            event = {"event": "cleared", "n": entry["n"], "marker": entry["marker"],
                     "slot": entry.get("slot"), "label": entry.get("label"),
                     "ended": ended.get(entry["marker"], []), "scratch": entry.get("scratch"),
                     "scratch_removed": removed, "at": time.time()}
            self._write(event)
            cleared.append(event)
        return cleared


def _inside(path: Path, folder: Path) -> bool:
    """`path` lies strictly inside `folder`."""
    try:
        path, folder = path.resolve(), folder.resolve()
    except OSError:
        return False
    return path != folder and path.is_relative_to(folder)


@contextlib.contextmanager
def journaling(journal: Journal):
    """Every process.run inside the block is recorded in `journal`."""
    global _active
    before, _active = _active, journal
    try:
        yield journal
    finally:
        _active = before


@contextlib.contextmanager
def in_slot(key, scratch: Path | None = None):
    """The processes started inside the block belong to the execution slot `key`. With an
    active journal and a `scratch`, the execution itself is journalled too (label
    `execution`, no process of its own): what its scenario starts by other means than run()
    (a cluster beside the timed run) works in that dir, which is how --continue finds it."""
    global _slot
    before, _slot = _slot, (list(key) if key is not None else None)
    journal = _active if scratch is not None else None
    n = journal.begin([], scratch, "execution")[0] if journal is not None else None
    try:
        yield
    finally:
        _slot = before
        if journal is not None:
            journal.ended(n)


def _create_time(pid: int) -> float | None:
    """A zombie leader keeps its PID, and so its identity, until it is reaped."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _same_start(a, b) -> bool:
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) < 1e-3


def live_leaders(entries: list[dict]) -> dict[int, str]:
    """Session id -> marker, for the recorded leaders still running with their recorded start
    time (a PID reused by another process has another start time)."""
    return {e["pid"]: e["marker"] for e in entries
            if e.get("pid") and _same_start(_create_time(e["pid"]), e.get("create_time"))}


def belongs(proc: psutil.Process, entries: list[dict],
            leaders: dict[int, str] | None = None) -> str | None:
    """The marker of the recorded session `proc` is part of, or None. PIDs and session ids are
    reused, so an id alone proves nothing: the process must be in the session of a recorded
    leader that still runs with its recorded start time, or carry the session's marker in its
    environment (which also finds a process that left the session, or one whose leader is
    gone), or work in (cwd, BENCH_TRACE) the scratch dir of a recorded execution: a path
    inside this run's directory that nothing but the harness hands out."""
    leaders = live_leaders(entries) if leaders is None else leaders
    try:
        sid = os.getsid(proc.pid)
    except OSError:
        sid = None
    if sid in leaders:
        return leaders[sid]
    try:
        environ = proc.environ()
    except (psutil.Error, OSError):
        return None
    marker = environ.get(MARKER)
    if marker in {e["marker"] for e in entries}:
        return marker
    try:
        cwd = proc.cwd()
    except (psutil.Error, OSError):
        cwd = ""
    trace = environ.get("BENCH_TRACE")
    if trace and cwd:
        trace = os.path.realpath(os.path.join(cwd, trace))
    for entry in entries:
        scratch = entry.get("scratch")
        if scratch and any(_under(path, scratch) for path in (cwd, trace)):
            return entry["marker"]
    return None


def _under(path: str | None, folder: str) -> bool:
    return bool(path) and (path == folder or path.startswith(folder.rstrip("/") + "/"))


def _recorded_processes(entries: list[dict]) -> list[tuple[psutil.Process, str]]:
    me = os.getpid()
    leaders = live_leaders(entries)
    found = []
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            continue
        marker = belongs(proc, entries, leaders)
        if marker:
            found.append((proc, marker))
    return found


def end_recorded(entries: list[dict], passes: int = 5) -> dict[str, list[str]]:
    """SIGKILL every live process of the recorded sessions `entries` (a member may fork while
    it is ended: scanned again until none is left); returns marker -> what was ended."""
    ended: dict[str, list[str]] = {}
    for _ in range(passes):
        found = _recorded_processes(entries)
        if not found:
            break
        for proc, marker in found:
            ended.setdefault(marker, []).append(f"pid {proc.pid}: {cmdline(proc)}")
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs([p for p, _ in found], timeout=5)
    return ended


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
    journal = _active
    if journal is not None:  # recorded before it exists: a kill from here on leaves its trace
        n, marker = journal.begin(argv, logs.parent, label)
        env = {**env, MARKER: marker}
    io_before = _own_io()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        launch_epoch, t0 = time.time(), time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    if journal is not None:
        journal.started(n, proc.pid)
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
        if journal is not None:
            journal.ended(n)
        raise
    finally:
        timer.cancel()
        sampler.finish()
    end_epoch = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)
    io_after = _own_io()
    survivors = end_session(proc.pid)
    if journal is not None:
        journal.ended(n)
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
