"""How this implementation runs prefect: its state kept in the workdir, prefect's console line
for a failed run without the traceback, the flow run, and one exit status rule."""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path

from core import layout, params
from impl_prefect.adapter import tool_environment

HANDOFFS = ("memory", "files")  # values between tasks, or paths of files core.io wrote


def keep_prefect_state_in(workdir: Path) -> None:
    """Default every prefect setting that would otherwise write under ~/.prefect. Must run
    before prefect is imported: a bare `import prefect` creates its home directory."""
    for name, value in tool_environment(workdir).items():
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
    from impl_prefect.flow import FLOWS

    console_without_tracebacks()
    settings = params.read(workdir / layout.PARAMS)
    return FLOWS[mode](str(workdir), dataclasses.asdict(settings), return_state=True)


def failure_report(state) -> str:
    """One short block naming the failure, instead of prefect's traceback."""
    exc = state.result(raise_on_failure=False)
    cause = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else state.message
    return f"error: prefect flow run ended in state {state.name}: {cause}"


def exit_status(state) -> int:
    """0 for a completed flow run; otherwise prefect's failure, one short block on stderr."""
    if not state.is_completed():
        print(failure_report(state), file=sys.stderr)
        return 1
    return 0
