"""Bad options get one line on stderr and exit status 2, before anything is measured."""
from __future__ import annotations

import pytest

from tests.helpers.fakes import bench, calls, write_fakes

BAD = {
    "unknown implementation": (["run", "--impl", "nosuchtool"], "unknown implementation"),
    "unknown scenario": (["run", "--scenario", "warp"], "unknown scenario"),
    "unknown mode": (["run", "--impl", "faketool", "--mode", "turbo"], "unknown mode"),
    "unknown step": (["run", "--steps", "fit"], "unknown step"),
    "bad scale": (["run", "--scales", "0"], "--scales"),
    "bad rounds": (["run", "--rounds", "0"], "--rounds"),
    "quick and full": (["run", "--quick", "--full"], "contradict each other"),
    "full and scaling": (["run", "--full", "--scaling"], "not allowed with"),
    "no such run": (["run", "--continue", "20000101-000000-quick"], "no run.json"),
    "missing data": (["run", "--data", "/no/such.csv"], "data file not found"),
    "unknown verb": (["measure"], "invalid choice"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_options_get_one_line_and_exit_2(tmp_path, case):
    argv, expected = BAD[case]
    root = write_fakes(tmp_path / "fakes")
    r = bench(root, *argv, *(["--out", str(tmp_path / "reports")] if argv[0] == "run" else []))
    assert r.returncode == 2, r.stderr
    assert expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert calls(root) == []
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
