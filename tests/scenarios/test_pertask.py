"""The pertask scenario: the shared task bodies, what the harness checks, and its handler on
real tools (failures kept as findings, doomed sizes not run). Every tool's synthetic command
runs in tests/conformance; the fit and the report section are tested in tests/render."""
from __future__ import annotations

import json

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.engine.workspace import Workspace
from bench.scenarios import pertask
from core import synthetic
from tests.helpers import runner

N = 3


ADAPTERS = registry.load().by_name()


# ---------------------------------------------------------------- the task bodies

@pytest.mark.parametrize("shape", synthetic.SHAPES)
def test_plain_loop_writes_the_expected_result_with_one_span_per_task(shape, workdir):
    r = runner.ok(runner.run([runner.PY, "-m", "core.synthetic", "--workdir", str(workdir),
                              "--shape", shape, "--n", "4"], workdir))
    assert synthetic.read_result(workdir / synthetic.result_path(shape, 4)) == (
        4 if shape == "chain" else 10)
    checked = pertask.check(workdir, r.spans, shape, 4)
    assert checked["result_match"] and checked["steps_match"], checked
    writes = [s for s in r.spans if s["kind"] == "write"]
    assert len(writes) == (4 if shape == "chain" else 5)
    assert all(s["bytes"] > 0 for s in writes)


@pytest.mark.parametrize("args, says", [
    (["--shape", "chain", "--n", "0"], "must be a whole number >= 1"),
    (["--shape", "chain", "--n", "many"], "must be a whole number >= 1"),
    (["--shape", "star", "--n", "3"], "invalid choice"),
    (["--n", "3"], "--shape"),
])
@pytest.mark.parametrize("module", ["core.synthetic", "impl_luigi.synthetic"])
def test_bad_arguments_give_one_line_and_exit_2(module, args, says, workdir):
    r = runner.run([runner.PY, "-m", module, "--workdir", str(workdir), *args], workdir)
    assert r.rc == 2
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


def test_verify_catches_a_wrong_value_and_a_missing_task(workdir):
    r = runner.ok(runner.run([runner.PY, "-m", "core.synthetic", "--workdir", str(workdir),
                              "--shape", "fanout", "--n", "3"], workdir))
    (workdir / synthetic.GATHER_PATH).write_text(json.dumps({"value": 7}))
    checked = pertask.check(workdir, r.spans, "fanout", 3)
    assert checked["result_value"] == 7 and not checked["result_match"]
    one_task_fewer = [s for s in r.spans if s["kind"] != "compute" or s["step"] != "task"][1:]
    assert not pertask.check(workdir, one_task_fewer, "fanout", 3)["steps_match"]


# ---------------------------------------------------------------- the harness handler

@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("pertask-run"), "pertask-test", ADAPTERS, QUICK)


def _execute(ws, impl, mode, shape, n):
    ex = plan.Execution(plan.Slot(impl, mode, "pertask", variant=shape, size=n), round=1)
    return pertask.run(ws, ex, ADAPTERS[impl], ws.scratch(f"{impl}-{shape}-{n}"))


def test_a_failure_is_a_finding_and_larger_sizes_are_recorded_as_not_run(ws):
    # snakemake builds its DAG recursively: a 500-deep chain exceeds Python's recursion limit.
    failed = _execute(ws, "snakemake", "threads", "chain", 500)
    assert failed["status"] == "unexpected_failure" and failed["exit_code"] != 0
    assert "RecursionError" in failed["detail"]["tool_message"]
    assert (ws.run_dir / failed["detail"]["log"]).exists()
    skipped = _execute(ws, "snakemake", "threads", "chain", 1000)
    assert skipped["status"] == "unexpected_failure" and skipped["wall_s"] == 0.0
    assert skipped["detail"]["failed_at_n"] == 500
    assert "not run: failed at N=500" in skipped["detail"]["not_run"]
    assert "RecursionError" in skipped["detail"]["tool_message"]
    # smaller sizes of the same triple still run
    assert _execute(ws, "snakemake", "threads", "chain", 5)["status"] == "ok"


def test_an_ok_record_carries_the_verified_counts(ws):
    fields = _execute(ws, "luigi", "local", "fanout", 4)
    assert fields["status"] == "ok", fields.get("detail")
    assert fields["verify"]["task_spans"] == {"task": 4, "gather": 1}
    assert fields["verify"]["result_value"] == 10
    assert fields["wall_s"] > 0 and fields["io"]["outputs_bytes"] > 0
