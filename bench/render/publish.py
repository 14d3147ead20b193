"""Write a run's page (index.html), copying the raw files it links to when it goes elsewhere,
and the list of runs (reports/index.html). Every file is replaced atomically."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from bench.render.load import RAW_FILES, load_run
from bench.store import run_info
from bench.store.records import SchemaError


def render_run(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Write out_dir/index.html (default: inside the run directory) and return its path.
    Raises SchemaError when the run is not readable by this code."""
    from bench.render import page  # matplotlib and Jinja2: only when a page is rendered

    run_dir = Path(run_dir)
    text = page.page(load_run(run_dir))
    out_dir = Path(out_dir) if out_dir else run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if out_dir.resolve() != run_dir.resolve():
        for name in RAW_FILES:  # the page links to the raw records beside it
            if (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, out_dir / name)
    return _write(out_dir / "index.html", text)


def render_index(reports_dir: Path) -> Path:
    from bench.render import index

    return _write(Path(reports_dir) / "index.html", index.page(list_runs(reports_dir)))


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def list_runs(reports_dir: Path) -> list[dict]:
    """Every run directory under reports_dir, latest first; unreadable ones say why."""
    runs = []
    for d in (p for p in Path(reports_dir).iterdir() if (p / "run.json").is_file()):
        entry = {"run_id": d.name, "dir": d, "rendered": (d / "index.html").is_file()}
        try:  # the raw file, so that a run this code cannot read is still listed
            info = json.loads((d / "run.json").read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            info, entry["problem"] = {}, f"run.json unreadable ({exc.__class__.__name__})"
        else:
            entry["problem"] = _schema_problem(d)
        info = info if isinstance(info, dict) else {}
        impls = info.get("impls")
        entry.update(started=str(info.get("started_at") or info.get("started") or ""),
                     profile=info.get("profile"), fixture=bool(info.get("fixture")),
                     impls=sorted(impls) if isinstance(impls, dict) else [],
                     records=_count_lines(d / "records.jsonl"),
                     mtime=(d / "run.json").stat().st_mtime)
        runs.append(entry)
    return sorted(runs, key=lambda r: (r["started"], r["mtime"], r["run_id"]), reverse=True)


def _schema_problem(run_dir: Path) -> str | None:
    try:
        run_info.read(run_dir)
    except SchemaError as exc:
        return str(exc).replace(str(run_dir), run_dir.name)
    return None


def _count_lines(path: Path) -> int | None:
    if not path.is_file():
        return None
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())
