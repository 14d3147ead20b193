"""A private PostgreSQL server for the services of a team set-up (a prefect server keeps its
runs there, as a team's does), started by the harness and stopped by its PID.

- Never the machine's own cluster: its own data directory, a free port on 127.0.0.1 and no
  Unix socket (`unix_socket_directories=''`): the distribution's socket directory may be
  missing or belong to a cluster on 5432, which is neither used nor touched.
- PostgreSQL refuses to run as root: when the harness is root, initdb and postgres run as the
  `postgres` system user (Debian's package creates it), through subprocess's user=/group=.
  That user must reach the data directory: when the run directory's ancestors do not let it
  through (a 0700 temporary directory), the data lives in a private directory of its own
  under the system's temp dir, removed when the server stops.
- Stop: SIGINT to the postmaster (fast shutdown), SIGKILL after a grace period; PostgreSQL's
  children each start a session of their own, so they are tracked as the postmaster's
  descendants, not by session, and any left afterwards is recorded and killed.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from bench.engine import process

READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
SUPERUSER = "bench"
SYSTEM_USER = "postgres"


class DatabaseError(RuntimeError):
    pass


def server_binaries() -> Path:
    """The newest installed server binaries (Debian keeps them off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).parent
    raise DatabaseError("no PostgreSQL server is installed (Debian: apt-get install "
                        "postgresql): the team set-up's database needs one")


def available() -> str | None:
    """None when a database can be started here, else why not (one line)."""
    try:
        server_binaries()
    except DatabaseError as exc:
        return str(exc)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"the harness runs as root and there is no {SYSTEM_USER!r} user to run " \
                   "PostgreSQL as (it refuses root)"
    return None


class Database:
    """One PostgreSQL server with one database, `name`, on 127.0.0.1:`port`."""

    def __init__(self, state_dir: Path, log: Path, name: str = "bench"):
        self.bindir = server_binaries()
        self.name = name
        self.log = log
        self.port = process.free_port()
        self.own_dir: Path | None = None
        self.state_dir = self._reachable(Path(state_dir).resolve())
        self.data = self.state_dir / "data"
        self.proc: subprocess.Popen | None = None
        self.info: dict = {"name": "postgresql", "port": self.port}

    # ------------------------------------------------------------ as the unprivileged user

    def _account(self) -> dict:
        if os.geteuid() != 0:
            return {}
        pw = pwd.getpwnam(SYSTEM_USER)
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _reachable(self, state_dir: Path) -> Path:
        if os.geteuid() != 0 or all(os.stat(p).st_mode & 0o001 for p in state_dir.parents
                                    if p.exists()):
            return state_dir
        self.own_dir = Path(tempfile.mkdtemp(prefix="bench-postgresql-"))
        self.own_dir.chmod(0o711)
        return self.own_dir

    def _env(self) -> dict[str, str]:
        return {"PATH": f"{self.bindir}:/usr/bin:/bin", "HOME": str(self.state_dir),
                "LC_ALL": "C.UTF-8", "TZ": "UTC"}

    def _run(self, *argv: str) -> None:
        done = subprocess.run([str(self.bindir / argv[0]), *argv[1:]], capture_output=True,
                              text=True, env=self._env(), cwd=self.state_dir,
                              stdin=subprocess.DEVNULL, timeout=120, **self._account())
        if done.returncode:
            raise DatabaseError(f"{argv[0]} failed ({done.returncode}): "
                                f"{done.stderr.strip()[-400:]}")

    def _own(self, path: Path) -> None:
        account = self._account()
        if account:
            os.chown(path, account["user"], account["group"])

    def version(self) -> str | None:
        """`postgres --version` as it prints it (e.g. "postgres (PostgreSQL) 15.8")."""
        try:
            done = subprocess.run([str(self.bindir / "postgres"), "--version"],
                                  capture_output=True, text=True, timeout=30)
        except OSError:
            return None
        return done.stdout.strip() or None

    # ------------------------------------------------------------ life cycle

    @property
    def url(self) -> str:
        """How a client connects (SQLAlchemy's asyncpg form, as prefect takes it)."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{self.name}"

    def start(self) -> None:
        t0 = time.perf_counter()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(exist_ok=True)
        for path in (self.state_dir, self.data):
            self._own(path)
        self.data.chmod(0o700)
        # trust: reachable on 127.0.0.1 only; -N: no fsync while initialising
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "-N")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env=self._env(), cwd=self.state_dir, **self._account())
        self.info.update(pid=self.proc.pid, started_epoch=time.time(),
                         data_dir=str(self.data), version=self.version())
        self._wait_ready()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
                  self.name)
        self.info["healthy_after_s"] = round(time.perf_counter() - t0, 3)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DatabaseError(f"postgres exited with status {self.proc.returncode} "
                                    f"before accepting connections; see {self.log}")
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1",
                                    "-p", str(self.port)], env=self._env()).returncode
            if ready == 0:
                return
            time.sleep(0.1)
        raise DatabaseError(f"postgres did not accept connections within "
                            f"{READY_TIMEOUT_S:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            family = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            family = []
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # fast shutdown: ends the clients' connections
            try:
                proc.wait(timeout=STOP_GRACE_S)
                self.info["stopped"] = "SIGINT"
            except subprocess.TimeoutExpired:
                process.kill_group(proc.pid)
                proc.wait()
                self.info["stopped"] = "SIGKILL"
        self.info["exit_code"] = proc.returncode
        left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        left_described = [process.cmdline(p) or f"pid {p.pid}" for p in left]
        for p in left:
            try:
                p.kill()
            except psutil.Error:
                pass
        left_described += process.end_session(proc.pid, settle_s=0.1)
        if left_described:
            self.info["survivors"] = left_described
        if self.own_dir is not None:
            shutil.rmtree(self.own_dir, ignore_errors=True)

