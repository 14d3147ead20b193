"""What the harness measures from outside a process, and the code-size and footprint counts."""
from __future__ import annotations

import sys

from bench import codesize, execute, footprint, registry

SOURCE = '''"""Module docstring: not code."""
import os  # a comment


def f(x):
    """Docstring: not code either."""
    # a whole-line comment
    return os.path.join(x,   "y")

'''


def test_code_size_drops_blanks_comments_and_docstrings(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    size = codesize.measure(path)
    assert size["sloc"] == 3  # import, def, return
    assert size["tokens"] == len("import os def f ( x ) : return os . path . join ( x , \"y\" )"
                                 .split())
    same_code = tmp_path / "n.py"
    same_code.write_text('import os\ndef f(x):\n  return os.path.join(x, "y")\n')
    assert codesize.measure(same_code)["gzip_bytes"] == size["gzip_bytes"]


def test_a_snakefile_is_counted_as_python(tmp_path):
    path = tmp_path / "Snakefile"
    path.write_text('# rules\nrule all:\n    input: "a.txt"  # target\n')
    assert codesize.measure(path)["sloc"] == 2


def test_footprint_closure_follows_requirements():
    names = {p["name"].lower() for p in footprint.closure(("pytest",))}
    assert {"pytest", "pluggy", "iniconfig", "packaging"} <= names
    assert all(p["bytes"] > 0 for p in footprint.closure(("pytest",)))


def test_footprint_of_each_tool_names_its_own_distribution():
    loaded = registry.load()
    for impl in loaded.impls:
        if impl.is_baseline:
            continue
        info = footprint.installed(impl)
        assert impl.name in {p["name"].lower() for p in info["packages"]}
        assert info["distributions"] == len(info["packages"]) > 1


def test_memory_and_bytes_written_are_seen_from_outside(tmp_path):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    code = ("import os, time; block = bytearray(150 * 2**20); time.sleep(0.5); "
            "open('f', 'wb').write(os.urandom(8 * 2**20))")
    out = execute.run([sys.executable, "-c", code], env=execute.base_environment(workdir),
                      cwd=workdir, logs=tmp_path / "logs", timeout_s=60)
    assert out.exit_code == 0
    assert out.max_rss_kb >= 150 * 1024 and out.max_rss_single_kb >= 150 * 1024
    assert out.io["wchar"] >= 8 * 2**20
    assert execute.disk_usage(workdir, ("out",), ())["state_bytes"] == 8 * 2**20
    assert out.cpu_s > 0 and out.end_epoch > out.launch_epoch
