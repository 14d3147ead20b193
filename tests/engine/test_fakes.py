"""The fake adapters keep the contract, and a broken adapter is one line, never a crash."""
from __future__ import annotations

import subprocess
import sys

from bench.engine import registry
from tests.helpers.fakes import REPO, env_for, write_fakes


def test_fakes_keep_the_adapter_contract(tmp_path, monkeypatch):
    root = write_fakes(tmp_path / "fakes")
    monkeypatch.syspath_prepend(str(root))
    loaded = registry.load(("fake_baseline", "fake_tool", "no_such_adapter_module"))
    assert [a.name for a in loaded.adapters] == ["baseline", "faketool"]
    assert len(loaded.problems) == 1 and "no_such_adapter_module" in loaded.problems[0]
    tool = loaded.by_name()["faketool"]
    assert tool.handoff_modes() == ("ok", "values")
    assert tool.resumes and not loaded.by_name()["baseline"].resumes


def test_an_unavailable_adapter_is_one_note_not_a_crash(tmp_path):
    root = write_fakes(tmp_path / "fakes")
    env = env_for(root)
    env[registry.OVERRIDE_ENV] = "fake_baseline,fake_tool,impl_not_written_yet.adapter"
    r = subprocess.run([sys.executable, "-m", "bench", "list"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "not available: impl_not_written_yet.adapter" in r.stdout
    assert "faketool" in r.stdout and "Traceback" not in r.stderr
