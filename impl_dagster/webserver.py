"""The team's Dagster webserver: `python -m impl_dagster.webserver --state-dir DIR --port P`.

Creates its instance (DIR/dagster-home with a dagster.yaml turning telemetry off), then
replaces itself, same PID, with what Dagster's docs have a team run:

    dagster-webserver -h 127.0.0.1 -p P -m impl_dagster.defs

It serves the UI and GraphQL API over the Titanic code location; it does not daemonise.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from impl_dagster import instance

MODULE = "impl_dagster.defs"


def argv(port: int) -> list[str]:
    return [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port),
            "-m", MODULE]


def main(args=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m impl_dagster.webserver")
    ap.add_argument("--state-dir", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    opts = ap.parse_args(args)
    home = os.environ.setdefault("DAGSTER_HOME", str(opts.state_dir.resolve() / "dagster-home"))
    instance.ensure(Path(home))
    command = argv(opts.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
