"""Each scenario: an untimed preparation, then the timed body, turned into one Record.

What each record holds per scenario is fixed in bench/records.md.
"""
from __future__ import annotations

import os
import re
import shutil
import traceback
from pathlib import Path

from bench import footprint, parallel, pertask, rerun, verify
from bench.context import Context, PipelineRun, call_adapter, user_facing
from bench.plan import Execution
from bench.profiles import DEFAULT_FORMAT
from bench.records import Record
from bench.registry import Impl

# core.layout.outputs(): the files each step writes, by stem (any format suffix).
STEP_OUTPUTS = {
    "load": ("interim/train_raw.", "interim/test_raw."),
    "preprocess": ("interim/train_features.", "interim/test_features."),
    "train": ("interim/model.pkl",),
    "predict": ("out/predictions.csv",),
    "evaluate": ("out/metrics.json",),
}
LEFTOVER_LIMIT = 50
TOOL_MESSAGE_CHARS = 1500
STDERR_CHARS = 4000


def run_execution(ctx: Context, ex: Execution) -> Record:
    impl = ctx.impls[ex.slot.impl]
    scratch = ctx.scratch(f"{ex.slot.impl}-{ex.slot.mode}-{ex.slot.scenario}")
    try:
        fields = HANDLERS[ex.slot.scenario](ctx, ex, impl, scratch)
    except Exception as exc:  # an adapter or preparation error is this slot's failure only
        fields = {"status": "unexpected_failure", "wall_s": 0.0,
                  "stderr_tail": traceback.format_exc()[-STDERR_CHARS:],
                  "detail": {"error": f"harness: {type(exc).__name__}: {exc}"}}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    s = ex.slot
    return Record(run_id=ctx.run_id, impl=s.impl, mode=s.mode, scenario=s.scenario,
                  step=s.step, scale=s.scale, format=s.format, round=ex.round,
                  warmup=ex.warmup, phase="timed", **fields)


# ---------------------------------------------------------------- shared pieces

def _measured(run: PipelineRun) -> dict:
    o = run.outcome
    return {"exit_code": o.exit_code, "wall_s": round(o.wall_s, 6), "cpu_s": o.cpu_s,
            "max_rss_kb": o.max_rss_kb, "max_rss_single_kb": o.max_rss_single_kb,
            "launch_epoch": o.launch_epoch, "end_epoch": o.end_epoch,
            "spans": run.spans, "steps_executed": run.steps, "stderr_tail": o.stderr_tail}


def _timed(ctx: Context, ex: Execution, impl: Impl, run: PipelineRun,
           expected: tuple[str, ...] | None, detail: dict | None = None) -> dict:
    """Measure, verify and judge a timed body."""
    o = run.outcome
    checked = verify.check(run.workdir, ctx.expected_sha(ex.slot.scale), run.steps, expected)
    status = verify.status(o, verify.passed(checked))
    detail = dict(detail or {})
    if o.survivors:
        detail["survivors"] = o.survivors
    if status != "ok":
        detail["log"] = ctx.keep_log(o, _log_name(ctx, ex))
    return {**_measured(run), "status": status, "steps_expected": expected, "verify": checked,
            "io": {**o.io, **ctx.disk(run.workdir)}, "detail": detail}


def _log_name(ctx: Context, ex: Execution, suffix: str = "") -> str:
    s = ex.slot
    parts = [f"r{ex.round}", s.scenario, s.step, s.impl, s.mode, s.format, f"x{s.scale}", suffix]
    return "-".join(p for p in parts if p)


def _fmt(ex: Execution) -> str:
    return ex.slot.format or DEFAULT_FORMAT


def _prepare(ctx: Context, ex: Execution, impl: Impl, scratch: Path, **inject):
    workdir = ctx.new_workdir(impl, scratch, with_home=True)
    run = ctx.pipeline(impl, ex.slot.mode, workdir, scratch, fmt=_fmt(ex), scale=ex.slot.scale,
                       label="prepare", **inject)
    summary = {"exit_code": run.outcome.exit_code, "wall_s": round(run.outcome.wall_s, 6),
               "steps_executed": run.steps, "timed_out": run.outcome.timed_out}
    if run.outcome.survivors:
        summary["survivors"] = run.outcome.survivors
    return workdir, run, summary


def _preparation_failed(ctx: Context, ex: Execution, run: PipelineRun, summary: dict,
                        why: str) -> dict:
    """The untimed preparation did not leave the state the scenario needs: no timed body."""
    log = ctx.keep_log(run.outcome, _log_name(ctx, ex, "prepare"))
    return {"status": "unexpected_failure", "wall_s": 0.0, "stderr_tail": run.outcome.stderr_tail,
            "detail": {"prepare": summary, "error": why, "log": log}}


def _body(ctx: Context, ex: Execution, impl: Impl, workdir: Path, scratch: Path) -> PipelineRun:
    return ctx.pipeline(impl, ex.slot.mode, workdir, scratch, fmt=_fmt(ex), scale=ex.slot.scale,
                        label="timed")


# ---------------------------------------------------------------- scenarios

def first_run(ctx, ex, impl, scratch) -> dict:
    workdir = ctx.new_workdir(impl, scratch, with_home=False)
    run = _body(ctx, ex, impl, workdir, scratch)
    return _timed(ctx, ex, impl, run, verify.expected_steps(impl.resumes, "first_run", None))


def cold(ctx, ex, impl, scratch) -> dict:
    workdir = ctx.new_workdir(impl, scratch, with_home=True)
    run = _body(ctx, ex, impl, workdir, scratch)
    return _timed(ctx, ex, impl, run, verify.expected_steps(impl.resumes, ex.slot.scenario, None))


def noop(ctx, ex, impl, scratch) -> dict:
    workdir, prep, summary = _prepare(ctx, ex, impl, scratch)
    if prep.outcome.exit_code != 0:
        return _preparation_failed(ctx, ex, prep, summary, "the complete run failed")
    run = _body(ctx, ex, impl, workdir, scratch)
    return _timed(ctx, ex, impl, run, verify.expected_steps(impl.resumes, "noop", None),
                  {"prepare": summary})


def resume(ctx, ex, impl, scratch) -> dict:
    step = ex.slot.step
    workdir, prep, summary = _prepare(ctx, ex, impl, scratch, fail_at=step)
    if prep.outcome.exit_code == 0 or prep.outcome.timed_out:
        return _preparation_failed(ctx, ex, prep, summary,
                                   f"the run with a failure injected at {step} did not fail")
    run = _body(ctx, ex, impl, workdir, scratch)
    return _timed(ctx, ex, impl, run, verify.expected_steps(impl.resumes, "resume", step),
                  {"prepare": summary})


def crash(ctx, ex, impl, scratch) -> dict:
    step = ex.slot.step
    workdir, prep, summary = _prepare(ctx, ex, impl, scratch, crash_at=step)
    if prep.outcome.exit_code == 0 or prep.outcome.timed_out:
        return _preparation_failed(ctx, ex, prep, summary,
                                   f"the run with a crash injected at {step} was not killed")
    detail = {"prepare": summary, "leftovers": leftovers(workdir, step),
              "survivors": prep.outcome.survivors}
    run = _body(ctx, ex, impl, workdir, scratch)
    fields = _timed(ctx, ex, impl, run, None, detail)
    fields["outcome"], fields["status"] = _classify(ctx, ex, impl, run, fields, scratch)
    return fields


def _classify(ctx, ex, impl, run: PipelineRun, fields: dict, scratch: Path) -> tuple[str, str]:
    """recovered (rerun right), silently_wrong (rerun 'succeeded' with wrong predictions),
    refused (rerun failed; the user's recovery commands then give the right predictions),
    failed (neither)."""
    o = run.outcome
    if o.timed_out:
        return "failed", "timeout"
    if o.exit_code == 0:
        if fields["verify"]["predictions_match"]:
            return "recovered", "ok"
        return "silently_wrong", "invalid_output"
    detail = fields["detail"]
    detail["tool_message"] = o.stderr_tail[-TOOL_MESSAGE_CHARS:].strip()
    detail["log"] = ctx.keep_log(o, _log_name(ctx, ex))
    detail["recovery"] = recovery = _recover(ctx, ex, impl, run.workdir, scratch)
    if recovery["exit_code"] == 0 and recovery["verify"]["predictions_match"]:
        return "refused", "expected_failure"
    return "failed", "unexpected_failure"


def _recover(ctx, ex, impl, workdir: Path, scratch: Path) -> dict:
    s = ex.slot
    commands = call_adapter(impl.module.recovery_commands, workdir, s.mode, fmt=_fmt(ex),
                            scale=s.scale, data=ctx.data,
                            service_url=ctx.service_urls.get((s.impl, s.mode)))
    result = {"commands": [user_facing(c, workdir) for c in commands], "wall_s": 0.0,
              "exit_codes": [], "exit_code": None}
    for i, argv in enumerate(commands):
        run = ctx.run(list(argv), impl, s.mode, workdir, scratch, scale=s.scale,
                      label=f"recovery-{i}")
        result["wall_s"] = round(result["wall_s"] + run.outcome.wall_s, 6)
        result["exit_codes"].append(run.outcome.exit_code)
        result["exit_code"] = run.outcome.exit_code
        if run.outcome.exit_code != 0:
            result["stderr_tail"] = run.outcome.stderr_tail[-TOOL_MESSAGE_CHARS:]
            break
    if not commands:
        result["note"] = "the adapter declares no recovery command"
    result["verify"] = verify.check(workdir, ctx.expected_sha(s.scale), [], None)
    return result


def leftovers(workdir: Path, step: str) -> dict:
    """What a killed run left behind, by kind (paths relative to the workdir)."""
    found = {"partial_files": [], "temp_files": [], "locks": [], "markers": []}
    for root, dirs, files in os.walk(workdir):
        dirs.sort()
        rel_root = Path(root).relative_to(workdir)
        for name in sorted(files):
            rel = (rel_root / name).as_posix()
            kind = _leftover_kind(rel, step)
            if kind and len(found[kind]) < LEFTOVER_LIMIT:
                found[kind].append(rel)
    return found


def _leftover_kind(rel: str, step: str) -> str | None:
    lowered = rel.lower()
    if re.search(r"lock|\.pid$", lowered):
        return "locks"
    if "incomplete" in lowered:
        return "markers"
    if lowered.startswith(".tmp/") or re.search(r"tmp|temp|\.partial$|~$", Path(lowered).name):
        return "temp_files"
    if rel.startswith(STEP_OUTPUTS[step]):
        return "partial_files"
    return None


def footprint_body(ctx, ex, impl, scratch) -> dict:
    workdir = ctx.new_workdir(impl, scratch, with_home=False)
    argv = footprint.import_command(impl)
    run = ctx.run(argv, impl, ex.slot.mode, workdir, scratch, scale=1, label="import")
    import_s = footprint.parse_import_time(run.outcome)
    ok = run.outcome.exit_code == 0 and import_s is not None
    detail = {**footprint.installed(impl), "import_s": import_s,
              "process_wall_s": round(run.outcome.wall_s, 6)}
    if not ok:
        detail["log"] = ctx.keep_log(run.outcome, _log_name(ctx, ex))
    fields = _measured(run)
    fields.update(wall_s=import_s if ok else 0.0, detail=detail, io=run.outcome.io,
                  status="ok" if ok else ("timeout" if run.outcome.timed_out
                                          else "unexpected_failure"))
    return fields


HANDLERS = {
    "first_run": first_run,
    "cold": cold,
    "io": cold,
    "noop": noop,
    "resume": resume,
    "crash": crash,
    "footprint": footprint_body,
    "pertask": pertask.run,
    "parallel": parallel.run,
    "rerun": rerun.run,
}
