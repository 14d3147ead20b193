"""The harness's structure: no tool named in its code, no probing of adapters, no import cycle."""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from bench.engine import registry
from tests.helpers.runner import REPO

BENCH = REPO / "bench"
TOOLS = re.compile(r"luigi|prefect|snakemake|gokart|dagster|metaflow|baseline", re.I)


def sources() -> list[Path]:
    return sorted(p for p in BENCH.rglob("*.py") if "__pycache__" not in p.parts)


def code_tokens(path: Path) -> list[tokenize.TokenInfo]:
    """Names and strings of the code, without comments and docstrings."""
    text = path.read_text()
    docstrings = {(node.body[0].value.lineno, node.body[0].value.col_offset)
                  for node in ast.walk(ast.parse(text))
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)
                  and isinstance(node.body[0].value.value, str)}
    return [tok for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type in (tokenize.NAME, tokenize.STRING) and tok.start not in docstrings]


def test_no_tool_is_named_in_the_harness_outside_the_adapter_list():
    listed = set(registry.ADAPTERS)
    found = []
    for path in sources():
        for tok in code_tokens(path):
            if TOOLS.search(tok.string) and tok.string.strip("'\"") not in listed:
                found.append(f"{path.relative_to(REPO)}:{tok.start[0]}: {tok.string}")
    assert found == []


def test_the_harness_never_probes_an_adapter():
    """Adapters are typed values: no getattr/hasattr on them, no inspect anywhere."""
    found = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "inspect" in names:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: imports inspect")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("getattr", "hasattr") and node.args
                  and re.search(r"adapter|impl|module", ast.unparse(node.args[0]))):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The bench modules a module imports at its top level (TYPE_CHECKING blocks excluded)."""
    found = set()
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import):
                names = [a.name for a in sub.names]
            elif isinstance(sub, ast.ImportFrom) and sub.module:
                names = [sub.module] + [f"{sub.module}.{a.name}" for a in sub.names]
            else:
                continue
            found |= {n for n in names if n in known}
    return found - {_module(path)}


def test_the_harness_has_no_import_cycle():
    modules = {_module(p): p for p in sources()}
    graph = {name: _imports(path, set(modules)) for name, path in modules.items()}
    # a package's __init__ runs before its submodules: importing a submodule imports it too
    for name in list(graph):
        parent = name.rpartition(".")[0]
        graph[name] = {g for g in graph[name] if g != parent}
    cycles = []

    def visit(node, stack):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, stack + [node])

    for start in sorted(graph):
        visit(start, [])
        if cycles:
            break
    assert cycles == []


def test_the_top_level_holds_only_the_entry_points_and_the_layers():
    entries = sorted(p.name for p in BENCH.iterdir() if not p.name.startswith((".", "__pycache")))
    assert entries == ["README.md", "__init__.py", "__main__.py", "commands", "contract.md",
                       "engine", "records.md", "render", "scenarios", "store"]
