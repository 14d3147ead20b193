"""Run the Titanic pipeline with luigi: stage the inputs, then luigi's own command line."""
from __future__ import annotations

import sys

import luigi.configuration

from core import cli, stage
from impl_luigi.launch import CONFIG, add_scheduler_option, run_luigi, scheduler_options


def luigi_argv(args) -> list[str]:
    """What a user would type after `luigi` for this workdir: the in-process scheduler, or the
    central one at --scheduler-url."""
    argv = ["--module", "impl_luigi.pipeline", "Evaluate",
            "--workdir", str(args.workdir), "--format", args.format,
            "--scale", str(args.scale)]
    return argv + scheduler_options(args.scheduler_url)


def parse(argv):
    ap = cli.parser("python -m impl_luigi", __doc__.splitlines()[0])
    add_scheduler_option(ap)
    return ap.parse_args(argv)


@cli.guarded
def main(argv=None) -> int:
    args = parse(argv)
    stage.stage(args.workdir, cli.params_from(args), args.data)
    # The adapter also sets LUIGI_CONFIG_PATH; adding the file here keeps the exit status
    # right when the command is typed without that environment.
    luigi.configuration.add_config_path(str(CONFIG))
    return run_luigi(luigi_argv(args))


if __name__ == "__main__":
    sys.exit(main())
