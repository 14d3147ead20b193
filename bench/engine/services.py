"""Processes the harness starts beside the measured ones: the servers of the team set-ups
(luigid, a prefect server on its PostgreSQL database) and clusters some parallel runners need
(a dask LocalCluster).

Each runs on 127.0.0.1 on a free port, in a new session, with its state in the run's scratch
directory. It is stopped by its PID (SIGTERM, then SIGKILL) on the way out, whether the block
ended, an error escaped or the user pressed Ctrl-C; anything left in its session is then
killed as well.
"""
from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.engine import process
from bench.engine.database import Database
from bench.engine.workspace import Workspace, base_environment
from core.contract import Adapter, Cluster, Service

HEALTH_TIMEOUT_S = 180.0  # prefect server on a fresh database took 16 s here, more under load
STOP_GRACE_S = 15.0
CLUSTER_START_TIMEOUT_S = 180.0
CLUSTER_STOP_GRACE_S = 30.0


class ServiceError(RuntimeError):
    pass


def start(argv: list[str], *, cwd: Path, env: dict[str, str], stdout, stderr) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def stop_session(proc: subprocess.Popen, info: dict, grace_s: float, *,
                 term_whole_group: bool = True) -> None:
    """SIGTERM (to the session's group, or to its leader only when the leader ends its own
    children), SIGKILL of the group if it does not end within grace_s; whatever is still in
    the session afterwards is recorded in info["survivors"] and killed."""
    if proc.poll() is None:
        if term_whole_group:
            process.kill_group(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        try:
            proc.wait(timeout=grace_s)
            info["stopped"] = "SIGTERM"
        except subprocess.TimeoutExpired:
            process.kill_group(proc.pid)
            proc.wait()
            info["stopped"] = "SIGKILL"
    info["exit_code"] = proc.returncode
    leftover = process.end_session(proc.pid, settle_s=0.1)
    if leftover:
        info["survivors"] = leftover


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Server:
    """One server of an adapter's (Adapter.services), healthy once its health path answers."""

    def __init__(self, adapter: Adapter, service: Service, state_dir: Path, log_dir: Path,
                 scrubbed: tuple[str, ...]):
        self.adapter, self.service, self.state_dir = adapter, service, state_dir
        self.scrubbed = scrubbed
        self.port = process.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"service-{service.name}.log"
        self.proc: subprocess.Popen | None = None
        self.database: Database | None = None
        self.info: dict = {"name": service.name, "impl": adapter.name, "port": self.port}

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        database_url = None
        if self.service.database:
            self.database = Database(self.state_dir / "postgresql",
                                     self.log.with_name(f"service-{self.service.name}-db.log"))
            self.info["database"] = self.database.info
            self.database.start()
            database_url = self.database.url
        argv = self.service.command(self.state_dir, self.port)
        env = base_environment(self.state_dir, self.scrubbed)
        env.update(self.service.environment(self.state_dir, database_url))
        t0 = time.perf_counter()
        with open(self.log, "wb") as log:
            self.proc = start(argv, cwd=self.state_dir, env=env, stdout=log, stderr=log)
        self.info.update(pid=self.proc.pid, argv=argv, started_epoch=time.time())
        self._wait_healthy(t0)

    def _wait_healthy(self, t0: float) -> None:
        url = self.url + self.service.health_path
        while time.perf_counter() - t0 < HEALTH_TIMEOUT_S:
            if self.proc.poll() is not None:
                raise ServiceError(f"{self.service.name} exited with status "
                                   f"{self.proc.returncode} before answering; see {self.log}")
            if _answers(url):
                self.info["healthy_after_s"] = round(time.perf_counter() - t0, 3)
                return
            time.sleep(0.25)
        raise ServiceError(f"{self.service.name} did not answer {url} within "
                           f"{HEALTH_TIMEOUT_S:.0f} s; see {self.log}")

    def stop(self) -> None:
        """The server first (it holds the database's connections), then its database."""
        if self.proc is not None:
            proc, self.proc = self.proc, None
            stop_session(proc, self.info, STOP_GRACE_S)
        if self.database is not None:
            self.database.stop()


class Servers:
    """The servers of one block; a context manager that always stops what it started."""

    def __init__(self, ws: Workspace, needed: list[tuple[str, str]]):
        self.ws = ws
        self.needed = needed  # (impl name, set-up)
        self.running: dict[tuple[str, str], Server] = {}
        self.on_started = lambda described: None

    def __enter__(self) -> "Servers":
        try:
            for impl_name, setup in self.needed:
                adapter = self.ws.adapters[impl_name]
                service = adapter.service_for(setup)
                key = (impl_name, service.name)
                if key not in self.running:
                    server = Server(adapter, service, self.ws.work / "services" / service.name,
                                    self.ws.run_dir / "logs", self.ws.scrubbed)
                    self.running[key] = server
                    server.start()
                    self.on_started(self.describe())
                self.ws.service_urls[(impl_name, setup)] = self.running[key].url
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for server in self.running.values():
            server.stop()
        for key in list(self.ws.service_urls):
            if key in self.needed:
                del self.ws.service_urls[key]

    def describe(self) -> list[dict]:
        return [s.info for s in self.running.values()]


class ClusterProcess:
    """A cluster of an adapter's (Parallel.cluster): new session, held by its PID.

    Its workers get the timed run's BENCH_TRACE, so their fold spans land in that run's trace."""

    def __init__(self, cluster: Cluster, state_dir: Path, workers: int, trace: Path,
                 scrubbed: tuple[str, ...]):
        self.cluster, self.state_dir, self.workers, self.trace = cluster, state_dir, workers, trace
        self.scrubbed = scrubbed
        self.proc: subprocess.Popen | None = None
        self.info: dict = {"workers": workers}

    def start(self) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        port = process.free_port()
        argv = self.cluster.command(self.state_dir, port, self.workers)
        env = base_environment(self.state_dir, self.scrubbed)
        env.update(self.cluster.environment(self.state_dir))
        env["BENCH_TRACE"] = str(self.trace)
        self.out = self.state_dir / "cluster.stdout"
        self.err = self.state_dir / "cluster.stderr"
        t0 = time.perf_counter()
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = start(argv, cwd=self.state_dir, env=env, stdout=out, stderr=err)
        self.info.update(pid=self.proc.pid, port=port, started_epoch=time.time())
        address = self._wait_ready(t0)
        self.info.update(address=address, ready_after_s=round(time.perf_counter() - t0, 3))
        return address

    def _wait_ready(self, t0: float) -> str:
        ready = self.cluster.ready_prefix
        while time.perf_counter() - t0 < CLUSTER_START_TIMEOUT_S:
            for line in self.out.read_text(errors="replace").splitlines():
                if line.startswith(ready):
                    return line[len(ready):].strip()
            if self.proc.poll() is not None:
                raise RuntimeError(f"the cluster exited with status {self.proc.returncode} "
                                   f"before it was ready: {process.tail(self.err, 600)}")
            time.sleep(0.1)
        raise RuntimeError(f"the cluster was not ready within {CLUSTER_START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """SIGTERM to the cluster process only (it closes its workers), SIGKILL of the session
        if it does not end in time; whatever is left in the session is recorded and killed."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        stop_session(proc, self.info, CLUSTER_STOP_GRACE_S, term_whole_group=False)
