"""Fake adapters for the harness tests.

A fake's command is a tiny script that logs every call to a file (hyperfine's execution-order
test), traces its steps like core does, honours BENCH_FAIL_AT and BENCH_CRASH_AT, and resumes
from per-step markers like a tool would. Its modes choose a behaviour: `ok`/`values` (correct),
`fails` (exits 3 with a message), `hangs`, `refuses` (a crash leaves a lock that the rerun
refuses until the declared recovery command removes it), `wrong` (after a crash the rerun
exits 0 with wrong predictions).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bench.engine import registry

REPO = Path(__file__).resolve().parents[2]
PREDICTIONS = "passenger_id,survived_pred\n1,0\n2,1\n"

PIPELINE = r'''
import json, os, signal, sys, time
from pathlib import Path

workdir, name, mode, fmt, scale, log, setup = sys.argv[1:8]
wd = Path(workdir)
steps = ["load", "preprocess", "train", "predict", "evaluate"]
fail_at, crash_at = os.environ.get("BENCH_FAIL_AT"), os.environ.get("BENCH_CRASH_AT")
with open(log, "a") as f:
    f.write(json.dumps({"impl": name, "mode": mode, "format": fmt, "scale": int(scale),
                        "setup": setup, "fail_at": fail_at, "crash_at": crash_at,
                        "resumes": os.environ.get("FAKE_RESUMES") == "1"}) + "\n")
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
if mode == "fails":
    print("boom: the fake tool failed on purpose", file=sys.stderr)
    sys.exit(3)
if mode == "hangs":
    time.sleep(3600)
if setup == "team" and os.environ.get("FAKE_SERVICE_URL"):  # the harness started the server
    import urllib.request
    urllib.request.urlopen(os.environ["FAKE_SERVICE_URL"] + "/", timeout=5).read()
lock = wd / "fake.lock"
if mode == "refuses" and lock.exists():
    print("error: fake.lock exists; run the unlock command first", file=sys.stderr)
    sys.exit(1)

def span(step, kind):
    trace = os.environ.get("BENCH_TRACE")
    if trace:
        now = time.time()
        with open(trace, "a") as f:
            f.write(json.dumps({"step": step, "kind": kind, "start": now, "end": now,
                                "bytes": 0, "pid": os.getpid()}) + "\n")

(wd / "interim").mkdir(parents=True, exist_ok=True)
(wd / "out").mkdir(parents=True, exist_ok=True)
crashed_before = (wd / "crashed").exists()
for step in steps:
    marker = wd / "interim" / f"{step}.done"
    if os.environ.get("FAKE_RESUMES") == "1" and marker.exists():
        continue
    if fail_at == step:
        print(f"InjectedFailure at {step}", file=sys.stderr)
        sys.exit(1)
    span(step, "compute")
    if crash_at == step:
        (wd / "crashed").write_text("")
        (wd / "interim" / f"{step}.partial").write_text("half")
        if mode == "refuses":
            lock.write_text("")
        os.killpg(os.getpgid(0), signal.SIGKILL)
    marker.write_text("")
text = PREDICTIONS
if mode == "wrong" and crashed_before:
    text = text.replace("2,1", "2,0")
(wd / "out" / "predictions.csv").write_text(text)
'''

ADAPTER = r'''
"""A fake adapter for the harness tests (stdlib only)."""
import sys
from pathlib import Path

from core.contract import (LAPTOP, TEAM, Adapter, Doc, Footprint, Mode, Parallel, Reference,
                           Service, Setup)

HERE = Path(__file__).resolve().parent
LOG = HERE / "calls.log"
SERVER = {server!r}  # the team set-up's fake server, or None
DOCS = (Doc("fake docs", "https://example.invalid/fake"),)


def command(workdir, mode, *, setup, fmt, scale, data, service_url):
    return [sys.executable, str(HERE / "fake_pipeline.py"), str(workdir), {name!r}, mode, fmt,
            str(scale), str(LOG), setup]


def environment(workdir, mode, *, setup, service_url, home):
    env = {{"FAKE_SLEEP": {sleep!r}, "FAKE_RESUMES": {resumes!r}}}
    if service_url:
        env["FAKE_SERVICE_URL"] = service_url
    return env


def service_command(state_dir, port):
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
            "--directory", str(state_dir)]


def recovery_commands(workdir, mode, *, setup, fmt, scale, data, service_url):
    if mode != "refuses":
        return []
    unlock = [sys.executable, "-c", "import pathlib, sys; "
              "(pathlib.Path(sys.argv[1]) / 'fake.lock').unlink()", str(workdir)]
    return [unlock, command(workdir, mode, setup=setup, fmt=fmt, scale=scale, data=data,
                            service_url=None)]


def parallel_command(workdir, runner, *, setup, workers, grid, cluster_address, service_url):
    return command(workdir, "ok", setup=setup, fmt="parquet", scale=workers, data=None,
                   service_url=None)


LAPTOP_SETUP = Setup(LAPTOP, "fake laptop", why="fake", docs=DOCS)
TEAM_SETUP = Setup(TEAM, "fake team", why="fake", docs=DOCS,
                   service=Service(name=SERVER, command=service_command,
                                   environment=lambda state_dir, database_url: {{}},
                                   health_path="/") if SERVER else None)


ADAPTER = Adapter(
    name={name!r},
    package={module!r},
    modes=tuple(Mode(m, d, files=m in {format_modes!r}) for m, d in {modes!r}.items()),
    command=command,
    environment=environment,
    recovery_commands=recovery_commands,
    source_files=(),
    footprint=Footprint(imports=("json",), distributions=()),
    colour={colour!r},
    cold_prior_s=1.0,
    setups={setups},
    parallel=Parallel(runners={{"processes": "fake runner"}}, command=parallel_command),
    reference={reference},
)
'''


def write_fakes(root: Path, *, modes: dict[str, str] | None = None, sleep: float = 0.0,
                format_modes=("ok",), server: str | None = None) -> Path:
    """server: the name of the fake tool's team server (an http.server); without one the
    team set-up needs no server."""
    """A fake baseline and a fake tool in root (a package-less folder for PYTHONPATH)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "fake_pipeline.py").write_text(PREDICTIONS_LINE + PIPELINE)
    base = {"files": "fake baseline, files", "memory": "fake baseline, values"}
    tool = modes or {"ok": "fake tool handing files over", "values": "fake tool handing values"}
    for module, name, mode_map, fmts, resumes, reference, colour in (
            ("fake_baseline", "baseline", base, ("files",), "0",
             'Reference(mode="memory", parallel_runner="processes")', "#555555"),
            ("fake_tool", "faketool", tool, format_modes, "1", "None", "#2a6fbb")):
        (root / f"{module}.py").write_text(textwrap.dedent(ADAPTER).format(
            name=name, module=module, modes=mode_map, format_modes=tuple(fmts),
            sleep=str(sleep), resumes=resumes, reference=reference, colour=colour,
            server=server if name != "baseline" else None,
            setups="(LAPTOP_SETUP,)" if name == "baseline" else "(LAPTOP_SETUP, TEAM_SETUP)"))
    return root


PREDICTIONS_LINE = f"PREDICTIONS = {PREDICTIONS!r}\n"


def env_for(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(REPO)])
    env[registry.OVERRIDE_ENV] = "fake_baseline,fake_tool"
    return env


def bench(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=REPO, env=env_for(root),
                          capture_output=True, text=True, timeout=timeout)


def calls(root: Path) -> list[dict]:
    log = root / "calls.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


