"""Ctrl-C or a SIGKILL of the harness keeps every finished record; --continue leaves no process
of the interrupted session and runs only the rest."""
from __future__ import annotations

import collections
import fcntl
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench.engine import process, session
from bench.store import records, run_info
from tests.helpers.fakes import REPO, bench, calls, env_for, write_fakes

ARGS = ["run", "--impl", "faketool", "--scenario", "cold,noop", "--rounds", "3", "--seed", "3"]


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if text in cmd and proc.pid != psutil.Process().pid:
            found.append(cmd)
    return found


def default_ctrl_c() -> None:
    """A child's Ctrl-C as in a terminal: a shell running the tests in the background (`cmd &`)
    hands its children SIGINT ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _lingering(text: str, patience_s: float = 15.0) -> list[str]:
    """Processes still mentioning `text` once the kernel had time to end them: a child killed
    with SIGKILL keeps its command line until it is scheduled to die, which on a loaded
    machine can take a moment after the harness exited."""
    deadline = time.monotonic() + patience_s
    while (found := _processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _records(out: Path) -> tuple[Path, list[records.Record]]:
    (run_dir,) = out.iterdir()
    return run_dir, records.load(run_dir / "records.jsonl")


def test_ctrl_c_keeps_records_and_children_then_continue_fills_in_only_the_rest(tmp_path):
    root = write_fakes(tmp_path / "fakes", sleep=0.6)
    out = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "bench", *ARGS, "--out", str(out)],
                            cwd=REPO, env=env_for(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_ctrl_c)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # interrupt once a few executions are stored
        if out.exists() and any(out.iterdir()):
            run_dir = next(out.iterdir())
            path = run_dir / "records.jsonl"
            if path.exists() and len(path.read_text().splitlines()) >= 3:
                break
        time.sleep(0.1)
    time.sleep(0.3)  # most likely in the middle of the next execution
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert "--continue" in err and "Traceback" not in err
    assert _lingering(str(root)) == []
    run_dir, kept = _records(out)
    assert 3 <= len(kept) < 10
    interrupted_calls = len(calls(root))

    r = bench(root, "run", "--continue", run_dir.name, "--out", str(out))
    assert r.returncode == 0, r.stderr
    _, final = _records(out)
    keys = [rec.key for rec in final]
    # the warm-up, then 3 rounds of noop in the default mode and of cold: in both modes in the
    # laptop set-up, in the default mode in the team set-up
    assert len(keys) == len(set(keys)) == (1 + 3 * (2 + 1)) + (1 + 3 * (1 + 1))
    assert final[:len(kept)] == kept
    assert all(rec.status == "ok" for rec in final)
    # finished executions were not repeated: only the missing ones called the tool again
    # (a noop execution calls it twice; the stored reference is reused)
    again = calls(root)[interrupted_calls:]
    expected = sum(2 if rec.scenario == "noop" else 1 for rec in final[len(kept):])
    assert len(again) == expected
    info = run_info.read(run_dir)
    assert len(info.continuations) == 1 and info.finished_at
    assert not (run_dir / "work").exists()


def test_continue_of_a_complete_run_runs_nothing(tmp_path):
    root = write_fakes(tmp_path / "fakes")
    out = tmp_path / "reports"
    assert bench(root, *ARGS, "--rounds", "1", "--out", str(out)).returncode == 0
    run_dir, before = _records(out)
    n = len(calls(root))
    r = bench(root, "run", "--continue", run_dir.name, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert len(calls(root)) == n
    assert _records(out)[1] == before
    # cold: warm-up and one round in both modes in the laptop set-up, in the default mode in
    # the team set-up
    assert collections.Counter(rec.scenario for rec in before) == {"cold": 5, "noop": 2}


def test_sigkill_of_the_harness_then_continue_ends_its_leftovers_and_reruns_the_execution(
        tmp_path):
    """No finally runs on SIGKILL: the execution in flight keeps running, orphaned. It is
    stopped here, so that only --continue can end it (it would otherwise soon end by itself)."""
    root = write_fakes(tmp_path / "fakes", sleep=1.0)
    out = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "bench", *ARGS, "--rounds", "1",
                             "--out", str(out)], cwd=REPO, env=env_for(root),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    left: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not left:
            time.sleep(0.1)
            if out.is_dir() and any(out.iterdir()):
                run_dir = next(out.iterdir())
                in_slots = {e["marker"] for e in
                            process.Journal(run_dir, run_dir.name).sessions().values()
                            if e.get("slot") and e.get("label") != "execution"}
                left = [p for p in psutil.process_iter() if _marker(p) in in_slots]
        assert left, "no execution was seen running"
        proc.kill()
        proc.wait()
        for p in left:
            p.suspend()
        run_dir, kept = _records(out)
        journal = process.Journal(run_dir, run_dir.name)
        stale = [e for e in journal.stale() if e["label"] != "execution"]
        (execution,) = [e for e in journal.stale() if e["label"] == "execution"]
        assert len(stale) == 1 and (run_dir / "work").exists()
        (stale,) = stale

        r = bench(root, "run", "--continue", run_dir.name, "--out", str(out))
        assert r.returncode == 0, r.stderr
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in left)
        assert "ended 1 process(es) the interrupted run left" in r.stderr
        cleared = {e["n"]: e["cleared"] for e in journal.sessions().values() if "cleared" in e}
        assert sorted(cleared) == sorted([stale["n"], execution["n"]])
        assert len(cleared[stale["n"]]["ended"]) == 1 and cleared[execution["n"]]["ended"] == []
        assert cleared[execution["n"]]["scratch_removed"]
        assert execution["slot"] == stale["slot"]
        assert not Path(stale["scratch"]).exists() and not (run_dir / "work").exists()
        _, final = _records(out)
        keys = [rec.key for rec in final]
        assert len(keys) == len(set(keys)) == (1 + 2 + 1) + (1 + 1 + 1)
        assert final[:len(kept)] == kept and all(rec.status == "ok" for rec in final)
        assert (run_dir / "records.jsonl").read_bytes().endswith(b"\n")
        if stale["slot"]:
            assert tuple(stale["slot"]) in keys  # the interrupted execution ran again
    finally:
        for p in left:
            try:
                p.kill()
            except psutil.Error:
                pass


def _marker(proc: psutil.Process) -> str:
    try:
        return proc.environ().get(process.MARKER, "")
    except psutil.Error:
        return ""


def test_continue_beside_a_live_session_of_the_same_run_is_refused_in_one_line(tmp_path):
    root = write_fakes(tmp_path / "fakes")
    out = tmp_path / "reports"
    assert bench(root, *ARGS, "--rounds", "1", "--out", str(out)).returncode == 0
    run_dir, before = _records(out)
    with open(run_dir / session.LOCK, "a+") as held:  # as a live session holds it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = bench(root, "run", "--continue", run_dir.name, "--out", str(out))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "error: run " in r.stderr.strip().splitlines()[-1]
    assert "is being measured by" in r.stderr.strip().splitlines()[-1]
    assert _records(out)[1] == before
