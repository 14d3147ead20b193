"""What the harness measures from outside a process, and that nothing of it outlives it."""
from __future__ import annotations

import sys
import time

from bench.engine import process
from bench.engine.workspace import base_environment, disk_usage


def test_memory_and_bytes_written_are_seen_from_outside(tmp_path):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    code = ("import os, time; block = bytearray(150 * 2**20); time.sleep(0.5); "
            "open('f', 'wb').write(os.urandom(8 * 2**20))")
    out = process.run([sys.executable, "-c", code], env=base_environment(workdir),
                      cwd=workdir, logs=tmp_path / "logs", timeout_s=60)
    assert out.exit_code == 0
    assert out.max_rss_kb >= 150 * 1024 and out.max_rss_single_kb >= 150 * 1024
    assert out.io["wchar"] >= 8 * 2**20
    assert disk_usage(workdir)["state_bytes"] == 8 * 2**20
    assert out.cpu_s > 0 and out.end_epoch > out.launch_epoch


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
    out = process.run([sys.executable, "-c", GRANDPARENT], env=base_environment(workdir),
                      cwd=workdir, logs=tmp_path / "logs", timeout_s=60)
    assert out.exit_code == 0
    assert len(out.survivors) == 2 and all("time.sleep(300)" in s for s in out.survivors)
    assert process.session_members(out.pid) == []


def test_a_timeout_kills_the_whole_tree(tmp_path):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    code = GRANDPARENT.replace("time.sleep(0.5)", "time.sleep(300)")
    t0 = time.monotonic()
    out = process.run([sys.executable, "-c", code], env=base_environment(workdir),
                      cwd=workdir, logs=tmp_path / "logs", timeout_s=1.5)
    assert out.timed_out and out.exit_code == -9
    assert time.monotonic() - t0 < 60
    assert process.session_members(out.pid) == []


def test_the_environment_keeps_home_and_temp_inside_the_workdir(tmp_path):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    env = base_environment(workdir)
    assert env["HOME"].startswith(str(workdir)) and env["TMPDIR"].startswith(str(workdir))
    assert env["OMP_NUM_THREADS"] == "1" and not any(k.startswith("PREFECT_") for k in env)
    out = process.run([sys.executable, "-c", "import os, tempfile; print(os.environ['HOME']); "
                       "print(tempfile.gettempdir())"], env=env, cwd=workdir,
                      logs=tmp_path / "logs", timeout_s=60)
    home, tmp = out.stdout_text.split()
    assert home == str(workdir / ".home") and tmp == str(workdir / ".tmp")
