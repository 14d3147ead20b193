"""Methodology and limitations: what was measured and how, the statistics and their
thresholds, the raw files beside the page, and every fact run.json stored."""
from __future__ import annotations

import collections
import dataclasses

from bench.render.analysis import stats
from bench.render.analysis.groups import Index
from bench.render.load import RAW_FILES, RunData
from bench.render.sections import method_timing
from bench.render.sections.base import Section
from bench.store.records import MEMORY_SAMPLE_S
from bench.render.sections.summary import FEW_SAMPLES, TIMED_SCENARIOS, WIDE_SPREAD, timed_groups


def build(run: RunData, ix: Index, *, io) -> dict:
    recs = run.records
    timed = [r for r in recs if r.scenario in TIMED_SCENARIOS]
    return {
        "records": len(recs),
        "usable": sum(r.usable for r in recs),
        "statuses": dict(collections.Counter(r.status for r in recs)),
        "warmups": sum(r.warmup for r in recs),
        "phases": dict(collections.Counter(r.phase for r in recs)),
        "scenarios": dict(collections.Counter(r.scenario for r in recs)),
        "rounds": sorted({r.round for r in timed}),
        "samples_per_group": _sample_counts(ix),
        "thresholds": {"few_samples": FEW_SAMPLES, "wide_spread": WIDE_SPREAD,
                       "outlier_z": stats.OUTLIER_Z, "ci_min_samples": stats.MIN_SAMPLES_FOR_CI,
                       "ci_level": stats.CI_LEVEL, "bootstrap_resamples": stats.BOOTSTRAP_RESAMPLES,
                       "bootstrap_seed": stats.BOOTSTRAP_SEED},
        # servers the harness starts once for a mode, outside every measured process tree
        "services": list(dict.fromkeys(s for i in run.info.impls.values()
                                       for s in i.services.values())),
        "environment": flatten(dataclasses.asdict(run.info)),
        "raw": [{"name": n, "bytes": (run.run_dir / n).stat().st_size}
                for n in RAW_FILES if (run.run_dir / n).is_file()],
        "floor_benchmarks": len(io["floor"]),
        "timing": method_timing.build(run),
        "sample_s": MEMORY_SAMPLE_S,
    }


def _sample_counts(ix: Index) -> dict:
    counts = [sum(r.usable for r in recs) for recs in timed_groups(ix).values()]
    if not counts:
        return {"groups": 0}
    return {"groups": len(counts), "min": min(counts), "median": stats.median(counts),
            "max": max(counts)}


def flatten(d, prefix: str = "") -> list[tuple[str, str]]:
    """run.json as (dotted key, value) rows, so every stored fact is shown whatever its shape."""
    rows = []
    if isinstance(d, dict):
        for k in sorted(d, key=str):
            rows.extend(flatten(d[k], f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(d, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in d):
        for i, v in enumerate(d):
            rows.extend(flatten(v, f"{prefix}[{i}]"))
    elif isinstance(d, (list, tuple)):
        rows.append((prefix, " ".join(str(v) for v in d)))
    else:
        rows.append((prefix, "" if d is None else str(d)))
    return rows


def charts(data: dict) -> dict[str, str | None]:
    return {}  # facts about the run, not measurements


SECTION = Section("method", "Methodology", build, charts, needs=("io",))
