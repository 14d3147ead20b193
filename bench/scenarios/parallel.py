"""parallel: the model selection (core/selection.py) with N workers.

Slot: the adapter's runner (Parallel.runners) and size = the number of workers. Prepared
untimed: a fresh workdir on the tool home initialised once per run and set-up and, for a runner that needs a cluster
(Parallel.cluster), the cluster of `size` workers, started in a new session and stopped by its
PID after the timed run. Timed: the selection command. Verified: predictions byte-identical to
the reference selection's at one worker. The trace gives the folds' concurrency: how many fold
computations overlapped at most, and in how many distinct processes they ran.
"""
from __future__ import annotations

from bench.engine import measured, verify
from bench.engine.services import ClusterProcess
from bench.scenarios.base import Scenario, slot

FOLD_STEP = "fold"  # core.selection's span name of one fold's compute


def slots(selection, adapter, profile, choice):
    return [slot(selection, adapter, None, "parallel", runner=runner, size=workers, setup=setup)
            for setup in choice.setups(profile, selection, adapter)
            for runner in choice.runners for workers in profile.workers]


def run(ws, ex, adapter, scratch):
    reference = ws.references.parallel(ws.profile.selection_grid)
    workers, runner = ex.slot.size, ex.slot.runner
    workdir = ws.new_workdir(scratch)
    cluster = None
    if adapter.parallel.needs_cluster(runner):
        cluster = ClusterProcess(adapter.parallel.cluster, scratch / "cluster", workers,
                                 trace=scratch / "timed.trace.jsonl", scrubbed=ws.scrubbed)
    try:
        address = cluster.start() if cluster else None
        argv = adapter.parallel.command(workdir, runner, setup=ex.slot.setup, workers=workers,
                                        grid=ws.profile.selection_grid, cluster_address=address,
                                        service_url=ws.service_url(adapter, ex.slot.setup))
        done = ws.run(argv, adapter, adapter.default_mode, ex.slot.setup, workdir, scratch,
                      size=workers, label="timed")
    finally:
        if cluster:
            cluster.stop()
    return judge(ws, ex, adapter, done, reference, cluster)


def judge(ws, ex, adapter, done, reference: dict, cluster) -> dict:
    o = done.outcome
    checked = verify.check(ws.deliverables(adapter, done.workdir),
                           reference["predictions_sha256"], done.steps, None)
    status = verify.status(o, verify.passed(checked))
    detail = {"workers": ex.slot.size, "runner": ex.slot.runner,
              **fold_concurrency(done.spans, o.pid)}
    if cluster:
        detail["cluster"] = cluster.info
    if o.survivors:
        detail["survivors"] = o.survivors
    if status != "ok":
        detail["log"] = ws.keep_log(o, measured.log_name(ex))
    return {**measured.fields(done, ws.disk(done.workdir)), "status": status,
            "steps_expected": None, "verify": checked, "detail": detail}


def fold_concurrency(spans: list[dict], main_pid: int | None = None) -> dict:
    """From the folds' compute spans: how many ran at once at most, in how many processes, and
    the window from the first fold's start to the last fold's end."""
    folds = [s for s in spans if s.get("step") == FOLD_STEP and s.get("kind") == "compute"]
    if not folds:
        return {"folds": 0, "max_concurrent_folds": 0, "fold_pids": 0}
    return {
        "folds": len(folds),
        "max_concurrent_folds": max_overlap([(s["start"], s["end"]) for s in folds]),
        "fold_pids": len({s.get("pid") for s in folds}),
        "folds_in_main_process": main_pid is not None and all(
            s.get("pid") == main_pid for s in folds),
        "fold_compute_s": round(sum(s["end"] - s["start"] for s in folds), 6),
        "fold_window_s": round(max(s["end"] for s in folds) - min(s["start"] for s in folds), 6),
    }


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals open at one instant; one ending exactly when another starts does not
    overlap it."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda e: (e[0], e[1]))
    open_now = most = 0
    for _, change in events:
        open_now += change
        most = max(most, open_now)
    return most


SCENARIO = Scenario(
    name="parallel",
    description="model selection (k-fold CV over a hyperparameter grid, then a reduce) with "
                "1 and 2 workers, in every parallel runner a tool declares",
    slots=slots, run=run)
