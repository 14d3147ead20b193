from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import runner


@pytest.fixture(scope="session")
def baseline_outputs(tmp_path_factory) -> dict[str, tuple[str, str]]:
    """The plain baseline's predictions sha256 and metrics text, per format."""
    result = {}
    for fmt in ("csv", "pickle", "parquet"):
        wd = tmp_path_factory.mktemp(f"baseline-{fmt}") / "wd"
        argv = [runner.PY, "-m", "core.baseline", "--workdir", str(wd), "--format", fmt]
        r = runner.run(argv, wd)
        assert r.rc == 0, r.stderr
        result[fmt] = (runner.sha256(wd / "out/predictions.csv"),
                       (wd / "out/metrics.json").read_text())
    return result


@pytest.fixture
def workdir(tmp_path) -> Path:
    return tmp_path / "wd"
