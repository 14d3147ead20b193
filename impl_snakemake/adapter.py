"""The snakemake pipeline as `bench` sees it (stdlib only; bench/contract.md)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from core.contract import (LAPTOP, TEAM, Adapter, Doc, Edit, Footprint, Mode, Parallel, Rerun,
                           Setup, Synthetic)

HERE = Path(__file__).resolve().parent
# script: rules (the default mode) beside their scripts/; the run: variants in run_jobs/
SNAKEFILE = HERE / "Snakefile"
RUN_JOBS_DIR = HERE / "run_jobs"
# The team's workflow profile; not profiles/default, which snakemake would load by itself on
# every run, laptops included.
TEAM_PROFILE = HERE / "profiles" / "team"
# The laptop's: no workflow profile at all. Without it snakemake looks for profiles/default/
# in the current directory and beside the Snakefile, and a plain directory named `default` in
# the current directory makes every run fail.
NO_PROFILE = "none"
# snakemake's source cache, ~/.cache/snakemake by default, moved here through XDG_CACHE_HOME
CACHE_DIR = ".cache"
TMP_DIR = ".tmp"  # temp dirs snakemake leaves behind when killed stay in the workdir

SCRIPT, RUN_JOBS, THREADS = "script", "run_jobs", "threads"
MTIME_TRIGGERS = "mtime_triggers"  # the rerun scenario's switch: script mode, mtime trigger only
MTIME_OPTIONS = ["--rerun-triggers", "mtime"]


def workflow_dir(mode: str) -> Path:
    """Where the mode's Snakefiles are: script: rules here, run: rules in run_jobs/."""
    return RUN_JOBS_DIR if mode in (RUN_JOBS, THREADS) else HERE


def snakemake_options(workdir: Path, mode: str, profile: Path | str = NO_PROFILE, *,
                      snakefile: str = "Snakefile", cores: int = 1,
                      rerun_triggers: list[str] | None = None) -> list[str]:
    """The snakemake command-line options of a run in `workdir`, after the program name."""
    options = ["--snakefile", str(workflow_dir(mode) / snakefile), "--directory", str(workdir),
               "--cores", str(cores), "--workflow-profile", str(profile)]
    if mode == THREADS:
        options.append("--force-use-threads")
    if mode == MTIME_TRIGGERS:
        options += MTIME_OPTIONS
    elif rerun_triggers:
        options += ["--rerun-triggers", *rerun_triggers]
    return options


def profile_of(setup: str) -> str:
    return str(TEAM_PROFILE) if setup == TEAM else NO_PROFILE


def state_environment(workdir: Path, home: Path | None = None) -> dict[str, str]:
    """snakemake's cache in its home (the workdir when typed by hand), its temp dirs in the
    workdir."""
    workdir = Path(workdir).resolve()
    cache = Path(home).resolve() / CACHE_DIR if home else workdir / CACHE_DIR
    return {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(workdir / TMP_DIR)}


def _mode_argv(mode: str) -> list[str]:
    """The pipeline command's options for a mode: a rerun switch is script mode plus the
    switch, as a user types it."""
    if mode == MTIME_TRIGGERS:
        return ["--mode", SCRIPT, *MTIME_OPTIONS]
    return ["--mode", mode]


def command(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int, data: str | None,
            service_url: str | None) -> list[str]:
    argv = [sys.executable, "-m", "impl_snakemake", "--workdir", str(workdir), *_mode_argv(mode),
            "--format", fmt, "--scale", str(scale), "--workflow-profile", profile_of(setup)]
    return argv + (["--data", data] if data else [])


def environment(workdir: Path, mode: str, *, setup: str, service_url: str | None,
                home: Path) -> dict[str, str]:
    return state_environment(workdir, home)


def dag_command(workdir: Path, mode: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--dag", *snakemake_options(workdir, mode)]


def recovery_commands(workdir: Path, mode: str, *, setup: str, fmt: str, scale: int,
                      data: str | None, service_url: str | None) -> list[list[str]]:
    """After a kill of snakemake itself, a plain rerun refuses on the incomplete output first
    and on the stale lock next; snakemake names --unlock and --rerun-incomplete itself. The
    team profile sets rerun-incomplete, so there the plain snakemake command follows --unlock.
    params.yaml is already staged."""
    snakemake = [sys.executable, "-m", "snakemake"]
    options = snakemake_options(workdir, mode, profile_of(setup))
    rerun = ["--rerun-incomplete"] if setup != TEAM else []
    return [snakemake + ["--unlock", *options], snakemake + [*rerun, *options]]


def synthetic_command(workdir: Path, mode: str, *, setup: str, shape: str, n: int,
                      service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_snakemake.synthetic", "--workdir", str(workdir),
            "--mode", mode, "--shape", shape, "--n", str(n),
            "--workflow-profile", profile_of(setup)]


def parallel_command(workdir: Path, runner: str, *, setup: str, workers: int, grid: str,
                     cluster_address: str | None, service_url: str | None) -> list[str]:
    return [sys.executable, "-m", "impl_snakemake.selection", "--workdir", str(workdir),
            "--runner", runner, "--workers", str(workers), "--grid", grid,
            "--workflow-profile", profile_of(setup)]


JOB_REASON = re.compile(r"^(?:local)?rule (\w+):\n(?:[ \t]+.*\n)*?[ \t]+reason: (.*)$", re.M)


def rerun_reason(stdout: str, stderr: str, written: list[str]) -> str | None:
    """snakemake's own `reason:` line of each job it scheduled, or its "Nothing to be done"."""
    text = stderr + "\n" + stdout
    found = [f"{rule}: {why.strip()}" for rule, why in JOB_REASON.findall(text)
             if rule != "all"]
    if found:
        return "; ".join(found)
    nothing = re.search(r"^Nothing to be done.*$", text, flags=re.M)
    return nothing.group(0) if nothing else None


CLI_DOC = Doc("Snakemake: Command line interface",
              "https://snakemake.readthedocs.io/en/stable/executing/cli.html")
PROFILES_DOC = Doc("Snakemake: Profiles",
                   "https://snakemake.readthedocs.io/en/stable/executing/cli.html#profiles")
SCRIPTS_DOC = Doc("Snakemake: Rules, External scripts",
                  "https://snakemake.readthedocs.io/en/stable/snakefiles/rules.html"
                  "#external-scripts")

TRAIN_SCRIPT = "impl_snakemake/scripts/train.py"
TRAIN_MAX_DEPTH = "max_depth=p.max_depth)"
TRAIN_CALL = "filesteps.train(\n"

ADAPTER = Adapter(
    name="snakemake",
    package="impl_snakemake",
    modes=(
        Mode(SCRIPT, "script: rules (the form snakemake's docs recommend for more than a few "
                     "lines of Python), each job a Python process running scripts/<step>.py",
             files=True),
        Mode(RUN_JOBS, "run: blocks, each job a new snakemake process (python -m snakemake) "
                       "that parses the Snakefile again; the docs advise run: for a few lines "
                       "only", files=True),
        Mode(THREADS, "run: blocks with --force-use-threads, each job a thread of the "
                      "snakemake process; documented for when shared memory (/dev/shm) is "
                      "full or unavailable", files=True),
    ),
    command=command,
    environment=environment,
    dag_command=dag_command,
    recovery_commands=recovery_commands,
    source_files=("impl_snakemake/Snakefile", "impl_snakemake/scripts/load.py",
                  "impl_snakemake/scripts/preprocess.py", TRAIN_SCRIPT,
                  "impl_snakemake/scripts/predict.py", "impl_snakemake/scripts/evaluate.py",
                  "impl_snakemake/__main__.py", "impl_snakemake/launch.py"),
    footprint=Footprint(imports=("snakemake",), distributions=("snakemake",)),
    colour="#d95f02",
    # script mode, 5 jobs each a Python process importing pandas and scikit-learn: 9.7 s cold
    # on a 2-core machine with a load of 1.6 beside it; run_jobs re-parses the Snakefile per job
    cold_prior_s=8.0,
    keeps_home=True,
    state_dirs=(CACHE_DIR, ".snakemake", "logs"),  # logs: the rules' own log files
    env_prefixes=("SNAKEMAKE_",),
    frameworks=("snakemake",),
    setups=(
        Setup(LAPTOP, "snakemake's command-line defaults, no workflow profile "
                      "(--workflow-profile none)",
              why="what `snakemake --cores N` does out of the box; `none` keeps a "
                  "profiles/default/ in the current directory or beside the Snakefile from "
                  "steering the run",
              docs=(CLI_DOC, PROFILES_DOC)),
        Setup(TEAM, "the same Snakefile with the team's workflow profile (--workflow-profile "
                    "impl_snakemake/profiles/team)",
              why="snakemake's docs put the options a group shares into a profile; a workflow "
                  "profile travels with the Snakefile",
              docs=(PROFILES_DOC, CLI_DOC),
              files=("impl_snakemake/profiles/team/profile.yaml",),
              settings=(
                  ("cores: all", "use the whole machine; a --cores on the command line (the "
                                 "benchmark's) still wins"),
                  ("scheduler: greedy", "the default ILP scheduler runs a MILP solver at every "
                                        "scheduling round; without temp() files or scarce "
                                        "resources greedy picks the same jobs"),
                  ("rerun-incomplete: true", "after a crash, rerun outputs marked incomplete "
                                             "instead of stopping (a stale lock still needs "
                                             "--unlock)"),
                  ("keep-going: true", "one failing branch does not stop independent jobs"),
                  ("show-failed-logs: true", "script: jobs write their traceback to the rule's "
                                             "log; this prints a failed job's log on the "
                                             "console"),
                  ("latency-wait: 0", "local disk: no network file system latency to wait "
                                      "for (default 5 s)"),
                  ("rerun-triggers: [mtime, params, input, code, software-env]",
                   "the default, written out: every trigger on"),
                  ("retries: 0", "deterministic steps: a global retry only doubles the time "
                                 "to a failure"),
              )),
    ),
    synthetic=Synthetic(modes=(SCRIPT, RUN_JOBS, THREADS), command=synthetic_command),
    parallel=Parallel(
        runners={SCRIPT: "--cores N: up to N script: jobs at once, each a Python process",
                 RUN_JOBS: "--cores N: up to N run: jobs at once, each a new snakemake "
                           "process",
                 THREADS: "--cores N --force-use-threads: up to N run: jobs at once, each a "
                          "thread of the snakemake process"},
        command=parallel_command),
    rerun=Rerun(
        wrapper_edit=Edit(TRAIN_SCRIPT, TRAIN_MAX_DEPTH, "max_depth=4)"),
        equivalent_param="max_depth=4",
        comment_edit=Edit(TRAIN_SCRIPT, TRAIN_CALL,
                          "# The forest's settings all come from params.yaml.\n" + TRAIN_CALL),
        reason=rerun_reason,
        switches=(Mode(MTIME_TRIGGERS, "script mode with --rerun-triggers mtime, the switch "
                                       "snakemake's help offers for rerunning on file "
                                       "changes only: params, input-set and code changes are "
                                       "then not seen", files=True),)),
)
