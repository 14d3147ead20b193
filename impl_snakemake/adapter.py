"""The snakemake pipeline as `bench` sees it (stdlib only; bench/contract.md)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from core.contract import (LAPTOP, TEAM, Adapter, Doc, Edit, Footprint, Mode, Parallel, Rerun,
                           Setup, Synthetic)

HERE = Path(__file__).resolve().parent
SNAKEFILE = HERE / "Snakefile"
# The team's workflow profile; not profiles/default, which snakemake would load by itself on
# every run, laptops included.
TEAM_PROFILE = HERE / "profiles" / "team"
# snakemake's source cache, ~/.cache/snakemake by default, moved here through XDG_CACHE_HOME
CACHE_DIR = ".cache"
TMP_DIR = ".tmp"  # temp dirs snakemake leaves behind when killed stay in the workdir


def snakemake_options(workdir: Path, mode: str, profile: Path | str | None = None) -> list[str]:
    """The snakemake command-line options of a run in `workdir`, after the program name."""
    options = ["--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--cores", "1"]
    options += ["--workflow-profile", str(profile)] if profile else []
    return options + (["--force-use-threads"] if mode == "threads" else [])


def state_environment(workdir: Path, home: Path | None = None) -> dict[str, str]:
    """snakemake's cache in its home (the workdir when typed by hand), its temp dirs in the
    workdir."""
    workdir = Path(workdir).resolve()
    cache = Path(home).resolve() / CACHE_DIR if home else workdir / CACHE_DIR
    return {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(workdir / TMP_DIR)}


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_snakemake", "--workdir", str(workdir), "--mode", mode,
            "--format", fmt, "--scale", str(scale), *_profile(setup)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, setup: str, service_url: str | None,
                home: Path) -> dict[str, str]:
    return state_environment(workdir, home)


def dag_command(workdir: Path, mode: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--dag", *snakemake_options(workdir, mode)]


def recovery_commands(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int,
                      data: str | None, service_url: str | None) -> list[list[str]]:
    # After a kill snakemake refuses on the incomplete output first and on the stale lock next;
    # it names --unlock and --rerun-incomplete itself. params.yaml is already staged.
    snakemake = [sys.executable, "-m", "snakemake"]
    options = snakemake_options(workdir, mode, TEAM_PROFILE if setup == TEAM else None)
    return [snakemake + ["--unlock", *options], snakemake + ["--rerun-incomplete", *options]]


def _profile(setup: str) -> list[str]:
    return ["--workflow-profile", str(TEAM_PROFILE)] if setup == TEAM else []


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_snakemake.synthetic", "--workdir", str(workdir),
            "--mode", mode, "--shape", shape, "--n", str(n), *_profile(setup)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_snakemake.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid, *_profile(setup)]


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
    keeps_home=True,
    state_dirs=(CACHE_DIR, ".snakemake", "logs"),  # logs: the rules' own log files
    env_prefixes=("SNAKEMAKE_",),
    frameworks=("snakemake",),
    setups=(
        Setup(LAPTOP, "snakemake's command-line defaults (its default profile is not used)",
              why="what `snakemake --cores N` does with no profile",
              docs=(Doc("Snakemake: Command line interface",
                        "https://snakemake.readthedocs.io/en/stable/executing/cli.html"),)),
        Setup(TEAM, "the same Snakefile with the team's workflow profile (--workflow-profile "
                    "profiles/team)",
              why="snakemake's docs put the options a group shares into a profile; a workflow "
                  "profile travels with the Snakefile",
              docs=(Doc("Snakemake: Profiles",
                        "https://snakemake.readthedocs.io/en/stable/executing/cli.html#profiles"),),
              files=("impl_snakemake/profiles/team/profile.yaml",),
              settings=(
                  ("scheduler: greedy", "the default ILP scheduler runs a solver at every "
                                        "scheduling round; greedy picks the same jobs here"),
                  ("rerun-incomplete: true", "after a crash, rerun outputs marked incomplete "
                                             "instead of stopping"),
                  ("keep-going: true", "one failing branch does not stop independent jobs"),
                  ("show-failed-logs: true", "a failed job's log is printed on the console"),
                  ("latency-wait: 0", "local disk: no network file system latency to wait for"),
              )),
    ),
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
