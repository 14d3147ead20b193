"""Render stored runs as HTML: load -> context (numbers) -> charts (SVG) -> html (page)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from bench import records
from bench.render import charts, context, html
from bench.render import parallel as parallel_view
from bench.render import pertask as pertask_view
from bench.render import rerun as rerun_view
from bench.render.load import load_run

RAW_FILES = ("run.json", "records.jsonl", "floor.json")


def build_charts(ctx: dict) -> dict[str, str | None]:
    io = ctx["io"]
    return {
        "breakdown": charts.breakdown(io["breakdown"]),
        "io_sweep": charts.io_sweep(io["sweep"], context.floor_round_trip(io["floor"])),
        "io_bytes": charts.io_bytes(io["sweep"], io["floor"]),
        "resume": charts.resume(ctx["failure"]["resume"]),
        "cost": charts.cost(ctx["cost"]["rows"]),
        "footprint": charts.footprint(ctx["cost"]["footprint"]),
        "gantt": charts.gantt(ctx["shape"]["gantt"], ctx["shape"]["steps"]),
        **pertask_view.charts(ctx["pertask"]),
        **parallel_view.charts(ctx["parallel"]),
        **rerun_view.charts(ctx["rerun"]),
    }


def render_run(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Write out_dir/index.html (default: inside the run directory) and return its path."""
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    ctx = context.build(run)
    page = html.page(ctx, build_charts(ctx))
    out_dir = Path(out_dir) if out_dir else run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if out_dir.resolve() != run_dir.resolve():
        for name in RAW_FILES:  # the page links to the raw records beside it
            if (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, out_dir / name)
    return _write(out_dir / "index.html", page)


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
        try:
            info = json.loads((d / "run.json").read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            info, entry["problem"] = {}, f"run.json unreadable ({exc.__class__.__name__})"
        else:
            entry["problem"] = _schema_problem(d)
        info = info if isinstance(info, dict) else {}
        entry.update(started=str(info.get("started_at") or info.get("started") or ""),
                     profile=info.get("profile"), fixture=bool(info.get("fixture")),
                     impls=sorted((info.get("impls") or {}).keys()) if isinstance(
                         info.get("impls"), dict) else [],
                     records=_count_lines(d / "records.jsonl"),
                     mtime=(d / "run.json").stat().st_mtime)
        runs.append(entry)
    return sorted(runs, key=lambda r: (r["started"], r["mtime"], r["run_id"]), reverse=True)


def _schema_problem(run_dir: Path) -> str | None:
    try:
        records.read_run_info(run_dir)
    except records.SchemaError as exc:
        return str(exc).replace(str(run_dir), run_dir.name)
    return None


def _count_lines(path: Path) -> int | None:
    if not path.is_file():
        return None
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def render_index(reports_dir: Path) -> Path:
    return _write(Path(reports_dir) / "index.html", html.index_page(list_runs(reports_dir)))
