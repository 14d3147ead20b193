"""How this implementation runs luigi: its config file, quiet logging that still shows luigi's
execution summary, and luigi's own command line with its exit codes.

luigi.retcodes.run_with_retcodes is the function behind the `luigi` command, so the exit
status follows the [retcode] section of impl_luigi/luigi.cfg (luigi's defaults are all 0: a
failed run would look like a success). luigi.build's LuigiRunResult is not enough either: when
luigid still holds a task for a worker that died, nothing runs and its status is SUCCESS,
while the retcodes report already_running.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import luigi.configuration
import luigi.retcodes

CONFIG = Path(__file__).with_name("luigi.cfg")
SUMMARY_BANNER = "===== Luigi Execution Summary ====="


class ExecutionSummary(logging.Handler):
    """Keeps luigi's execution summary, which luigi logs at INFO, to show it after the run."""
    text = ""

    def emit(self, record):
        if SUMMARY_BANNER in record.getMessage():
            self.text = record.getMessage()


def quiet_logging() -> ExecutionSummary:
    """WARNING and above as luigi prints them (task errors with their traceback); of the
    INFO chatter only the execution summary is kept."""
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


def add_scheduler_option(parser) -> None:
    parser.add_argument("--scheduler-url", default=None,
                        help="a central luigid, e.g. http://127.0.0.1:8082 (default: luigi's "
                             "in-process scheduler)")


def scheduler_options(url: str | None) -> list[str]:
    """luigi's own options for the in-process scheduler or a central one."""
    return ["--scheduler-url", url] if url else ["--local-scheduler"]


def run_luigi(argv: list[str]) -> int:
    """luigi's own command line on argv, then its execution summary on stderr: luigi's own
    account of which tasks it found complete, which it ran and which failed (the `luigi`
    command prints it at its default log level; luigi.cfg lowers that to WARNING)."""
    summary = quiet_logging()
    try:
        luigi.retcodes.run_with_retcodes(argv)
    finally:
        print(summary.text.strip(), file=sys.stderr)
    return 0  # not reached: run_with_retcodes always exits
