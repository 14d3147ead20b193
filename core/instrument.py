"""Spans and failure injection, driven by environment variables so every tool is instrumented alike.

BENCH_TRACE=PATH        append one JSON line per span to PATH
BENCH_FAIL_AT=STEP      raise InjectedFailure at the start of STEP
BENCH_CRASH_AT=STEP     SIGKILL the whole process group halfway through writing STEP's output
                        (a power cut)
BENCH_CRASH_JOB_AT=STEP SIGKILL only the process writing STEP's output, halfway through (what
                        the kernel's OOM killer does: it picks one process)
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import time

from core import STEPS

TRACE_ENV = "BENCH_TRACE"
FAIL_ENV = "BENCH_FAIL_AT"
CRASH_ENV = "BENCH_CRASH_AT"
CRASH_JOB_ENV = "BENCH_CRASH_JOB_AT"


class InjectedFailure(RuntimeError):
    """The exception raised by BENCH_FAIL_AT; its name makes it obvious in every tool's log."""


def _requested(env: str) -> str | None:
    step = os.environ.get(env) or None
    if step is not None and step not in STEPS:
        raise RuntimeError(f"{env}={step!r} is not a step; expected one of {', '.join(STEPS)}")
    return step


def record_span(step: str, kind: str, start: float, end: float, nbytes: int = 0) -> None:
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    line = json.dumps({"step": step, "kind": kind, "start": start, "end": end,
                       "bytes": int(nbytes), "pid": os.getpid()}) + "\n"
    # One O_APPEND write per span: lines from concurrent processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@contextlib.contextmanager
def span(step: str, kind: str):
    """Time a block; the caller may set `.bytes` on the yielded holder."""
    holder = _SpanBytes()
    start = time.time()
    try:
        yield holder
    finally:
        record_span(step, kind, start, time.time(), holder.bytes)


class _SpanBytes:
    bytes = 0


def fail_if_requested(step: str) -> None:
    if _requested(FAIL_ENV) == step:
        raise InjectedFailure(f"injected failure at step {step!r} ({FAIL_ENV})")


def crash_requested(step: str) -> bool:
    """A kill of either kind was asked for at this step."""
    return step in (_requested(CRASH_ENV), _requested(CRASH_JOB_ENV))


def crash_now() -> None:
    """Die as asked: the whole process group at once (a power cut), or only this process (the
    OOM killer's pick)."""
    if _requested(CRASH_ENV):
        os.killpg(os.getpgid(0), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)  # also reached if killpg was refused
