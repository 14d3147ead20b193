"""Run the Titanic pipeline with luigi: stage the inputs, then luigi's own command line."""
from __future__ import annotations

import sys

import luigi.configuration

from core import cli, stage
from impl_luigi.adapter import ADAPTER
from impl_luigi.launch import CONFIG, run_luigi


def luigi_argv(args) -> list[str]:
    """What a user would type after `luigi` for this workdir and mode."""
    argv = ["--module", "impl_luigi.pipeline", "Evaluate",
            "--workdir", str(args.workdir), "--format", args.format,
            "--scale", str(args.scale)]
    if args.mode == "local":
        return argv + ["--local-scheduler"]
    return argv + ["--scheduler-url", args.scheduler_url]


def parse(argv):
    ap = cli.parser("python -m impl_luigi", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=ADAPTER.mode_names, default=ADAPTER.default_mode,
                    help="local: luigi's in-process scheduler; luigid: a central luigid")
    ap.add_argument("--scheduler-url", default=None,
                    help="URL of the luigid for --mode luigid, e.g. http://127.0.0.1:8082")
    args = ap.parse_args(argv)
    if args.mode == "luigid" and not args.scheduler_url:
        ap.error("--mode luigid needs --scheduler-url")
    return args


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
