"""The rerun scenario: after a complete run, change one thing, run again, and judge what reran.

Both runs execute a private copy of the code (core/ and the implementation's package) through
PYTHONPATH, so code edits happen between the two runs without touching the repository. The
changes (bench.profiles.CHANGES):
- data: one passenger's survival label in a copy of the staged data, passed as --data;
- param: a model hyperparameter, passed as --param (staged into params.yaml);
- core_code: a behaviour-changing edit of core.steps.train, shared by every tool;
- wrapper_code / comment: the adapter's declared edit of its own train task or rule
  (RERUN_WRAPPER_EDIT, RERUN_COMMENT_EDIT), the first with the parameter setting that gives
  the same model, so that the baseline can compute the right answer;
- touch: a later modification time on the staged data file, content unchanged.

The right answer after each change is the baseline's, computed untimed once per change and
kept in the run directory (rerun_reference.json). A cell is `stale` when the rerun's
predictions or metrics differ from it, else `exact` when the executed steps are the minimal
correct set derived from the DAG, `over-eager` when they include more, `under-run` when they
miss some of it yet the result is right, `failed` when the rerun did not exit 0.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

from bench import execute, verify
from bench.context import call_adapter
from bench.profiles import DEFAULT_FORMAT, STEPS
from bench.registry import BASELINE

DOWNSTREAM_OF_TRAIN = ("train", "predict", "evaluate")
# From the DAG load -> preprocess -> train -> predict -> evaluate: what a correct tool reruns.
MINIMAL = {
    "data": STEPS,
    "param": DOWNSTREAM_OF_TRAIN,        # a model hyperparameter, read by train only
    "core_code": DOWNSTREAM_OF_TRAIN,    # CORE_EDIT is in core.steps.train
    "wrapper_code": DOWNSTREAM_OF_TRAIN,  # each adapter edits its train task or rule
    "comment": (),
    "touch": (),
}
CLASSES = ("exact", "over-eager", "under-run", "stale", "failed")

PARAM_CHANGE = "n_estimators=50"
DATA_PASSENGER_ROW = 0          # the first passenger of the staged CSV
DATA_COLUMN = "survived"
REFERENCE_FILE = "rerun_reference.json"
# The harness runs one execution at a time; tests observe several tools side by side.
_KEPT_LOCK = threading.Lock()
METRICS = "out/metrics.json"
WRITTEN_LIMIT = 40
# Tool state and private dirs: not what a rerun "writes" as results.
NOT_RESULTS = (".home/", ".tmp/", ".prefect/", ".cache/", ".snakemake/", "logs/")


@dataclasses.dataclass(frozen=True)
class Edit:
    path: str   # relative to the code copy, e.g. core/steps.py
    old: str
    new: str

    def describe(self) -> dict:
        return {"path": self.path, "old": self.old, "new": self.new}


# Behaviour-changing, in the step every tool calls: trees need 5 passengers per leaf.
CORE_EDIT = Edit("core/steps.py",
                 "random_state=params.seed, n_jobs=1)",
                 "random_state=params.seed, n_jobs=1, min_samples_leaf=5)")


class ChangeError(Exception):
    """The change could not be prepared (an edit's anchor not found exactly once...)."""


@dataclasses.dataclass
class Prepared:
    """A complete run in `workdir`, made by the code copy in `code`; `env` runs that copy."""
    workdir: Path
    code: Path
    env: dict[str, str]
    argv: list[str]
    summary: dict


@dataclasses.dataclass
class Situation:
    """What the rerun changes: extra options, the edit applied, and how the baseline gets the
    right answer (its own extra options and code edit)."""
    extra_argv: list[str]
    applied: dict
    baseline_argv: list[str]
    baseline_edit: Edit | None = None
    data_file: Path | None = None


# ---------------------------------------------------------------- the scenario

def run(ctx, ex, impl, scratch) -> dict:
    s = ex.slot
    prepared = prepared_copy(ctx, impl, s.mode, fmt=s.format or DEFAULT_FORMAT, scale=s.scale)
    try:
        if prepared.summary["exit_code"] != 0:
            return preparation_failed(prepared.summary, "the complete run failed")
        return rerun(ctx, impl, s.mode, prepared, s.step, scratch, scale=s.scale)
    finally:
        shutil.rmtree(prepared.workdir.parent, ignore_errors=True)


def prepared_copy(ctx, impl, mode: str, *, fmt: str, scale: int) -> Prepared:
    """The complete run is deterministic: one per implementation, mode and size is made and
    kept for the run; each change reruns in a fresh copy of it, restored at the same absolute
    paths (prefect's cache keys hold the workdir path; file times are kept)."""
    key = f"{impl.name}-{mode}-{fmt}-x{scale}"
    active, kept = ctx.work / "rerun" / key, ctx.work / "rerun-prepared" / key
    shutil.rmtree(active, ignore_errors=True)
    active.mkdir(parents=True)
    facts = kept / "prepared.json"
    if not facts.is_file():
        prepared = prepare(ctx, impl, mode, active, fmt=fmt, scale=scale)
        if prepared.summary["exit_code"] == 0:
            _copy_state(active, kept)
            facts.write_text(json.dumps({"env": prepared.env, "argv": prepared.argv,
                                         "summary": prepared.summary}))
        return prepared
    _copy_state(kept, active)
    saved = json.loads(facts.read_text())
    return Prepared(active / "wd", active / "code", saved["env"], saved["argv"],
                    {**saved["summary"], "shared": True})


def _copy_state(src: Path, dest: Path) -> None:
    for part in ("wd", "code"):
        shutil.copytree(src / part, dest / part, symlinks=True)


def prepare(ctx, impl, mode: str, scratch: Path, *, fmt: str, scale: int) -> Prepared:
    """The untimed complete run, from a fresh copy of the code."""
    code = copy_code(impl, scratch / "code")
    workdir = ctx.new_workdir(impl, scratch, with_home=True)
    env = code_environment(ctx, impl, mode, workdir, code)
    argv = _into_copy(ctx.argv(impl, mode, workdir, fmt, scale), code)
    run = ctx.run(argv, impl, mode, workdir, scratch, scale=scale, label="prepare",
                  env_overrides=env)
    summary = {"exit_code": run.outcome.exit_code, "wall_s": round(run.outcome.wall_s, 6),
               "steps_executed": run.steps, "timed_out": run.outcome.timed_out}
    if run.outcome.exit_code != 0:
        summary["stderr_tail"] = run.outcome.stderr_tail[-1500:]
    return Prepared(workdir, code, env, argv, summary)


def rerun(ctx, impl, mode: str, prepared: Prepared, change: str, scratch: Path, *,
          scale: int = 1) -> dict:
    """Apply `change`, rerun the same command (plus the change's options), classify."""
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        situation = apply_change(change, impl, prepared, scratch)
        expected = expected_result(ctx, change, situation, scratch)
    except ChangeError as exc:
        return preparation_failed(prepared.summary, f"{change}: {exc}")
    before = file_states(prepared.workdir)
    run = ctx.run(prepared.argv + situation.extra_argv, impl, mode, prepared.workdir, scratch,
                  scale=scale, label="timed", env_overrides=prepared.env)
    return judged(ctx, impl, mode, run, change, situation, expected, prepared, before)


def judged(ctx, impl, mode: str, run, change: str, situation: Situation, expected: dict,
           prepared: Prepared, before: dict) -> dict:
    o = run.outcome
    minimal = MINIMAL[change]
    checked = verify.check(run.workdir, expected["predictions_sha256"], run.steps, minimal)
    metrics_match = read_json(run.workdir / METRICS) == expected["metrics"]
    checked["metrics_match"] = metrics_match
    stale = not (checked["predictions_match"] and metrics_match)
    klass = classify(o.exit_code == 0 and not o.timed_out, stale, run.steps, minimal)
    written = written_since(prepared.workdir, before)
    detail = {
        "change": change, "minimal": list(minimal), "executed": list(run.steps),
        "classification": klass,
        "reason": tool_reason(impl, o, written),
        "edit": situation.applied, "written": written[:WRITTEN_LIMIT],
        "change_visible": change_visible(ctx, expected),
        "prepare": prepared.summary,
    }
    if o.survivors:
        detail["survivors"] = o.survivors
    status = "timeout" if o.timed_out else ("ok" if o.exit_code == 0 else "unexpected_failure")
    if status != "ok":
        detail["log"] = ctx.keep_log(o, f"rerun-{change}-{impl.name}-{mode}")
    return {"exit_code": o.exit_code, "wall_s": round(o.wall_s, 6), "cpu_s": o.cpu_s,
            "max_rss_kb": o.max_rss_kb, "max_rss_single_kb": o.max_rss_single_kb,
            "launch_epoch": o.launch_epoch, "end_epoch": o.end_epoch, "spans": run.spans,
            "steps_executed": run.steps, "stderr_tail": o.stderr_tail, "status": status,
            "steps_expected": minimal, "verify": checked,
            "io": {**o.io, **ctx.disk(run.workdir)}, "detail": detail}


def change_visible(ctx, expected: dict) -> bool:
    """Whether the right answer after the change differs from the one before it: only then
    can a rerun that kept its old outputs be caught as stale."""
    before = ctx.reference.get(1, {})
    return (expected["predictions_sha256"] != before.get("predictions_sha256")
            or expected["metrics"] != before.get("metrics"))


def classify(exited_ok: bool, stale: bool, executed, minimal) -> str:
    if not exited_ok:
        return "failed"
    if stale:
        return "stale"
    ran, needed = set(executed), set(minimal)
    if ran == needed:
        return "exact"
    return "over-eager" if ran > needed else "under-run"


def preparation_failed(summary: dict, why: str) -> dict:
    return {"status": "unexpected_failure", "wall_s": 0.0,
            "stderr_tail": summary.get("stderr_tail", ""),
            "detail": {"prepare": summary, "error": why, "classification": "failed"}}


# ---------------------------------------------------------------- the code copy

def copy_code(impl, dest: Path) -> Path:
    """core/ and the implementation's package: everything a pipeline command imports from
    the repository."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in dict.fromkeys((execute.REPO / "core", impl.package_dir)):
        shutil.copytree(package, dest / package.name, ignore=ignore, dirs_exist_ok=True)
    return dest


def code_environment(ctx, impl, mode: str, workdir: Path, code: Path) -> dict[str, str]:
    """PYTHONPATH at the copy; adapter variables naming repository files (luigi's config)
    pointed at the copy's; the adapter's rerun settings (a log level that shows reasons)."""
    env = {"PYTHONPATH": str(code)}
    for name, value in ctx.environment(impl, mode, workdir).items():
        moved = _into_copy_text(value, code)
        if moved != value and name != "PYTHONPATH":
            env[name] = moved
    env.update(getattr(impl.module, "RERUN_ENVIRONMENT", {}))
    return env


def _into_copy(argv: list[str], code: Path) -> list[str]:
    return [_into_copy_text(str(a), code) for a in argv]


def _into_copy_text(text: str, code: Path) -> str:
    """Paths into the copied packages only (the interpreter lives in the repository's .venv)."""
    for package in sorted(p.name for p in code.iterdir()):
        text = text.replace(f"{execute.REPO}/{package}/", f"{code}/{package}/")
    return text


def apply_edit(edit: Edit, code: Path) -> None:
    path = code / edit.path
    if not path.is_file():
        raise ChangeError(f"{edit.path} is not in the code copy")
    text = path.read_text(encoding="utf-8")
    found = text.count(edit.old)
    if found != 1:
        raise ChangeError(f"the edit's anchor occurs {found} times in {edit.path}, not once")
    path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")


def declared_edit(impl, name: str) -> tuple[Edit, str | None]:
    raw = getattr(impl.module, name, None)
    if not raw:
        raise ChangeError(f"the adapter declares no {name}")
    return Edit(raw["path"], raw["old"], raw["new"]), raw.get("equivalent_param")


# ---------------------------------------------------------------- the changes

def apply_change(change: str, impl, prepared: Prepared, scratch: Path) -> Situation:
    if change == "data":
        changed = scratch / "changed-data.csv"
        applied = flip_one_label(prepared.workdir / "data/titanic.csv", changed)
        return Situation(["--data", str(changed)], applied, ["--data", str(changed)],
                         data_file=changed)
    if change == "param":
        return Situation(["--param", PARAM_CHANGE], {"param": PARAM_CHANGE},
                         ["--param", PARAM_CHANGE])
    if change == "core_code":
        apply_edit(CORE_EDIT, prepared.code)
        return Situation([], CORE_EDIT.describe(), [], baseline_edit=CORE_EDIT)
    if change in ("wrapper_code", "comment"):
        name = "RERUN_WRAPPER_EDIT" if change == "wrapper_code" else "RERUN_COMMENT_EDIT"
        edit, equivalent = declared_edit(impl, name)
        apply_edit(edit, prepared.code)
        if change == "wrapper_code" and not equivalent:
            raise ChangeError("RERUN_WRAPPER_EDIT names no equivalent_param")
        return Situation([], {**edit.describe(), "equivalent_param": equivalent},
                         ["--param", equivalent] if change == "wrapper_code" else [])
    if change == "touch":
        data = prepared.workdir / "data/titanic.csv"
        later = max(time.time(), data.stat().st_mtime + 1.0)
        os.utime(data, (later, later))
        return Situation([], {"path": "data/titanic.csv", "mtime": round(later, 3)}, [])
    raise ChangeError(f"unknown change {change!r}")


def flip_one_label(staged: Path, dest: Path) -> dict:
    """A copy of the staged data with one passenger's survival label corrected the other way.

    A label shows on either side of the split: on the training side it moves the forest's
    leaf frequencies (predicted probabilities), on the test side the metrics; a raised fare
    or age can fall inside the same tree split and change nothing visible."""
    rows = list(csv.DictReader(io.StringIO(staged.read_text(encoding="utf-8"))))
    if not rows or DATA_COLUMN not in rows[0]:
        raise ChangeError(f"{staged} has no {DATA_COLUMN} column to change")
    row = rows[DATA_PASSENGER_ROW]
    old = row[DATA_COLUMN]
    row[DATA_COLUMN] = "0" if old.strip() in ("1", "1.0") else "1"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    dest.write_text(out.getvalue(), encoding="utf-8")
    return {"passenger_id": row.get("passenger_id"), "column": DATA_COLUMN, "old": old,
            "new": row[DATA_COLUMN]}


# ---------------------------------------------------------------- the right answer

def expected_result(ctx, change: str, situation: Situation, scratch: Path) -> dict:
    """The baseline's predictions sha256 and metrics in the changed situation, kept per change
    (and per equivalent parameter: adapters may declare different ones)."""
    key = change if change != "wrapper_code" else f"wrapper_code:{situation.baseline_argv[-1]}"
    if change in ("comment", "touch"):
        key = "unchanged"
    with _KEPT_LOCK:
        kept = _read_kept(ctx)
        if key not in kept:
            kept[key] = _baseline_result(ctx, situation, scratch / f"expected-{change}")
            path = ctx.run_dir / REFERENCE_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n")
        return kept[key]


def _read_kept(ctx) -> dict:
    path = ctx.run_dir / REFERENCE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _baseline_result(ctx, situation: Situation, scratch: Path) -> dict:
    baseline = ctx.impls.get(BASELINE)
    if baseline is None:
        raise ChangeError("the baseline adapter (core.adapter) is needed for the right answer")
    mode = "memory" if "memory" in baseline.modes else baseline.default_mode
    scratch.mkdir(parents=True, exist_ok=True)
    code = copy_code(baseline, scratch / "code")
    if situation.baseline_edit:
        apply_edit(situation.baseline_edit, code)
    workdir = ctx.new_workdir(baseline, scratch, with_home=False)
    argv = ctx.argv(baseline, mode, workdir, None, 1) + situation.baseline_argv
    run = ctx.run(argv, baseline, mode, workdir, scratch, scale=1, label="expected",
                  env_overrides={"PYTHONPATH": str(code)})
    sha = verify.sha256(workdir / verify.PREDICTIONS)
    if run.outcome.exit_code != 0 or sha is None:
        raise ChangeError(f"the baseline run for the right answer failed "
                          f"(exit {run.outcome.exit_code}): {run.outcome.stderr_tail[-300:]}")
    result = {"predictions_sha256": sha, "metrics": read_json(workdir / METRICS),
              "options": [a for a in situation.baseline_argv if a != str(situation.data_file)],
              "data_edit": situation.applied if situation.data_file else None,
              "edit": situation.baseline_edit.describe() if situation.baseline_edit else None}
    shutil.rmtree(scratch, ignore_errors=True)
    return result


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- what the tool says

def file_states(workdir: Path) -> dict[str, tuple[int, int]]:
    states = {}
    for root, dirs, files in os.walk(workdir):
        dirs.sort()
        for name in files:
            path = Path(root) / name
            rel = path.relative_to(workdir).as_posix()
            if rel.startswith(NOT_RESULTS):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            states[rel] = (st.st_mtime_ns, st.st_size)
    return states


def written_since(workdir: Path, before: dict) -> list[str]:
    """Result files the rerun created or rewrote (the staged inputs included)."""
    after = file_states(workdir)
    return sorted(rel for rel, state in after.items() if before.get(rel) != state)


def tool_reason(impl, outcome, written: list[str]) -> str | None:
    """The adapter's reading of the tool's own output (rerun_reason), or None: the tool
    gives no reason."""
    reason = getattr(impl.module, "rerun_reason", None)
    if reason is None:
        return None
    stdout = _text(outcome.stdout_path)
    stderr = _text(outcome.stderr_path)
    found = call_adapter(reason, stdout, stderr, written=written)
    return _one_paragraph(found) if found else None


def _text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _one_paragraph(text: str, limit: int = 600) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"
