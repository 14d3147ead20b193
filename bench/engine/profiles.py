"""What each profile measures: scenarios, their rounds, sizes, formats and failure steps.

Rounds are spent where the noise is: start-up dominated scenarios (cold, first run, no-op)
vary from run to run, while resume and crash runs execute deterministic steps and mostly
vary with the same start-up, so they get fewer rounds. Every record stores its round, so
the report shows each number's sample count.
"""
from __future__ import annotations

import dataclasses

from core.contract import LAPTOP, SETUPS

STEPS = ("load", "preprocess", "train", "predict", "evaluate")  # core.STEPS
FORMATS = ("csv", "pickle", "parquet")                          # core.FORMATS
DEFAULT_FORMAT = "parquet"  # core.params.Params.format

SHAPES = ("chain", "fanout")
# What the rerun scenario changes between the complete run and the rerun (bench/rerun.py).
CHANGES = ("data", "param", "core_code", "wrapper_code", "comment", "touch")
# A scenario asked for by name (--scenario NAME) in a profile that does not run it takes these
# rounds and set-ups instead of one round in the laptop set-up: calibration needs its pairs
# (scenarios/calibration.py, PAIRS).
ASKED_ALONE: dict[str, tuple[int, tuple[str, ...]]] = {"calibration": (10, SETUPS)}


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    rounds: dict[str, int]          # scenario -> timed rounds (a warm-up comes on top)
    scales: tuple[int, ...]         # io sweep and floor
    formats: tuple[str, ...]        # io sweep and floor
    resume_steps: tuple[str, ...]
    crash_steps: tuple[str, ...]
    warmup: bool = True
    timeout_s: float = 600.0        # per execution at scale 1; grows with scale
    # noop, resume and crash in both hand-offs of a tool (prefect values and files) or only
    # in its default mode
    every_handoff: bool = True
    cold_every_handoff: bool = True  # cold also in the other hand-off of each tool
    task_counts: tuple[int, ...] = (10,)   # pertask: N
    shapes: tuple[str, ...] = SHAPES       # pertask
    workers: tuple[int, ...] = (1, 2)      # parallel
    changes: tuple[str, ...] = CHANGES     # rerun
    # pertask: a size slower than this is a finding (timeout), and the larger sizes of that
    # tool, mode and shape are then recorded as not run; one process per job (snakemake's
    # default) would otherwise spend hours on N=500
    pertask_timeout_s: float = 300.0
    # parallel: core.selection.GRIDS; "tiny" (small folds) keeps the CI smoke run short
    selection_grid: str = "full"
    # scenario -> the set-ups it runs in (default: laptop only); a tool runs a set-up only if
    # it declares it and it is available on this machine
    setups: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # resume and crash in the team set-up fail at these steps only
    team_steps: tuple[str, ...] = ("train",)
    # crash_job (the OOM killer's pick) kills the process writing these steps' output: train
    # holds the most memory
    job_steps: tuple[str, ...] = ("train",)

    def setups_of(self, scenario: str) -> tuple[str, ...]:
        return tuple(self.setups.get(scenario, (LAPTOP,)))

    def steps_of(self, scenario: str, setup: str) -> tuple[str, ...]:
        """The failing steps of resume, crash and crash_job in a set-up."""
        if scenario == "crash_job":
            return self.job_steps
        steps = self.resume_steps if scenario == "resume" else self.crash_steps
        return steps if setup == LAPTOP else tuple(s for s in self.team_steps if s in steps)

    @property
    def scenarios(self) -> tuple[str, ...]:
        return tuple(self.rounds)

    def timeout_for(self, scale: int) -> float:
        return self.timeout_s + 2.0 * scale

    def with_overrides(self, *, scenarios=None, rounds=None, scales=None, formats=None,
                       steps=None, warmup=None, timeout_s=None, setups=None) -> "Profile":
        chosen = dict(self.rounds)
        if scenarios:
            chosen = {s: self.rounds.get(s, ASKED_ALONE.get(s, (1,))[0]) for s in scenarios}
        if rounds is not None:
            chosen = {s: rounds for s in chosen}
        where = {s: self.setups_of(s) if s in self.rounds or s not in ASKED_ALONE
                 else ASKED_ALONE[s][1] for s in chosen}
        if setups:  # the set-ups asked for, in every chosen scenario
            where = {s: tuple(setups) for s in chosen}
        return dataclasses.replace(
            self, rounds=chosen, scales=tuple(scales or self.scales),
            formats=tuple(formats or self.formats),
            resume_steps=tuple(steps or self.resume_steps),
            crash_steps=tuple(steps or self.crash_steps),
            team_steps=tuple(steps or self.team_steps),
            job_steps=tuple(steps or self.job_steps),
            warmup=self.warmup if warmup is None else warmup,
            timeout_s=self.timeout_s if timeout_s is None else timeout_s, setups=where)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> "Profile":
        fields = {f.name for f in dataclasses.fields(cls)}
        raw = {k: v for k, v in raw.items() if k in fields}
        for key in ("scales", "formats", "resume_steps", "crash_steps", "task_counts", "shapes",
                    "workers", "changes", "team_steps", "job_steps"):
            if key in raw:
                raw[key] = tuple(raw[key])
        if "setups" in raw:
            raw["setups"] = {k: tuple(v) for k, v in raw["setups"].items()}
        return cls(**raw)


BOTH = SETUPS


# The laptop set-up only: the mission's questions (file IO, resume after a failure and after a
# crash, code size) at one step each, plus the cold and no-op runs: a first look at every tool
# in a few minutes. The scaling scenarios have their own quick profile.
QUICK = Profile(
    name="quick",
    # The smoke run: every implementation once through the mission's questions. File IO comes
    # from the cold run's own spans (the report's breakdown), so no io sweep; the crash, the
    # sweeps and the other hand-offs are the default profile's.
    rounds={"cold": 1, "noop": 1, "resume": 1, "codesize": 1},
    scales=(1,), formats=(DEFAULT_FORMAT,),
    resume_steps=("train",), crash_steps=(),
    timeout_s=300.0, every_handoff=False, cold_every_handoff=False, selection_grid="tiny",
    warmup=False,
)

# The scaling scenarios at their smallest sizes, laptop set-up: a first look at cost per task,
# parallel speed-up and reruns after a change.
QUICK_SCALING = Profile(
    name="quick-scaling",
    rounds={"pertask": 1, "parallel": 1, "rerun": 1},
    scales=(1,), formats=(DEFAULT_FORMAT,),
    resume_steps=(), crash_steps=(),
    timeout_s=300.0, every_handoff=False, selection_grid="tiny", warmup=False,
)

# Both set-ups of every tool where a team and a laptop differ at start-up and on failure;
# the failure sweep over all steps and the io sweep in the laptop set-up (a team's server
# does not change where a step's files go).
DEFAULT = Profile(
    name="default",
    rounds={"first_run": 3, "cold": 5, "modes": 3, "noop": 3, "resume": 1, "crash": 1,
            "crash_job": 1, "io": 1, "footprint": 3, "codesize": 1, "floor": 1},
    # Resume: one step whose rerun must redo the expensive step (preprocess: train after it)
    # and one past it (predict); crash at the first of them: each tool resumes by one rule for
    # every step, and --full takes every step. IO up to 30x the data, where the hand-off's cost
    # already shows.
    scales=(1, 30), formats=FORMATS,
    resume_steps=("preprocess", "predict"), crash_steps=("preprocess",),
    every_handoff=False,
    setups={"first_run": BOTH, "cold": BOTH, "noop": BOTH, "resume": BOTH, "crash": BOTH,
            "crash_job": BOTH},
    team_steps=("preprocess",),
)

FULL = Profile(
    name="full",
    rounds={"first_run": 5, "cold": 10, "modes": 5, "noop": 5, "resume": 5, "crash": 5,
            "crash_job": 5, "io": 5, "footprint": 5, "codesize": 1, "floor": 1,
            "pertask": 5, "parallel": 5, "rerun": 1, "calibration": 10},
    scales=(1, 10, 100, 1000), formats=FORMATS,
    resume_steps=STEPS, crash_steps=STEPS,
    timeout_s=1200.0,
    task_counts=(10, 50, 100, 200, 500, 1000),
    pertask_timeout_s=900.0,
    setups={name: BOTH for name in ("first_run", "cold", "modes", "noop", "resume", "crash",
                                    "crash_job", "io", "pertask", "parallel", "rerun",
                                    "calibration")},
    team_steps=STEPS, job_steps=STEPS,
)

# How cost grows, parallel fan-out and reruns after a change, outside the default budget,
# in both set-ups. A rerun's re-executed steps are deterministic: one round shows them.
SCALING = Profile(
    name="scaling",
    rounds={"pertask": 2, "parallel": 3, "rerun": 1},
    scales=(1,), formats=(DEFAULT_FORMAT,),
    resume_steps=(), crash_steps=(),
    timeout_s=900.0, every_handoff=False,
    task_counts=(10, 50, 100, 200, 500),
    pertask_timeout_s=150.0,
    setups={"pertask": BOTH, "parallel": BOTH, "rerun": BOTH},
)

PROFILES = {p.name: p for p in (QUICK, DEFAULT, FULL, SCALING, QUICK_SCALING)}
