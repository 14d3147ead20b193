"""Stored records: round trip, schema version refusal, an interrupted append tolerated."""
from __future__ import annotations

import json

import pytest

from bench.store import records
from tests.helpers.fakes import bench, write_fakes


def _record(**overrides) -> records.Record:
    fields = dict(run_id="r1", impl="luigi", mode="local", scenario="crash", round=2,
                  status="expected_failure", wall_s=3.25, variant="preprocess", size=10,
                  format="csv", outcome="refused", exit_code=1, cpu_s=2.5, max_rss_kb=1000,
                  max_rss_single_kb=800, steps_executed=["load"], steps_expected=None,
                  spans=[{"step": "load", "kind": "compute", "start": 1.0, "end": 2.0,
                          "bytes": 0, "pid": 7}],
                  io={"write_bytes": 4096, "outputs_bytes": 10, "state_bytes": 3},
                  verify={"predictions_match": True}, launch_epoch=1.0, end_epoch=4.25,
                  stderr_tail="refused", detail={"recovery": {"commands": [["x", "--unlock"]]}})
    fields.update(overrides)
    return records.Record(**fields)


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "records.jsonl"
    written = [_record(), _record(round=3, status="ok", outcome="recovered", size=1,
                                  format=None, variant=None, warmup=True)]
    for r in written:
        records.append(path, r)
    assert records.load(path) == written
    assert records.load(path)[0].key == (2, "luigi", "local", "crash", "preprocess", 10, "csv",
                                         None, "laptop", "timed")
    assert records.load(path)[0].detail.recovery == {"commands": [["x", "--unlock"]]}


def test_a_newer_schema_version_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "records.jsonl"
    raw = json.loads(_record().to_json())
    raw["schema_version"] = records.SCHEMA_VERSION + 1
    path.write_text(json.dumps(raw) + "\n")
    with pytest.raises(records.SchemaError, match="newer than this code"):
        records.load(path)


def test_a_truncated_last_line_is_ignored_but_a_broken_middle_line_is_not(tmp_path):
    path = tmp_path / "records.jsonl"
    records.append(path, _record())
    records.append(path, _record(round=3))
    whole = path.read_text()
    path.write_text(whole[: len(whole) - 40])  # the second append was cut short
    assert [r.round for r in records.load(path)] == [2]
    lines = whole.splitlines()
    path.write_text(lines[0][:30] + "\n" + lines[1] + "\n")
    with pytest.raises(records.SchemaError, match="not a JSON record"):
        records.load(path)


def test_invalid_values_are_refused_at_construction():
    with pytest.raises(ValueError):
        _record(status="fine")
    with pytest.raises(ValueError):
        _record(wall_s=-1.0)
    with pytest.raises(ValueError, match="no field"):
        _record(detail={"recovery": {}, "colour": "red"})
    with pytest.raises(ValueError, match="runner"):
        _record(scenario="parallel", detail={})


def test_a_version_1_record_is_migrated_on_reading(tmp_path):
    """v1 stored the variant as `step`, the size as `scale` and a parallel runner as `mode`."""
    path = tmp_path / "records.jsonl"
    v1 = {"run_id": "r", "impl": "luigi", "mode": "workers", "scenario": "parallel", "round": 1,
          "status": "ok", "wall_s": 2.0, "step": None, "scale": 2, "schema_version": 1,
          "detail": {"workers": 2, "runner": "workers", "folds": 12}}
    cold = {"run_id": "r", "impl": "luigi", "mode": "local", "scenario": "resume", "round": 1,
            "status": "ok", "wall_s": 1.0, "step": "train", "scale": 1, "schema_version": 1,
            "detail": {"prepare": {"exit_code": 30}}}
    path.write_text(json.dumps(v1) + "\n" + json.dumps(cold) + "\n")
    parallel, resume = records.load(path)
    assert (parallel.mode, parallel.runner, parallel.size) == (None, "workers", 2)
    assert parallel.detail.folds == 12
    assert (resume.variant, resume.size, resume.detail.prepare) == ("train", 1, {"exit_code": 30})


def test_continue_refuses_a_run_directory_of_a_newer_schema_in_one_line(tmp_path):
    root = write_fakes(tmp_path / "fakes")
    run_dir = tmp_path / "reports" / "old-run"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"schema_version": records.SCHEMA_VERSION + 1}))
    r = bench(root, "run", "--continue", "old-run", "--out", str(tmp_path / "reports"))
    assert r.returncode == 2
    assert "newer than this code" in r.stderr and len(r.stderr.strip().splitlines()) == 1
