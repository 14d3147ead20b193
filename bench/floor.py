"""Run the in-process floor benchmark (bench/floor_bench.py) in a child pytest, into floor.json."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench import execute

MIN_ROUNDS = 5
MAX_TIME_S = 1.0


def run(run_dir: Path, scales, formats, timeout_s: float, max_time_s: float = MAX_TIME_S) -> dict:
    """Returns a summary for run.json; floor.json is pytest-benchmark's own export."""
    scratch = run_dir / "work" / "floor"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    target = run_dir / "floor.json"
    argv = [sys.executable, "-m", "pytest", str(execute.REPO / "bench" / "floor_bench.py"),
            "-q", "-p", "no:cacheprovider", "-o", "python_files=floor_bench.py",
            "-o", "addopts=", "--benchmark-json", str(target),
            "--benchmark-min-rounds", str(MIN_ROUNDS), "--benchmark-max-time", str(max_time_s),
            "--benchmark-warmup", "on",
            "--benchmark-disable-gc", "--benchmark-columns", "min,median,max,rounds"]
    env = execute.base_environment(scratch)
    env.update(FLOOR_SCALES=",".join(map(str, scales)), FLOOR_FORMATS=",".join(formats),
               FLOOR_DIR=str(scratch / "files"))
    outcome = execute.run(argv, env=env, cwd=execute.REPO, logs=scratch / "logs",
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
