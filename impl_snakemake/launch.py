"""How this implementation runs snakemake: its cache and temp files kept in the workdir, then
snakemake's own command line, in this process."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from impl_snakemake.adapter import TMP_DIR, state_environment


def keep_tool_state_inside(workdir: Path) -> None:
    """Unless the caller chose otherwise, snakemake's cache and temp dirs go into the workdir,
    so that a killed run leaves its leftovers there and not in ~/.cache or /tmp."""
    for name, value in state_environment(workdir).items():
        os.environ.setdefault(name, value)
    # tempfile ignores a TMPDIR that does not exist yet, and remembers what it chose.
    (Path(workdir) / TMP_DIR).mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = None


def add_profile_option(parser) -> None:
    parser.add_argument("--workflow-profile", default=None, metavar="DIR",
                        help="a snakemake workflow profile (default: none)")


def run_snakemake(options: list[str]) -> int:
    """The `snakemake` command is `sys.exit(snakemake.cli.main())`; calling it here runs the
    very CLI users type (its argument parsing and plugin discovery included, ~1.4 s more than
    the Python API) without starting a second interpreter after staging. It exits with
    snakemake's own status after printing snakemake's own messages."""
    from snakemake.cli import main as snakemake_cli

    snakemake_cli(options)
    return 0  # not reached: the snakemake CLI always exits
