"""The Dagster instance of a run: DAGSTER_HOME, kept in the workdir, and its dagster.yaml.

Unset, DAGSTER_HOME makes `dagster asset materialize` use a temporary instance (a run cannot
be re-executed later) and Dagster's telemetry writes under ~/.dagster; so the command sets it
to DIR/.dagster unless the caller did, with a dagster.yaml turning telemetry off.
"""
from __future__ import annotations

import os
from pathlib import Path

HOME_DIR = ".dagster"
INSTANCE_YAML = "telemetry:\n  enabled: false\n"


def ensure(home: Path) -> Path:
    """Create the instance directory and its dagster.yaml (left alone if it exists)."""
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.is_file():
        config.write_text(INSTANCE_YAML)
    return home


def keep_dagster_state_in(workdir: Path) -> Path:
    """DAGSTER_HOME defaults to DIR/.dagster; returns the instance directory."""
    os.environ.setdefault("DAGSTER_HOME", str(Path(workdir).resolve() / HOME_DIR))
    return ensure(Path(os.environ["DAGSTER_HOME"]))


def run_cli(argv: list[str]) -> int:
    """`dagster <argv...>` in this process (the `dagster` script's own entry point)."""
    import sys

    from dagster._cli import main

    sys.argv = ["dagster", *argv]
    try:
        main()
    except SystemExit as finished:
        code = finished.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
