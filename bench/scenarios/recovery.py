"""What a user types after a tool would not resume by itself: the adapter's recovery commands,
run in order in the workdir, timed and verified (crash, crash_job and resume share them)."""
from __future__ import annotations

import shutil
from pathlib import Path

from bench.engine import measured, verify
from bench.engine.workspace import user_facing
from bench.scenarios import common


def commands(ws, ex, adapter, workdir: Path) -> list[list[str]]:
    s = ex.slot
    return adapter.recovery_commands(workdir, s.mode, setup=s.setup, fmt=common.fmt(ex),
                                     scale=s.size, data=ws.data,
                                     service_url=ws.service_url(adapter, s.setup))


def run(ws, ex, adapter, workdir: Path, scratch: Path) -> dict:
    """The recovery commands, in order, until one fails; then the verification."""
    s = ex.slot
    argvs = commands(ws, ex, adapter, workdir)
    result = {"commands": [user_facing(c, workdir) for c in argvs], "wall_s": 0.0,
              "exit_codes": [], "exit_code": None, "steps_executed": []}
    for i, argv in enumerate(argvs):
        done = ws.run(list(argv), adapter, s.mode, s.setup, workdir, scratch, size=s.size,
                      label=f"recovery-{i}")
        result["wall_s"] = round(result["wall_s"] + done.outcome.wall_s, 6)
        result["exit_codes"].append(done.outcome.exit_code)
        result["exit_code"] = done.outcome.exit_code
        result["steps_executed"] += [st for st in done.steps
                                     if st not in result["steps_executed"]]
        if done.outcome.exit_code != 0:
            result["stderr_tail"] = measured.tool_message(done.outcome)
            break
    if not argvs:
        result["note"] = "the adapter declares no recovery command"
    result["verify"] = verify.check(ws.deliverables(adapter, workdir),
                                    ws.references.expected_sha(s.size), [], None)
    return result


def succeeded(result: dict) -> bool:
    return result["exit_code"] == 0 and bool(result["verify"]["predictions_match"])


def keep_copy(workdir: Path, scratch: Path) -> Path:
    """A copy of the workdir as the failure left it (mtimes kept), untimed, so that the
    recovery commands can start from that state after the plain rerun changed it."""
    copy = scratch / "as-left"
    shutil.copytree(workdir, copy, symlinks=True)
    return copy


def restore(copy: Path, workdir: Path) -> None:
    """Back to the kept state, at the same path (tools record absolute paths)."""
    shutil.rmtree(workdir)
    copy.rename(workdir)
