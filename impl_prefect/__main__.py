"""Run the Titanic pipeline as a prefect flow: `python -m impl_prefect --workdir DIR`.

Without PREFECT_API_URL each run starts prefect's temporary API server; with it, the run
reports to that server. Rerunning the same command after a failure resumes through the
tasks' cache policy and persisted results.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path

from core import cli, layout, params, stage
from impl_prefect import adapter

MODES = ("memory", "files")


def keep_prefect_state_in(workdir: Path) -> None:
    """Default every prefect setting that would otherwise write under ~/.prefect. Must run
    before prefect is imported: a bare `import prefect` creates its home directory."""
    for name, value in adapter.tool_environment(workdir).items():
        os.environ.setdefault(name, value)


class _WithoutTraceback(logging.Formatter):
    """prefect's console line for a failed run, minus the traceback (the API keeps it)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info = record.exc_text = None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text = saved


def console_without_tracebacks() -> None:
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and handler.formatter is not None:
            handler.setFormatter(_WithoutTraceback(handler.formatter))


def run_flow(workdir: Path, mode: str):
    from prefect.utilities.hashing import file_hash

    from impl_prefect.flow import FLOWS

    console_without_tracebacks()
    settings = params.read(workdir / layout.PARAMS)
    return FLOWS[mode](str(workdir), dataclasses.asdict(settings),
                       file_hash(str(workdir / layout.DATA)), return_state=True)


def failure_report(state) -> str:
    """One short block naming the failure, instead of prefect's traceback."""
    exc = state.result(raise_on_failure=False)
    cause = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else state.message
    return f"error: prefect flow run ended in state {state.name}: {cause}"


@cli.guarded
def main(argv=None) -> int:
    ap = cli.parser("python -m impl_prefect", __doc__.splitlines()[0])
    ap.add_argument("--mode", choices=MODES, default=MODES[0],
                    help="hand-off between tasks: values (memory) or files (default %(default)s)")
    args = ap.parse_args(argv)
    workdir = args.workdir.resolve()
    keep_prefect_state_in(workdir)
    stage.stage(workdir, cli.params_from(args), args.data)
    state = run_flow(workdir, args.mode)
    return exit_status(state)


def exit_status(state) -> int:
    """0 for a completed flow run; otherwise prefect's failure, one short block on stderr."""
    if not state.is_completed():
        print(failure_report(state), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
