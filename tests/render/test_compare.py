"""`bench compare`: the checked-in fixture run against copies of itself, changed on purpose."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from bench import __main__ as cli
from bench.commands import compare as command
from bench.render import compare
from bench.render.analysis import stats
from bench.render.load import load_run
from tests.render.conftest import copy_run

ENOUGH = stats.MIN_SAMPLES_FOR_CI


def _edit_records(run_dir: Path, change) -> None:
    path = run_dir / "records.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.write_text("".join(json.dumps(change(r) or r) + "\n" for r in lines))


def _doubled(r: dict) -> None:
    r["wall_s"] = r["wall_s"] * 2


def _edit_info(run_dir: Path, change) -> None:
    path = run_dir / "run.json"
    info = json.loads(path.read_text())
    change(info)
    path.write_text(json.dumps(info))


def _compare(a: Path, b: Path) -> compare.Comparison:
    return compare.compare(load_run(a), load_run(b))


def _walls(run_dir: Path, key: tuple) -> list[float]:
    return [r.wall_s for r in load_run(run_dir).records
            if r.usable and compare.slot_key(r) == key]


def test_doubled_walls_are_slower(tmp_path):
    a, b = copy_run(tmp_path, "run-a"), copy_run(tmp_path, "run-b")
    _edit_records(b, _doubled)
    c = _compare(a, b)
    assert c.timed and not c.only_a and not c.only_b
    enough = [r for r in c.timed if min(r.n_a, r.n_b) >= ENOUGH]
    clear = []
    for row in enough:
        assert row.ratio.value == pytest.approx(2.0)
        walls = _walls(a, row.key)
        # Every resampled ratio is at least 2 min(A) / max(A): above 1 unless one sample of A
        # is more than twice another, so the interval cannot include 1.
        if max(walls) < 2 * min(walls):
            clear.append(row)
            assert row.verdict == compare.SLOWER, row
        else:  # an outlier round: only the interval decides
            assert row.verdict == (compare.SLOWER if row.ratio.low > 1 else compare.NOISE), row
    assert len(clear) >= 10
    for row in c.timed:
        if 0 < min(row.n_a, row.n_b) < ENOUGH:  # x2 is beyond the threshold
            assert row.verdict == compare.SLOWER and row.by_threshold, row
    assert compare.FASTER not in c.verdicts()
    assert all(o.same for o in c.outcomes)  # the outcomes did not change, only the times


def test_a_copy_is_within_noise(tmp_path):
    a, b = copy_run(tmp_path, "run-a"), copy_run(tmp_path, "run-b")
    c = _compare(a, b)
    assert c.differences == []
    enough = [r for r in c.timed if min(r.n_a, r.n_b) >= ENOUGH]
    assert len(enough) >= 10
    for row in c.timed:
        if row.n_a == 0 or row.n_b == 0:
            assert row.verdict == compare.MISSING
        elif min(row.n_a, row.n_b) >= ENOUGH:
            assert row.verdict == compare.NOISE and row.ratio.low <= 1 <= row.ratio.high, row
        else:
            assert row.verdict == compare.FEW and row.ratio.value == 1.0, row
    assert c.outcomes and all(o.same for o in c.outcomes)


def test_judge_on_known_samples():
    base = [1.0, 1.01, 0.99, 1.02, 0.98]
    assert compare.judge(base, [2 * x for x in base])[1] == compare.SLOWER
    assert compare.judge(base, [x / 2 for x in base])[1] == compare.FASTER
    assert compare.judge(base, list(base))[1] == compare.NOISE
    assert compare.judge([1.0] * 5, [1.0] * 5)[1] == compare.NOISE  # MAD 0, no spread at all
    few = [1.0, 1.1, 0.9]
    t = compare.CLEAR_RATIO
    assert compare.judge(few, [x * (t + 0.1) for x in few])[1] == compare.SLOWER
    assert compare.judge(few, [x / (t + 0.1) for x in few])[1] == compare.FASTER
    assert compare.judge(few, [x * (t - 0.2) for x in few])[1] == compare.FEW
    assert compare.judge([1.0], [1.2])[1] == compare.FEW  # a single sample each
    ratio, verdict, basis = compare.judge([], [1.0])
    assert ratio is None and verdict == compare.MISSING and "run A" in basis


def test_differences_are_named(tmp_path):
    a, b = copy_run(tmp_path, "run-a"), copy_run(tmp_path, "run-b")

    def change(info):
        info["packages"]["luigi"] = "3.9.0"
        info["packages"]["gokart"] = "1.2.3"
        del info["packages"]["pyarrow"]
        info["machine"]["hostname"] = "other-host"
        info["machine"]["loadavg_at_start"] = [1.9, 1.0, 0.8]  # not a machine difference
        info["source_hashes"]["snakemake"] = "0" * 64
        info["git"]["commit"] = "f" * 40
    _edit_info(b, change)
    c = _compare(a, b)
    old_hash = json.loads((a / "run.json").read_text())["source_hashes"]["snakemake"]
    found = {(d.kind, d.name): (d.a, d.b) for d in c.differences}
    assert found == {("package", "luigi"): ("3.8.1", "3.9.0"),
                     ("package", "gokart"): (None, "1.2.3"),
                     ("package", "pyarrow"): ("26.0.1", None),
                     ("machine", "hostname"): ("fixture", "other-host"),
                     ("source hash", "snakemake"): (old_hash, "0" * 64),
                     ("git", "commit"): ("31be6514de034ce0c6ac4e5ca64ba1c2a8c58a79", "f" * 40)}
    assert compare.kinds_differing(c) == ["package", "machine", "source hash", "git"]

    out = io.StringIO()
    assert command.main(["run-a", "run-b", "--out", str(tmp_path)],
                        console=Console(file=out, width=200)) == 0
    text = out.getvalue()
    assert "package luigi: 3.8.1 -> 3.9.0" in text
    assert "machine hostname: fixture -> other-host" in text
    page = (tmp_path / "compare-run-a-vs-run-b" / "index.html").read_text()
    assert "<code>3.8.1</code></td><td><code>3.9.0</code>" in page
    assert "The runs differ in package, machine, source hash, git" in page


def test_a_changed_outcome_is_different(tmp_path):
    a, b = copy_run(tmp_path, "run-a"), copy_run(tmp_path, "run-b")

    def refuse(r):
        slot = (r["impl"], r["mode"], r["scenario"], r.get("step"))  # schema 1: step
        if slot == ("prefect", "memory", "crash", "load"):
            r.update(outcome="refused", status="expected_failure")
    _edit_records(b, refuse)
    c = _compare(a, b)
    changed = [o for o in c.outcomes if not o.same]
    assert len(changed) == 1
    assert changed[0].key[:2] == ("prefect", "memory") and changed[0].key[4:6] == ("crash", "load")
    assert (changed[0].a, changed[0].b) == (("recovered",), ("refused",))
    row = next(r for r in c.timed if r.key == changed[0].key)  # refused: no usable time
    assert row.n_b == 0 and row.verdict == compare.MISSING


def test_command_prints_and_writes_a_self_contained_page(tmp_path, capsys):
    a, b = copy_run(tmp_path, "run-a"), copy_run(tmp_path, "run-b")
    _edit_records(b, _doubled)
    (a / "index.html").write_text("<p>report</p>")  # a rendered report gets a link
    out = io.StringIO()
    assert command.main(["run-a", str(b), "--out", str(tmp_path)],
                        console=Console(file=out, width=200)) == 0
    page_path = tmp_path / "compare-run-a-vs-run-b" / "index.html"
    assert capsys.readouterr().out.strip() == str(page_path)
    text = out.getvalue()
    assert "Timed slots both runs measured" in text and "percentile bootstrap" in text
    assert "slower" in text and "(beyond ×1.5)" in text
    page = page_path.read_text()
    assert "<style>" in page and "<script" not in page and "src=" not in page
    assert "http://" not in page and "https://" not in page
    assert '<a href="../run-a/index.html">run-a (run.json: run-fixture)</a>' in page
    assert 'href="../run-b/' not in page
    assert "percentile bootstrap of the ratio of medians" in page
    assert page.count('class="v-slower"') == sum(
        r.verdict == compare.SLOWER for r in _compare(a, b).timed)


def _one_line(capsys, rc, needle):
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert needle in err


def test_bad_input_is_one_line(tmp_path, capsys):
    copy_run(tmp_path, "run-a")
    (tmp_path / "no-json").mkdir()
    out = ["--out", str(tmp_path)]
    _one_line(capsys, cli.main(["compare", "run-a", "run-x"] + out), "no run 'run-x'")
    _one_line(capsys, cli.main(["compare", "run-a", "no-json"] + out), "has no run.json")
    _one_line(capsys, cli.main(["compare", "run-a", "run-a"] + out), "the same run")
    _one_line(capsys, cli.main(["compare", "run-a", str(tmp_path / "run-a")] + out),
              "the same run")
    _one_line(capsys, cli.main(["compare", "run-a"] + out), "RUN_B")
    assert not list(tmp_path.glob("compare-*"))
