"""crash_job@S: only the process writing step S's output killed halfway through (what the
kernel's OOM killer does: it picks one process), untimed; then the plain rerun, timed, and the
same outcome classes and recovery commands as crash@S. Where the tool runs the step in its
own process (luigi, prefect's flow), that process is the tool; where it runs a job process
(snakemake), the tool survives the kill and sees the job fail."""
from __future__ import annotations

from bench.scenarios import crash
from bench.scenarios.base import Scenario


def run(ws, ex, adapter, scratch):
    return crash.run(ws, ex, adapter, scratch, job_only=True)


SCENARIO = Scenario(
    name="crash_job",
    description="after SIGKILL of only the process writing step S's output (an OOM kill, "
                "untimed), the plain rerun; the same outcomes as crash",
    slots=crash.slots, run=run)
