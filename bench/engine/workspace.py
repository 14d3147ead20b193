"""What every execution of one run shares: where its files go, the environment it gets, how a
command is run and traced, and the pre-initialised tool homes."""
from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import sys
from pathlib import Path

import yaml

from bench.engine import process, registry
from bench.engine.references import References
from bench.engine.profiles import DEFAULT_FORMAT, Profile
from core.contract import Adapter, Deliverables

REPO = process.REPO
OUTPUT_DIRS = ("interim", "out")                 # core.layout: artefacts
INPUT_PATHS = ("data/titanic.csv", "params.yaml")  # core.layout: staged input
HOME_DIR, TMP_DIR = ".home", ".tmp"              # HOME and TMPDIR of every execution
PINNED_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
# Variables of the caller that would steer the instrumentation or the interpreter from
# outside; each adapter adds the prefixes of its own tool (Adapter.env_prefixes).
SCRUBBED_PREFIXES = ("BENCH_", "XDG_", "PYTHON", "CONDA", "VIRTUAL_ENV")


def fixed_variables(workdir: str) -> dict[str, str]:
    return {"HOME": f"{workdir}/{HOME_DIR}", "TMPDIR": f"{workdir}/{TMP_DIR}",
            "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
            "LC_ALL": "C.UTF-8", "TZ": "UTC", **{name: "1" for name in PINNED_THREADS}}


def base_environment(workdir: Path, scrubbed: tuple[str, ...] = (), *,
                     home: Path | None = None) -> dict[str, str]:
    """A controlled environment: HOME and TMPDIR inside the workdir (or in `home`, for tests
    that check nothing is written there), thread counts pinned."""
    prefixes = SCRUBBED_PREFIXES + tuple(scrubbed)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(fixed_variables(str(workdir)))
    if home is not None:
        env.update(HOME=str(home), TMPDIR=f"{home}{TMP_DIR}")
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    Path(env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
    # The venv's own scripts (luigid, snakemake) come first, as after `activate`.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    return env


def pythonpath(adapter: Adapter) -> str:
    """The repository, preceded by the folder holding the adapter's package when that lives
    elsewhere (an implementation kept outside the repository)."""
    root = registry.package_dir(adapter).parent
    return str(REPO) if root == REPO else os.pathsep.join([str(root), str(REPO)])


def environment_template() -> dict[str, str]:
    """The variables every execution gets, with the workdir as a placeholder (for run.json)."""
    return fixed_variables("{workdir}")


@dataclasses.dataclass
class PipelineRun:
    outcome: process.Outcome
    spans: list[dict]
    workdir: Path

    @property
    def steps(self) -> list[str]:
        return process.steps_executed(self.spans)


class Workspace:
    def __init__(self, run_dir: Path, run_id: str, adapters: dict[str, Adapter],
                 profile: Profile, data: str | None = None, timeout_s: float | None = None):
        """`adapters`: every implementation the run may call, the reference included."""
        self.run_dir, self.run_id, self.adapters, self.profile = run_dir, run_id, adapters, profile
        self.data = data
        self.timeout_override = timeout_s
        self.work = run_dir / "work"
        self.logs = run_dir / "logs"
        self.service_urls: dict[tuple[str, str], str] = {}
        self.scrubbed = tuple(dict.fromkeys(p for a in adapters.values() for p in a.env_prefixes))
        self._homes: dict[str, Path] = {}
        self._seq = itertools.count(1)
        reference = next((a for a in adapters.values() if a.reference is not None), None)
        self.references = References(self, reference)

    # ------------------------------------------------------------ places

    def scratch(self, label: str) -> Path:
        """A fresh directory for one execution: its workdir, trace and logs."""
        path = self.work / f"{next(self._seq):05d}-{label}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def timeout(self, size: int) -> float:
        return self.timeout_override or self.profile.timeout_for(size)

    def keep_log(self, outcome: process.Outcome, name: str) -> str:
        """Copy an execution's stdout and stderr beside the records; returns the stderr path."""
        self.logs.mkdir(parents=True, exist_ok=True)
        for src, suffix in ((outcome.stdout_path, "stdout"), (outcome.stderr_path, "stderr")):
            if src.exists():
                shutil.copyfile(src, self.logs / f"{name}.{suffix}")
        return f"logs/{name}.stderr"

    def new_workdir(self, scratch: Path) -> Path:
        workdir = scratch / "wd"
        workdir.mkdir()
        return workdir

    def disk(self, workdir: Path) -> dict:
        return disk_usage(workdir)

    def deliverables(self, adapter: Adapter, workdir: Path) -> Deliverables:
        """Where this run's predictions and metrics are, from the settings staged with it."""
        return adapter.deliverables(workdir, staged_settings(workdir))

    # ------------------------------------------------------------ running a command

    def service_url(self, adapter: Adapter, setup: str) -> str | None:
        return self.service_urls.get((adapter.name, setup))

    def argv(self, adapter: Adapter, mode: str, setup: str, workdir: Path, fmt: str | None,
             scale: int) -> list[str]:
        return adapter.command(workdir, mode, setup=setup, fmt=fmt or DEFAULT_FORMAT,
                               scale=scale, data=self.data,
                               service_url=self.service_url(adapter, setup))

    def environment(self, adapter: Adapter, mode: str, setup: str, workdir: Path,
                    home: Path | None = None) -> dict[str, str]:
        """home: the tool's machine-level state; by default the run's stable one."""
        env = base_environment(workdir, self.scrubbed)
        env["PYTHONPATH"] = pythonpath(adapter)
        env.update(adapter.environment(workdir, mode, setup=setup,
                                       service_url=self.service_url(adapter, setup),
                                       home=home or self.home(adapter, setup)))
        return env

    def run(self, argv: list[str], adapter: Adapter, mode: str, setup: str, workdir: Path,
            scratch: Path, *, size: int, label: str, home: Path | None = None,
            fail_at: str | None = None, crash_at: str | None = None,
            crash_job_at: str | None = None, env_overrides: dict[str, str] | None = None,
            timeout_s: float | None = None) -> PipelineRun:
        """env_overrides: on top of the adapter's environment (e.g. PYTHONPATH pointing at an
        edited copy of the code, in the rerun scenario)."""
        trace = scratch / f"{label}.trace.jsonl"
        env = self.environment(adapter, mode, setup, workdir, home)
        env.update(env_overrides or {})
        env["BENCH_TRACE"] = str(trace)
        for name, step in (("BENCH_FAIL_AT", fail_at), ("BENCH_CRASH_AT", crash_at),
                           ("BENCH_CRASH_JOB_AT", crash_job_at)):
            if step:
                env[name] = step
        outcome = process.run(argv, env=env, cwd=workdir, logs=scratch / "logs",
                              timeout_s=timeout_s or self.timeout(size), label=label)
        return PipelineRun(outcome, process.read_trace(trace), workdir)

    def pipeline(self, adapter: Adapter, mode: str, setup: str, workdir: Path, scratch: Path,
                 *, fmt: str | None, scale: int, label: str, **inject) -> PipelineRun:
        argv = self.argv(adapter, mode, setup, workdir, fmt, scale)
        return self.run(argv, adapter, mode, setup, workdir, scratch, size=scale, label=label,
                        **inject)

    # ------------------------------------------------------------ tool homes

    def fresh_home(self, scratch: Path) -> Path:
        """An empty home: a machine that never ran the tool (first_run)."""
        home = scratch / "home"
        home.mkdir()
        return home

    def home(self, adapter: Adapter, setup: str) -> Path:
        """The tool's machine-level state, at one path per run and set-up, as on a machine that
        ran the tool before: initialised once, untimed, by a run that stops at the first step,
        so the tool creates its database and caches at their final path but no step result
        exists that a later run could reuse (results stay in each workdir)."""
        key = f"{adapter.name}-{setup}"
        if key not in self._homes:
            home = self.work / "homes" / key
            home.mkdir(parents=True, exist_ok=True)
            self._homes[key] = home
            if adapter.keeps_home:
                self._initialise(adapter, setup, home)
        return self._homes[key]

    def _initialise(self, adapter: Adapter, setup: str, home: Path) -> None:
        scratch = self.scratch(f"home-{adapter.name}-{setup}")
        workdir = self.new_workdir(scratch)
        run = self.pipeline(adapter, adapter.default_mode, setup, workdir, scratch,
                            fmt=DEFAULT_FORMAT, scale=1, label="home", home=home,
                            fail_at="load")
        if run.outcome.exit_code == 0 or run.outcome.timed_out:
            self.keep_log(run.outcome, f"home-{adapter.name}-{setup}")
            raise RuntimeError(f"{adapter.name}: preparing its home for the {setup} set-up did "
                               f"not stop at the injected failure (exit {run.outcome.exit_code})")
        shutil.rmtree(scratch, ignore_errors=True)

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def staged_settings(workdir: Path) -> dict:
    """params.yaml as staged in the workdir (empty when nothing was staged yet)."""
    try:
        loaded = yaml.safe_load((Path(workdir) / INPUT_PATHS[1]).read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def disk_usage(workdir: Path) -> dict:
    """Bytes left on disk: pipeline artefacts vs everything else (tool state, HOME, temp)."""
    outputs = state = inputs = 0
    for root, _dirs, files in os.walk(workdir):
        rel_root = Path(root).relative_to(workdir)
        for name in files:
            rel = (rel_root / name).as_posix()
            try:
                size = os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
            if rel in INPUT_PATHS:
                inputs += size
            elif rel.split("/", 1)[0] in OUTPUT_DIRS:
                outputs += size
            else:
                state += size
    return {"outputs_bytes": outputs, "state_bytes": state, "inputs_bytes": inputs}


def user_facing(argv: list[str], workdir: Path) -> list[str]:
    """A command as the user would type it from the repository: `python`, `$WORKDIR` and
    repository-relative paths instead of this machine's paths."""
    return [user_text("python" if arg == sys.executable else str(arg), workdir) for arg in argv]


def user_text(text: str, workdir: Path) -> str:
    text = text.replace(str(workdir), "$WORKDIR")
    return text.replace(str(REPO) + "/", "")
