"""codesize: how much code a user writes: source lines, tokens and gzip bytes, per
implementation.

Lines are counted without blanks, comments and docstrings. Gzip bytes follow the Benchmarks
Game's measure: comments stripped, runs of whitespace collapsed to one space, then gzip -9.
A Snakefile is counted as Python (its rules are Python's tokens). Other files (luigi.cfg,
YAML) are counted line by line with `#` and `;` comments.
"""
from __future__ import annotations

import gzip
import io
import re
import tokenize
from pathlib import Path

from bench.scenarios.base import Scenario

SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
           tokenize.ENDMARKER, tokenize.ENCODING}
PYTHON_NAMES = ("Snakefile",)
PYTHON_SUFFIXES = (".py", ".smk")


def measure_files(repo: Path, paths) -> dict:
    files = {rel: measure(repo / rel) for rel in paths}
    totals = {k: sum(f[k] for f in files.values()) for k in ("sloc", "tokens", "gzip_bytes")}
    return {"files": files, **totals}


def measure(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.name in PYTHON_NAMES or path.suffix in PYTHON_SUFFIXES:
        try:
            kept = _python_code(text)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            kept = _plain_code(text, ("#",))
    else:
        kept = _plain_code(text, ("#", ";"))
    collapsed = re.sub(r"\s+", " ", "\n".join(kept)).strip()
    return {"sloc": sum(1 for line in kept if line.strip()),
            "tokens": _count_tokens(text, path, kept),
            "gzip_bytes": len(gzip.compress(collapsed.encode(), compresslevel=9, mtime=0))}


def _python_code(text: str) -> list[str]:
    """The source with comments and docstrings blanked out, line by line."""
    lines = text.splitlines()
    blank: list[tuple[tuple[int, int], tuple[int, int]]] = []
    previous = tokenize.NEWLINE
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    for i, tok in enumerate(tokens):
        following = tokens[i + 1].type if i + 1 < len(tokens) else tokenize.ENDMARKER
        if tok.type == tokenize.COMMENT:
            blank.append((tok.start, tok.end))
        elif (tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT,
                                                           tokenize.DEDENT, tokenize.NL)
              and following in (tokenize.NEWLINE, tokenize.ENDMARKER)):
            blank.append((tok.start, tok.end))  # a docstring: a statement that is a string
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            previous = tok.type
    for (srow, scol), (erow, ecol) in reversed(blank):
        if srow == erow:
            lines[srow - 1] = lines[srow - 1][:scol] + lines[srow - 1][ecol:]
        else:
            lines[srow - 1] = lines[srow - 1][:scol]
            for row in range(srow, erow - 1):
                lines[row] = ""
            lines[erow - 1] = lines[erow - 1][ecol:]
    return lines


def _plain_code(text: str, comment_marks: tuple[str, ...]) -> list[str]:
    return ["" if line.strip().startswith(comment_marks) else line for line in text.splitlines()]


def _count_tokens(text: str, path: Path, kept: list[str]) -> int:
    try:
        return sum(1 for tok in tokenize.generate_tokens(io.StringIO("\n".join(kept)).readline)
                   if tok.type not in SKIPPED)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return len(re.findall(r"\w+|[^\w\s]", "\n".join(kept)))


def once(session) -> None:
    """One record per implementation, counted (not timed) when the run starts."""
    for adapter in session.selected:
        session.store_once(adapter, "codesize",
                           measure_files(session.repo, adapter.source_files))


SCENARIO = Scenario(name="codesize",
                    description="user-written source: lines, tokens, gzip bytes (not timed)",
                    once=once)
