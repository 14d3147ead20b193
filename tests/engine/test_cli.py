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


HEADER = "survived,pclass,name,sex,age,sibsp,parch,fare,embarked\n"
BAD_DATA = {
    "empty file": ("", "is empty"),
    "not the passenger columns": ("a,b\n1,2\n", "missing required column(s)"),
    "malformed row": (HEADER + '1,1,"A, Mr. B,male,22,0,0,7.2,S\n', "not a readable CSV"),
    "text in a numeric column": (HEADER + '1,1,"A, Mr. B",male,old,0,0,7.2,S\n', "must be numeric"),
    "unknown sex": (HEADER + '1,1,"A, Mr. B",M,22,0,0,7.2,S\n0,3,"C, Mr. D",male,30,0,0,8,S\n',
                    "column 'sex' must contain only male, female; row 2 has 'M'"),
    "unknown port": (HEADER + '1,1,"A, Mr. B",male,22,0,0,7.2,X\n0,3,"C, Mr. D",male,30,0,0,8,S\n',
                     "column 'embarked' must contain only C, Q, S"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_a_data_file_the_pipelines_refuse_is_refused_before_any_run_directory(tmp_path, case):
    text, expected = BAD_DATA[case]
    csv = tmp_path / "passengers.csv"
    csv.write_text(text)
    root = write_fakes(tmp_path / "fakes")
    r = bench(root, "run", "--data", str(csv), "--out", str(tmp_path / "reports"))
    assert r.returncode == 2, r.stderr
    assert expected in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert calls(root) == [] and not (tmp_path / "reports").exists()
