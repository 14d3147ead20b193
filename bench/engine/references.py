"""The right answers every execution is verified against: one cache per run, in one file.

Each answer comes from the reference implementation (the plain baseline), run untimed once per
run and kind: its predictions at a data scale (`pipeline`), its model selection on a grid
(`parallel`), and its result in a changed situation of the rerun scenario (`rerun`, computed by
that scenario). They are kept in references.json, so that a continued run verifies against the
same bytes. A lock lets tests observe several tools side by side.
"""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bench.engine import verify
from core.contract import LAPTOP, Adapter

if TYPE_CHECKING:
    from bench.engine.workspace import Workspace

FILE = "references.json"
KINDS = ("pipeline", "parallel", "rerun")


class ReferenceError(RuntimeError):
    """The reference implementation could not produce a right answer."""


class References:
    def __init__(self, ws: "Workspace", reference: Adapter | None):
        self.ws, self.reference = ws, reference
        self.path = ws.run_dir / FILE
        self._lock = threading.RLock()
        self._kept = self._read()

    def _read(self) -> dict[str, dict]:
        kept = {kind: {} for kind in KINDS}
        if self.path.is_file():
            kept.update(json.loads(self.path.read_text(encoding="utf-8")))
        return kept

    def _write(self) -> None:
        tmp = self.path.with_name(FILE + ".tmp")
        tmp.write_text(json.dumps(self._kept, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def get(self, kind: str, key: str, compute: Callable[[], dict]) -> dict:
        """The kept answer, or compute it (untimed), keep it and return it."""
        with self._lock:
            if key not in self._kept[kind]:
                self._kept[kind][key] = compute()
                self._write()
            return self._kept[kind][key]

    def known(self, kind: str, key: str) -> dict | None:
        return self._kept[kind].get(key)

    def adapter(self) -> Adapter:
        if self.reference is None:
            raise ReferenceError("the reference implementation (core.adapter) is needed to "
                                 "verify outputs")
        return self.reference

    # ------------------------------------------------------------ the two common answers

    def pipeline(self, scale: int) -> dict:
        """The reference's predictions sha256 and metrics at a data scale."""
        return self.get("pipeline", str(scale), lambda: self._pipeline(scale))

    def expected_sha(self, scale: int) -> str:
        return self.pipeline(scale)["predictions_sha256"]

    def _pipeline(self, scale: int) -> dict:
        ref = self.adapter()
        mode = ref.reference.mode
        scratch = self.ws.scratch(f"reference-x{scale}")
        workdir = self.ws.new_workdir(scratch)
        run = self.ws.pipeline(ref, mode, LAPTOP, workdir, scratch, fmt=None, scale=scale,
                               label="reference")
        delivered = self.ws.deliverables(ref, workdir)
        sha = verify.sha256(delivered.predictions)
        if run.outcome.exit_code != 0 or sha is None:
            log = self.ws.keep_log(run.outcome, f"reference-x{scale}")
            raise ReferenceError(f"the reference run at scale {scale} failed (exit "
                                 f"{run.outcome.exit_code}): "
                                 f"{run.outcome.stderr_tail.strip()[-300:]} (see {log})")
        answer = {"predictions_sha256": sha, "mode": mode, "wall_s": run.outcome.wall_s,
                  "metrics": read_json(delivered.metrics)}
        shutil.rmtree(scratch, ignore_errors=True)
        return answer

    def parallel(self, grid: str) -> dict:
        """The reference's model selection at one worker on a grid."""
        return self.get("parallel", grid, lambda: self._parallel(grid))

    def _parallel(self, grid: str) -> dict:
        ref = self.adapter()
        runner = ref.reference.parallel_runner
        scratch = self.ws.scratch("parallel-reference")
        workdir = self.ws.new_workdir(scratch)
        argv = ref.parallel.command(workdir, runner, setup=LAPTOP, workers=1, grid=grid,
                                    cluster_address=None, service_url=None)
        done = self.ws.run(argv, ref, ref.default_mode, LAPTOP, workdir, scratch, size=1,
                           label="reference")
        sha = verify.sha256(self.ws.deliverables(ref, workdir).predictions)
        if done.outcome.exit_code != 0 or sha is None:
            log = self.ws.keep_log(done.outcome, "parallel-reference")
            raise ReferenceError(f"the reference selection failed (exit "
                                 f"{done.outcome.exit_code}); see {log}")
        answer = {"predictions_sha256": sha, "command": argv[1:], "runner": runner,
                  "wall_s": done.outcome.wall_s,
                  "selection": read_json(workdir / "out" / "selection.json")}
        shutil.rmtree(scratch, ignore_errors=True)
        return answer


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
