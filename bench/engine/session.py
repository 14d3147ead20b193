"""One `bench run` session: the plan of a run, executed in order and stored as it goes.

Every execution's record is appended and flushed as soon as it ends, so an interruption loses
at most the execution in flight, and a later session (`--continue RUN_ID`) runs only what is
missing. Sources and DAGs are kept beside the records first, then the scenarios counted once
per run (codesize), the rounds (a block without servers, then a block with them), then the
scenarios measured after the rounds (floor).
"""
from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import re
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from bench.engine import measured, plan, process
from bench.engine.profiles import Profile
from bench.engine.progress import Progress, clock
from bench.engine.services import Servers, ServiceError
from bench.engine.workspace import REPO, Workspace, user_text
from bench.store import records, run_info
from bench.store.records import Record
from core.contract import LAPTOP, Adapter

if TYPE_CHECKING:
    from bench.scenarios.base import Scenario

DAG_TIMEOUT_S = 180.0
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # luigi's deps_tree colours its states
STDERR_CHARS = 4000
STAGE = ("import sys; from core import stage, params; stage.stage(sys.argv[1], params.Params(), "
         "sys.argv[2] if len(sys.argv) > 2 else None)")


LOCK = "session.lock"


class RunInUse(records.SchemaError):
    """The run directory is held by a live session: told in one line, like a run directory
    this code cannot read."""


def execute(ws: Workspace, scenarios: dict[str, "Scenario"], ex: plan.Execution) -> Record:
    """One execution through its scenario, as the record `bench run` stores."""
    s = ex.slot
    adapter = ws.adapters[s.impl]
    scenario = scenarios.get(s.selection) or scenarios[s.scenario]
    scratch = ws.scratch(f"{s.impl}-{s.runner or s.mode}-{s.setup}-{s.scenario}")
    try:
        with process.in_slot(ex.key, scratch):
            fields = scenario.run(ws, ex, adapter, scratch)
    except Exception as exc:  # an adapter or preparation error is this slot's failure only
        fields = measured.not_run(f"harness: {type(exc).__name__}: {exc}",
                                  traceback.format_exc()[-STDERR_CHARS:])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Record(run_id=ws.run_id, impl=s.impl, mode=s.mode, scenario=s.scenario,
                  variant=s.variant, size=s.size, format=s.format, runner=s.runner,
                  setup=s.setup, round=ex.round, warmup=ex.warmup, phase="timed", **fields)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Session:
    repo = REPO

    def __init__(self, run_dir: Path, info: run_info.RunInfo, adapters: dict[str, Adapter],
                 argv: list[str], scenarios: dict[str, "Scenario"], out=sys.stderr):
        self.run_dir, self.info, self.argv, self.out = run_dir, info, argv, out
        self.scenarios = scenarios
        config = info.config
        self.profile = Profile.from_json(config["profile"])
        self.selected = [adapters[n] for n in config["impls"] if n in adapters]
        self.ws = Workspace(run_dir, info.run_id, adapters, self.profile, data=config["data"])
        self.records_path = run_dir / "records.jsonl"
        makers = {name: s.slots for name, s in scenarios.items() if s.slots is not None}
        slots = plan.slots_for(self.profile, self.selected, makers, set(config["modes"] or ()))
        self.order = plan.schedule(slots, self.profile, config["seed"], self._needs_service,
                                   {a.name: a.default_mode for a in self.selected})
        self.session_started = now()
        self.progress: Progress | None = None

    def _needs_service(self, slot: plan.Slot) -> bool:
        return self.ws.adapters[slot.impl].service_for(slot.setup) is not None

    def pending(self) -> list[plan.Execution]:
        done = {r.key for r in records.load(self.records_path)}
        return [ex for ex in self.order if ex.key not in done]

    def priors(self) -> dict[str, float]:
        return {a.name: a.cold_prior_s for a in self.selected}

    def run(self) -> int:
        with self._lock():
            self.journal = process.Journal(self.run_dir, self.info.run_id)
            self._clear_interrupted()
            with process.journaling(self.journal):
                return self._run()

    @contextlib.contextmanager
    def _lock(self):
        """One session per run directory at a time: a --continue beside a live session would
        take that session's processes for leftovers. The kernel drops the lock with its
        holder, also when the holder is killed outright."""
        with open(self.run_dir / LOCK, "a+") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "another process"
                raise RunInUse(f"run {self.info.run_id} is being measured by {holder}; wait "
                               "for it to end, or stop it, then --continue") from None
            f.seek(0)
            f.truncate()
            f.write(f"bench run (pid {os.getpid()})\n")
            f.flush()
            try:
                yield
            finally:
                f.seek(0)
                f.truncate()

    def _clear_interrupted(self) -> None:
        """What an earlier session killed outright (SIGKILL: no finally ran) left, undone
        before anything runs: a cut last record, the live processes of the sessions it had
        begun (by the journal's identification rule, never by PID alone), their scratch dirs
        and the rest of its work dir. The executions they belonged to have no record and run
        again from scratch."""
        cut = records.repair(self.records_path)
        if cut:
            print(f"note: removed the last {cut} bytes of {self.records_path.name}, a record "
                  "cut short by the interrupted session; its execution runs again",
                  file=self.out)
        for event in self.journal.end_stale():
            slot = " ".join(str(k) for k in event["slot"] if k is not None) \
                if event["slot"] else None
            ended = event["ended"]
            if event["label"] == "execution":
                self._say(f"note: {slot}: interrupted when the harness was killed; it runs "
                          "again from scratch")
            if ended:
                self._say(f"note: {slot or event['label']}: ended {len(ended)} process(es) the "
                          f"interrupted run left (session {event['marker']}): "
                          + "; ".join(e[:120] for e in ended))
        if self.ws.work.exists():  # only a session that never reached its cleanup leaves it
            self.ws.cleanup()

    def _say(self, text: str) -> None:
        print(text, file=self.out)

    def _run(self) -> int:
        pending = self.pending()
        self.progress = Progress(len(self.order), self.priors(), len(self.order) - len(pending),
                                 self.out)
        self.progress.note(f"run {self.info.run_id} ({self.profile.name}): {len(self.order)} "
                           f"executions, {len(pending)} to run, first estimate "
                           f"~{clock(self.progress.remaining(pending))}; records in "
                           f"{self.run_dir}")
        t0 = time.monotonic()
        try:
            self._keep_sources_and_dags()
            self._once(after_rounds=False)
            if pending:
                # pertask and parallel store N and workers as size, and verify their own way
                for scale in sorted({ex.slot.size for ex in pending if ex.slot.scenario
                                     not in ("pertask", "parallel")} or {1}):
                    self.ws.references.pipeline(scale)
            self._blocks(pending)
            self._once(after_rounds=True)
        finally:
            self.progress.close()
            self._finish(time.monotonic() - t0)
        self._summary()
        return 0

    def _once(self, *, after_rounds: bool) -> None:
        for name in self.profile.scenarios:
            scenario = self.scenarios.get(name)
            if scenario and scenario.once and scenario.after_rounds == after_rounds:
                scenario.once(self)

    def store_once(self, adapter: Adapter, scenario: str, detail: dict) -> None:
        """A record of a scenario counted once per run, in the adapter's default mode."""
        record = Record(run_id=self.info.run_id, impl=adapter.name, mode=adapter.default_mode,
                        scenario=scenario, round=1, status="ok", wall_s=0.0, detail=detail,
                        setup=LAPTOP)
        if record.key not in {r.key for r in records.load(self.records_path)}:
            records.append(self.records_path, record)

    def _blocks(self, pending: list[plan.Execution]) -> None:
        plain = [ex for ex in pending if not self._needs_service(ex.slot)]
        served = [ex for ex in pending if self._needs_service(ex.slot)]
        self._executions(plain)
        if not served:
            return
        needed = sorted({(ex.slot.impl, ex.slot.setup) for ex in served})
        names = sorted({self.ws.adapters[i].service_for(m).name for i, m in needed})
        self.progress.note(f"starting {', '.join(names)} on 127.0.0.1 ...")
        servers = Servers(self.ws, needed)
        # Stored while they run, so that a harness killed outright (no Ctrl-C) leaves their
        # PIDs for --continue to end.
        servers.on_started = self._store_services
        try:
            with servers:
                self._executions(served)
        except ServiceError as exc:
            self.progress.note(f"error: {exc}; the {len(served)} executions needing it are "
                               "left for --continue")
        finally:
            self._store_services(servers.describe())

    def _store_services(self, described: list[dict]) -> None:
        known = [s for s in self.info.services if s not in described]
        self.info.services = known + described
        run_info.write(self.run_dir, self.info)

    def _executions(self, todo: list[plan.Execution]) -> None:
        for i, ex in enumerate(todo):
            self.progress.begin(ex, todo[i + 1:])
            t0 = time.monotonic()
            record = self.execute(ex)
            records.append(self.records_path, record)
            self.progress.end(ex, record.status, record.outcome, time.monotonic() - t0)

    def execute(self, ex: plan.Execution) -> Record:
        return execute(self.ws, self.scenarios, ex)

    # ------------------------------------------------------------ stored beside the records

    def _keep_sources_and_dags(self) -> None:
        for adapter in self.selected:
            kept = [("sources", rel) for rel in adapter.source_files]
            kept += [("setup-files", rel) for s in adapter.setups for rel in s.files]
            for folder, rel in kept:
                src, dst = REPO / rel, self.run_dir / folder / adapter.name / rel
                if src.is_file() and not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    tmp = dst.with_name(dst.name + ".tmp")
                    shutil.copyfile(src, tmp)
                    tmp.replace(dst)  # a kill mid-copy leaves no half file taken as kept
            # One DAG per tool, from its default mode: the other modes run the same graph.
            mode = adapter.default_mode
            target = self.run_dir / "dags" / f"{adapter.name}-{mode}.txt"
            if adapter.dag_command is None or target.exists():
                continue
            try:
                self._dag(adapter, mode, target)
            except Exception as exc:  # a broken DAG printer must not stop the measurements
                self.progress.note(f"dag of {adapter.name}/{mode}: not stored "
                                   f"({type(exc).__name__}: {exc})")

    def _dag(self, adapter: Adapter, mode: str, target: Path) -> None:
        scratch = self.ws.scratch(f"dag-{adapter.name}-{mode}")
        workdir = self.ws.new_workdir(scratch)
        argv = adapter.dag_command(workdir, mode)
        self.progress.note(f"dag of {adapter.name}/{mode} ...")
        stage = [sys.executable, "-c", STAGE, str(workdir)] + ([self.ws.data] if self.ws.data
                                                                 else [])
        env = self.ws.environment(adapter, mode, LAPTOP, workdir)
        result = process.run(stage, env=env, cwd=workdir, logs=scratch / "logs",
                             timeout_s=DAG_TIMEOUT_S, label="stage")
        if result.exit_code == 0:
            result = process.run(argv, env=env, cwd=workdir, logs=scratch / "logs",
                                 timeout_s=DAG_TIMEOUT_S, label="dag")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = result.stdout_text
        if result.exit_code != 0:
            text = (f"# the DAG command exited with status {result.exit_code}\n{text}\n"
                    f"{result.stderr_tail}")
            self.progress.note(f"dag of {adapter.name}/{mode}: exit {result.exit_code}, kept "
                               f"in {target}")
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(user_text(ANSI_ESCAPE.sub("", text), workdir))
        tmp.replace(target)  # a kill mid-write leaves no half DAG taken as kept
        shutil.rmtree(scratch, ignore_errors=True)

    # ------------------------------------------------------------ the end

    def _finish(self, seconds: float) -> None:
        self.info.sessions.append({"started_at": self.session_started,
                                   "wall_s": round(seconds, 3), "command": self.argv})
        self.info.finished_at = now() if not self.pending() else None
        run_info.write(self.run_dir, self.info)
        self.ws.cleanup()

    def _summary(self) -> None:
        recs = records.load(self.records_path)
        counts: dict[str, int] = {}
        for r in recs:
            counts[r.status] = counts.get(r.status, 0) + 1
        tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        self.progress.note(f"done: {len(recs)} records ({tally}) in {self.run_dir}")
