"""What reruns after a change, checked against the tools' real behaviour.

Each tool makes one complete run from a copy of the code; that prepared state is restored at
the same absolute paths before each change (prefect's cache keys hold the workdir path), and
the real scenario logic (bench.rerun) applies the change, reruns and classifies.
"""
from __future__ import annotations

import concurrent.futures
import json
import shutil
from pathlib import Path

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import CHANGES, QUICK, STEPS
from bench.engine.session import execute
from bench.engine.workspace import REPO, Workspace
from bench.scenarios import rerun
from bench.scenarios.catalog import SCENARIOS
from bench.store import records
from core.contract import Edit
from tests.helpers import runner

TRAIN_ON = ("train", "predict", "evaluate")

# Observed on luigi 3.8.1, prefect 3.9.1, snakemake 9.16.3, gokart 1.12.2:
# (classification, steps executed) per tool and change.
OBSERVED = {
    "baseline": {change: ("over-eager", STEPS) for change in CHANGES} | {"data": ("exact", STEPS)},
    # complete() is "the outputs exist": nothing that changes inside a file is noticed
    "luigi": {"data": ("stale", ()), "param": ("stale", ()), "core_code": ("stale", ()),
              "wrapper_code": ("stale", ()), "comment": ("exact", ()), "touch": ("exact", ())},
    # unique ids hash the staged files' md5 (params.yaml feeds load too), never the code
    "gokart": {"data": ("exact", STEPS), "param": ("over-eager", STEPS),
               "core_code": ("stale", ()), "wrapper_code": ("stale", ()),
               "comment": ("exact", ()), "touch": ("exact", ())},
    # TASK_SOURCE + FLOW_PARAMETERS + scalar inputs; values handed over are not in the key,
    # so a rerun train leaves predict and evaluate cached
    "prefect": {"data": ("exact", STEPS), "param": ("over-eager", STEPS),
                "core_code": ("stale", ()), "wrapper_code": ("stale", ("train",)),
                "comment": ("over-eager", ("train",)), "touch": ("exact", ())},
    # params and rule code (lines with bytecode, so not comments) are tracked; a newer input
    # with its recorded checksum is not a change; imported code is not tracked
    "snakemake": {"data": ("exact", STEPS), "param": ("exact", TRAIN_ON),
                  "core_code": ("stale", ()), "wrapper_code": ("exact", TRAIN_ON),
                  "comment": ("exact", ()), "touch": ("exact", ())},
}
TOOLS_SLOWEST_FIRST = ("prefect", "snakemake", "baseline", "gokart", "luigi")


def observe(ws: Workspace, name: str) -> dict[str, records.Record]:
    """Every change through the scenario's own handler, as `bench run` stores it."""
    adapter = ws.adapters[name]
    slot = lambda change: plan.Slot(  # noqa: E731
        name, adapter.default_mode, "rerun", variant=change, selection="rerun",
        format=plan.format_of(adapter, adapter.default_mode))
    return {change: execute(ws, SCENARIOS, plan.Execution(slot(change), round=1))
            for change in CHANGES}


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    loaded = registry.load()
    workspace = Workspace(tmp_path_factory.mktemp("rerun-run"), "t", loaded.by_name(), QUICK)
    workspace.references.pipeline(1)
    return workspace


@pytest.fixture(scope="module")
def matrix(ws) -> dict[str, dict[str, records.Record]]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(observe, ws, name) for name in TOOLS_SLOWEST_FIRST}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("tool", list(OBSERVED))
def test_classification_matches_the_tools_behaviour(matrix, tool):
    seen = {change: (cell.detail.classification, tuple(cell.steps_executed))
            for change, cell in matrix[tool].items()}
    assert seen == OBSERVED[tool]
    for change, cell in matrix[tool].items():
        assert cell.status == "ok" and cell.exit_code == 0, (change, cell.stderr_tail)
        assert list(cell.detail.minimal) == list(rerun.MINIMAL[change])
        assert cell.steps_expected == rerun.MINIMAL[change]


def test_a_stale_cell_kept_predictions_that_differ_from_the_right_answer(matrix):
    stale = [(tool, change, cell) for tool, cells in matrix.items()
             for change, cell in cells.items() if cell.detail.classification == "stale"]
    assert len(stale) == 9  # luigi 4, gokart 2, prefect 2, snakemake 1
    for tool, change, cell in stale:
        assert cell.detail.change_visible, (tool, change)
        assert cell.verify["predictions_match"] is False, (tool, change)
        assert cell.verify["predictions_sha256"] is not None
    for tool, cells in matrix.items():
        for change in ("data", "param", "core_code", "wrapper_code"):
            assert cells[change].detail.change_visible, (tool, change)
        for change in ("comment", "touch"):
            assert not cells[change].detail.change_visible
            assert cells[change].verify["predictions_match"]


def test_snakemake_gives_its_reason_per_job(matrix):
    reason = {change: cell.detail.reason for change, cell in matrix["snakemake"].items()}
    assert "load: Updated input files: data/titanic.csv" in reason["data"]
    assert "train: Params have changed since last execution" in reason["param"]
    assert "train: Code has changed since last execution" in reason["wrapper_code"]
    assert "predict: Input files updated by another job: interim/model.pkl" in reason["param"]
    for change in ("core_code", "comment", "touch"):
        assert reason[change].startswith("Nothing to be done"), change


def test_prefect_names_cache_misses_and_hits(matrix):
    reason = {change: cell.detail.reason for change, cell in matrix["prefect"].items()}
    assert reason["wrapper_code"] == ("cache key changed (task ran): train; "
                                      "cache hit: load, preprocess, predict, evaluate")
    assert reason["core_code"].startswith("cache key changed (task ran): none;")
    assert reason["data"].startswith("cache key changed (task ran): load, preprocess, train,")


def test_luigi_gives_no_reason_and_gokart_shows_new_unique_ids(matrix):
    assert {cell.detail.reason for cell in matrix["luigi"].values()} == {None}
    assert matrix["luigi"]["param"].detail.written == ("params.yaml",)
    gokart = matrix["gokart"]
    assert "outputs under new unique ids: " in gokart["param"].detail.reason
    assert gokart["param"].detail.reason == (
        "outputs under new unique ids: metrics, model, predictions, test_features, test_raw, "
        "train_features, train_raw")
    assert gokart["core_code"].detail.reason is None


def test_edits_went_to_the_copy_and_are_recorded(matrix):
    core_edit = matrix["luigi"]["core_code"].detail.edit
    assert core_edit["path"] == "core/steps.py" and "min_samples_leaf" in core_edit["new"]
    assert "min_samples_leaf" not in (REPO / "core/steps.py").read_text()
    wrapper = matrix["snakemake"]["wrapper_code"].detail.edit
    assert wrapper["path"] == "impl_snakemake/Snakefile"
    assert wrapper["equivalent_param"] == "max_depth=4"
    assert '"max_depth": 4' not in (REPO / "impl_snakemake/Snakefile").read_text()
    data = matrix["gokart"]["data"].detail.edit
    assert data["column"] == "survived" and data["old"] != data["new"]


def test_each_change_reruns_from_a_copy_of_one_complete_run(matrix):
    for tool, cells in matrix.items():
        shared = [cell.detail.prepare.get("shared", False) for cell in cells.values()]
        assert shared == [False] + [True] * (len(CHANGES) - 1), tool
        assert all(cell.detail.prepare["steps_executed"] == list(STEPS)
                   for cell in cells.values())
    # after the param change, the comment cell starts again from the default params.yaml
    assert matrix["luigi"]["param"].detail.written == ("params.yaml",)
    assert matrix["luigi"]["comment"].detail.written == ()
    rec = matrix["prefect"]["wrapper_code"]
    assert records.Record.from_dict(json.loads(rec.to_json())) == rec


# ---------------------------------------------------------------- without tool runs

@pytest.mark.parametrize("name", list(OBSERVED))
def test_each_declared_edit_matches_its_file_exactly_once(name, tmp_path):
    adapter = registry.load().by_name()[name]
    code = rerun.copy_code(adapter, tmp_path / "code")
    for edit in (adapter.rerun.wrapper_edit, adapter.rerun.comment_edit):
        rerun.apply_edit(edit, code)
        assert edit.new in (code / edit.path).read_text()
    rerun.apply_edit(rerun.CORE_EDIT, code)


def test_the_code_copy_is_what_runs(ws, tmp_path):
    luigi = ws.adapters["luigi"]
    code = rerun.copy_code(luigi, tmp_path / "code")
    assert sorted(p.name for p in code.iterdir()) == ["core", "impl_luigi"]
    env = rerun.code_environment(ws, luigi, "local", tmp_path / "wd", code)
    assert env == {"PYTHONPATH": str(code),
                   "LUIGI_CONFIG_PATH": str(code / "impl_luigi" / "luigi.cfg")}
    prefect = ws.adapters["prefect"]
    env = rerun.code_environment(ws, prefect, "memory", tmp_path / "wd2",
                                 rerun.copy_code(prefect, tmp_path / "code2"))
    assert env["PREFECT_LOGGING_LEVEL"] == "INFO"  # task-run states: the cache hits and misses


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
