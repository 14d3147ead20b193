"""What `bench` needs to know to run the luigi pipeline (stdlib only; see bench/contract.md)."""
from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path

NAME = "luigi"
MODES = {
    "local": "luigi's in-process scheduler (--local-scheduler), one worker",
    "luigid": "a central luigid scheduler, one worker",
}
FORMAT_MODES = {"local", "luigid"}
# wait_for_luigid.py is left out: it is recovery tooling for the luigid mode, not pipeline code.
SOURCE_FILES = ("impl_luigi/pipeline.py", "impl_luigi/__main__.py", "impl_luigi/luigi.cfg")
TOOL_HOME: tuple[str, ...] = ()  # luigi keeps no machine-level state: its targets are the state
SERVICES = {"luigid": "luigid"}

CONFIG = Path(__file__).resolve().with_name("luigi.cfg")


def command(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None = None,
            service_url: str | None = None) -> list[str]:
    argv = [sys.executable, "-m", "impl_luigi", "--workdir", str(workdir),
            "--format", fmt, "--scale", str(scale), "--mode", mode]
    if mode == "luigid":
        argv += ["--scheduler-url", _required_url(service_url)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, service_url: str | None = None) -> dict[str, str]:
    return {"LUIGI_CONFIG_PATH": str(CONFIG)}


def dag_command(workdir: Path, mode: str) -> list[str] | None:
    """luigi's own tree printer, with each task's COMPLETE/PENDING state in that workdir."""
    return [sys.executable, "-m", "luigi.tools.deps_tree", "--module", "impl_luigi.pipeline",
            "Evaluate", "--workdir", str(workdir)]


def recovery_commands(workdir: Path, mode: str, *, fmt: str, scale: int,
                      data: str | None = None, service_url: str | None = None
                      ) -> list[list[str]]:
    """Local mode: [] because luigi recovers by itself, as tests/test_luigi.py shows: with
    atomic outputs a killed task leaves only a *-luigi-tmp-* file, never an output, so the
    plain rerun redoes it.
    luigid mode: luigid refuses the task to any new worker while it believes the dead worker
    still runs it (exit status already_running, for up to about two minutes); the user waits
    until luigid lets it go (impl_luigi/wait_for_luigid.py), then reruns."""
    if mode != "luigid":
        return []
    wait = [sys.executable, "-m", "impl_luigi.wait_for_luigid",
            "--scheduler-url", _required_url(service_url), "--workdir", str(workdir)]
    rerun = command(workdir, mode, fmt=fmt, scale=scale, data=data, service_url=service_url)
    return [wait, rerun]


def service_command(name: str, state_dir: Path, port: int) -> list[str]:
    _check_service(name)
    state_dir = Path(state_dir)
    # Not --background, so the harness holds luigid's own PID; --state-path and --logdir keep
    # its pickle and log out of /var/lib/luigi-server and /var/log.
    return [str(Path(sys.executable).with_name("luigid")), "--address", "127.0.0.1",
            "--port", str(port), "--state-path", str(state_dir / "state.pickle"),
            "--logdir", str(state_dir)]


def service_environment(name: str, state_dir: Path) -> dict[str, str]:
    _check_service(name)
    return {"LUIGI_CONFIG_PATH": str(CONFIG)}


def service_health_path(name: str) -> str:
    """A scheduler API call (not a static page), so 200 means the scheduler answers."""
    _check_service(name)
    return "/api/task_list?data=" + urllib.parse.quote(json.dumps({"status": "RUNNING"}))


def _check_service(name: str) -> None:
    if name not in SERVICES.values():
        raise ValueError(f"luigi has no service {name!r}; it has {', '.join(SERVICES.values())}")


def _required_url(service_url: str | None) -> str:
    if not service_url:
        raise ValueError("mode 'luigid' needs service_url (the URL of a running luigid)")
    return service_url



# -- the scaling scenarios (bench/contract.md) ----------------------------------------------

SYNTHETIC_MODES = ("local",)


def synthetic_command(workdir: Path, mode: str, *, shape: str, n: int) -> list[str]:
    """N trivial tasks as a `chain` or a `fanout` (pertask scenario)."""
    return [sys.executable, "-m", "impl_luigi.synthetic", "--workdir", str(workdir),
            "--shape", shape, "--n", str(n)]


PARALLEL_RUNNERS = {"workers": "luigi --workers N: one forked process per running task"}


def parallel_command(workdir: Path, runner: str, *, workers: int, grid: str = "full",
                     cluster_address: str | None = None) -> list[str]:
    """The model selection with `workers` workers (parallel scenario)."""
    argv = [sys.executable, "-m", "impl_luigi.selection", "--workdir", str(workdir), "--runner", runner,
            "--workers", str(workers), "--grid", grid]
    return argv + (["--cluster-address", cluster_address] if cluster_address else [])


# -- the rerun scenario (bench/rerun.py) ----------------------------------------------------
# Edits of the train task in a copy of the code: one that changes the model (with the
# parameter setting giving the same model, for the baseline's right answer), one comment-only.
RERUN_WRAPPER_EDIT = {
    "path": "impl_luigi/pipeline.py",
    "old": 'filesteps.train(self.input()["features"]["train"].path, params, model)',
    "new": 'filesteps.train(self.input()["features"]["train"].path,\n'
           '                            Params(**{**vars(params), "max_depth": 4}), model)',
    "equivalent_param": "max_depth=4",
}
RERUN_COMMENT_EDIT = {
    "path": "impl_luigi/pipeline.py",
    "old": '        with self.output().temporary_path() as model:\n',
    "new": '        # The forest\'s settings all come from params.yaml.\n'
           '        with self.output().temporary_path() as model:\n',
}
