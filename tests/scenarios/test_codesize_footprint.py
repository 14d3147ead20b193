"""The code-size count and the install footprint."""
from __future__ import annotations

from bench.engine import registry
from bench.scenarios import codesize, footprint

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
    for adapter in loaded.adapters:
        if adapter.reference is not None:
            continue
        info = footprint.installed(adapter)
        assert adapter.name in {p["name"].lower() for p in info["packages"]}
        assert info["distributions"] == len(info["packages"]) > 1
