"""The synthetic workload of the pertask scenario: N trivial tasks as a chain or a fan-out.

Every tool runs the same task bodies below, so what differs between tools is only what each
adds per task. Each task writes one tiny JSON file through core.io and is traced as one
`compute` span named TASK; the fan-out's final sum is one more span named GATHER.

- chain:  task 1 writes 1; task i reads task i-1's file (or takes its value) and writes +1.
          The result, task N's file, holds N.
- fanout: task i writes i, independently; gather reads all N and writes their sum N(N+1)/2.

`python -m core.synthetic --workdir DIR --shape chain|fanout --n N` is the plain-Python
baseline: the same bodies in a loop.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core import cli, instrument, io
from core.errors import UserError

SHAPES = ("chain", "fanout")
TASK = "task"
GATHER = "gather"


# ---------------------------------------------------------------- where things live

def task_path(shape: str, i: int) -> str:
    return f"interim/{shape}/task_{i}.json"


GATHER_PATH = "out/fanout_sum.json"


def result_path(shape: str, n: int) -> str:
    """Workdir-relative file holding the workload's final value."""
    return task_path(shape, n) if shape == "chain" else GATHER_PATH


def expected_value(shape: str, n: int) -> int:
    return n if shape == "chain" else n * (n + 1) // 2


def expected_spans(shape: str, n: int) -> dict[str, int]:
    """Compute spans a complete run records, by step name."""
    return {TASK: n} if shape == "chain" else {TASK: n, GATHER: 1}


def read_result(path: str | Path) -> int:
    """The final value as stored; no trace span, since the harness reads it, not a task."""
    return int(json.loads(Path(path).read_text())["value"])


# ---------------------------------------------------------------- the task bodies

def _traced(step: str, compute):
    with instrument.span(step, "compute"):
        return compute()


def _write(step: str, value: int, out) -> int:
    io.write_json(step, {"value": value}, out)
    return value


def link(i: int, upstream_path, out) -> int:
    """Chain task i, files hand-off: reads task i-1's file (none for i = 1)."""
    before = io.read_json(TASK, upstream_path)["value"] if upstream_path else 0
    return _write(TASK, _traced(TASK, lambda: before + 1), out)


def link_value(i: int, upstream_value: int | None, out) -> int:
    """Chain task i, value hand-off: gets task i-1's value (None for i = 1)."""
    return _write(TASK, _traced(TASK, lambda: (upstream_value or 0) + 1), out)


def leaf(i: int, out) -> int:
    """Fan-out task i."""
    return _write(TASK, _traced(TASK, lambda: i), out)


def gather(paths, out) -> int:
    """The fan-out's reduce, files hand-off: reads every leaf's file."""
    values = [io.read_json(GATHER, p)["value"] for p in paths]
    return _write(GATHER, _traced(GATHER, lambda: sum(values)), out)


def gather_values(values, out) -> int:
    """The fan-out's reduce, value hand-off."""
    values = list(values)
    return _write(GATHER, _traced(GATHER, lambda: sum(values)), out)


# ---------------------------------------------------------------- command line

def parser(prog: str, description: str, modes: tuple[str, ...] = (),
           extra=None) -> argparse.ArgumentParser:
    """The options every tool's synthetic command shares; bad values end in one line, exit 2."""
    p = cli._Parser(prog=prog, description=description)
    p.add_argument("--workdir", required=True, type=Path,
                   help="working directory: the task files and all tool state")
    p.add_argument("--shape", required=True, choices=SHAPES)
    p.add_argument("--n", required=True, type=cli.positive_int, help="number of tasks (>= 1)")
    if modes:
        p.add_argument("--mode", choices=modes, default=modes[0],
                       help="how the tool runs the tasks (default %(default)s)")
    if extra:
        extra(p)  # a tool's own options (its scheduler's address...)
    return p


def parse(prog: str, description: str, argv=None, modes: tuple[str, ...] = (), extra=None):
    args = parser(prog, description, modes, extra).parse_args(argv)
    args.workdir = args.workdir.resolve()
    try:
        args.workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the working directory {args.workdir}: "
                        f"{exc.strerror}") from None
    return args


def run_plain(workdir: Path, shape: str, n: int) -> int:
    at = lambda rel: workdir / rel  # noqa: E731
    if shape == "chain":
        for i in range(1, n + 1):
            link(i, at(task_path(shape, i - 1)) if i > 1 else None, at(task_path(shape, i)))
        return n
    for i in range(1, n + 1):
        leaf(i, at(task_path(shape, i)))
    return gather([at(task_path(shape, i)) for i in range(1, n + 1)], at(GATHER_PATH))


@cli.guarded
def main(argv=None) -> int:
    args = parse("python -m core.synthetic", "N trivial tasks in a plain loop", argv)
    run_plain(args.workdir, args.shape, args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
