"""How this implementation runs snakemake: its cache and temp files kept in the workdir, then
snakemake's own command line, in this process."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from impl_snakemake.adapter import NO_PROFILE, TMP_DIR, state_environment

# snakemake's own choices for --rerun-triggers (snakemake.settings.enums.RerunTrigger)
RERUN_TRIGGERS = ("mtime", "params", "input", "software-env", "code")


def keep_tool_state_inside(workdir: Path) -> None:
    """Unless the caller chose otherwise, snakemake's cache and temp dirs go into the workdir,
    so that a killed run leaves its leftovers there and not in ~/.cache or /tmp."""
    for name, value in state_environment(workdir).items():
        os.environ.setdefault(name, value)
    # tempfile ignores a TMPDIR that does not exist yet, and remembers what it chose.
    (Path(workdir) / TMP_DIR).mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = None


def add_snakemake_options(parser, *, rerun_triggers: bool = False) -> None:
    """The snakemake options the commands pass on: the workflow profile (a team's), and for
    the pipeline the rerun triggers."""
    parser.add_argument("--workflow-profile", default=NO_PROFILE, metavar="DIR",
                        help="a snakemake workflow profile (default: %(default)s, so that no "
                             "profiles/default/ steers the run)")
    if rerun_triggers:
        parser.add_argument("--rerun-triggers", nargs="+", choices=RERUN_TRIGGERS,
                            default=None, metavar="TRIGGER",
                            help=f"snakemake's rerun triggers ({', '.join(RERUN_TRIGGERS)}; "
                                 "default: all)")


def run_snakemake(options: list[str]) -> int:
    """The `snakemake` command is `sys.exit(snakemake.cli.main())`; calling it here runs the
    very CLI users type (its argument parsing, profile lookup and plugin discovery included)
    without starting a second interpreter after staging. It exits with snakemake's own status
    after printing snakemake's own messages."""
    from snakemake.cli import main as snakemake_cli

    snakemake_cli(options)
    return 0  # not reached: the snakemake CLI always exits
