"""What every scenario shares within one run: where things go, how a pipeline command is run,
the reference predictions, the pre-initialised tool homes and the servers' addresses."""
from __future__ import annotations

import dataclasses
import inspect
import itertools
import json
import shutil
import sys
from pathlib import Path

from bench import execute, verify
from bench.profiles import DEFAULT_FORMAT, Profile
from bench.registry import BASELINE, Impl

OUTPUT_DIRS = ("interim", "out")                 # core.layout: artefacts
INPUT_PATHS = ("data/titanic.csv", "params.yaml")  # core.layout: staged input


@dataclasses.dataclass
class PipelineRun:
    outcome: execute.Outcome
    spans: list[dict]
    workdir: Path

    @property
    def steps(self) -> list[str]:
        return execute.steps_executed(self.spans)


def call_adapter(fn, *args, **kwargs):
    """Pass optional keywords (service_url...) only to adapter functions that take them."""
    params = inspect.signature(fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return fn(*args, **kwargs)


class Context:
    def __init__(self, run_dir: Path, run_id: str, impls: dict[str, Impl], profile: Profile,
                 data: str | None = None, timeout_s: float | None = None):
        self.run_dir, self.run_id, self.impls, self.profile = run_dir, run_id, impls, profile
        self.data = data
        self.timeout_override = timeout_s
        self.work = run_dir / "work"
        self.logs = run_dir / "logs"
        self.service_urls: dict[tuple[str, str], str] = {}
        self._homes: dict[str, Path] = {}
        self._seq = itertools.count(1)
        self.reference = self._load_reference()

    # ------------------------------------------------------------ places

    def scratch(self, label: str) -> Path:
        """A fresh directory for one execution: its workdir, trace and logs."""
        path = self.work / f"{next(self._seq):05d}-{label}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def timeout(self, scale: int) -> float:
        return self.timeout_override or self.profile.timeout_for(scale)

    def keep_log(self, outcome: execute.Outcome, name: str) -> str:
        """Copy an execution's stdout and stderr beside the records; returns the stderr path."""
        self.logs.mkdir(parents=True, exist_ok=True)
        for src, suffix in ((outcome.stdout_path, "stdout"), (outcome.stderr_path, "stderr")):
            if src.exists():
                shutil.copyfile(src, self.logs / f"{name}.{suffix}")
        return f"logs/{name}.stderr"

    # ------------------------------------------------------------ running a pipeline

    def argv(self, impl: Impl, mode: str, workdir: Path, fmt: str | None, scale: int) -> list[str]:
        return call_adapter(impl.module.command, workdir, mode, fmt=fmt or DEFAULT_FORMAT,
                            scale=scale, data=self.data,
                            service_url=self.service_urls.get((impl.name, mode)))

    def environment(self, impl: Impl, mode: str, workdir: Path) -> dict[str, str]:
        env = execute.base_environment(workdir)
        env.update(call_adapter(impl.module.environment, workdir, mode,
                                service_url=self.service_urls.get((impl.name, mode))))
        return env

    def run(self, argv: list[str], impl: Impl, mode: str, workdir: Path, scratch: Path, *,
            scale: int, label: str, fail_at: str | None = None,
            crash_at: str | None = None, env_overrides: dict[str, str] | None = None,
            timeout_s: float | None = None) -> PipelineRun:
        """env_overrides: on top of the adapter's environment (e.g. PYTHONPATH pointing at an
        edited copy of the code, in the rerun scenario)."""
        trace = scratch / f"{label}.trace.jsonl"
        env = self.environment(impl, mode, workdir)
        env.update(env_overrides or {})
        env["BENCH_TRACE"] = str(trace)
        if fail_at:
            env["BENCH_FAIL_AT"] = fail_at
        if crash_at:
            env["BENCH_CRASH_AT"] = crash_at
        outcome = execute.run(argv, env=env, cwd=workdir, logs=scratch / "logs",
                              timeout_s=timeout_s or self.timeout(scale), label=label)
        return PipelineRun(outcome, execute.read_trace(trace), workdir)

    def pipeline(self, impl: Impl, mode: str, workdir: Path, scratch: Path, *, fmt: str | None,
                 scale: int, label: str, **inject) -> PipelineRun:
        argv = self.argv(impl, mode, workdir, fmt, scale)
        return self.run(argv, impl, mode, workdir, scratch, scale=scale, label=label, **inject)

    def new_workdir(self, impl: Impl, scratch: Path, *, with_home: bool) -> Path:
        workdir = scratch / "wd"
        workdir.mkdir()
        if with_home:
            self._copy_home(impl, workdir)
        return workdir

    def disk(self, workdir: Path) -> dict:
        return execute.disk_usage(workdir, OUTPUT_DIRS, INPUT_PATHS)

    # ------------------------------------------------------------ tool homes

    def _copy_home(self, impl: Impl, workdir: Path) -> None:
        template = self._home_template(impl)
        if template is None:
            return
        for rel in impl.module.TOOL_HOME:
            src = template / rel
            if src.is_dir():
                shutil.copytree(src, workdir / rel, symlinks=True, dirs_exist_ok=True)
            elif src.exists():
                (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, workdir / rel)

    def _home_template(self, impl: Impl) -> Path | None:
        """A tool home initialised once per run, untimed, by a run that stops at the first step:
        the tool creates its database and caches as on a machine that has run it before, but
        no step result exists that a later run could reuse."""
        if not impl.module.TOOL_HOME:
            return None
        if impl.name not in self._homes:
            scratch = self.scratch(f"home-{impl.name}")
            workdir = self.new_workdir(impl, scratch, with_home=False)
            run = self.pipeline(impl, impl.default_mode, workdir, scratch,
                                fmt=DEFAULT_FORMAT, scale=1, label="home", fail_at="load")
            if run.outcome.exit_code == 0 or run.outcome.timed_out:
                self.keep_log(run.outcome, f"home-{impl.name}")
                raise RuntimeError(f"{impl.name}: preparing its tool home did not stop at the "
                                   f"injected failure (exit {run.outcome.exit_code})")
            self._homes[impl.name] = workdir
        return self._homes[impl.name]

    # ------------------------------------------------------------ reference predictions

    def _load_reference(self) -> dict[int, dict]:
        path = self.run_dir / "reference.json"
        if not path.exists():
            return {}
        return {int(k): v for k, v in json.loads(path.read_text()).items()}

    def expected_sha(self, scale: int) -> str | None:
        return self.reference.get(scale, {}).get("predictions_sha256")

    def ensure_reference(self, scales) -> None:
        """The baseline's predictions at each scale, computed once per run, untimed."""
        baseline = self.impls.get(BASELINE)
        missing = sorted(set(scales) - set(self.reference))
        if not missing:
            return
        if baseline is None:
            raise RuntimeError("the baseline adapter (core.adapter) is needed to verify outputs")
        mode = "memory" if "memory" in baseline.modes else baseline.default_mode
        for scale in missing:
            scratch = self.scratch(f"reference-x{scale}")
            workdir = self.new_workdir(baseline, scratch, with_home=False)
            run = self.pipeline(baseline, mode, workdir, scratch, fmt=None, scale=scale,
                                label="reference")
            sha = verify.sha256(workdir / verify.PREDICTIONS)
            if run.outcome.exit_code != 0 or sha is None:
                log = self.keep_log(run.outcome, f"reference-x{scale}")
                raise RuntimeError(f"the baseline reference run at scale {scale} failed "
                                   f"(exit {run.outcome.exit_code}); see {log}")
            metrics = workdir / "out" / "metrics.json"
            self.reference[scale] = {
                "predictions_sha256": sha, "mode": mode, "wall_s": run.outcome.wall_s,
                "metrics": json.loads(metrics.read_text()) if metrics.exists() else None}
            shutil.rmtree(scratch, ignore_errors=True)
        (self.run_dir / "reference.json").write_text(
            json.dumps({str(k): v for k, v in sorted(self.reference.items())}, indent=2) + "\n")

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def user_facing(argv: list[str], workdir: Path) -> list[str]:
    """A command as the user would type it from the repository: `python`, `$WORKDIR` and
    repository-relative paths instead of this machine's paths."""
    return [user_text("python" if arg == sys.executable else str(arg), workdir) for arg in argv]


def user_text(text: str, workdir: Path) -> str:
    text = text.replace(str(workdir), "$WORKDIR")
    return text.replace(str(execute.REPO) + "/", "")
