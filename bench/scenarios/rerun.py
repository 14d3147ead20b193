"""rerun: after a complete run, change one thing, run again, and judge what reran.

Both runs execute a private copy of the code (core/ and the implementation's package) through
PYTHONPATH, so code edits happen between the two runs without touching the repository. The
changes (bench.profiles.CHANGES):
- data: one passenger's survival label in a copy of the staged data, passed as --data;
- param: a model hyperparameter, passed as --param (staged into params.yaml);
- core_code: a behaviour-changing edit of core.steps.train, shared by every tool;
- wrapper_code / comment: the adapter's declared edit of its own train task or rule
  (Rerun.wrapper_edit, Rerun.comment_edit), the first with the parameter setting that gives
  the same model, so that the baseline can compute the right answer;
- touch: a later modification time on the staged data file, content unchanged.

The right answer after each change is the reference implementation's, computed untimed once per
change and kept with the run's other right answers (bench/engine/references.py). A cell is
`stale` when the rerun's predictions or metrics differ from it, else `exact` when the executed steps are the minimal
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
import time
from pathlib import Path

from bench.engine import measured, verify
from bench.engine.profiles import DEFAULT_FORMAT, STEPS
from bench.engine.references import ReferenceError, read_json
from bench.engine.registry import package_dir
from bench.engine.workspace import HOME_DIR, REPO, TMP_DIR
from bench.scenarios.base import Scenario, slot
from core.contract import LAPTOP, Edit

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
WRITTEN_LIMIT = 40
# The harness's private dirs: not what a rerun "writes" as results (a tool adds its own
# bookkeeping, Adapter.state_dirs).
NOT_RESULTS = (f"{HOME_DIR}/", f"{TMP_DIR}/")


def describe(edit: Edit) -> dict:
    return dataclasses.asdict(edit)


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
    reference_argv: list[str]
    reference_edit: Edit | None = None
    data_file: Path | None = None


# ---------------------------------------------------------------- the scenario

def slots(selection, adapter, profile, choice):
    if adapter.rerun is None:
        return []
    switches = tuple(m.name for m in adapter.rerun.switches)
    return [slot(selection, adapter, mode, "rerun", variant=change, setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for mode in (choice.modes or (adapter.default_mode, *switches))
            for change in profile.changes]


def run(ws, ex, adapter, scratch) -> dict:
    s = ex.slot
    prepared = prepared_copy(ws, adapter, s.mode, s.setup, fmt=s.format or DEFAULT_FORMAT,
                             scale=s.size)
    try:
        if prepared.summary["exit_code"] != 0:
            return preparation_failed(prepared.summary, "the complete run failed")
        return rerun(ws, ex, adapter, prepared, scratch)
    finally:
        shutil.rmtree(prepared.workdir.parent, ignore_errors=True)


def prepared_copy(ws, adapter, mode: str, setup: str, *, fmt: str, scale: int) -> Prepared:
    """The complete run is deterministic: one per implementation, mode and size is made and
    kept for the run; each change reruns in a fresh copy of it, restored at the same absolute
    paths (prefect's cache keys hold the workdir path; file times are kept)."""
    key = f"{adapter.name}-{mode}-{setup}-{fmt}-x{scale}"
    active, kept = ws.work / "rerun" / key, ws.work / "rerun-prepared" / key
    shutil.rmtree(active, ignore_errors=True)
    active.mkdir(parents=True)
    facts = kept / "prepared.json"
    if not facts.is_file():
        prepared = prepare(ws, adapter, mode, setup, active, fmt=fmt, scale=scale)
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


def prepare(ws, adapter, mode: str, setup: str, scratch: Path, *, fmt: str,
            scale: int) -> Prepared:
    """The untimed complete run, from a fresh copy of the code."""
    code = copy_code(adapter, scratch / "code")
    workdir = ws.new_workdir(scratch)
    env = code_environment(ws, adapter, mode, setup, workdir, code)
    argv = _into_copy(ws.argv(adapter, mode, setup, workdir, fmt, scale), code)
    done = ws.run(argv, adapter, mode, setup, workdir, scratch, size=scale, label="prepare",
                  env_overrides=env)
    summary = measured.summary(done.outcome, done.steps)
    if done.outcome.exit_code != 0:
        summary["stderr_tail"] = measured.tool_message(done.outcome)
    return Prepared(workdir, code, env, argv, summary)


def rerun(ws, ex, adapter, prepared: Prepared, scratch: Path) -> dict:
    """Apply the slot's change, rerun the same command (plus the change's options), classify."""
    change = ex.slot.variant
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        situation = apply_change(change, adapter, prepared, scratch)
        expected = expected_result(ws, change, situation, scratch)
    except (ChangeError, ReferenceError) as exc:
        return preparation_failed(prepared.summary, f"{change}: {exc}")
    before = file_states(prepared.workdir, adapter)
    done = ws.run(prepared.argv + situation.extra_argv, adapter, ex.slot.mode, ex.slot.setup,
                  prepared.workdir, scratch, size=ex.slot.size, label="timed",
                  env_overrides=prepared.env)
    return judged(ws, ex, adapter, done, situation, expected, prepared, before)


def judged(ws, ex, adapter, done, situation: Situation, expected: dict, prepared: Prepared,
           before: dict) -> dict:
    o = done.outcome
    change = ex.slot.variant
    minimal = MINIMAL[change]
    delivered = ws.deliverables(adapter, done.workdir)
    checked = verify.check(delivered, expected["predictions_sha256"], done.steps, minimal)
    metrics_match = read_json(delivered.metrics) == expected["metrics"]
    checked["metrics_match"] = metrics_match
    stale = not (checked["predictions_match"] and metrics_match)
    klass = classify(o.exit_code == 0 and not o.timed_out, stale, done.steps, minimal)
    written = written_since(prepared.workdir, before, adapter)
    detail = {
        "change": change, "minimal": list(minimal), "executed": list(done.steps),
        "classification": klass,
        "reason": tool_reason(adapter, o, written),
        "edit": situation.applied, "written": written[:WRITTEN_LIMIT],
        "change_visible": change_visible(ws, expected),
        "prepare": prepared.summary,
    }
    if o.survivors:
        detail["survivors"] = o.survivors
    status = "timeout" if o.timed_out else ("ok" if o.exit_code == 0 else "unexpected_failure")
    if status != "ok":
        detail["log"] = ws.keep_log(o, measured.log_name(ex))
    return {**measured.fields(done, ws.disk(done.workdir)), "status": status,
            "steps_expected": minimal, "verify": checked, "detail": detail}


def change_visible(ws, expected: dict) -> bool:
    """Whether the right answer after the change differs from the one before it: only then
    can a rerun that kept its old outputs be caught as stale."""
    before = ws.references.pipeline(1)
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

def copy_code(adapter, dest: Path) -> Path:
    """core/ and the implementation's package: everything a pipeline command imports from
    the repository."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in dict.fromkeys((REPO / "core", package_dir(adapter))):
        shutil.copytree(package, dest / package.name, ignore=ignore, dirs_exist_ok=True)
    return dest


def code_environment(ws, adapter, mode: str, setup: str, workdir: Path,
                     code: Path) -> dict[str, str]:
    """PYTHONPATH at the copy; adapter variables naming repository files (luigi's config)
    pointed at the copy's; the adapter's rerun settings (a log level that shows reasons)."""
    env = {"PYTHONPATH": str(code)}
    for name, value in ws.environment(adapter, mode, setup, workdir).items():
        moved = _into_copy_text(value, code)
        if moved != value and name != "PYTHONPATH":
            env[name] = moved
    env.update(adapter.rerun.environment)
    return env


def _into_copy(argv: list[str], code: Path) -> list[str]:
    return [_into_copy_text(str(a), code) for a in argv]


def _into_copy_text(text: str, code: Path) -> str:
    """Paths into the copied packages only (the interpreter lives in the repository's .venv)."""
    for package in sorted(p.name for p in code.iterdir()):
        text = text.replace(f"{REPO}/{package}/", f"{code}/{package}/")
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


# ---------------------------------------------------------------- the changes

def apply_change(change: str, adapter, prepared: Prepared, scratch: Path) -> Situation:
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
        return Situation([], describe(CORE_EDIT), [], reference_edit=CORE_EDIT)
    if change == "wrapper_code":
        edit, equivalent = adapter.rerun.wrapper_edit, adapter.rerun.equivalent_param
        apply_edit(edit, prepared.code)
        return Situation([], {**describe(edit), "equivalent_param": equivalent},
                         ["--param", equivalent])
    if change == "comment":
        edit = adapter.rerun.comment_edit
        apply_edit(edit, prepared.code)
        return Situation([], {**describe(edit), "equivalent_param": None}, [])
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

def expected_result(ws, change: str, situation: Situation, scratch: Path) -> dict:
    """The reference's predictions sha256 and metrics in the changed situation, kept per change
    (and per equivalent parameter: adapters may declare different ones)."""
    key = change if change != "wrapper_code" else f"wrapper_code:{situation.reference_argv[-1]}"
    if change in ("comment", "touch"):
        key = "unchanged"
    return ws.references.get("rerun", key, lambda: _reference_result(
        ws, situation, scratch / f"expected-{change}"))


def _reference_result(ws, situation: Situation, scratch: Path) -> dict:
    reference = ws.references.adapter()
    mode = reference.reference.mode
    scratch.mkdir(parents=True, exist_ok=True)
    code = copy_code(reference, scratch / "code")
    if situation.reference_edit:
        apply_edit(situation.reference_edit, code)
    workdir = ws.new_workdir(scratch)
    argv = ws.argv(reference, mode, LAPTOP, workdir, None, 1) + situation.reference_argv
    done = ws.run(argv, reference, mode, LAPTOP, workdir, scratch, size=1, label="expected",
                  env_overrides={"PYTHONPATH": str(code)})
    delivered = ws.deliverables(reference, workdir)
    sha = verify.sha256(delivered.predictions)
    if done.outcome.exit_code != 0 or sha is None:
        raise ChangeError(f"the reference run for the right answer failed "
                          f"(exit {done.outcome.exit_code}): {done.outcome.stderr_tail[-300:]}")
    result = {"predictions_sha256": sha, "metrics": read_json(delivered.metrics),
              "options": [a for a in situation.reference_argv if a != str(situation.data_file)],
              "data_edit": situation.applied if situation.data_file else None,
              "edit": describe(situation.reference_edit) if situation.reference_edit else None}
    shutil.rmtree(scratch, ignore_errors=True)
    return result


# ---------------------------------------------------------------- what the tool says

def _not_results(adapter) -> tuple[str, ...]:
    return NOT_RESULTS + tuple(f"{d.rstrip('/')}/" for d in adapter.state_dirs)


def file_states(workdir: Path, adapter) -> dict[str, tuple[int, int]]:
    skipped = _not_results(adapter)
    states = {}
    for root, dirs, files in os.walk(workdir):
        dirs.sort()
        for name in files:
            path = Path(root) / name
            rel = path.relative_to(workdir).as_posix()
            if rel.startswith(skipped):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            states[rel] = (st.st_mtime_ns, st.st_size)
    return states


def written_since(workdir: Path, before: dict, adapter) -> list[str]:
    """Result files the rerun created or rewrote (the staged inputs included)."""
    after = file_states(workdir, adapter)
    return sorted(rel for rel, state in after.items() if before.get(rel) != state)


def tool_reason(adapter, outcome, written: list[str]) -> str | None:
    """The adapter's reading of the tool's own output, or None: the tool gives no reason."""
    if adapter.rerun.reason is None:
        return None
    found = adapter.rerun.reason(outcome.stdout_text, outcome.stderr_text, written)
    return _one_paragraph(found) if found else None


def _one_paragraph(text: str, limit: int = 600) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


SCENARIO = Scenario(
    name="rerun",
    description="after a complete run, change one thing (data, a parameter, code, a comment, "
                "an mtime) and rerun: what re-executes, against the minimal correct set",
    slots=slots, run=run)
