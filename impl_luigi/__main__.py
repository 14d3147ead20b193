"""Run the Titanic pipeline with luigi: stage the inputs, then luigi's own command line.

The run goes through luigi.retcodes.run_with_retcodes, the function behind the `luigi`
command, so the exit status follows the [retcode] section of impl_luigi/luigi.cfg (luigi's
defaults are all 0: a failed run would look like a success). luigi.build's LuigiRunResult is
not enough either: when luigid still holds a task for a worker that died, nothing runs and
its status is SUCCESS, while the retcodes report already_running.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import luigi.configuration
import luigi.retcodes

from core import cli, stage

CONFIG = Path(__file__).with_name("luigi.cfg")
MODES = ("local", "luigid")
SUMMARY_BANNER = "===== Luigi Execution Summary ====="


class ExecutionSummary(logging.Handler):
    """Keeps luigi's execution summary, which luigi logs at INFO, to show it when a run fails."""
    text = ""

    def emit(self, record):
        if SUMMARY_BANNER in record.getMessage():
            self.text = record.getMessage()


def quiet_logging() -> ExecutionSummary:
    """WARNING and above as luigi prints them (task errors with their traceback); of the
    INFO chatter only the execution summary is kept, for failed runs."""
    luigi.configuration.get_config().set("core", "no_configure_logging", "true")
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.basicConfig(handlers=[console])
    summary = ExecutionSummary(logging.INFO)
    interface = logging.getLogger("luigi-interface")
    interface.setLevel(logging.INFO)
    interface.addHandler(summary)
    return summary


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
    ap.add_argument("--mode", choices=MODES, default="local",
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


def run_luigi(argv: list[str]) -> int:
    """luigi's own command line on argv; on failure its execution summary goes to stderr."""
    summary = quiet_logging()
    try:
        luigi.retcodes.run_with_retcodes(argv)
    except SystemExit as finished:
        if finished.code:
            print(summary.text.strip(), file=sys.stderr)
        raise
    return 0  # not reached: run_with_retcodes always exits


if __name__ == "__main__":
    sys.exit(main())
