"""What the pipeline scenarios share: the untimed preparation, the timed body, its judgement."""
from __future__ import annotations

from pathlib import Path

from bench.engine import measured, verify
from bench.engine.plan import Execution
from bench.engine.profiles import DEFAULT_FORMAT
from bench.engine.workspace import PipelineRun, Workspace
from core.contract import Adapter


def fmt(ex: Execution) -> str:
    return ex.slot.format or DEFAULT_FORMAT


def prepare(ws: Workspace, ex: Execution, adapter: Adapter, scratch: Path, **inject):
    """A run of the whole pipeline before the timed body (complete, or failed as injected)."""
    workdir = ws.new_workdir(scratch)
    run = ws.pipeline(adapter, ex.slot.mode, ex.slot.setup, workdir, scratch, fmt=fmt(ex),
                      scale=ex.slot.size, label="prepare", **inject)
    return workdir, run, measured.summary(run.outcome, run.steps)


def preparation_failed(ws: Workspace, ex: Execution, run: PipelineRun, summary: dict,
                       why: str) -> dict:
    """The untimed preparation did not leave the state the scenario needs: no timed body."""
    log = ws.keep_log(run.outcome, measured.log_name(ex, "prepare"))
    return measured.not_run(why, run.outcome.stderr_tail, prepare=summary, log=log)


def body(ws: Workspace, ex: Execution, adapter: Adapter, workdir: Path, scratch: Path,
         home: Path | None = None) -> PipelineRun:
    return ws.pipeline(adapter, ex.slot.mode, ex.slot.setup, workdir, scratch, fmt=fmt(ex),
                       scale=ex.slot.size, label="timed", home=home)


def timed(ws: Workspace, ex: Execution, adapter: Adapter, run: PipelineRun,
          expected: tuple[str, ...] | None, detail: dict | None = None) -> dict:
    """Measure, verify and judge a timed body of the pipeline."""
    o = run.outcome
    checked = verify.check(ws.deliverables(adapter, run.workdir),
                           ws.references.expected_sha(ex.slot.size), run.steps, expected)
    status = verify.status(o, verify.passed(checked))
    detail = dict(detail or {})
    if o.survivors:
        detail["survivors"] = o.survivors
    if status != "ok":
        detail["log"] = ws.keep_log(o, measured.log_name(ex))
    return {**measured.fields(run, ws.disk(run.workdir)), "status": status,
            "steps_expected": expected, "verify": checked, "detail": detail}
