"""The snakemake pipeline as `bench` sees it (stdlib only; bench/contract.md)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from core.contract import Adapter, Edit, Footprint, Mode, Parallel, Rerun, Synthetic

SNAKEFILE = Path(__file__).resolve().with_name("Snakefile")
# snakemake's source cache, ~/.cache/snakemake by default, moved here through XDG_CACHE_HOME
CACHE_DIR = ".cache"
TMP_DIR = ".tmp"  # temp dirs snakemake leaves behind when killed stay in the workdir


def snakemake_options(workdir: Path, mode: str) -> list[str]:
    """The snakemake command-line options of a run in `workdir`, after the program name."""
    options = ["--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--cores", "1"]
    return options + (["--force-use-threads"] if mode == "threads" else [])


def state_environment(workdir: Path) -> dict[str, str]:
    workdir = Path(workdir).resolve()
    return {"XDG_CACHE_HOME": str(workdir / CACHE_DIR), "TMPDIR": str(workdir / TMP_DIR)}


def command(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_snakemake", "--workdir", str(workdir), "--mode", mode,
            "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, service_url: str | None) -> dict[str, str]:
    return state_environment(workdir)


def dag_command(workdir: Path, mode: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--dag", *snakemake_options(workdir, mode)]


def recovery_commands(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None,
                      service_url: str | None) -> list[list[str]]:
    # After a kill snakemake refuses on the incomplete output first and on the stale lock next;
    # it names --unlock and --rerun-incomplete itself. params.yaml is already staged.
    snakemake = [sys.executable, "-m", "snakemake"]
    return [snakemake + ["--unlock", *snakemake_options(workdir, mode)],
            snakemake + ["--rerun-incomplete", *snakemake_options(workdir, mode)]]


def synthetic_command(workdir: Path, mode: str, *, shape: str, n: int) -> list[str]:
    return [sys.executable, "-m", "impl_snakemake.synthetic", "--workdir", str(workdir),
            "--mode", mode, "--shape", shape, "--n", str(n)]


def parallel_command(workdir: Path, runner: str, *, workers: int, grid: str,
                     cluster_address: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_snakemake.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid]


def rerun_reason(stdout: str, stderr: str, written: list[str]) -> str | None:
    """snakemake's own `reason:` line of each job it scheduled."""
    reasons = re.findall(r"^(?:local)?rule (\w+):\n(?:\s+.*\n)*?\s+reason: (.*)$",
                         stderr + "\n" + stdout, flags=re.M)
    found = [f"{rule}: {why.strip()}" for rule, why in reasons if rule != "all"]
    if found:
        return "; ".join(found)
    nothing = re.search(r"^Nothing to be done.*$", stderr, flags=re.M)
    return nothing.group(0) if nothing else None


TRAIN_CALL = "filesteps.train(input[0], Params(format=FMT, **params), output[0])"
TRAIN_BODY = "        with stderr_to(log[0]):\n            filesteps.train("

ADAPTER = Adapter(
    name="snakemake",
    package="impl_snakemake",
    modes=(
        Mode("processes", "snakemake's default local execution: each run: job in a new Python "
                          "process that parses the Snakefile again", files=True),
        Mode("threads", "--force-use-threads: each run: job in a thread of the snakemake "
                        "process", files=True),
    ),
    command=command,
    environment=environment,
    dag_command=dag_command,
    recovery_commands=recovery_commands,
    source_files=("impl_snakemake/Snakefile", "impl_snakemake/__main__.py",
                  "impl_snakemake/launch.py"),
    footprint=Footprint(imports=("snakemake",), distributions=("snakemake",)),
    colour="#d95f02",
    cold_prior_s=10.0,
    tool_home=(CACHE_DIR,),
    state_dirs=(CACHE_DIR, ".snakemake", "logs"),  # logs: the rules' own log files
    env_prefixes=("SNAKEMAKE_",),
    frameworks=("snakemake",),
    synthetic=Synthetic(modes=("processes", "threads"), command=synthetic_command),
    parallel=Parallel(
        runners={"cores": "--cores N: up to N jobs at once, each run: job in its own process",
                 "threads": "--cores N --force-use-threads: up to N jobs at once, each run: "
                            "job in a thread of the snakemake process"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit("impl_snakemake/Snakefile", TRAIN_CALL,
                          'filesteps.train(input[0], Params(format=FMT, **{**params, '
                          '"max_depth": 4}), output[0])'),
        equivalent_param="max_depth=4",
        comment_edit=Edit("impl_snakemake/Snakefile", TRAIN_BODY,
                          "        # The forest's settings all come from params.yaml.\n"
                          + TRAIN_BODY),
        reason=rerun_reason),
)
