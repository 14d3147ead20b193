"""A dask.distributed LocalCluster for prefect's DaskTaskRunner, run as its own process.

`python -m impl_prefect.dask_cluster --state-dir D --port P --workers N` starts a scheduler on
127.0.0.1:P and N worker processes of one thread each (no dashboard), prints
`address tcp://127.0.0.1:P` once the workers are up, and runs until SIGTERM or SIGINT, then
closes the cluster. Every file dask or prefect writes (worker spill space, temp files, the
workers' PREFECT_HOME) stays under D: the adapter's cluster_environment points HOME, TMPDIR,
DASK_TEMPORARY_DIRECTORY and PREFECT_HOME there.
"""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from core import cli
from core.selection import positive

READY = "address"


def serve(state_dir: Path, port: int, workers: int) -> None:
    from distributed import LocalCluster

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", scheduler_port=port, dashboard_address=None,
                           local_directory=str(state_dir / "dask-worker-space"))
    try:
        cluster.wait_for_workers(workers, timeout=120)
        print(f"{READY} {cluster.scheduler_address}", flush=True)
        while not stop.wait(0.5):  # a timed wait, so the signal handler gets to run
            pass
        print("stopping", file=sys.stderr, flush=True)
    finally:
        cluster.close(timeout=30)


@cli.guarded
def main(argv=None) -> int:
    ap = cli._Parser(prog="python -m impl_prefect.dask_cluster",
                     description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir", required=True, type=Path)
    ap.add_argument("--port", required=True, type=int)
    ap.add_argument("--workers", required=True, type=positive)
    args = ap.parse_args(argv)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    serve(args.state_dir.resolve(), args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
