"""Ctrl-C keeps every finished record and leaves no process; --continue runs only the rest."""
from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

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
    # in each of the two set-ups: the warm-up, then 3 rounds of cold in both modes and noop
    # in the default mode
    assert len(keys) == len(set(keys)) == 2 * (1 + 3 * (2 + 1))
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
    assert collections.Counter(rec.scenario for rec in before) == {"cold": 6, "noop": 2}
