"""Servers some modes need (luigid, prefect server): started once, health-checked, always stopped.

Each server runs on 127.0.0.1 on a free port, in a new session, with its state in the run's
scratch directory. It is stopped by its PID (SIGTERM, then SIGKILL) on the way out, whether the
block ended, an error escaped or the user pressed Ctrl-C; anything left in its session is then
killed as well.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import execute
from bench.context import Context

HEALTH_TIMEOUT_S = 180.0  # prefect server on a fresh database took 16 s here, more under load
STOP_GRACE_S = 15.0


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, impl, name: str, state_dir: Path, log_dir: Path):
        self.impl, self.name, self.state_dir = impl, name, state_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"service-{name}.log"
        self.proc: subprocess.Popen | None = None
        self.info: dict = {"name": name, "impl": impl.name, "port": self.port}

    def start(self) -> None:
        module = self.impl.module
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        argv = module.service_command(self.name, self.state_dir, self.port)
        env = execute.base_environment(self.state_dir)
        env.update(module.service_environment(self.name, self.state_dir))
        t0 = time.perf_counter()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, cwd=self.state_dir, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.info.update(pid=self.proc.pid, argv=argv, started_epoch=time.time())
        self._wait_healthy(module.service_health_path(self.name), t0)

    def _wait_healthy(self, path: str, t0: float) -> None:
        url = self.url + path
        while time.perf_counter() - t0 < HEALTH_TIMEOUT_S:
            if self.proc.poll() is not None:
                raise ServiceError(f"{self.name} exited with status {self.proc.returncode} "
                                   f"before answering; see {self.log}")
            if _answers(url):
                self.info["healthy_after_s"] = round(time.perf_counter() - t0, 3)
                return
            time.sleep(0.25)
        raise ServiceError(f"{self.name} did not answer {url} within {HEALTH_TIMEOUT_S:.0f} s; "
                           f"see {self.log}")

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        stop_session(proc, self.info, STOP_GRACE_S)


def stop_session(proc: subprocess.Popen, info: dict, grace_s: float, *,
                 term_whole_group: bool = True) -> None:
    """SIGTERM (to the session's group, or to its leader only when the leader ends its own
    children), SIGKILL of the group if it does not end within grace_s; whatever is still in
    the session afterwards is recorded in info["survivors"] and killed."""
    if proc.poll() is None:
        if term_whole_group:
            _signal(proc.pid, signal.SIGTERM)
        else:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=grace_s)
            info["stopped"] = "SIGTERM"
        except subprocess.TimeoutExpired:
            _signal(proc.pid, signal.SIGKILL)
            proc.wait()
            info["stopped"] = "SIGKILL"
    info["exit_code"] = proc.returncode
    leftover = execute.end_session(proc.pid, settle_s=0.1)
    if leftover:
        info["survivors"] = leftover


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _signal(pid: int, sig: int) -> None:
    """The server's whole process group: `prefect server start` runs uvicorn as a child."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class Services:
    """The servers of one block; a context manager that always stops what it started."""

    def __init__(self, ctx: Context, needed: list[tuple[str, str]]):
        self.ctx = ctx
        self.needed = needed  # (impl name, mode)
        self.running: dict[tuple[str, str], Service] = {}
        self.on_started = lambda described: None

    def __enter__(self) -> "Services":
        try:
            for impl_name, mode in self.needed:
                impl = self.ctx.impls[impl_name]
                name = impl.service(mode)
                key = (impl_name, name)
                if key not in self.running:
                    service = Service(impl, name, self.ctx.work / "services" / name,
                                      self.ctx.run_dir / "logs")
                    self.running[key] = service
                    service.start()
                    self.on_started(self.describe())
                self.ctx.service_urls[(impl_name, mode)] = self.running[key].url
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for service in self.running.values():
            service.stop()
        for key in list(self.ctx.service_urls):
            if key in self.needed:
                del self.ctx.service_urls[key]

    def describe(self) -> list[dict]:
        return [s.info for s in self.running.values()]
