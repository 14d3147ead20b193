"""Wait until a luigid no longer runs any task of a workdir's pipeline.

After a worker is killed, luigid keeps its task RUNNING until it has heard nothing from that
worker for [scheduler] worker_disconnect_delay (60 s) and its pruner, which runs every 60 s,
marks the task FAILED; until then every new worker is refused the task. This is the loop a
user performs by watching the visualiser before rerunning. gokart's task ids carry no workdir,
so the pipeline's own ids are what is looked for.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from core import layout
from core.params import read as read_params
from impl_gokart import pipeline
from impl_gokart.launch import tasks_under

RUNNING_QUERY = urllib.parse.quote(json.dumps({"status": "RUNNING"}))


def running(scheduler_url: str, task_ids: set[str]) -> list[str]:
    url = f"{scheduler_url.rstrip('/')}/api/task_list?data={RUNNING_QUERY}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        tasks = json.load(reply)["response"]
    return sorted(tasks[t]["name"] for t in set(tasks) & task_ids)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m impl_gokart.wait_for_luigid",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--scheduler-url", required=True)
    ap.add_argument("--workdir", required=True, type=Path)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds (default %(default)s)")
    args = ap.parse_args(argv)
    try:
        root = pipeline.titanic(args.workdir, read_params(args.workdir / layout.PARAMS))
        task_ids = {task.task_id for task in tasks_under(root)}
        return wait(args.scheduler_url, task_ids, args.timeout)
    except OSError as exc:
        print(f"error: cannot query luigid at {args.scheduler_url}: {exc}", file=sys.stderr)
        return 1


def wait(scheduler_url: str, task_ids: set[str], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while busy := running(scheduler_url, task_ids):
        if time.monotonic() > deadline:
            print(f"error: luigid still runs {', '.join(busy)} after {timeout:.0f} s",
                  file=sys.stderr)
            return 1
        time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
