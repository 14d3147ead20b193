"""The parallel scenario: the model selection (core/selection.py) with N workers.

Slot: mode = the adapter's runner (PARALLEL_RUNNERS), scale = the number of workers.
Prepared untimed: a fresh workdir with the tool home copied in and, for a runner in the
adapter's CLUSTER_RUNNERS, the cluster of `scale` workers (cluster_command), started in a new
session and stopped by its PID after the timed run (SIGTERM, then SIGKILL of its session).
Timed: the selection command. Verified: predictions byte-identical to the plain-Python
selection's at one worker (computed once per run, untimed, kept as parallel-reference.json).
The trace gives the folds' concurrency: how many fold computations overlapped at most, and in
how many distinct processes they ran.
"""
from __future__ import annotations

import importlib
import json
import socket
import subprocess
import time
from pathlib import Path

from bench import execute, services, verify
from bench.registry import BASELINE, Impl

REFERENCE_FILE = "parallel-reference.json"
REFERENCE_RUNNER = "processes"  # core.adapter PARALLEL_RUNNERS
FOLD_STEP = "fold"              # core.selection's span name of one fold's compute
CLUSTER_READY = "address "      # impl_prefect.dask_cluster's line once its workers are up
CLUSTER_START_TIMEOUT_S = 180.0
CLUSTER_STOP_GRACE_S = 30.0


def run(ctx, ex, impl, scratch) -> dict:
    reference = reference_of(ctx)
    workers, runner = ex.slot.scale, ex.slot.mode
    workdir = ctx.new_workdir(impl, scratch, with_home=True)
    cluster = None
    if runner in getattr(impl.module, "CLUSTER_RUNNERS", ()):
        cluster = Cluster(impl, scratch / "cluster", workers,
                          trace=scratch / "timed.trace.jsonl")
    try:
        address = cluster.start() if cluster else None
        argv = impl.module.parallel_command(workdir, runner, workers=workers,
                                            grid=ctx.profile.selection_grid,
                                            cluster_address=address)
        pipeline_run = ctx.run(argv, impl, impl.default_mode, workdir, scratch, scale=workers,
                               label="timed")
    finally:
        if cluster:
            cluster.stop()
    return judge(ctx, ex, pipeline_run, reference, cluster)


def judge(ctx, ex, pipeline_run, reference: dict, cluster) -> dict:
    o = pipeline_run.outcome
    checked = verify.check(pipeline_run.workdir, reference["predictions_sha256"],
                           pipeline_run.steps, None)
    status = verify.status(o, verify.passed(checked))
    detail = {"workers": ex.slot.scale, "runner": ex.slot.mode,
              **fold_concurrency(pipeline_run.spans, o.pid)}
    if cluster:
        detail["cluster"] = cluster.info
    if o.survivors:
        detail["survivors"] = o.survivors
    if status != "ok":
        detail["log"] = ctx.keep_log(o, f"r{ex.round}-parallel-{ex.slot.impl}-{ex.slot.mode}"
                                        f"-w{ex.slot.scale}")
    return {"exit_code": o.exit_code, "wall_s": round(o.wall_s, 6), "cpu_s": o.cpu_s,
            "max_rss_kb": o.max_rss_kb, "max_rss_single_kb": o.max_rss_single_kb,
            "launch_epoch": o.launch_epoch, "end_epoch": o.end_epoch,
            "spans": pipeline_run.spans, "steps_executed": pipeline_run.steps,
            "stderr_tail": o.stderr_tail, "status": status, "steps_expected": None,
            "verify": checked, "io": {**o.io, **ctx.disk(pipeline_run.workdir)},
            "detail": detail}


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


# ---------------------------------------------------------------- the reference selection

def reference_of(ctx) -> dict:
    """The plain-Python selection's predictions at one worker: computed once per run, untimed,
    kept beside the records so that a continued run verifies against the same bytes."""
    cached = getattr(ctx, "parallel_reference", None)
    if cached:
        return cached
    path = Path(ctx.run_dir) / REFERENCE_FILE
    if path.exists():
        ctx.parallel_reference = json.loads(path.read_text())
        return ctx.parallel_reference
    baseline = ctx.impls.get(BASELINE) or Impl(importlib.import_module("core.adapter"))
    scratch = ctx.scratch("parallel-reference")
    workdir = ctx.new_workdir(baseline, scratch, with_home=False)
    argv = baseline.module.parallel_command(workdir, REFERENCE_RUNNER, workers=1,
                                            grid=ctx.profile.selection_grid)
    done = ctx.run(argv, baseline, baseline.default_mode, workdir, scratch, scale=1,
                   label="reference")
    sha = verify.sha256(workdir / verify.PREDICTIONS)
    if done.outcome.exit_code != 0 or sha is None:
        log = ctx.keep_log(done.outcome, "parallel-reference")
        raise RuntimeError(f"the baseline selection (reference) failed "
                           f"(exit {done.outcome.exit_code}); see {log}")
    chosen = workdir / "out" / "selection.json"
    ctx.parallel_reference = {
        "predictions_sha256": sha, "command": argv[1:], "wall_s": done.outcome.wall_s,
        "selection": json.loads(chosen.read_text()) if chosen.exists() else None}
    path.write_text(json.dumps(ctx.parallel_reference, indent=2) + "\n")
    return ctx.parallel_reference


# ---------------------------------------------------------------- the cluster

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A cluster process of the adapter's (cluster_command): new session, held by its PID.

    Its workers get the timed run's BENCH_TRACE, so their fold spans land in that run's trace."""

    def __init__(self, impl: Impl, state_dir: Path, workers: int, trace: Path):
        self.impl, self.state_dir, self.workers, self.trace = impl, state_dir, workers, trace
        self.proc: subprocess.Popen | None = None
        self.info: dict = {"workers": workers}

    def start(self) -> str:
        module = self.impl.module
        self.state_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        argv = module.cluster_command(self.state_dir, port, self.workers)
        env = execute.base_environment(self.state_dir)
        env.update(module.cluster_environment(self.state_dir))
        env["BENCH_TRACE"] = str(self.trace)
        self.out = self.state_dir / "cluster.stdout"
        self.err = self.state_dir / "cluster.stderr"
        t0 = time.perf_counter()
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=self.state_dir, env=env, stdout=out,
                                         stderr=err, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.info.update(pid=self.proc.pid, port=port, started_epoch=time.time())
        address = self._wait_ready(t0)
        self.info.update(address=address, ready_after_s=round(time.perf_counter() - t0, 3))
        return address

    def _wait_ready(self, t0: float) -> str:
        while time.perf_counter() - t0 < CLUSTER_START_TIMEOUT_S:
            for line in self.out.read_text(errors="replace").splitlines():
                if line.startswith(CLUSTER_READY):
                    return line[len(CLUSTER_READY):].strip()
            if self.proc.poll() is not None:
                raise RuntimeError(f"the cluster exited with status {self.proc.returncode} "
                                   f"before it was ready: {execute.tail(self.err, 600)}")
            time.sleep(0.1)
        raise RuntimeError(f"the cluster was not ready within {CLUSTER_START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """SIGTERM to the cluster process only (it closes its workers), SIGKILL of the session
        if it does not end in time; whatever is left in the session is recorded and killed."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        services.stop_session(proc, self.info, CLUSTER_STOP_GRACE_S, term_whole_group=False)
