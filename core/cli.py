"""The command-line options every pipeline command shares, and the one-line error contract."""
from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from pathlib import Path

from core import FORMATS
from core.errors import UserError
from core.params import Params


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage dump is noise; keep the one-line contract
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (a row multiplier, a task count)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


# Model settings a run may change from the command line; format and scale have their own options.
SETTABLE = tuple(f.name for f in dataclasses.fields(Params) if f.name not in ("format", "scale"))


def _setting(text: str) -> tuple[str, int | float]:
    """KEY=VALUE for one of SETTABLE, the value of the same type as the default."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or key not in SETTABLE:
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE with KEY one of {', '.join(SETTABLE)}, got {text!r}")
    kind = type(getattr(Params, key))
    try:
        return key, kind(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{key} must be {'a whole number' if kind is int else 'a number'}, "
            f"got {raw!r}") from None


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description=description)
    p.add_argument("--workdir", required=True, type=Path,
                   help="working directory: staged input, artefacts and all tool state")
    p.add_argument("--data", default=None,
                   help="CSV of passengers (OpenML or Kaggle column names); "
                        "default: the Titanic copy shipped with scikit-learn")
    p.add_argument("--format", default=Params.format, choices=FORMATS,
                   help="format of tabular artefacts handed over as files (default %(default)s)")
    p.add_argument("--scale", default=1, type=positive_int,
                   help="row multiplier for the training data, applied after the split")
    p.add_argument("--param", action="append", default=[], type=_setting, metavar="KEY=VALUE",
                   help=f"set a model setting ({', '.join(SETTABLE)}); repeatable; staged "
                        "into params.yaml, so every tool sees the change its own way")
    return p


def params_from(args) -> Params:
    """Params.__post_init__ checks the ranges (one-line UserError); `param` may be absent from
    namespaces built by callers that predate the option."""
    return Params(format=args.format, scale=args.scale, **dict(getattr(args, "param", None) or []))


def guarded(main):
    """Turn UserError into `prog: error: ...` on one line and exit status 2."""
    @functools.wraps(main)
    def run(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
    return run
