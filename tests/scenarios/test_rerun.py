"""The rerun scenario's mechanism on the plain script, and its tool-neutral parts on every adapter.

One complete run from a copy of the code; that prepared state is restored at the same absolute
paths before each change, and the real scenario logic (bench.scenarios.rerun) applies the
change, reruns and classifies. What each tool reruns after each change is its own suite's
(tests/tools/test_<tool>.py): a class per tool is tool knowledge, kept where the tool is.
The plain script (core.baseline) has no cache: it reruns every step whatever changed, so it
is exact when the data changed and over-eager otherwise.
"""
from __future__ import annotations

import json

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import CHANGES, QUICK, STEPS
from bench.engine.session import execute
from bench.engine.workspace import REPO, Workspace
from bench.scenarios import rerun
from bench.scenarios.catalog import SCENARIOS
from bench.store import records
from core.contract import LAPTOP, Edit
from tests.helpers import runner

TRAIN_ON = ("train", "predict", "evaluate")
ADAPTERS = registry.load().by_name()
WITH_RERUN = sorted(name for name, a in ADAPTERS.items() if a.rerun is not None)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    workspace = Workspace(tmp_path_factory.mktemp("rerun-run"), "t", ADAPTERS, QUICK)
    workspace.references.pipeline(1)
    return workspace


@pytest.fixture(scope="module")
def cells(ws) -> dict[str, records.Record]:
    """Every change through the scenario's own handler, as `bench run` stores it."""
    adapter = ws.adapters["baseline"]
    slot = lambda change: plan.Slot(  # noqa: E731
        "baseline", adapter.default_mode, "rerun", variant=change, selection="rerun",
        format=plan.format_of(adapter, adapter.default_mode))
    return {change: execute(ws, SCENARIOS, plan.Execution(slot(change), round=1))
            for change in CHANGES}


def test_the_plain_script_reruns_every_step_whatever_changed(cells):
    seen = {change: (cell.detail.classification, tuple(cell.steps_executed))
            for change, cell in cells.items()}
    assert seen == {change: ("exact" if change == "data" else "over-eager", STEPS)
                    for change in CHANGES}
    for change, cell in cells.items():
        assert cell.status == "ok" and cell.exit_code == 0, (change, cell.stderr_tail)
        assert list(cell.detail.minimal) == list(rerun.MINIMAL[change])
        assert cell.steps_expected == rerun.MINIMAL[change]
        assert cell.verify["predictions_match"], change  # every step reran: never stale


def test_a_change_is_visible_exactly_when_it_changes_the_right_answer(cells):
    for change in ("data", "param", "core_code", "wrapper_code"):
        assert cells[change].detail.change_visible, change
    for change in ("comment", "touch"):
        assert not cells[change].detail.change_visible, change


def test_edits_went_to_the_copy_and_are_recorded(cells):
    core_edit = cells["core_code"].detail.edit
    assert core_edit["path"] == rerun.CORE_EDIT.path and rerun.CORE_EDIT.new in core_edit["new"]
    assert rerun.CORE_EDIT.new not in (REPO / rerun.CORE_EDIT.path).read_text()
    declared = ADAPTERS["baseline"].rerun.wrapper_edit
    wrapper = cells["wrapper_code"].detail.edit
    assert wrapper["path"] == declared.path
    assert declared.new not in (REPO / declared.path).read_text()
    data = cells["data"].detail.edit
    assert data["column"] == rerun.DATA_COLUMN and data["old"] != data["new"]


def test_each_change_reruns_from_a_copy_of_one_complete_run(cells):
    shared = [cell.detail.prepare.get("shared", False) for cell in cells.values()]
    assert shared == [False] + [True] * (len(CHANGES) - 1)
    assert all(cell.detail.prepare["steps_executed"] == list(STEPS) for cell in cells.values())
    # after the param change, the comment cell starts again from the default params.yaml
    assert "params.yaml" in cells["param"].detail.written
    assert "params.yaml" not in cells["comment"].detail.written
    rec = cells["wrapper_code"]
    assert records.Record.from_dict(json.loads(rec.to_json())) == rec


# ---------------------------------------------------------------- without tool runs

@pytest.mark.parametrize("name", WITH_RERUN)
def test_each_declared_edit_matches_its_file_exactly_once(name, tmp_path):
    """Each change is made on a copy of its own, as the scenario makes it: two edits may share
    an anchor (dagster's and metaflow's both rewrite the train call)."""
    adapter = ADAPTERS[name]
    edits = {"wrapper": adapter.rerun.wrapper_edit, "comment": adapter.rerun.comment_edit,
             "core": rerun.CORE_EDIT}
    for change, edit in edits.items():
        code = rerun.copy_code(adapter, tmp_path / change)
        rerun.apply_edit(edit, code)
        assert edit.new in (code / edit.path).read_text()


@pytest.mark.parametrize("name", WITH_RERUN)
def test_the_code_copy_is_what_runs(ws, tmp_path, name):
    """PYTHONPATH at the copy, every variable naming a repository file moved into the copy,
    and the adapter's declared rerun settings on top."""
    adapter = ws.adapters[name]
    code = rerun.copy_code(adapter, tmp_path / "code")
    assert "core" in {p.name for p in code.iterdir()}
    mode = adapter.default_mode
    env = rerun.code_environment(ws, adapter, mode, LAPTOP, tmp_path / "wd", code)
    assert env["PYTHONPATH"] == str(code)
    assert adapter.rerun.environment.items() <= env.items()
    plain = ws.environment(adapter, mode, LAPTOP, tmp_path / "wd")
    for key, value in env.items():
        if key != "PYTHONPATH" and key not in adapter.rerun.environment:
            assert value != plain[key] and str(code) in value, key
    for key, value in plain.items():
        if key != "PYTHONPATH" and any(f"{REPO}/{p.name}/" in value for p in code.iterdir()):
            assert key in env, key


def test_an_anchor_not_found_once_is_a_change_error(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core/x.py").write_text("a = 1\na = 1\n")
    with pytest.raises(rerun.ChangeError, match="occurs 2 times"):
        rerun.apply_edit(Edit("core/x.py", "a = 1", "a = 2"), tmp_path)
    with pytest.raises(rerun.ChangeError, match="occurs 0 times"):
        rerun.apply_edit(Edit("core/x.py", "b = 1", "b = 2"), tmp_path)


def test_a_change_that_cannot_be_prepared_is_a_failed_cell(ws, tmp_path):
    """An edit whose anchor is not in the code copy: one reason, no timed body."""
    baseline = ws.adapters["baseline"]
    (tmp_path / "code" / "core").mkdir(parents=True)
    (tmp_path / "code" / "core" / "baseline.py").write_text("nothing to edit here\n")
    prepared = rerun.Prepared(tmp_path / "wd", tmp_path / "code", {}, [], {"exit_code": 0})
    ex = plan.Execution(plan.Slot("baseline", "files", "rerun", variant="wrapper_code"), 1)
    fields = rerun.rerun(ws, ex, baseline, prepared, tmp_path / "s")
    rec = records.Record(run_id="t", impl="baseline", mode="files", scenario="rerun", round=1,
                         variant="wrapper_code", **fields)
    assert rec.status == "unexpected_failure" and rec.wall_s == 0.0
    assert rec.detail.classification == "failed"
    assert rec.detail.error == ("wrapper_code: the edit's anchor occurs 0 times in "
                                "core/baseline.py, not once")


def test_classify():
    assert rerun.classify(True, False, STEPS, STEPS) == "exact"
    assert rerun.classify(True, False, STEPS, TRAIN_ON) == "over-eager"
    assert rerun.classify(True, False, ("train",), TRAIN_ON) == "under-run"
    assert rerun.classify(True, True, STEPS, TRAIN_ON) == "stale"
    assert rerun.classify(False, False, (), ()) == "failed"


@pytest.mark.parametrize("option, message", [
    ("foo=1", "expected KEY=VALUE with KEY one of seed, test_size, n_estimators, max_depth"),
    ("max_depth=deep", "max_depth must be a whole number, got 'deep'"),
    ("max_depth=0", "n_estimators and max_depth must be >= 1"),
])
def test_a_bad_param_option_is_one_line(tmp_path, option, message):
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(wd), "--param", option], wd)
    assert r.rc == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


def test_a_param_option_reaches_params_yaml(tmp_path):
    wd = tmp_path / "wd"
    r = runner.run([runner.PY, "-m", "core.baseline", "--workdir", str(wd), "--param",
                    "n_estimators=20", "--param", "max_depth=3"], wd)
    assert r.rc == 0, r.stderr
    staged = (wd / "params.yaml").read_text()
    assert "n_estimators: 20" in staged and "max_depth: 3" in staged
