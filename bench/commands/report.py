"""`python -m bench report [RUN_ID | RUN_DIR]`: render a stored run as HTML, measuring nothing.

Reads only the run directory (run.json, records.jsonl, floor.json, sources/, dags/), writes
its index.html, refreshes the list of runs beside it (reports/index.html), prints the path.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.engine.process import REPO
from bench.store.records import SchemaError

REPORTS_DIR = REPO / "reports"
PROG = "bench report"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        raise _UserError(message)


class _UserError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("run", nargs="?", default=None,
                   help="run id under --out, or a run directory (default: the latest run)")
    p.add_argument("--out", type=Path, default=REPORTS_DIR,
                   help="directory holding run directories, as for `bench run` "
                        "(default: %(default)s); its index.html lists them")
    p.add_argument("--html", type=Path, default=None, metavar="DIR",
                   help="write index.html (and copies of the raw records it links to) into DIR "
                        "instead of the run directory")
    return p


def resolve_run(run: str | None, reports_dir: Path) -> Path:
    from bench.render.publish import list_runs

    if run is None:
        runs = list_runs(reports_dir) if reports_dir.is_dir() else []
        if not runs:
            raise _UserError(f"no runs under {reports_dir}; run `python -m bench run` first")
        return runs[0]["dir"]
    for candidate in (Path(run), reports_dir / run):
        if candidate.is_dir():
            return candidate
    raise _UserError(f"no run {run!r}: neither a directory nor a run id under {reports_dir}")


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        run_dir = resolve_run(args.run, args.out)
        from bench.render.publish import render_index, render_run  # matplotlib only here

        page = render_run(run_dir, args.html)
        if page.parent.parent.resolve() == args.out.resolve():
            render_index(args.out)
    except (_UserError, SchemaError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 1
    print(page)
    return 0

