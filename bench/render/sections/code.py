"""Code size: source lines, tokens and gzip bytes of what a user of each tool writes, against
the reference, and the sources stored with the run, highlighted by Pygments."""
from __future__ import annotations

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, TextLexer, find_lexer_class_for_filename
from pygments.util import ClassNotFound

from bench.render.analysis import stats
from bench.render.analysis.groups import Index
from bench.render.load import RunData
from bench.render.sections.base import Section

TOTALS = ("sloc", "tokens", "gzip_bytes")
# Workflow files that are Python with a few extra statements (rule blocks), by name or suffix;
# Pygments has no lexer of their own.
PYTHON_DIALECT_NAMES = ("Snakefile",)
PYTHON_DIALECT_SUFFIXES = (".smk",)
CSS_CLASS = "hl"


def build(run: RunData, ix: Index) -> dict:
    latest = {}
    for r in ix.select("codesize", phase=None):
        if r.impl not in latest or r.round >= latest[r.impl].round:
            latest[r.impl] = r
    ref = latest.get(ix.reference)
    rows = []
    for impl in [i for i in ix.impls if i in latest]:
        d = latest[impl].detail
        totals = {k: getattr(d, k) for k in TOTALS}
        diff = ({k: totals[k] - getattr(ref.detail, k) for k in totals
                 if stats.is_finite(totals[k]) and stats.is_finite(getattr(ref.detail, k))}
                if ref is not None and impl != ix.reference else None)
        files = [{"path": p, **v} for p, v in sorted((d.files or {}).items())]
        rows.append({"impl": impl, **totals, "over_reference": diff, "files": files})
    order = {impl: i for i, impl in enumerate(ix.impls)}
    sources = [{"impl": impl, "files": [{"path": p, "text": t, "html": highlighted(p, t)}
                                        for p, t in files.items()]}
               for impl, files in sorted(run.sources.items(),
                                         key=lambda kv: (order.get(kv[0], len(order)), kv[0]))]
    return {"rows": rows, "sources": sources}


def highlighted(path: str, text: str) -> str:
    """The source as Pygments HTML (it escapes the text itself)."""
    name = path.rsplit("/", 1)[-1]
    if name in PYTHON_DIALECT_NAMES or name.endswith(PYTHON_DIALECT_SUFFIXES):
        lexer = PythonLexer()
    else:
        try:
            cls = find_lexer_class_for_filename(name, text)
            lexer = cls() if cls else TextLexer()
        except ClassNotFound:
            lexer = TextLexer()
    return highlight(text, lexer, HtmlFormatter(cssclass=CSS_CLASS, wrapcode=True))


def highlight_css() -> str:
    return HtmlFormatter(style="default").get_style_defs(f".{CSS_CLASS}")


def charts(data: dict) -> dict[str, str | None]:
    return {}  # sizes are a few counts per tool: the table says it all


SECTION = Section("code", "Code size", build, charts)
