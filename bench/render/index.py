"""reports/index.html: every run in a reports directory, newest first, each linking its report.

Each run is read from its raw run.json (so a run this code cannot render is still listed, with
the reason): when it started, its profile, the tool versions, the machine, the commit, whether
it finished (a run without finished_at did not), and whether its report has been rendered.
"""
from __future__ import annotations

import datetime
import functools
import json
from pathlib import Path
from urllib.parse import quote

import jinja2

from bench.render import fmt

TEMPLATES = Path(__file__).parent / "templates"


def _started_epoch(entry: dict, info: dict) -> float:
    """When the run started, as a number, so that runs written with different time zones
    sort by time and not by text; an unreadable date sorts by run.json's mtime."""
    epoch = info.get("started_epoch")
    if isinstance(epoch, (int, float)):
        return float(epoch)
    try:
        started = datetime.datetime.fromisoformat(entry["started"])
    except (KeyError, ValueError):
        return entry["mtime"]
    if started.tzinfo is None:
        started = started.replace(tzinfo=datetime.timezone.utc)
    return started.timestamp()


def _versions(info: dict) -> dict[str, str]:
    """impl -> the tool's version the run recorded (the reference, plain Python, has none)."""
    impls = info.get("impls") if isinstance(info.get("impls"), dict) else {}
    return {name: str(i["version"]) for name, i in sorted(impls.items())
            if isinstance(i, dict) and i.get("version")}


def _machine(info: dict) -> str:
    m = info.get("machine") if isinstance(info.get("machine"), dict) else {}
    cores = m.get("cpu_affinity") or m.get("cpu_count")
    return " · ".join(str(x) for x in (m.get("hostname"), m.get("cpu_model"),
                                        f"{cores} cores" if cores else None, m.get("os")) if x)


def entries(runs: list[dict]) -> list[dict]:
    """The runs publish.list_runs found, with what the index shows, newest first."""
    out = []
    for entry in runs:
        try:
            info = json.loads((entry["dir"] / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        info = info if isinstance(info, dict) else {}
        git = info.get("git") if isinstance(info.get("git"), dict) else {}
        entry = dict(entry)
        entry.update(
            finished=info.get("finished_at") or None, versions=_versions(info),
            machine=_machine(info), commit=(str(git.get("commit") or "")[:12] or None),
            dirty=bool(git.get("dirty")), link=f"{quote(entry['run_id'])}/index.html",
            epoch=_started_epoch(entry, info))
        out.append(entry)
    return sorted(out, key=lambda r: (r["epoch"], r["run_id"]), reverse=True)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"),
                                            default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters.update(thousands=fmt.count)
    return env


def page(runs: list[dict]) -> str:
    return _environment().get_template("runs.html.j2").render(runs=entries(runs))
