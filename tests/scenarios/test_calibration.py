"""calibration: pairs of the harness's and hyperfine's timing of one cold command, on a fake
tool and a fake hyperfine that logs where it sits in the order of calls; and the methodology's
figures rendered from stored records."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types

from bench.engine import plan
from bench.engine.profiles import FULL, PROFILES
from bench.render.sections import method_timing
from bench.scenarios import calibration
from bench.store import records
from bench.store.records import Record
from tests.helpers.fakes import REPO, calls, env_for, write_fakes

FAKE_TIME_S = 0.5  # what the fake hyperfine reports for every run

FAKE_HYPERFINE = r'''#!PYTHON
"""hyperfine -N --runs 1 --export-json F CMD, faked: logs itself into the fake tool's call log
(right before the command it times), runs CMD without a shell, reports FAKE_TIME_S."""
import json, shlex, subprocess, sys
args = sys.argv[1:]
assert args[:3] == ["-N", "--runs", "1"] and args[3] == "--export-json", args
export, command = args[4], args[5]
with open(LOG, "a") as f:
    f.write(json.dumps({"hyperfine": command}) + "\n")
rc = subprocess.run(shlex.split(command)).returncode
with open(export, "w") as f:
    json.dump({"results": [{"command": command, "times": [TIME], "exit_codes": [rc]}]}, f)
sys.exit(0)
'''


def fake_hyperfine(root):
    bin_dir = root / "bin"
    bin_dir.mkdir()
    path = bin_dir / "hyperfine"
    path.write_text(FAKE_HYPERFINE.replace("PYTHON", sys.executable)
                    .replace("LOG", repr(str(root / "calls.log")))
                    .replace("TIME", repr(FAKE_TIME_S)))
    path.chmod(0o755)
    return bin_dir


def run_bench(root, bin_dir, *args):
    env = env_for(root)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def sides(root, impl):
    """The fake tool's calls, each as who timed it: a call right after the fake hyperfine's
    own line is hyperfine's, any other the harness's."""
    found, after_hyperfine = [], False
    for entry in calls(root):
        if "hyperfine" in entry:
            after_hyperfine = True
            continue
        if entry.get("impl") == impl:
            found.append("hyperfine" if after_hyperfine else "harness")
        after_hyperfine = False
    return found


def test_pairs_alternate_and_store_the_ratio_against_hyperfine(tmp_path):
    root = write_fakes(tmp_path / "fakes")
    bin_dir = fake_hyperfine(root)
    out = tmp_path / "reports"
    r = run_bench(root, bin_dir, "run", "--impl", "faketool", "--scenario", "calibration",
                  "--setup", "laptop", "--no-warmup", "--rounds", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr
    (run_dir,) = out.iterdir()
    recs = sorted((x for x in records.load(run_dir / "records.jsonl")
                   if x.scenario == "calibration"), key=lambda x: x.round)

    assert [x.round for x in recs] == [1, 2, 3, 4]
    # odd rounds: the harness first; even rounds: hyperfine first
    assert sides(root, "faketool") == ["harness", "hyperfine", "hyperfine", "harness"] * 2
    assert [x.detail.first for x in recs] == ["harness", "hyperfine"] * 2
    for x in recs:
        assert x.status == "ok", (x.stderr_tail, x.detail)
        assert x.verify["predictions_match"] and x.steps_executed == (
            "load", "preprocess", "train", "predict", "evaluate")
        assert x.detail.hyperfine_times_s == (FAKE_TIME_S,)
        assert x.detail.hyperfine_verified is True
        assert x.detail.ratio == round(x.wall_s / FAKE_TIME_S, 6)
        assert "$WORKDIR" in x.detail.command

    # the methodology reads the same pairs back
    r = run_bench(root, bin_dir, "report", str(run_dir))
    assert r.returncode == 0, r.stderr
    (row,) = method_timing.agreement(recs)
    ratios = sorted(x.detail.ratio for x in recs)
    assert row["n"] == 4 and row["min"] == ratios[0] and row["max"] == ratios[-1]
    assert row["median"] == (ratios[1] + ratios[2]) / 2
    page = (run_dir / "index.html").read_text()
    assert "The harness's own clock" in page and f"{row['median']:.3f}" in page


def test_without_hyperfine_the_scenario_lists_no_slot(monkeypatch):
    monkeypatch.setattr(calibration, "hyperfine_path", lambda: None)
    adapter = types.SimpleNamespace(name="x", default_mode="m", runs_in=lambda s: True)
    assert calibration.slots("calibration", adapter, FULL, plan.Choice(None, ())) == []


def test_full_runs_ten_pairs_and_asking_for_it_alone_does_too():
    assert FULL.rounds["calibration"] == 10 and calibration.PAIRS == 10
    alone = PROFILES["default"].with_overrides(scenarios=["calibration"])
    assert alone.rounds == {"calibration": 10}
    assert alone.setups_of("calibration") == ("laptop", "team")
    assert PROFILES["default"].with_overrides(scenarios=["calibration"], rounds=3).rounds == {
        "calibration": 3}


def _pair(rnd, wall, times, *, status="ok", warmup=False):
    return Record(run_id="t", impl="tool", mode="m", scenario="calibration", round=rnd,
                  status=status, wall_s=wall, warmup=warmup,
                  detail={"first": "harness" if rnd % 2 else "hyperfine",
                          "hyperfine_times_s": [times], "hyperfine_process_wall_s": times + 0.01,
                          "ratio": round(wall / times, 6) if status == "ok" else None})


def test_agreement_and_share_from_known_records(tmp_path):
    recs = [_pair(1, 1.1, 1.0), _pair(2, 2.0, 2.0), _pair(3, 0.9, 1.0),
            _pair(4, 5.0, 1.0, status="unexpected_failure"), _pair(0, 9.0, 1.0, warmup=True),
            Record(run_id="t", impl="tool", mode="m", scenario="cold", round=1, status="ok",
                   wall_s=3.0, detail={"prepare": {"wall_s": 2.0}})]
    (row,) = method_timing.agreement(recs)
    assert (row["n"], row["failed"], row["median"], row["min"], row["max"]) == (3, 1, 1.0, 0.9, 1.1)
    assert row["within"] is True and row["harness_first"] == 2

    journal = [{"event": "begin", "n": 1, "at": 100.0}, {"event": "started", "n": 1, "pid": 5},
               {"event": "ended", "n": 1, "at": 104.0},
               {"event": "begin", "n": 2, "at": 104.5},  # groups processes: not one itself
               {"event": "begin", "n": 3, "at": 105.0}, {"event": "started", "n": 3, "pid": 6},
               {"event": "ended", "n": 3, "at": 111.0}, {"event": "ended", "n": 2, "at": 111.5}]
    (tmp_path / "sessions.jsonl").write_text("".join(json.dumps(e) + "\n" for e in journal))
    info = types.SimpleNamespace(started_epoch=1796194800.0, started_at=None,
                                 finished_at="2026-12-02T07:00:20+00:00",
                                 sessions=[{"wall_s": 19.0}], config={})
    found = method_timing.share(types.SimpleNamespace(info=info, records=recs,
                                                      run_dir=tmp_path))
    assert found["run_s"] == 20.0
    assert found["journal_s"] == 10.0 and found["processes"] == 2
    assert found["outside_journal_pct"] == 50.0
    timed = 1.1 + 2.0 + 0.9 + 5.0 + 9.0 + 3.0
    assert abs(found["parts"]["timed"] - timed) < 1e-9 and found["parts"]["prepare"] == 2.0
    assert abs(found["parts"]["hyperfine"] - (1.01 + 2.01 + 1.01 + 1.01 + 1.01)) < 1e-9
