"""Run the Titanic pipeline with snakemake: stage the input into DIR, then run the Snakefile there."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from core import cli, stage
from impl_snakemake import adapter


def keep_tool_state_inside(workdir: Path) -> None:
    """Unless the caller chose otherwise, snakemake's cache and temp dirs go into the workdir,
    so that a killed run leaves its leftovers there and not in ~/.cache or /tmp."""
    for name, value in adapter.state_environment(workdir).items():
        os.environ.setdefault(name, value)
    # tempfile ignores a TMPDIR that does not exist yet, and remembers what it chose.
    (Path(workdir) / adapter.TMP_DIR).mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = None


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_snakemake", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=tuple(adapter.MODES), default=next(iter(adapter.MODES)),
                    help="how snakemake executes run: jobs (default %(default)s)")
    args = ap.parse_args(argv)
    stage.stage(args.workdir, cli.params_from(args), args.data)
    keep_tool_state_inside(args.workdir)
    # The `snakemake` command is `sys.exit(snakemake.cli.main())`; calling it here runs the very
    # CLI users type (its argument parsing and plugin discovery included, ~1.4 s more than the
    # Python API) without starting a second interpreter after staging. It exits with
    # snakemake's own status after printing snakemake's own messages.
    from snakemake.cli import main as snakemake_cli

    snakemake_cli(adapter.snakemake_options(args.workdir, args.mode))
    return 0  # not reached: the snakemake CLI always exits


if __name__ == "__main__":
    sys.exit(main())
