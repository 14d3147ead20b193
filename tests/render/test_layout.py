"""The renderer's own rules: no import cycle, nothing imported from the measuring side, no
tool named in code or templates, autoescaping everywhere, and only charts and highlighted
sources marked safe."""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import jinja2
import pytest

from bench.render import page

RENDER = Path(page.__file__).parent
PY = sorted(RENDER.rglob("*.py"))
TEMPLATES = sorted((RENDER / "templates").rglob("*"))
TOOLS = re.compile(r"baseline|luigi|prefect|snakemake|gokart", re.I)
ALLOWED = ("bench.render", "bench.store", "bench.engine.profiles")


def _module(path: Path) -> str:
    parts = path.relative_to(RENDER.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every bench module this file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("bench")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bench"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_no_import_cycle_in_the_renderer():
    modules = {_module(p): p for p in PY}
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    # importing a.b.c runs a/__init__ and a/b/__init__ first
    for m in list(graph):
        graph[m] |= {parent for i in graph[m] for parent in _parents(i) if parent in modules}
    state: dict[str, int] = {}

    def visit(m, path):
        if state.get(m) == 2:
            return
        assert state.get(m) != 1, "import cycle: " + " -> ".join(path + [m])
        state[m] = 1
        for n in sorted(graph[m]):
            visit(n, path + [m])
        state[m] = 2

    for m in sorted(graph):
        visit(m, [])


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def test_only_the_store_and_the_profiles_are_imported_from_the_rest_of_bench():
    for path in PY:
        outside = {i for i in _imports(path) if not i.startswith(ALLOWED)}
        # "from bench.engine.profiles import X" also lists bench.engine.profiles.X: allowed
        assert outside == set(), f"{path.relative_to(RENDER)} imports {sorted(outside)}"


def _code_tokens(path: Path) -> list[str]:
    """Names and strings of a module, without comments and docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {id(n.value) for n in ast.walk(tree)
                  if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                  and isinstance(n.value.value, str)}
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
             and isinstance(n.value, str) and id(n) not in docstrings]
    names = [t.string for t in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
             if t.type == tokenize.NAME]
    return texts + names


@pytest.mark.parametrize("path", PY, ids=lambda p: str(p.relative_to(RENDER)))
def test_no_tool_is_named_in_code(path):
    named = [t for t in _code_tokens(path) if TOOLS.search(t)]
    assert named == []


@pytest.mark.parametrize("path", [p for p in TEMPLATES if p.is_file()],
                         ids=lambda p: str(p.relative_to(RENDER)))
def test_no_tool_is_named_in_templates(path):
    text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
    assert TOOLS.findall(text) == []


def test_only_charts_and_highlighted_sources_are_marked_safe():
    safe = []
    for path in TEMPLATES:
        if path.is_file():
            safe += re.findall(r"\{\{\s*([^}]*?)\s*\|\s*safe\b", path.read_text())
    assert set(safe) == {"f.html", "svg"}  # Pygments sources (code, set-ups) and charts
    for path in PY:
        assert "Markup" not in path.read_text(), path


def test_templates_escape_and_refuse_undefined_names():
    env = page.environment()
    for name in ("page.html.j2", "macros.html.j2", "sections/io.html.j2"):
        assert env.autoescape(name) is True
    assert env.autoescape("style.css") is False
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nothing.here }}").render()


def test_every_section_has_its_template():
    names = [s.name for s in page.SECTIONS]
    assert names == ["scorecard", "summary", "setups", "io", "failure", "cost", "code", "shape", "pertask", "parallel",
                     "rerun", "guide", "method"]
    for s in page.SECTIONS:
        assert (RENDER / "templates" / s.template).is_file()
    assert {p.stem.split(".")[0] for p in (RENDER / "templates" / "sections").iterdir()} == set(names)


def test_the_package_docstring_names_every_module():
    init = RENDER / "__init__.py"
    tree = ast.parse(init.read_text())
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)  # a docstring only
    doc = ast.get_docstring(tree)
    entries = {line.split()[0] for line in doc.splitlines()[2:] if line.strip()}
    here = {p.stem for p in RENDER.glob("*.py") if p.stem != "__init__"}
    here |= {p.name + "/" for p in RENDER.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert entries == here
