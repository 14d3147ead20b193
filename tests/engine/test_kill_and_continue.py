"""A harness killed outright (SIGKILL: no finally, no cleanup) loses nothing, and --continue
ends what it left running (identified by the journal, never by a PID alone), removes its
scratch dirs and runs the interrupted execution again."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bench.engine import process, registry
from bench.engine.session import Session
from bench.scenarios.catalog import SCENARIOS
from bench.store import records, run_info
from tests.engine.test_records import _record
from tests.helpers.fakes import REPO

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
PARENT = [sys.executable, "-c", "import subprocess, sys, time; "
          "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
          "time.sleep(120)"]


# ---------------------------------------------------------------- records.jsonl


def test_a_cut_last_record_is_ignored_with_a_note_and_cut_off_before_the_next_append(
        tmp_path, capsys):
    path = tmp_path / "records.jsonl"
    records.append(path, _record(round=1))
    records.append(path, _record(round=2))
    whole = path.read_bytes()
    path.write_bytes(whole[:-25])  # the second append was cut short
    assert [r.round for r in records.load(path)] == [1]
    assert "cut short" in capsys.readouterr().err

    records.append(path, _record(round=2))  # the interrupted execution, run again
    text = path.read_text()
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert [json.loads(line)["round"] for line in lines] == [1, 2]
    assert records.load(path) == [_record(round=1), _record(round=2)]


def test_a_last_line_without_its_newline_is_cut_even_when_it_parses(tmp_path):
    """A record is stored once its newline is: a whole JSON object cut just before it is not,
    so its execution runs again, and the repair keeps that from storing it twice."""
    path = tmp_path / "records.jsonl"
    records.append(path, _record(round=1))
    records.append(path, _record(round=2))
    path.write_bytes(path.read_bytes()[:-1])
    assert [r.round for r in records.load(path)] == [1]
    records.append(path, _record(round=2))
    assert [r.round for r in records.load(path)] == [1, 2]
    assert len(path.read_text().splitlines()) == 2


def test_repair_of_a_file_holding_only_a_cut_line_empties_it(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"run_id": "r1", "impl')
    assert records.repair(path) == len('{"run_id": "r1", "impl')
    assert path.read_bytes() == b""
    assert records.repair(path) == 0 and records.repair(tmp_path / "absent") == 0


# ---------------------------------------------------------------- identification


def _spawn(argv: list[str], **env) -> psutil.Process:
    proc = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL,
                            env={**os.environ, **env})
    return psutil.Process(proc.pid)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill(*procs: psutil.Process) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass


def _children(leader: psutil.Process, count: int) -> list[psutil.Process]:
    deadline = time.monotonic() + 30
    while len(found := leader.children()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_reused_pid_with_another_start_time_is_not_ended(tmp_path):
    """The recorded leader's PID now belongs to a process started at another time, in its own
    session, without the marker: it and its child are left alone."""
    run_dir = tmp_path / "run"
    scratch = run_dir / "work" / "00001-x"
    scratch.mkdir(parents=True)
    stranger = _spawn(PARENT)
    (child,) = _children(stranger, 1)
    try:
        journal = process.Journal(run_dir, "r1")
        n, _marker = journal.begin(SLEEPER, scratch, "run")
        journal.started(n, stranger.pid, create_time=stranger.create_time() - 5.0)
        (cleared,) = journal.end_stale()
        assert cleared["ended"] == [] and cleared["scratch_removed"] and not scratch.exists()
        assert _alive(stranger) and _alive(child)
        assert journal.stale() == []  # cleared once: a later session does not look again
    finally:
        _kill(stranger, child)


def test_the_recorded_session_and_any_marked_process_are_ended(tmp_path):
    """Ended: the recorded leader (PID and start time match) with the child in its session,
    and a process carrying the session's marker that left the session (setsid), whose own
    PID was never recorded. Not ended: a process carrying another run's marker."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    journal = process.Journal(run_dir, "r1")
    n1, m1 = journal.begin(PARENT, run_dir / "work" / "1", "run")
    n2, m2 = journal.begin(SLEEPER, run_dir / "work" / "2", "run")
    leader = _spawn(PARENT)
    escaped = _spawn(SLEEPER, **{process.MARKER: m2})
    other = _spawn(SLEEPER, **{process.MARKER: "another-run/2"})
    leader_children = _children(leader, 1)
    try:
        (child,) = leader_children
        journal.started(n1, leader.pid)
        # n2's leader is long gone and its PID reused by this harness: the marker decides
        journal.started(n2, os.getpid(), create_time=psutil.Process().create_time() - 9.0)
        cleared = {e["marker"]: e for e in journal.end_stale()}
        assert len(cleared[m1]["ended"]) == 2 and len(cleared[m2]["ended"]) == 1
        assert f"pid {escaped.pid}:" in cleared[m2]["ended"][0]
        assert not any(_alive(p) for p in (leader, child, escaped))
        assert _alive(other) and _alive(psutil.Process())
    finally:
        _kill(leader, escaped, other, *leader_children)


def test_a_process_working_in_a_recorded_scratch_dir_is_ended_but_not_outside_the_run(
        tmp_path):
    """A process the scenario started by other means (a cluster beside the timed run), in
    its own session, unrecorded, no marker: its cwd is the recorded execution's scratch dir.
    A scratch dir recorded outside the run directory names nothing and is never removed."""
    run_dir, outside = tmp_path / "run", tmp_path / "elsewhere"
    scratch = run_dir / "work" / "00001-x"
    for folder in (scratch / "cluster", outside):
        folder.mkdir(parents=True)
    journal = process.Journal(run_dir, "r1")
    with process.journaling(journal), process.in_slot((1, "x"), scratch):
        pass  # an execution that ended: its entry is not stale
    journal.begin([], scratch, "execution")
    journal.begin([], outside, "execution")
    inside_proc = psutil.Process(subprocess.Popen(SLEEPER, cwd=scratch / "cluster",
                                                  start_new_session=True).pid)
    outside_proc = psutil.Process(subprocess.Popen(SLEEPER, cwd=outside,
                                                   start_new_session=True).pid)
    try:
        assert len(journal.stale()) == 2
        inner, outer = journal.end_stale()
        assert len(inner["ended"]) == 1 and inner["scratch_removed"] and not scratch.exists()
        assert outer["ended"] == [] and not outer["scratch_removed"] and outside.is_dir()
        assert not _alive(inside_proc) and _alive(outside_proc)
    finally:
        _kill(inside_proc, outside_proc)


# ---------------------------------------------------------------- a real harness, killed

SEED = 20261202
KILLS = 3


def _harness_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith("BENCH_") and k != registry.OVERRIDE_ENV}


def _sessions(run_dir: Path | None) -> dict[int, dict]:
    if run_dir is None or not (run_dir / process.JOURNAL).exists():
        return {}
    return process.Journal(run_dir, run_dir.name).sessions()


def _marked_processes(run_id: str) -> list[psutil.Process]:
    """Live processes carrying a marker of this run."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(process.MARKER, "").startswith(f"{run_id}/"):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _marked(run_id: str) -> list[str]:
    return [f"{p.pid}: {process.cmdline(p)}" for p in _marked_processes(run_id)]


def _recorded_alive(sessions: dict[int, dict]) -> list[str]:
    """Recorded leaders still running with their recorded start time."""
    alive = []
    for entry in sessions.values():
        pid, started = entry.get("pid"), entry.get("create_time")
        try:
            proc = psutil.Process(pid) if pid else None
            if proc and proc.status() != psutil.STATUS_ZOMBIE \
                    and abs(proc.create_time() - started) < 1e-3:
                alive.append(f"{pid}: {entry.get('label')}")
        except psutil.Error:
            continue
    return alive


def _lingering(check, patience_s: float = 15.0) -> list[str]:
    """A process killed with SIGKILL can show for a moment on a loaded machine."""
    deadline = time.monotonic() + patience_s
    while (found := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


@pytest.mark.slow
def test_a_harness_killed_outright_three_times_loses_nothing_and_leaves_nothing(tmp_path):
    """`bench run --quick` on baseline and luigi, SIGKILLed at a seeded random moment (a
    random delay after the start of a random process session of the attempt), then continued,
    three times in a row; the last --continue completes the run."""
    rng = random.Random(SEED)
    out = tmp_path / "reports"
    base = [sys.executable, "-m", "bench", "run", "--out", str(out)]
    orphans: list[psutil.Process] = []
    try:
        _kill_and_continue(rng, out, base, tmp_path, orphans)
    finally:  # whatever the outcome, nothing of this test outlives it
        _kill(*orphans)


def _kill_and_continue(rng: random.Random, out: Path, base: list[str], tmp_path: Path,
                       orphans: list[psutil.Process]) -> None:
    run_dir: Path | None = None
    for attempt in range(KILLS):
        argv = base + (["--continue", run_dir.name] if run_dir else
                       ["--quick", "--impl", "baseline,luigi"])
        known = set(_sessions(run_dir))
        target, delay = rng.randint(1, 5), rng.uniform(0.0, 0.8)
        with open(tmp_path / f"harness-{attempt}.stderr", "wb") as err:
            harness = subprocess.Popen(argv, cwd=REPO, env=_harness_env(),
                                       stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and harness.poll() is None:
            if run_dir is None and out.is_dir():
                run_dir = next(iter(out.iterdir()), None)
            new = [e for n, e in _sessions(run_dir).items() if n not in known and "pid" in e]
            if len(new) >= target:
                break
            time.sleep(0.05)
        time.sleep(delay)
        err_text = (tmp_path / f"harness-{attempt}.stderr").read_text()
        assert harness.poll() is None, f"the harness ended before its kill:\n{err_text}"
        harness.kill()
        harness.wait()
        # What the kill left running is stopped where it is: it stands for a process that
        # runs longer than the next session takes to start, so only --continue ends it.
        for proc in _marked_processes(run_dir.name):
            try:
                proc.suspend()
                orphans.append(proc)
            except psutil.Error:
                continue

    final = subprocess.run(base + ["--continue", run_dir.name], cwd=REPO, env=_harness_env(),
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr

    # the kills did leave processes behind, and none of them is alive now
    assert orphans, "no kill caught a process running: the test proved nothing"
    assert _lingering(lambda: [f"{p.pid}" for p in orphans if _alive(p)]) == []
    sessions = _sessions(run_dir)
    assert _lingering(lambda: _marked(run_dir.name)) == []
    assert _lingering(lambda: _recorded_alive(sessions)) == []
    cleared = [e["cleared"] for e in sessions.values() if "cleared" in e]
    assert any(e["ended"] for e in cleared)  # --continue is what ended them
    assert all("ended" in e or "cleared" in e for e in sessions.values())

    # no stale scratch dir
    assert not (run_dir / "work").exists()
    assert not any(Path(e["scratch"]).exists() for e in sessions.values() if "scratch" in e)

    # records: no cut line, no duplicate, nothing missing, the interrupted executions rerun
    raw = (run_dir / "records.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode().split("\n")[:-1]
    assert all(isinstance(json.loads(line), dict) for line in lines)
    stored = records.load(run_dir / "records.jsonl")
    keys = [r.key for r in stored]
    assert len(keys) == len(set(keys)) == len(lines)
    info = run_info.read(run_dir)
    session = Session(run_dir, info, registry.load().by_name(), [], SCENARIOS)
    assert session.pending() == [] and info.finished_at
    assert {r.key for r in stored} >= {ex.key for ex in session.order}
    assert sorted(r.impl for r in stored if r.scenario == "codesize") == ["baseline", "luigi"]
    assert all(r.status == "ok" for r in stored)
    interrupted = {tuple(e["slot"]) for e in cleared if e.get("slot")}
    assert interrupted <= set(keys)
