"""How numbers read in the report: few significant digits, units always written out.

The templates use them as filters (bench/render/page.py FILTERS).
"""
from __future__ import annotations

import collections
import math
import re
import shlex

from bench.render.analysis import stats


def seconds(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0 s"
    if abs(x) < 1:
        return f"{_sig(x * 1000)} ms"
    return f"{_sig(x)} s"


def seconds_tick(x: float) -> str:
    """Axis labels: as short as the tick values allow (2 s, 500 ms)."""
    if x <= 0:
        return "0"
    return f"{x:g} s" if x >= 1 else f"{x * 1000:g} ms"


def signed_seconds(x: float | None) -> str:
    if x is None:
        return "n/a"
    return ("+" if x >= 0 else "−") + seconds(abs(x))


def _sig(x: float, digits: int = 3) -> str:
    """Three significant digits, without scientific notation for the sizes a report shows."""
    if x == 0:
        return "0"
    places = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{places}f}"


def number(x: float | None) -> str:
    return "n/a" if x is None else _sig(float(x))


def count(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,}"


def nbytes(n: float | None) -> str:
    if n is None:
        return "n/a"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{_sig(n / size)} {unit}"
    return f"{int(n)} B"


def kib_as_bytes(kb: float | None) -> str:
    return "n/a" if kb is None else nbytes(kb * 1024)


def percent(x: float | None) -> str:
    return "n/a" if x is None else f"{_sig(100 * x, 2)} %"


def ratio(r: stats.Ratio | None) -> str:
    """'×1.23 [1.10, 1.35] 95 % CI', or the sample counts when there are too few for an interval."""
    if r is None:
        return "n/a"
    text = f"×{_sig(r.value)}"
    if r.has_ci:
        return f"{text} [{_sig(r.low)}, {_sig(r.high)}] {int(stats.CI_LEVEL * 100)} % CI"
    return f"{text}, n={r.n_a} vs {r.n_b}: too few samples for an interval"


def spread(summary: dict | None) -> str:
    """'1.23 s (IQR 0.05 s, n=5)' from a summary dict built by the context; with fewer than
    three samples an IQR says nothing, so the samples themselves are given."""
    if not summary or not summary.get("n"):
        return "no usable samples"
    n = summary["n"]
    if n == 1:
        return f"{seconds(summary['median'])} (one sample)"
    if n == 2:
        return f"{seconds(summary['median'])} (n=2: {seconds(summary['min'])} and {seconds(summary['max'])})"
    return f"{seconds(summary['median'])} (IQR {seconds(summary['iqr'])}, n={n})"


def ratio_short(r: stats.Ratio | None) -> str:
    """'×1.23 [1.10, 1.35]', or the sample counts: for a table cell beside other numbers."""
    if r is None:
        return "n/a"
    if r.has_ci:
        return f"×{number(r.value)} [{number(r.low)}, {number(r.high)}]"
    return f"×{number(r.value)} (n={r.n_a} vs {r.n_b})"


def excluded(points: list[dict]) -> str:
    """'+1 warm-up, +1 timeout': why samples stayed out of the median."""
    reasons = collections.Counter("warm-up" if x["warmup"] and x["status"] == "ok"
                                  else x["status"].replace("_", " ") for x in points)
    return ", ".join(f"+{n} {why}" for why, n in sorted(reasons.items()))


PLACEHOLDER = re.compile(r"\$[A-Z_]+(/[\w./-]*)?")


def argv_text(argv) -> str:
    """A command as a user types it: quoted, except placeholders such as $WORKDIR/out."""
    if not isinstance(argv, (list, tuple)):
        return str(argv)
    return " ".join(a if PLACEHOLDER.fullmatch(a) else shlex.quote(a) for a in map(str, argv))
