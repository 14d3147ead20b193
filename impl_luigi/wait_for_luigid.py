"""Wait until a luigid no longer runs any task of a workdir (stdlib only).

After a worker is killed, luigid keeps its task RUNNING until it has heard nothing from that
worker for [scheduler] worker_disconnect_delay (60 s) and its pruner, which runs every 60 s,
marks the task FAILED; until then every new worker is refused the task. This is the loop a
user performs by watching the visualiser before rerunning.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

RUNNING_QUERY = urllib.parse.quote(json.dumps({"status": "RUNNING"}))


def running_in(scheduler_url: str, workdir: str) -> list[str]:
    url = f"{scheduler_url.rstrip('/')}/api/task_list?data={RUNNING_QUERY}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        tasks = json.load(reply)["response"]
    return sorted(t["name"] for t in tasks.values() if t["params"].get("workdir") == workdir)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m impl_luigi.wait_for_luigid",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--scheduler-url", required=True)
    ap.add_argument("--workdir", required=True, type=Path)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds (default %(default)s)")
    args = ap.parse_args(argv)
    workdir = str(args.workdir.absolute())  # as luigi's PathParameter(absolute=True) stores it
    try:
        return wait(args.scheduler_url, workdir, args.timeout)
    except OSError as exc:
        print(f"error: cannot query luigid at {args.scheduler_url}: {exc}", file=sys.stderr)
        return 1


def wait(scheduler_url: str, workdir: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while running := running_in(scheduler_url, workdir):
        if time.monotonic() > deadline:
            print(f"error: luigid still runs {', '.join(running)} of {workdir} after "
                  f"{timeout:.0f} s", file=sys.stderr)
            return 1
        time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
