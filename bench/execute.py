"""One execution: a fresh process in a new session, measured from outside, then cleaned up.

The command starts as the leader of a new session, so every process it spawns (prefect's
temporary API server, snakemake's job processes, luigi's workers) carries that session id and
is found by it, also after its parent died. Memory is sampled over the session; CPU and IO
come from the kernel's accounting of the reaped process tree (wait4 rusage and this process's
own IO counters, into which the kernel folds every reaped child).
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
SAMPLE_S = 0.05
STDERR_TAIL = 4000
PINNED_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
# Variables of the caller that would steer a tool or the instrumentation from outside.
# Storage-level counters of the reaped tree; rchar is left out because it also counts the
# harness's own reads of /proc while sampling.
IO_COUNTERS = ("read_bytes", "write_bytes", "wchar", "cancelled_write_bytes")
SCRUBBED_PREFIXES = ("BENCH_", "PREFECT_", "LUIGI_", "SNAKEMAKE_", "XDG_", "PYTHON", "CONDA",
                     "VIRTUAL_ENV")


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
    io: dict
    launch_epoch: float
    end_epoch: float
    stdout_path: Path
    stderr_path: Path
    survivors: list[str]

    @property
    def stderr_tail(self) -> str:
        return tail(self.stderr_path)


def tail(path: Path, limit: int = STDERR_TAIL) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _fixed_variables(workdir: str) -> dict[str, str]:
    return {"HOME": f"{workdir}/.home", "TMPDIR": f"{workdir}/.tmp", "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LC_ALL": "C.UTF-8",
            "TZ": "UTC", **{name: "1" for name in PINNED_THREADS}}


def base_environment(workdir: Path) -> dict[str, str]:
    """A controlled environment: HOME and TMPDIR inside the workdir, thread counts pinned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(_fixed_variables(str(workdir)))
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    Path(env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
    # The venv's own scripts (luigid, snakemake) come first, as after `activate`.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    return env


def environment_template() -> dict[str, str]:
    """The variables every execution gets, with the workdir as a placeholder (for run.json)."""
    return _fixed_variables("{workdir}")


# ---------------------------------------------------------------- process-table reading

def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()  # fields from `state` on; comm may hold spaces


def session_members(sid: int) -> list[int]:
    """Pids whose session id is `sid` (field 6 of /proc/PID/stat), the leader included."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat_fields(int(name))
        if fields and len(fields) > 3 and fields[3] == str(sid) and fields[0] != "Z":
            members.append(int(name))
    return members


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _own_io() -> dict[str, int]:
    values = {}
    try:
        with open("/proc/self/io") as f:
            for line in f:
                key, _, value = line.partition(":")
                values[key.strip()] = int(value)
    except OSError:
        pass
    return values


def end_session(sid: int, settle_s: float = 0.2) -> list[str]:
    """Record then SIGKILL every process still in the session; returns their command lines."""
    found = session_members(sid)
    if found and settle_s:
        time.sleep(settle_s)  # a child that is already exiting is not a survivor
        found = session_members(sid)
    described = [cmdline(pid) or f"pid {pid}" for pid in found]
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while found and time.monotonic() < deadline:
        found = [pid for pid in found if _alive(pid)]
        time.sleep(0.02)
    return described


def _alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] != "Z"


# ---------------------------------------------------------------- running

class Sampler:
    """Peak of the summed RSS over the session, and of the largest single process."""

    def __init__(self, sid: int):
        self.sid = sid
        self.peak_sum_kb = 0
        self.peak_single_kb = 0

    def sample(self) -> None:
        sizes = [_rss_kb(pid) for pid in session_members(self.sid)]
        if sizes:
            self.peak_sum_kb = max(self.peak_sum_kb, sum(sizes))
            self.peak_single_kb = max(self.peak_single_kb, max(sizes))


def run(argv: list[str], *, env: dict[str, str], cwd: Path, logs: Path, timeout_s: float,
        label: str = "run") -> Outcome:
    """Run argv to completion (or timeout), sampling as it goes; never leaves a process behind."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{label}.stdout", logs / f"{label}.stderr"
    io_before = _own_io()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        launch_epoch, t0 = time.time(), time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    sampler = Sampler(proc.pid)
    try:
        status, rusage, timed_out, wall_s = _wait(proc, sampler, t0, timeout_s)
    except BaseException:  # Ctrl-C included: the execution in flight must not outlive us
        _kill_group(proc.pid)
        _reap(proc)
        end_session(proc.pid, settle_s=0)
        raise
    end_epoch = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)
    io_after = _own_io()
    survivors = end_session(proc.pid)
    return Outcome(
        argv=list(argv), pid=proc.pid, exit_code=proc.returncode, timed_out=timed_out,
        wall_s=wall_s,
        cpu_s=round(rusage.ru_utime + rusage.ru_stime, 4),
        max_rss_kb=sampler.peak_sum_kb,
        max_rss_single_kb=max(sampler.peak_single_kb, int(rusage.ru_maxrss)),
        io={k: io_after.get(k, 0) - io_before.get(k, 0)
            for k in IO_COUNTERS},
        launch_epoch=launch_epoch, end_epoch=end_epoch, stdout_path=out_path,
        stderr_path=err_path, survivors=survivors)


def _wait(proc: subprocess.Popen, sampler: Sampler, t0: float, timeout_s: float):
    while True:
        sampler.sample()
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, rusage, False, time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout_s:
            _kill_group(proc.pid)
            pid, status, rusage = os.wait4(proc.pid, 0)
            return status, rusage, True, time.perf_counter() - t0
        time.sleep(SAMPLE_S)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(proc: subprocess.Popen) -> None:
    try:
        _, status = os.waitpid(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        proc.returncode = -signal.SIGKILL


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


def disk_usage(workdir: Path, output_dirs: tuple[str, ...], input_paths: tuple[str, ...]) -> dict:
    """Bytes left on disk: pipeline artefacts vs everything else (tool state, HOME, temp)."""
    outputs = state = inputs = 0
    for root, _dirs, files in os.walk(workdir):
        rel_root = Path(root).relative_to(workdir)
        for name in files:
            rel = (rel_root / name).as_posix()
            try:
                size = os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
            if rel in input_paths:
                inputs += size
            elif rel.split("/", 1)[0] in output_dirs:
                outputs += size
            else:
                state += size
    return {"outputs_bytes": outputs, "state_bytes": state, "inputs_bytes": inputs}
