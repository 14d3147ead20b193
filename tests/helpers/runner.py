"""Run a command as the harness does (bench.engine.process: a new session, a blocking wait,
survivors killed), with HOME and TMPDIR outside the workdir so that a test can check that
nothing was written there."""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import sys
from pathlib import Path

from bench.engine import process
from bench.engine.workspace import base_environment
from core import STEPS, layout

REPO = process.REPO
PY = sys.executable
_seq = itertools.count(1)


@dataclasses.dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    spans: list[dict]
    survivors: list[str]  # processes of the session still alive after the command returned

    @property
    def steps(self) -> list[str]:
        """Steps whose compute ran, in order of first appearance."""
        return process.steps_executed(self.spans)


def home_of(workdir: Path) -> Path:
    """The HOME a test's commands get: beside the workdir, never inside it (TMPDIR is the
    same path with `.tmp` appended)."""
    return Path(workdir).parent / f"{Path(workdir).name}.home"


def outside(workdir: Path) -> list[Path]:
    """HOME and TMPDIR of a test's commands: what must stay empty."""
    home = home_of(workdir)
    return [home, Path(f"{home}.tmp")]


def base_env(workdir: Path) -> dict[str, str]:
    """The harness's environment, but with HOME and TMPDIR outside the workdir."""
    return base_environment(workdir, home=home_of(workdir))


def run(argv: list[str], workdir: Path, *, env: dict[str, str] | None = None,
        fail_at: str | None = None, crash_at: str | None = None,
        timeout: float = 900) -> Result:
    """Run argv from the repository root; HOME is outside workdir unless env says otherwise."""
    workdir = Path(workdir)
    scratch = workdir.parent / f"{workdir.name}.run-{next(_seq)}"
    trace = scratch / "trace.jsonl"
    full_env = dict(env or base_env(workdir))
    full_env["BENCH_TRACE"] = str(trace)
    for name, value in (("BENCH_FAIL_AT", fail_at), ("BENCH_CRASH_AT", crash_at)):
        if value:
            full_env[name] = value
    outcome = process.run(argv, env=full_env, cwd=REPO, logs=scratch, timeout_s=timeout,
                          label="run")
    stderr = outcome.stderr_text + (f"\n[runner] timed out after {timeout} s"
                                    if outcome.timed_out else "")
    return Result(outcome.exit_code, outcome.stdout_text, stderr, process.read_trace(trace),
                  outcome.survivors)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ok(result: Result) -> Result:
    assert result.rc == 0, result.stderr
    return result


def predictions_sha(workdir: Path) -> str:
    return sha256(Path(workdir) / layout.PREDICTIONS)


def files_in(workdir: Path) -> set[str]:
    """Every file under workdir, as posix paths relative to it."""
    return {p.relative_to(workdir).as_posix() for p in Path(workdir).rglob("*") if p.is_file()}


__all__ = ["REPO", "PY", "STEPS", "Result", "run", "ok", "sha256", "predictions_sha",
           "files_in", "base_env", "home_of", "outside"]
