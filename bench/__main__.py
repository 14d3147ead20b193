"""`python -m bench run|report|all|list|compare`: measure, render, both, or show what can be measured."""
from __future__ import annotations

import argparse
import sys

from bench.commands import run
from bench.store.records import SchemaError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m bench", description=__doc__.splitlines()[0])
    verbs = p.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    run.add_options(verbs.add_parser("run", help="measure and store records"))
    run.add_options(verbs.add_parser("all", help="run, then render the report"))
    verbs.add_parser("report", help="render the HTML report from stored records "
                                    "(see `python -m bench report -h`)", add_help=False)
    verbs.add_parser("compare", help="two stored runs side by side, slot by slot "
                                     "(see `python -m bench compare -h`)", add_help=False)
    lst = verbs.add_parser("list", help="implementations, modes and scenarios")
    run.add_profile_options(lst)
    return p


def _report(argv: list[str]) -> int:
    from bench.commands import report  # the report's own options; matplotlib only when used
    return report.main(argv) or 0


def _compare(argv: list[str]) -> int:
    from bench.commands import compare  # its own options; Jinja2 and rich only when used
    return compare.main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        return _report(argv[1:])
    if argv[:1] == ["compare"]:
        return _compare(argv[1:])
    args = parser().parse_args(argv)
    try:
        if args.verb == "list":
            from bench.commands import list as listing
            return listing.main(args)
        status, run_id = run.main(args, argv)
        if args.verb == "all" and status == 0 and run_id:
            return _report([run_id] + (["--out", str(args.out)] if args.out != run.DEFAULT_OUT
                                       else []))
        return status
    except (run.UsageError, SchemaError, FileNotFoundError) as exc:
        print(f"python -m bench {args.verb}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
