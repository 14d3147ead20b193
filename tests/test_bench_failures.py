"""A tool that fails or hangs is recorded as such (stderr kept) and the benchmark goes on;
no process of an execution outlives it, grandchildren included."""
from __future__ import annotations

import sys
import time

from bench import execute, records
from tests.test_bench_fakes import bench, write_fakes

MODES = {"ok": "correct", "fails": "exits 3 with a message", "hangs": "never returns"}


def test_failing_and_hanging_executions_are_recorded_and_the_run_goes_on(tmp_path):
    root = write_fakes(tmp_path / "fakes", modes=MODES)
    out = tmp_path / "reports"
    r = bench(root, "run", "--impl", "faketool", "--scenario", "cold,modes", "--rounds", "1",
              "--no-warmup", "--timeout", "3", "--seed", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    (run_dir,) = out.iterdir()
    by_mode = {rec.mode: rec for rec in records.load(run_dir / "records.jsonl")}
    assert set(by_mode) == {"ok", "fails", "hangs"}

    failed = by_mode["fails"]
    assert failed.status == "unexpected_failure" and failed.exit_code == 3
    assert "boom: the fake tool failed on purpose" in failed.stderr_tail
    assert "boom" in (run_dir / failed.detail["log"]).read_text()
    assert not failed.usable

    hung = by_mode["hangs"]
    assert hung.status == "timeout" and hung.exit_code == -9
    assert 3 <= hung.wall_s < 60

    assert by_mode["ok"].status == "ok" and by_mode["ok"].usable


GRANDPARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); "
    "time.sleep(300)"])
time.sleep(0.5)
"""


def test_a_grandchild_left_behind_is_recorded_and_ended(tmp_path):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    out = execute.run([sys.executable, "-c", GRANDPARENT], env=execute.base_environment(workdir),
                      cwd=workdir, logs=tmp_path / "logs", timeout_s=60)
    assert out.exit_code == 0
    assert len(out.survivors) == 2 and all("time.sleep(300)" in s for s in out.survivors)
    assert execute.session_members(out.pid) == []


def test_a_timeout_kills_the_whole_tree(tmp_path):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    code = GRANDPARENT.replace("time.sleep(0.5)", "time.sleep(300)")
    t0 = time.monotonic()
    out = execute.run([sys.executable, "-c", code], env=execute.base_environment(workdir),
                      cwd=workdir, logs=tmp_path / "logs", timeout_s=1.5)
    assert out.timed_out and out.exit_code == -9
    assert time.monotonic() - t0 < 60
    assert execute.session_members(out.pid) == []


def test_the_environment_keeps_home_and_temp_inside_the_workdir(tmp_path):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    env = execute.base_environment(workdir)
    assert env["HOME"].startswith(str(workdir)) and env["TMPDIR"].startswith(str(workdir))
    assert env["OMP_NUM_THREADS"] == "1" and not any(k.startswith("PREFECT_") for k in env)
    out = execute.run([sys.executable, "-c", "import os, tempfile; print(os.environ['HOME']); "
                       "print(tempfile.gettempdir())"], env=env, cwd=workdir,
                      logs=tmp_path / "logs", timeout_s=60)
    home, tmp = out.stdout_path.read_text().split()
    assert home == str(workdir / ".home") and tmp == str(workdir / ".tmp")
