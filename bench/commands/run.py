"""`python -m bench run`: check the options, create or reopen the run directory, and run the
plan (bench/engine/session.py) into it. `--continue RUN_ID` runs only what is missing."""
from __future__ import annotations

import argparse
import datetime
import signal
import sys
from pathlib import Path

from bench.engine import plan, process, provenance, registry
from bench.engine.profiles import FORMATS, PROFILES, STEPS
from bench.engine.session import Session, now
from bench.engine.workspace import environment_template, user_facing, user_text
from bench.scenarios.catalog import SCENARIOS
from bench.store import records, run_info
from bench.store.run_info import ImplInfo, RunInfo
from core.contract import SETUPS, Adapter

DEFAULT_OUT = process.REPO / "reports"
DEFAULT_SEED = 1


class UsageError(Exception):
    """Bad options: one line on stderr, exit status 2."""


def add_profile_options(p: argparse.ArgumentParser) -> None:
    """--quick, --full, --scaling; `--scaling --quick` is the scaling scenarios' smoke run."""
    p.add_argument("--quick", action="store_true",
                   help="a first look in a few minutes: laptop set-up, one round, the "
                        "mission's questions at one step (with --scaling: the scaling "
                        "scenarios at their smallest sizes)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--full", dest="size", action="store_const", const="full",
                      help="bigger sizes and at least 5 samples of every number")
    size.add_argument("--scaling", dest="size", action="store_const", const="scaling",
                      help="only cost per task, parallel fan-out and reruns after a change")
    p.set_defaults(size="default")


def profile_name(args) -> str:
    if not args.quick:
        return args.size
    if args.size == "full":
        raise UsageError("--quick and --full contradict each other; choose one")
    return "quick-scaling" if args.size == "scaling" else "quick"


def add_options(p: argparse.ArgumentParser) -> None:
    add_profile_options(p)
    p.add_argument("--impl", action="append", metavar="NAME[,NAME]",
                   help="implementations to run (default: all available)")
    p.add_argument("--setup", action="append", metavar="SETUP[,SETUP]",
                   help=f"only these set-ups ({', '.join(SETUPS)}; default: the profile's)")
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
    p.add_argument("--continue", dest="continue_id", metavar="RUN_ID",
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
    profile = PROFILES[profile_name(args)].with_overrides(
        scenarios=_names(args.scenario, list(SCENARIOS), "scenario"), rounds=args.rounds,
        scales=_scales(args.scales), formats=_names(args.formats, FORMATS, "format"),
        steps=_names(args.steps, STEPS, "step"), warmup=False if args.no_warmup else None,
        timeout_s=args.timeout, setups=_names(args.setup, SETUPS, "set-up"))
    available = loaded.by_name()
    impls = _names(args.impl, list(available), "implementation") or list(available)
    modes = _names(args.mode)
    if modes:
        known = {m for name in impls for m in (*available[name].mode_names,
                                                 *_runners(available[name]))}
        unknown = sorted(set(modes) - known)
        if unknown:
            raise UsageError(f"unknown mode {', '.join(unknown)}; the selected implementations "
                             f"have {', '.join(sorted(known))}")
    if args.data:
        _check_data(args.data)
    makers = {name: sc.slots for name, sc in SCENARIOS.items() if sc.slots is not None}
    chosen = [available[name] for name in impls]
    once = [name for name in profile.scenarios if SCENARIOS[name].slots is None]
    if not once and not plan.slots_for(profile, chosen, makers, set(modes or ())):
        raise UsageError("nothing to run: the chosen scenarios, implementations, modes and "
                         "set-ups have no execution in common; `python -m bench list` shows "
                         "what runs where")
    return {"profile": profile.to_json(), "impls": impls, "modes": modes,
            "seed": DEFAULT_SEED if args.seed is None else args.seed,
            "data": str(Path(args.data).resolve()) if args.data else None,
            "adapters": list(registry.adapter_modules())}


def _runners(adapter: Adapter) -> tuple[str, ...]:
    return tuple(adapter.parallel.runners) if adapter.parallel else ()


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


def _impl_info(adapter: Adapter, module: str, source_hash: str, packages: dict) -> ImplInfo:
    switches = adapter.rerun.switches if adapter.rerun else ()
    return ImplInfo(
        adapter=module, package=adapter.package,
        modes={m.name: m.description for m in adapter.modes + switches},
        default_mode=adapter.default_mode,
        format_modes=[m.name for m in adapter.modes + switches if m.files],
        colour=adapter.colour,
        services={s.name: s.service.name for s in adapter.setups if s.service},
        setups={s.name: setup_facts(adapter, s) for s in adapter.setups},
        keeps_home=adapter.keeps_home, source_files=list(adapter.source_files),
        version=packages.get(adapter.name), source_hash=source_hash,
        reference=adapter.reference is not None)


# How a command and its variables read in run.json and the report: placeholders, not paths.
WORKDIR, HOME, STATE = Path("/WORKDIR"), Path("/TOOL_HOME"), Path("/STATE_DIR")
SERVER_PORT, DATABASE_PORT = 65531, 65532  # never a real port here: replaced by names
SERVER = f"http://127.0.0.1:{SERVER_PORT}"
DATABASE = f"postgresql+asyncpg://postgres@127.0.0.1:{DATABASE_PORT}/bench"
PLACEHOLDERS = {str(WORKDIR): "$WORKDIR", str(HOME): "$TOOL_HOME", str(STATE): "$STATE_DIR",
                str(SERVER_PORT): "$PORT", str(DATABASE_PORT): "$DATABASE_PORT"}


def _check_data(path: str) -> None:
    """The user's CSV is read by the same rules the pipelines apply, before any run directory
    exists: a file every pipeline would refuse gets the pipelines' one line, not a failed
    reference run."""
    from core.data import read_user_csv  # pandas, only when a user's file is given
    from core.errors import UserError
    try:
        read_user_csv(path)
    except UserError as exc:
        raise UsageError(str(exc)) from None


def setup_facts(adapter: Adapter, setup) -> dict:
    """What the report's "How each tool was set up" shows: the set-up's reasons, its files,
    and per mode the exact command and the variables the adapter adds."""
    url = SERVER if setup.service else None
    info = {"summary": setup.summary, "why": setup.why,
            "docs": [[d.title, d.url] for d in setup.docs],
            "service": setup.service.name if setup.service else None,
            "database": bool(setup.service and setup.service.database),
            "files": list(setup.files), "settings": [list(kv) for kv in setup.settings],
            "unavailable": setup.unavailable, "commands": {}, "environment": {}}
    if setup.service:
        service = setup.service
        info["service_command"] = [_placeholder(a) for a in
                                   user_facing(service.command(STATE, SERVER_PORT), WORKDIR)]
        info["service_environment"] = {
            k: _placeholder(user_text(str(v), WORKDIR)) for k, v in sorted(service.environment(
                STATE, DATABASE if service.database else None).items())}
    for mode in adapter.mode_names:
        try:
            argv = adapter.command(WORKDIR, mode, setup=setup.name, fmt="parquet", scale=1,
                                   data=None, service_url=url)
            env = adapter.environment(WORKDIR, mode, setup=setup.name, service_url=url,
                                      home=HOME)
        except Exception as exc:  # recorded, not fatal: the executions will show the same error
            info["commands"][mode] = f"error: {type(exc).__name__}: {exc}"
            continue
        info["commands"][mode] = [_placeholder(a) for a in user_facing(argv, WORKDIR)]
        info["environment"][mode] = {k: _placeholder(user_text(str(v), WORKDIR))
                                     for k, v in sorted(env.items())}
    return info


def _placeholder(text: str) -> str:
    for path, name in PLACEHOLDERS.items():
        text = text.replace(path, name)
    return text


def start_info(run_id: str, run_dir: Path, config: dict, loaded: registry.Loaded,
               argv: list[str]) -> RunInfo:
    selected = [a for a in loaded.adapters if a.name in config["impls"]]
    prov = provenance.collect(selected, argv, run_dir)
    pkgs = {k.lower(): v for k, v in prov["packages"].items()}
    modules = dict(zip((a.name for a in loaded.adapters), loaded.modules))
    return RunInfo(
        run_id=run_id, profile=config["profile"]["name"], config=config,
        command=prov["command_line"], started_at=now(), started_epoch=prov["started_epoch"],
        git=prov["git"], machine=prov["machine"], python=prov["python"],
        packages=prov["packages"], source_hashes=prov["source_hashes"],
        impls={a.name: _impl_info(a, modules[a.name], prov["source_hashes"][a.name], pkgs)
               for a in selected},
        environment=environment_template(), adapter_problems=list(loaded.problems))


# ---------------------------------------------------------------- entry point

def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(args, argv: list[str]) -> tuple[int, str | None]:
    """Returns (exit status, run id)."""
    loaded = registry.load()
    for problem in loaded.problems:
        print(f"note: {problem}", file=sys.stderr)
    if not loaded.adapters:
        raise UsageError("no implementation could be loaded")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    if args.continue_id:
        run_dir = args.out / args.continue_id
        info = run_info.read(run_dir)
        _end_stale_services(info)
        _note_continuation(info, loaded, argv)
    else:
        config = configure(args, loaded)
        run_id, run_dir = new_run_dir(args.out, config["profile"]["name"])
        info = start_info(run_id, run_dir, config, loaded, argv)
        run_info.write(run_dir, info)
    missing = [n for n in info.config["impls"] if n not in loaded.by_name()]
    if missing:
        raise UsageError(f"implementation(s) {', '.join(missing)} of this run cannot be loaded")
    session = Session(run_dir, info, loaded.by_name(), argv, SCENARIOS)
    try:
        return session.run(), info.run_id
    except KeyboardInterrupt:
        kept = len(records.load(session.records_path))
        print(f"\ninterrupted: {kept} records kept in {run_dir}; finish with "
              f"python -m bench run --continue {info.run_id}"
              + (f" --out {args.out}" if args.out != DEFAULT_OUT else ""), file=sys.stderr)
        return 130, info.run_id


def _end_stale_services(info: RunInfo) -> None:
    """Servers of an earlier session that was killed outright: ended by their recorded PID."""
    for service in info.services:
        pid, argv = service.get("pid"), service.get("argv") or []
        if "stopped" in service or not pid or not argv:
            continue
        running = process.cmdline(pid)  # a script's argv[0] shows up behind its interpreter
        if Path(argv[0]).name in running and all(str(a) in running for a in argv[1:]):
            survivors = process.end_session(pid, settle_s=0)
            print(f"note: ended {service['name']} (pid {pid}) left running by the interrupted "
                  "session", file=sys.stderr)
            service["stopped"] = "by --continue"
            service["survivors"] = survivors
        else:
            service["stopped"] = "not running at --continue"


def _note_continuation(info: RunInfo, loaded: registry.Loaded, argv: list[str]) -> None:
    adapters = [a for a in loaded.adapters if a.name in info.config["impls"]]
    hashes = {a.name: provenance.source_hash(a) for a in adapters}
    changed = sorted(n for n, h in hashes.items() if info.source_hashes.get(n) != h)
    if changed:
        print(f"warning: the source of {', '.join(changed)} changed since the run started; "
              "its records will mix code versions", file=sys.stderr)
    info.continuations.append({"started_at": now(), "command": argv,
                               "git": provenance.git(), "source_hashes": hashes})
