"""What `bench` needs to know to run the snakemake pipeline (stdlib only; see bench/contract.md)."""
from __future__ import annotations

import sys
from pathlib import Path

NAME = "snakemake"
MODES = {
    "processes": "snakemake's default local execution: each run: job in a new Python process "
                 "that parses the Snakefile again",
    "threads": "--force-use-threads: each run: job in a thread of the snakemake process",
}
FORMAT_MODES = {"processes", "threads"}
SOURCE_FILES = ("impl_snakemake/Snakefile", "impl_snakemake/__main__.py")
# snakemake's source cache, ~/.cache/snakemake by default, moved here through XDG_CACHE_HOME
TOOL_HOME = (".cache",)
SERVICES: dict[str, str] = {}

SNAKEFILE = Path(__file__).resolve().with_name("Snakefile")
TMP_DIR = ".tmp"  # temp dirs snakemake leaves behind when killed stay in the workdir


def snakemake_options(workdir: Path, mode: str) -> list[str]:
    """The snakemake command-line options of a run in `workdir`, after the program name."""
    options = ["--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--cores", "1"]
    return options + (["--force-use-threads"] if mode == "threads" else [])


def state_environment(workdir: Path) -> dict[str, str]:
    workdir = Path(workdir).resolve()
    return {"XDG_CACHE_HOME": str(workdir / TOOL_HOME[0]), "TMPDIR": str(workdir / TMP_DIR)}


def command(workdir: Path, mode: str, *, fmt: str, scale: int, data: str | None = None,
            service_url: str | None = None) -> list[str]:
    argv = [sys.executable, "-m", "impl_snakemake", "--workdir", str(workdir), "--mode", mode,
            "--format", fmt, "--scale", str(scale)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, service_url: str | None = None) -> dict[str, str]:
    return state_environment(workdir)


def dag_command(workdir: Path, mode: str) -> list[str] | None:
    return [sys.executable, "-m", "snakemake", "--dag", *snakemake_options(workdir, mode)]


def recovery_commands(workdir: Path, mode: str, *, fmt: str, scale: int,
                      data: str | None = None) -> list[list[str]]:
    # After a kill snakemake refuses on the incomplete output first and on the stale lock next;
    # it names --unlock and --rerun-incomplete itself. params.yaml is already staged.
    snakemake = [sys.executable, "-m", "snakemake"]
    return [snakemake + ["--unlock", *snakemake_options(workdir, mode)],
            snakemake + ["--rerun-incomplete", *snakemake_options(workdir, mode)]]


# -- the scaling scenarios (bench/contract.md) ----------------------------------------------

SYNTHETIC_MODES = ("processes", "threads")


def synthetic_command(workdir: Path, mode: str, *, shape: str, n: int) -> list[str]:
    """N trivial tasks as a `chain` or a `fanout` (pertask scenario)."""
    return [sys.executable, "-m", "impl_snakemake.synthetic", "--workdir", str(workdir), "--mode", mode,
            "--shape", shape, "--n", str(n)]


PARALLEL_RUNNERS = {"cores": "--cores N: up to N jobs at once, each run: job in its own process",
                    "threads": "--cores N --force-use-threads: up to N jobs at once, each run: "
                               "job in a thread of the snakemake process"}


def parallel_command(workdir: Path, runner: str, *, workers: int, grid: str = "full",
                     cluster_address: str | None = None) -> list[str]:
    """The model selection with `workers` workers (parallel scenario)."""
    argv = [sys.executable, "-m", "impl_snakemake.selection", "--workdir", str(workdir), "--runner", runner,
            "--workers", str(workers), "--grid", grid]
    return argv + (["--cluster-address", cluster_address] if cluster_address else [])


# -- the rerun scenario (bench/rerun.py) ----------------------------------------------------
# Edits of the train rule in a copy of the code: one that changes the model (with the
# parameter setting giving the same model, for the baseline's right answer), one comment-only.
RERUN_WRAPPER_EDIT = {
    "path": "impl_snakemake/Snakefile",
    "old": "filesteps.train(input[0], Params(format=FMT, **params), output[0])",
    "new": 'filesteps.train(input[0], Params(format=FMT, **{**params, "max_depth": 4}), output[0])',
    "equivalent_param": "max_depth=4",
}
RERUN_COMMENT_EDIT = {
    "path": "impl_snakemake/Snakefile",
    "old": "        with stderr_to(log[0]):\n            filesteps.train(",
    "new": "        # The forest's settings all come from params.yaml.\n"
           "        with stderr_to(log[0]):\n            filesteps.train(",
}


def rerun_reason(stdout_text: str, stderr_text: str) -> str | None:
    """snakemake's own `reason:` line of each job it scheduled."""
    import re  # only this optional hook needs it
    reasons = re.findall(r"^(?:local)?rule (\w+):\n(?:\s+.*\n)*?\s+reason: (.*)$",
                         stderr_text + "\n" + stdout_text, flags=re.M)
    found = [f"{rule}: {why.strip()}" for rule, why in reasons if rule != "all"]
    if found:
        return "; ".join(found)
    nothing = re.search(r"^Nothing to be done.*$", stderr_text, flags=re.M)
    return nothing.group(0) if nothing else None
