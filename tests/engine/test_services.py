"""Servers a mode needs are started once on 127.0.0.1, used, and always stopped by PID."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from bench.store import records, run_info
from tests.engine.test_continue import _lingering, _processes_mentioning, default_ctrl_c
from tests.helpers.fakes import REPO, bench, env_for, write_fakes



def _servers(tmp_path) -> list[str]:
    """This test's fake servers (their --directory lies under tmp_path)."""
    return [cmd for cmd in _processes_mentioning("http.server") if str(tmp_path) in cmd]


def test_a_server_mode_runs_in_its_own_block_and_the_server_is_stopped(tmp_path):
    root = write_fakes(tmp_path / "fakes", server="fakesrv")
    out = tmp_path / "reports"
    r = bench(root, "run", "--impl", "faketool", "--scenario", "cold", "--mode", "ok",
              "--setup", "laptop,team", "--rounds", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    (run_dir,) = out.iterdir()
    recs = records.load(run_dir / "records.jsonl")
    assert all(rec.status == "ok" for rec in recs), [(rec.key, rec.stderr_tail) for rec in recs]
    setups_in_order = [rec.setup for rec in recs]
    first_served = setups_in_order.index("team")
    assert set(setups_in_order[first_served:]) == {"team"}, "server block is not last"
    assert [rec.warmup for rec in recs if rec.setup == "team"] == [True, False, False]

    (service,) = run_info.read(run_dir).services
    assert service["name"] == "fakesrv" and service["stopped"] == "SIGTERM"
    assert service["healthy_after_s"] >= 0 and "survivors" not in service
    assert _servers(tmp_path) == []


def test_ctrl_c_while_a_server_runs_stops_it(tmp_path):
    root = write_fakes(tmp_path / "fakes", server="fakesrv", sleep=1.0)
    out = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "--impl", "faketool",
                             "--mode", "ok", "--setup", "team", "--scenario", "cold",
                             "--rounds", "5", "--out", str(out)], cwd=REPO, env=env_for(root),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_ctrl_c)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _processes_mentioning("faketool ok"):
        time.sleep(0.1)  # wait until an execution against the server is in flight
    assert _servers(tmp_path), "the server was not running"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _servers(tmp_path) == []
    assert _lingering(str(root)) == []


def test_a_server_left_by_a_killed_harness_is_ended_by_continue(tmp_path):
    root = write_fakes(tmp_path / "fakes", server="fakesrv", sleep=0.5)
    out = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "--impl", "faketool",
                             "--mode", "ok", "--setup", "team", "--scenario", "cold",
                             "--rounds", "3", "--out", str(out)], cwd=REPO, env=env_for(root),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _processes_mentioning("faketool ok"):
        time.sleep(0.1)
    proc.kill()  # no chance to clean up: the server outlives the harness
    proc.wait()
    assert _servers(tmp_path)
    (run_dir,) = out.iterdir()

    r = bench(root, "run", "--continue", run_dir.name, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "left running by the interrupted session" in r.stderr
    assert _servers(tmp_path) == []
    services = run_info.read(run_dir).services
    assert [s["stopped"] for s in services] == ["by --continue", "SIGTERM"]
    assert len(records.load(run_dir / "records.jsonl")) == 1 + 3
