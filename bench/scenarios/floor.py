"""floor: the raw cost of writing and reading each format at each size, in-process.

bench/scenarios/floor_cases.py holds the pytest-benchmark cases; they run in a child pytest,
which writes pytest-benchmark's own JSON export to floor.json beside the records.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.engine import process
from bench.engine.workspace import base_environment
from bench.scenarios.base import Scenario

CASES = Path(__file__).with_name("floor_cases.py")
MIN_ROUNDS = 5
MAX_TIME_S = 1.0


def run(run_dir: Path, scales, formats, timeout_s: float, max_time_s: float = MAX_TIME_S) -> dict:
    """Returns a summary for run.json; floor.json is pytest-benchmark's own export."""
    scratch = run_dir / "work" / "floor"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    target = run_dir / "floor.json"
    argv = [sys.executable, "-m", "pytest", str(CASES),
            "-q", "-p", "no:cacheprovider", "-o", f"python_files={CASES.name}",
            "-o", "addopts=", "--benchmark-json", str(target),
            "--benchmark-min-rounds", str(MIN_ROUNDS), "--benchmark-max-time", str(max_time_s),
            "--benchmark-warmup", "on",
            "--benchmark-disable-gc", "--benchmark-columns", "min,median,max,rounds"]
    env = base_environment(scratch)
    env.update(FLOOR_SCALES=",".join(map(str, scales)), FLOOR_FORMATS=",".join(formats),
               FLOOR_DIR=str(scratch / "files"))
    outcome = process.run(argv, env=env, cwd=process.REPO, logs=scratch / "logs",
                          timeout_s=timeout_s, label="floor")
    summary = {"exit_code": outcome.exit_code, "wall_s": round(outcome.wall_s, 3),
               "scales": list(scales), "formats": list(formats),
               "file": "floor.json" if target.exists() else None}
    if outcome.exit_code != 0:
        logs = run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(outcome.stdout_path, logs / "floor.stdout")
        summary["log"] = "logs/floor.stdout"
        summary["stderr_tail"] = outcome.stderr_tail
    shutil.rmtree(scratch, ignore_errors=True)
    return summary


def once(session) -> None:
    """After the rounds, unless the run already holds floor.json."""
    profile = session.profile
    if (session.run_dir / "floor.json").exists():
        return
    session.progress.note("floor: raw write/read cost per format and size (pytest-benchmark) ...")
    max_time = 0.25 if profile.name == "quick" else MAX_TIME_S
    session.info.floor = summary = run(session.run_dir, profile.scales, profile.formats,
                                       profile.timeout_for(max(profile.scales)) * 4, max_time)
    session.progress.note(f"floor: exit {summary['exit_code']}, {summary['wall_s']:.1f} s")


SCENARIO = Scenario(name="floor",
                    description="raw write/read cost of each format and size, in-process "
                                "(pytest-benchmark)",
                    once=once, after_rounds=True)
