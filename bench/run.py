"""`python -m bench run`: measure and store. Every execution's record is appended and flushed
as soon as it ends, so an interruption loses at most the execution in flight, and
`--continue RUN_ID` runs only what is missing."""
from __future__ import annotations

import argparse
import datetime
import re
import shutil
import signal
import sys
import time
from pathlib import Path

from bench import codesize, execute, floor, plan, provenance, records, registry, scenarios
from bench.context import Context, call_adapter, user_text
from bench.profiles import FORMATS, PROFILES, SCENARIOS, STEPS, Profile
from bench.progress import Progress, clock
from bench.services import ServiceError, Services

DEFAULT_OUT = execute.REPO / "reports"
DEFAULT_SEED = 1
DAG_TIMEOUT_S = 180.0
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # luigi's deps_tree colours its states


class UsageError(Exception):
    """Bad options: one line on stderr, exit status 2."""


def add_options(p: argparse.ArgumentParser) -> None:
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="profile", action="store_const", const="quick",
                      help="CI smoke run: one size, two formats, one round after the warm-up")
    size.add_argument("--full", dest="profile", action="store_const", const="full",
                      help="bigger sizes and at least 5 samples of every number")
    size.add_argument("--scaling", dest="profile", action="store_const", const="scaling",
                      help="only cost per task, parallel fan-out and reruns after a change")
    p.set_defaults(profile="default")
    p.add_argument("--impl", action="append", metavar="NAME[,NAME]",
                   help="implementations to run (default: all available)")
    p.add_argument("--mode", action="append", metavar="MODE[,MODE]",
                   help="only these modes (default: each scenario's modes)")
    p.add_argument("--scenario", action="append", metavar="NAME[,NAME]",
                   help=f"scenarios to run: {', '.join(SCENARIOS)} (default: the profile's)")
    p.add_argument("--rounds", type=_positive_int, help="timed rounds of every scenario")
    p.add_argument("--steps", metavar="STEP[,STEP]", help="steps of resume@S and crash@S")
    p.add_argument("--scales", metavar="K[,K]", help="data scales of the io sweep")
    p.add_argument("--formats", metavar="FMT[,FMT]", help="formats of the io sweep")
    p.add_argument("--seed", type=int, default=None, help=f"shuffle seed (default {DEFAULT_SEED})")
    p.add_argument("--no-warmup", action="store_true", help="skip the warm-up round")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="per execution (default: the profile's, growing with scale)")
    p.add_argument("--data", default=None, help="CSV of passengers instead of the shipped copy")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="directory holding run directories (default reports/)")
    p.add_argument("--continue", dest="resume_id", metavar="RUN_ID",
                   help="complete an interrupted run: only executions without a record run")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _names(values, allowed=None, what="value") -> list[str] | None:
    if not values:
        return None
    names = [n.strip() for v in ([values] if isinstance(values, str) else values)
             for n in v.split(",") if n.strip()]
    if allowed is not None:
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise UsageError(f"unknown {what} {', '.join(unknown)}; choose from "
                             f"{', '.join(allowed)}")
    return names


def _scales(text: str | None) -> list[int] | None:
    names = _names(text)
    if names is None:
        return None
    try:
        scales = [int(n) for n in names]
    except ValueError:
        raise UsageError(f"--scales takes whole numbers >= 1, got {text!r}") from None
    if any(s < 1 for s in scales):
        raise UsageError(f"--scales takes whole numbers >= 1, got {text!r}")
    return scales


# ---------------------------------------------------------------- configuration

def configure(args, loaded: registry.Loaded) -> dict:
    """The stored configuration of a new run: everything --continue needs to rebuild the plan."""
    profile = PROFILES[args.profile].with_overrides(
        scenarios=_names(args.scenario, SCENARIOS, "scenario"), rounds=args.rounds,
        scales=_scales(args.scales), formats=_names(args.formats, FORMATS, "format"),
        steps=_names(args.steps, STEPS, "step"), warmup=False if args.no_warmup else None,
        timeout_s=args.timeout)
    available = loaded.by_name()
    impls = _names(args.impl, list(available), "implementation") or list(available)
    modes = _names(args.mode)
    if modes:
        known = {m for name in impls for m in (*available[name].modes,
                                                 *available[name].parallel_runners)}
        unknown = sorted(set(modes) - known)
        if unknown:
            raise UsageError(f"unknown mode {', '.join(unknown)}; the selected implementations "
                             f"have {', '.join(sorted(known))}")
    if args.data and not Path(args.data).is_file():
        raise UsageError(f"data file not found: {args.data}")
    return {"profile": profile.to_json(), "impls": impls, "modes": modes,
            "seed": DEFAULT_SEED if args.seed is None else args.seed,
            "data": str(Path(args.data).resolve()) if args.data else None,
            "adapters": list(registry.adapter_modules())}


def new_run_dir(out: Path, profile: str) -> tuple[str, Path]:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        run_id = f"{stamp}-{profile}" + (f"-{n}" if n else "")
        run_dir = out / run_id
        try:
            run_dir.mkdir(parents=True)
            return run_id, run_dir
        except FileExistsError:
            continue
    raise UsageError(f"cannot create a run directory under {out}")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _impl_info(impl, source_hash: str, packages: dict) -> dict:
    m = impl.module
    return {"adapter": m.__name__, "modes": dict(m.MODES), "default_mode": impl.default_mode,
            "format_modes": sorted(m.FORMAT_MODES), "services": dict(m.SERVICES),
            "tool_home": list(m.TOOL_HOME), "source_files": list(m.SOURCE_FILES),
            "version": packages.get(impl.name), "source_hash": source_hash,
            "environment": {mode: _adapter_environment(impl, mode) for mode in impl.modes}}


def _adapter_environment(impl, mode: str) -> dict[str, str] | str:
    """What the adapter adds to each execution's environment, with placeholders for paths."""
    workdir = Path("/WORKDIR")
    url = "http://127.0.0.1:PORT" if impl.service(mode) else None
    try:
        env = call_adapter(impl.module.environment, workdir, mode, service_url=url)
    except Exception as exc:  # recorded, not fatal: the executions will show the same error
        return f"error: {type(exc).__name__}: {exc}"
    return {k: str(v).replace(str(workdir), "{workdir}") for k, v in sorted(env.items())}


def start_info(run_id: str, run_dir: Path, config: dict, impls, argv, problems) -> dict:
    prov = provenance.collect(impls, argv, run_dir)
    pkgs = {k.lower(): v for k, v in prov["packages"].items()}
    return {
        "run_id": run_id, "profile": config["profile"]["name"], "config": config,
        "command": prov["command_line"], "started_at": _now(),
        "started_epoch": prov["started_epoch"], "finished_at": None,
        "git": prov["git"], "machine": prov["machine"], "python": prov["python"],
        "packages": prov["packages"], "source_hashes": prov["source_hashes"],
        "impls": {i.name: _impl_info(i, prov["source_hashes"][i.name], pkgs) for i in impls},
        "environment": execute.environment_template(),
        "adapter_problems": list(problems), "continuations": [], "services": [],
    }


# ---------------------------------------------------------------- the run

class Runner:
    def __init__(self, run_dir: Path, info: dict, impls: dict, argv: list[str], out=sys.stderr):
        self.run_dir, self.info, self.argv, self.out = run_dir, info, argv, out
        config = info["config"]
        self.profile = Profile.from_json(config["profile"])
        self.selected = [impls[n] for n in config["impls"] if n in impls]
        self.ctx = Context(run_dir, info["run_id"], impls, self.profile, data=config["data"],
                           timeout_s=None)
        self.records_path = run_dir / "records.jsonl"
        slots = plan.slots_for(self.profile, self.selected, set(config["modes"] or ()))
        self.order = plan.schedule(slots, self.profile, config["seed"], self._needs_service,
                                   {i.name: i.default_mode for i in self.selected})
        self.session_started = _now()

    def _needs_service(self, slot: plan.Slot) -> bool:
        return self.ctx.impls[slot.impl].service(slot.mode) is not None

    def pending(self) -> list[plan.Execution]:
        done = {r.key for r in records.load(self.records_path)}
        return [ex for ex in self.order if ex.key not in done]

    def run(self) -> int:
        pending = self.pending()
        progress = Progress(len(self.order), len(self.order) - len(pending), self.out)
        progress.note(f"run {self.info['run_id']} ({self.profile.name}): {len(self.order)} "
                      f"executions, {len(pending)} to run, first estimate "
                      f"~{clock(progress.remaining(pending))}; records in {self.run_dir}")
        t0 = time.monotonic()
        try:
            self._keep_sources_and_dags(progress)
            self._codesize()
            if pending:
                # pertask and parallel store N and workers as scale, and verify their own way
                self.ctx.ensure_reference({ex.slot.scale for ex in pending
                                           if ex.slot.scenario not in ("pertask", "parallel")}
                                          or {1})
            self._blocks(pending, progress)
            self._floor(progress)
        finally:
            self._finish(time.monotonic() - t0)
        self._summary(progress)
        return 0

    def _blocks(self, pending: list[plan.Execution], progress: Progress) -> None:
        plain = [ex for ex in pending if not self._needs_service(ex.slot)]
        served = [ex for ex in pending if self._needs_service(ex.slot)]
        self._executions(plain, progress)
        if served:
            needed = sorted({(ex.slot.impl, ex.slot.mode) for ex in served})
            names = sorted({self.ctx.impls[i].service(m) for i, m in needed})
            progress.note(f"starting {', '.join(names)} on 127.0.0.1 ...")
            services = Services(self.ctx, needed)
            # Stored while they run, so that a harness killed outright (no Ctrl-C) leaves
            # their PIDs for --continue to end.
            services.on_started = lambda described: self._store_services(described)
            try:
                with services:
                    self._executions(served, progress)
            except ServiceError as exc:
                progress.note(f"error: {exc}; the {len(served)} executions needing it are left "
                              "for --continue")
            finally:
                self._store_services(services.describe())

    def _store_services(self, described: list[dict]) -> None:
        known = [s for s in self.info["services"] if s not in described]
        self.info["services"] = known + described
        records.write_run_info(self.run_dir, self.info)

    def _executions(self, todo: list[plan.Execution], progress: Progress) -> None:
        for i, ex in enumerate(todo):
            progress.begin(ex, todo[i + 1:])
            t0 = time.monotonic()
            record = scenarios.run_execution(self.ctx, ex)
            records.append(self.records_path, record)
            progress.end(ex, record.status, record.outcome, time.monotonic() - t0)

    # ------------------------------------------------------------ stored beside the records

    def _keep_sources_and_dags(self, progress: Progress) -> None:
        for impl in self.selected:
            for rel in impl.module.SOURCE_FILES:
                src, dst = execute.REPO / rel, self.run_dir / "sources" / impl.name / rel
                if src.is_file() and not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)
            # One DAG per tool, from its default mode: the other modes run the same graph.
            for mode in (impl.default_mode,):
                target = self.run_dir / "dags" / f"{impl.name}-{mode}.txt"
                if target.exists():
                    continue
                try:
                    self._dag(impl, mode, target, progress)
                except Exception as exc:  # a broken DAG printer must not stop the measurements
                    progress.note(f"dag of {impl.name}/{mode}: not stored ({type(exc).__name__}: "
                                  f"{exc})")

    def _dag(self, impl, mode: str, target: Path, progress: Progress) -> None:
        scratch = self.ctx.scratch(f"dag-{impl.name}-{mode}")
        workdir = self.ctx.new_workdir(impl, scratch, with_home=True)
        argv = impl.module.dag_command(workdir, mode)
        if argv is None:
            shutil.rmtree(scratch, ignore_errors=True)
            return
        progress.note(f"dag of {impl.name}/{mode} ...")
        stage = [sys.executable, "-c", "import sys; from core import stage, params; "
                 "stage.stage(sys.argv[1], params.Params(), sys.argv[2] if len(sys.argv) > 2 "
                 "else None)", str(workdir)] + ([self.ctx.data] if self.ctx.data else [])
        env = self.ctx.environment(impl, mode, workdir)
        staged = execute.run(stage, env=env, cwd=workdir, logs=scratch / "logs",
                             timeout_s=DAG_TIMEOUT_S, label="stage")
        result = staged
        if staged.exit_code == 0:
            result = execute.run(argv, env=env, cwd=workdir, logs=scratch / "logs",
                                 timeout_s=DAG_TIMEOUT_S, label="dag")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = result.stdout_path.read_text(errors="replace")
        if result.exit_code != 0:
            text = (f"# the DAG command exited with status {result.exit_code}\n{text}\n"
                    f"{result.stderr_tail}")
            progress.note(f"dag of {impl.name}/{mode}: exit {result.exit_code}, kept in {target}")
        target.write_text(user_text(ANSI_ESCAPE.sub("", text), workdir))
        shutil.rmtree(scratch, ignore_errors=True)

    def _codesize(self) -> None:
        if "codesize" not in self.profile.scenarios:
            return
        done = {r.key for r in records.load(self.records_path)}
        for impl in self.selected:
            record = records.Record(
                run_id=self.info["run_id"], impl=impl.name, mode=impl.default_mode,
                scenario="codesize", round=1, status="ok", wall_s=0.0,
                detail=codesize.measure_files(execute.REPO, impl.module.SOURCE_FILES))
            if record.key not in done:
                records.append(self.records_path, record)

    def _floor(self, progress: Progress) -> None:
        if "floor" not in self.profile.scenarios or (self.run_dir / "floor.json").exists():
            return
        progress.note("floor: raw write/read cost per format and size (pytest-benchmark) ...")
        max_time = 0.25 if self.profile.name == "quick" else 1.0
        self.info["floor"] = summary = floor.run(
            self.run_dir, self.profile.scales, self.profile.formats,
            self.profile.timeout_for(max(self.profile.scales)) * 4, max_time)
        progress.note(f"floor: exit {summary['exit_code']}, {summary['wall_s']:.1f} s")

    def _finish(self, seconds: float) -> None:
        sessions = self.info.setdefault("sessions", [])
        sessions.append({"started_at": self.session_started, "wall_s": round(seconds, 3),
                         "command": self.argv})
        self.info["finished_at"] = _now() if not self.pending() else None
        records.write_run_info(self.run_dir, self.info)
        self.ctx.cleanup()

    def _summary(self, progress: Progress) -> None:
        recs = records.load(self.records_path)
        counts: dict[str, int] = {}
        for r in recs:
            counts[r.status] = counts.get(r.status, 0) + 1
        tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        progress.note(f"done: {len(recs)} records ({tally}) in {self.run_dir}")


# ---------------------------------------------------------------- entry point

def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(args, argv: list[str]) -> tuple[int, str | None]:
    """Returns (exit status, run id)."""
    loaded = registry.load()
    for problem in loaded.problems:
        print(f"note: {problem}", file=sys.stderr)
    if not loaded.impls:
        raise UsageError("no implementation could be loaded")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    if args.resume_id:
        run_dir = args.out / args.resume_id
        info = records.read_run_info(run_dir)
        _end_stale_services(info)
        _note_continuation(info, loaded, argv)
    else:
        config = configure(args, loaded)
        run_id, run_dir = new_run_dir(args.out, config["profile"]["name"])
        selected = [i for i in loaded.impls if i.name in config["impls"]]
        info = start_info(run_id, run_dir, config, selected, argv, loaded.problems)
        records.write_run_info(run_dir, info)
    missing = [n for n in info["config"]["impls"] if n not in loaded.by_name()]
    if missing:
        raise UsageError(f"implementation(s) {', '.join(missing)} of this run cannot be loaded")
    runner = Runner(run_dir, info, loaded.by_name(), argv)
    try:
        return runner.run(), info["run_id"]
    except KeyboardInterrupt:
        kept = len(records.load(runner.records_path))
        print(f"\ninterrupted: {kept} records kept in {run_dir}; finish with "
              f"python -m bench run --continue {info['run_id']}"
              + (f" --out {args.out}" if args.out != DEFAULT_OUT else ""), file=sys.stderr)
        return 130, info["run_id"]


def _end_stale_services(info: dict) -> None:
    """Servers of an earlier session that was killed outright: ended by their recorded PID."""
    for service in info.get("services", []):
        pid, argv = service.get("pid"), service.get("argv") or []
        if "stopped" in service or not pid or not argv:
            continue
        running = execute.cmdline(pid)  # a script's argv[0] shows up behind its interpreter
        if Path(argv[0]).name in running and all(str(a) in running for a in argv[1:]):
            survivors = execute.end_session(pid, settle_s=0)
            print(f"note: ended {service['name']} (pid {pid}) left running by the interrupted "
                  "session", file=sys.stderr)
            service["stopped"] = "by --continue"
            service["survivors"] = survivors
        else:
            service["stopped"] = "not running at --continue"


def _note_continuation(info: dict, loaded: registry.Loaded, argv: list[str]) -> None:
    impls = [i for i in loaded.impls if i.name in info["config"]["impls"]]
    hashes = {i.name: provenance.source_hash(i) for i in impls}
    changed = sorted(n for n, h in hashes.items() if info["source_hashes"].get(n) != h)
    if changed:
        print(f"warning: the source of {', '.join(changed)} changed since the run started; "
              "its records will mix code versions", file=sys.stderr)
    info["continuations"].append({"started_at": _now(), "command": argv,
                                  "git": provenance.git(), "source_hashes": hashes})
