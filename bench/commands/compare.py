"""`python -m bench compare RUN_A RUN_B`: two stored runs side by side, measuring nothing.

Prints every slot both runs measured (median A, median B, ratio B/A, a verdict) as a table,
then the outcomes that differ and what differs between the runs (versions, machine, sources),
and writes the same as OUT/compare-A-vs-B/index.html.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.engine.process import REPO
from bench.store.records import SchemaError

REPORTS_DIR = REPO / "reports"
PROG = "bench compare"
VERDICT_STYLE = {"slower": "bold red", "faster": "bold green", "within noise": "dim",
                 "too few samples": "dim", "no usable samples": "dim"}


class _UserError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        raise _UserError(message)


def add_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("run_a", metavar="RUN_A", help="run id under --out, or a run directory")
    p.add_argument("run_b", metavar="RUN_B", help="run id under --out, or a run directory; "
                                                  "ratios are B / A")
    p.add_argument("--out", type=Path, default=REPORTS_DIR,
                   help="directory holding run directories, as for `bench run` (default: "
                        "%(default)s); the page goes to OUT/compare-A-vs-B/index.html")
    return p


def _parser() -> argparse.ArgumentParser:
    return add_options(_Parser(prog=PROG, description=__doc__.splitlines()[0]))


def resolve(run: str, reports_dir: Path) -> Path:
    for candidate in (Path(run), Path(reports_dir) / run):
        if candidate.is_dir():
            if not (candidate / "run.json").is_file():
                raise _UserError(f"{candidate} has no run.json: not a benchmark run directory")
            return candidate
    raise _UserError(f"no run {run!r}: neither a directory nor a run id under {reports_dir}")


def _links(out_page: Path, a: Path, b: Path) -> dict[str, str]:
    links = {}
    for side, run_dir in (("A", a), ("B", b)):
        if (run_dir / "index.html").is_file():
            links[side] = Path(os.path.relpath(run_dir / "index.html", out_page.parent)).as_posix()
    return links


def write(comparison, out_dir: Path) -> Path:
    from bench.render import compare

    page = Path(out_dir) / f"compare-{comparison.a}-vs-{comparison.b}" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    text = compare.html(comparison, _links(page, comparison.a_dir, comparison.b_dir))
    tmp = page.with_name(page.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, page)
    return page


def show(comparison, console) -> None:
    from rich.table import Table

    from bench.render import fmt

    c = comparison
    console.print(f"A = {c.a}   B = {c.b}   (ratio B / A: above 1, B took longer)")
    for side in ("A", "B"):
        f = c.facts[side]
        console.print(f"  {side}: started {f['started']}, "
                      f"{'finished ' + f['finished'] if f['finished'] else 'not finished'}, "
                      f"profile {f['profile']}, commit {f['commit'] or 'unknown'}"
                      f"{' (dirty)' if f['dirty'] else ''}, {f['machine']}", highlight=False)
    table = Table(title="Timed slots both runs measured", title_justify="left")
    for name, justify in (("slot", "left"), ("median A", "right"), ("median B", "right"),
                          ("B / A", "right"), ("95 % CI", "right"), ("verdict", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for r in c.timed:
        ci = ("" if r.ratio is None or not r.ratio.has_ci
              else f"[{fmt.number(r.ratio.low)}, {fmt.number(r.ratio.high)}]")
        verdict = r.verdict + (f" (beyond ×{c.threshold})" if r.by_threshold else "")
        table.add_row(r.label, f"{fmt.seconds(r.median_a)} n={r.n_a}",
                      f"{fmt.seconds(r.median_b)} n={r.n_b}",
                      "n/a" if r.ratio is None else f"×{fmt.number(r.ratio.value)}", ci,
                      f"[{VERDICT_STYLE.get(r.verdict, '')}]{verdict}[/]")
    console.print(table)
    counts = ", ".join(f"{n} {v}" for v, n in sorted(c.verdicts().items()))
    console.print(f"{len(c.timed)} timed slot(s): {counts or 'none'}", highlight=False)
    console.print(f"Method: {c.method}", highlight=False)
    changed = [o for o in c.outcomes if not o.same]
    console.print(f"Outcomes (resume, crash, rerun class, source lines): {len(changed)} of "
                  f"{len(c.outcomes)} differ", highlight=False)
    for o in changed:
        console.print(f"  different: {o.label}: {o.what} {', '.join(o.a) or 'none'} -> "
                      f"{', '.join(o.b) or 'none'}", highlight=False, markup=False)
    if c.differences:
        kinds = ", ".join(dict.fromkeys(d.kind for d in c.differences))
        console.print(f"The runs differ in: {kinds}", highlight=False)
        for d in c.differences:
            console.print(f"  {d.kind} {d.name}: {d.a if d.a is not None else 'absent'} -> "
                          f"{d.b if d.b is not None else 'absent'}", highlight=False,
                          markup=False)
    else:
        console.print("Same package versions, machine, Python, source hashes, commit and "
                      "settings.")
    if c.only_a or c.only_b:
        console.print(f"Measured in one run only: {len(c.only_a)} slot(s) in A, "
                      f"{len(c.only_b)} in B (listed on the page)")


def main(argv: list[str] | None = None, console=None) -> int:
    try:
        args = _parser().parse_args(argv)
        a_dir, b_dir = resolve(args.run_a, args.out), resolve(args.run_b, args.out)
        if a_dir.resolve() == b_dir.resolve():
            raise _UserError(f"{args.run_a!r} and {args.run_b!r} are the same run: "
                             "name two different runs")
        from bench.render import compare
        from bench.render.load import load_run

        comparison = compare.compare(load_run(a_dir), load_run(b_dir))
        page = write(comparison, args.out)
    except (_UserError, SchemaError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 1
    if console is None:
        from rich.console import Console
        console = Console()
    show(comparison, console)
    print(page)
    return 0
