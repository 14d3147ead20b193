"""The methodology's evidence about the harness's own clock, from stored files only:

- agreement: per tool and set-up, the calibration pairs' ratios harness / hyperfine;
- share: the run's wall time (run.json) against the time its processes ran, as the records
  keep it (timed bodies, preparations, recoveries, the hyperfine side of calibration) and as
  the run's process journal (sessions.jsonl: every process the harness started and waited
  for, references, tool homes, DAGs and staging included) keeps it.
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

from bench.render.analysis import stats
from bench.store import records as store

CALIBRATION = "calibration"
AGREEMENT = 0.05  # DESIGN.md principle 9: hyperfine agrees within 5 %
JOURNAL = "sessions.jsonl"  # bench.engine.process.JOURNAL


def agreement(recs) -> list[dict]:
    """One row per (tool, set-up, mode) that ran calibration pairs."""
    groups: dict[tuple, list] = {}
    for r in recs:
        if r.scenario == CALIBRATION and not r.warmup:
            groups.setdefault((r.impl, r.setup, r.mode), []).append(r)
    rows = []
    for (impl, setup, mode), group in sorted(groups.items()):
        pairs = sorted((r for r in group if r.usable and r.detail.ratio is not None),
                       key=lambda r: r.round)
        ratios = [r.detail.ratio for r in pairs]
        row = {"impl": impl, "setup": setup, "mode": mode, "n": len(pairs),
               "failed": len(group) - len(pairs),
               "harness_s": [r.wall_s for r in pairs],
               "hyperfine_s": [t for r in pairs for t in r.detail.hyperfine_times_s],
               "ratios": ratios,
               "harness_first": sum(r.detail.first == "harness" for r in pairs)}
        if ratios:
            med = stats.median(ratios)
            row.update(median=med, min=min(ratios), max=max(ratios),
                       within=abs(med - 1.0) <= AGREEMENT,
                       harness_median=stats.median(row["harness_s"]),
                       hyperfine_median=stats.median(row["hyperfine_s"]))
        rows.append(row)
    return rows


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def run_wall(info) -> tuple[float | None, str]:
    """The run's wall time and where it comes from: run.json's start to finish for a run of
    one session; the sessions' own clocks for a continued run (the gap between is no one's)."""
    finished = _epoch(info.finished_at)
    start = info.started_epoch if info.started_epoch is not None else _epoch(info.started_at)
    walls = [s.get("wall_s") for s in info.sessions if isinstance(s.get("wall_s"), (int, float))]
    if len(info.sessions) <= 1 and start is not None and finished is not None:
        # finished_at is stored to the second: never less than the session's own clock
        return (max(0.0, finished - start, *walls),
                "run.json started_epoch to finished_at, which is stored to the second")
    if walls:
        return float(sum(walls)), f"the wall_s of its {len(walls)} sessions in run.json"
    return None, "run.json has no finish time"


def recorded_wall(recs) -> dict:
    """Seconds of process time the records keep, by kind."""
    parts = {"timed": 0.0, "prepare": 0.0, "recovery": 0.0, "hyperfine": 0.0}
    for r in recs:
        parts["timed"] += r.wall_s
        for kind in ("prepare", "recovery"):
            found = getattr(r.detail, kind, None)
            if isinstance(found, dict) and isinstance(found.get("wall_s"), (int, float)):
                parts[kind] += found["wall_s"]
        if r.scenario == CALIBRATION and r.detail.hyperfine_process_wall_s is not None:
            parts["hyperfine"] += r.detail.hyperfine_process_wall_s
    return parts


def journal_wall(run_dir: Path) -> tuple[float | None, int]:
    """Seconds between each journalled process's `begin` and `ended` (spawn, wait and the
    session's clean-up included), and how many processes; None for a run without a journal."""
    lines, _cut = store.read_lines(Path(run_dir) / JOURNAL)
    if not lines:
        return None, 0
    begun, ended, started = {}, {}, set()
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("event") == "started":  # a process; other entries group processes
            started.add(event.get("n"))
        if not isinstance(event.get("at"), (int, float)):
            continue
        if event.get("event") == "begin":
            begun[event.get("n")] = event["at"]
        elif event.get("event") == "ended":
            ended[event.get("n")] = event["at"]
    spans = [ended[n] - begun[n] for n in begun if n in ended and n in started]
    return float(sum(spans)), len(spans)


def share(run) -> dict:
    total, source = run_wall(run.info)
    parts = recorded_wall(run.records)
    recorded = sum(parts.values())
    journalled, processes = journal_wall(run.run_dir)
    out = {"run_s": total, "run_source": source, "parts": parts, "recorded_s": recorded,
           "journal_s": journalled, "processes": processes}
    if total:
        out["recorded_pct"] = 100.0 * recorded / total
        out["outside_recorded_pct"] = 100.0 * max(0.0, total - recorded) / total
        if journalled is not None:
            out["journal_pct"] = 100.0 * journalled / total
            out["outside_journal_pct"] = 100.0 * max(0.0, total - journalled) / total
    return out


def build(run) -> dict:
    profile = (run.info.config or {}).get("profile")
    rounds = profile.get("rounds") if isinstance(profile, dict) else None
    asked = isinstance(rounds, dict) and CALIBRATION in rounds
    rows = agreement(run.records)
    return {"agreement": rows, "asked": asked, "threshold": AGREEMENT,
            # asked for, yet nothing stored: the scenario lists no slot without hyperfine
            "missing": asked and not rows, "share": share(run)}
