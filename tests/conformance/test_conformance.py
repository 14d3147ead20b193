"""Every registered implementation against the contract, on its real tool and the real data.

One suite, parametrized over the registry (BENCH_ADAPTERS selects other adapters), so a new
tool is checked by the same rules as the others: the harness's own scenarios pass on it (the
reference's predictions in every mode (and every format where the tool hands files over),
resume after a failure, a no-op rerun, recovery after a crash, the cost-per-task workload, the parallel runners), its
command writes nothing outside its working directory, its DAG command prints the pipeline,
user data in Kaggle's layout works, bad input gets one line and a non-zero exit, and its
adapter stays free of the tool. The team set-ups run against their real servers, which the
harness starts (luigid, a prefect server on PostgreSQL).
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import DEFAULT_FORMAT, FORMATS, QUICK, STEPS
from bench.engine.services import Servers
from bench.engine.session import execute
from bench.engine.workspace import Workspace, pythonpath, staged_settings
from bench.scenarios.catalog import SCENARIOS
from bench.scenarios.rerun import package_dir
from core import layout, stage
from core.contract import LAPTOP, TEAM
from core.params import Params
from tests.helpers import runner
from tests.helpers.inputs import BAD_INPUTS, kaggle_csv

LOADED = registry.load()
ADAPTERS = LOADED.by_name()
REFERENCE = LOADED.reference


MODES = [(a.name, m) for a in LOADED.adapters for m in a.mode_names]


def _formats(name: str, mode: str) -> tuple[str, ...]:
    """Every format where it is the tool's own code that hands files over in it: in the
    reference's modes and in each tool's first files mode. The other modes of a tool reach
    core.io through the same options, so one format shows that they run at all (CI time)."""
    adapter = ADAPTERS[name]
    files = [m for m in adapter.mode_names if adapter.uses_format(m)]
    if not adapter.uses_format(mode):
        return (DEFAULT_FORMAT,)
    return FORMATS if adapter.reference is not None or mode == files[0] else (DEFAULT_FORMAT,)


FORMAT_CASES = [(name, mode, fmt) for name, mode in MODES for fmt in _formats(name, mode)]
# A failure at every step for the reference, whose steps are plain calls; a tool resumes by
# one rule for every step, shown at the step with finished steps before it and steps after it.
RESUME_CASES = [(a.name, step) for a in LOADED.adapters
                for step in (STEPS if a.reference is not None else ("train",))]
NAMES = [a.name for a in LOADED.adapters]
TOOLS = [a.name for a in LOADED.adapters if a.reference is None]
SYNTHETIC = [(a.name, m, shape) for a in LOADED.adapters if a.synthetic
             for m in a.synthetic.modes for shape in QUICK.shapes]
RUNNERS = [(a.name, r) for a in LOADED.adapters if a.parallel for r in a.parallel.runners]
DAGS = [a.name for a in LOADED.adapters if a.dag_command is not None]
RERUNS = [a.name for a in LOADED.adapters if a.rerun is not None]
TEAM_MODES = [(a.name, m) for a in LOADED.adapters if a.runs_in(TEAM) for m in a.mode_names]
TEAM_SERVED = [(a.name, TEAM) for a in LOADED.adapters
               if a.runs_in(TEAM) and a.service_for(TEAM) is not None]


def tool_home(workdir: Path) -> Path:
    """The tool's machine-level state (Adapter.keeps_home): beside the workdir, like HOME."""
    return Path(workdir).parent / f"{Path(workdir).name}.tool-home"


def command(adapter, workdir: Path, mode: str, *, data: str | None = None) -> list[str]:
    """The laptop set-up's command, as a user types it."""
    return adapter.command(workdir, mode, setup=LAPTOP, fmt=DEFAULT_FORMAT, scale=1, data=data,
                           service_url=None)


def environment(adapter, workdir: Path, mode: str) -> dict[str, str]:
    return {**runner.base_env(workdir), "PYTHONPATH": pythonpath(adapter),
            **adapter.environment(workdir, mode, setup=LAPTOP, service_url=None,
                                  home=tool_home(workdir))}


def test_the_registry_loads_every_adapter_with_one_reference():
    assert not LOADED.problems, LOADED.problems
    assert sum(a.reference is not None for a in LOADED.adapters) == 1


@pytest.fixture(scope="session")
def ws(tmp_path_factory) -> Workspace:
    """One workspace for the suite: tool homes initialised once, right answers kept once."""
    return Workspace(tmp_path_factory.mktemp("conformance"), "conformance", ADAPTERS, QUICK)


@pytest.fixture(scope="session")
def served(ws):
    """The team set-ups' servers, started once for the suite by the harness and stopped by PID
    after it."""
    with Servers(ws, TEAM_SERVED):
        yield ws


def scenario(ws: Workspace, impl: str, mode: str | None, name: str, **slot):
    fmt = slot.pop("format", plan.format_of(ADAPTERS[impl], mode) if mode else None)
    s = plan.Slot(impl, mode, name, format=fmt, selection=name, **slot)
    return execute(ws, SCENARIOS, plan.Execution(s, round=1))


def why(rec) -> str:
    return f"{rec.status}: {rec.detail.error or ''}\n{rec.stderr_tail[-2500:]}"


# ---------------------------------------------------------------- the harness's scenarios

@pytest.mark.parametrize("impl,mode,fmt", FORMAT_CASES)
def test_a_cold_run_gives_the_reference_predictions(ws, impl, mode, fmt):
    rec = scenario(ws, impl, mode, "cold", format=fmt if ADAPTERS[impl].uses_format(mode)
                   else None)
    assert rec.status == "ok", why(rec)
    assert rec.verify["predictions_match"] and rec.steps_executed == STEPS
    assert rec.detail.survivors == ()


@pytest.mark.parametrize("impl,mode", MODES)
def test_a_noop_rerun_executes_what_the_tool_promises(ws, impl, mode):
    rec = scenario(ws, impl, mode, "noop")
    assert rec.status == "ok", why(rec)
    assert rec.steps_executed == (() if ADAPTERS[impl].resumes else STEPS)


@pytest.mark.parametrize("impl,step", RESUME_CASES)
def test_the_rerun_after_a_failure_resumes_at_the_failed_step(ws, impl, step):
    rec = scenario(ws, impl, ADAPTERS[impl].default_mode, "resume", variant=step)
    assert rec.status == "ok", why(rec)
    assert rec.detail.prepare["steps_executed"] == list(STEPS[:STEPS.index(step)])
    if ADAPTERS[impl].reference is None:
        assert rec.outcome in ("resumed", "recovered_by_command"), rec.outcome
        if rec.outcome == "recovered_by_command":
            assert rec.detail.recovery["steps_executed"] == list(STEPS[STEPS.index(step):])


@pytest.mark.parametrize("impl", NAMES)
def test_after_a_crash_the_rerun_or_the_declared_recovery_gives_the_right_answer(ws, impl):
    rec = scenario(ws, impl, ADAPTERS[impl].default_mode, "crash", variant="preprocess")
    assert rec.outcome in ("recovered", "refused"), why(rec)
    assert rec.detail.prepare["exit_code"] == -9
    if rec.outcome == "refused":
        assert rec.detail.recovery["verify"]["predictions_match"], rec.detail.recovery


@pytest.mark.parametrize("impl,mode", TEAM_MODES)
def test_the_team_setup_gives_the_reference_predictions_and_resumes(served, impl, mode):
    rec = scenario(served, impl, mode, "cold", setup=TEAM)
    assert rec.status == "ok", why(rec)
    assert rec.setup == TEAM and rec.verify["predictions_match"] and rec.steps_executed == STEPS
    noop = scenario(served, impl, mode, "noop", setup=TEAM)
    assert noop.status == "ok", why(noop)
    assert noop.steps_executed == (() if ADAPTERS[impl].resumes else STEPS)
    resume = scenario(served, impl, mode, "resume", variant="train", setup=TEAM)
    assert resume.status == "ok" and resume.outcome in ("resumed", "recovered_by_command"), \
        why(resume)
    assert resume.detail.prepare["steps_executed"] == list(STEPS[:STEPS.index("train")])


@pytest.mark.parametrize("impl,mode,shape", SYNTHETIC)
def test_the_cost_per_task_workload_runs_every_task_once(ws, impl, mode, shape):
    rec = scenario(ws, impl, mode, "pertask", variant=shape, size=3, format=None)
    assert rec.status == "ok", why(rec)
    assert rec.verify["result_match"] and rec.verify["steps_match"], rec.verify


@pytest.mark.parametrize("impl,runner_name", RUNNERS)
def test_each_parallel_runner_gives_the_reference_selection(ws, impl, runner_name):
    rec = scenario(ws, impl, None, "parallel", runner=runner_name, size=2, format=None)
    assert rec.status == "ok", why(rec)
    assert rec.detail.folds == 4 and rec.detail.survivors == ()  # the tiny grid: 2 x 2


# ---------------------------------------------------------------- the command itself

def _tmp_entries(adapter) -> set[str]:
    """Entries of the machine's temp dir named after the tool (/tmp/luigi, /tmp/snakemake*...):
    a tool that ignores TMPDIR names what it leaves there after itself. Only those, because
    other programs on the machine write there too."""
    names = (adapter.name, *adapter.frameworks)
    return {p.name for p in Path(tempfile.gettempdir()).iterdir()
            if any(n in p.name.lower() for n in names)}


@pytest.mark.parametrize("impl,mode", MODES)
def test_the_command_writes_nothing_outside_its_workdir(tmp_path, impl, mode):
    """A user's shell: HOME and TMPDIR elsewhere; the command and the adapter's variables must
    keep every file of the tool inside the working directory, on a first run too."""
    adapter = ADAPTERS[impl]
    wd = tmp_path / "wd"
    argv = command(adapter, wd, mode)
    env = environment(adapter, wd, mode)
    before = _tmp_entries(adapter)
    result = runner.ok(runner.run(argv, wd, env=env))
    assert result.survivors == []
    for place in runner.outside(wd):
        assert not place.exists() or sorted(p.name for p in place.iterdir()) == [], place
    assert _tmp_entries(adapter) - before == set()


@pytest.mark.parametrize("impl", DAGS)
def test_the_dag_command_prints_every_step(tmp_path, impl):
    adapter = ADAPTERS[impl]
    wd = tmp_path / "wd"
    stage.stage(wd, Params())
    mode = adapter.default_mode
    env = environment(adapter, wd, mode)
    result = runner.ok(runner.run(adapter.dag_command(wd, mode), wd, env=env))
    for step in STEPS:
        assert step in result.stdout.lower(), (step, result.stdout)


@pytest.fixture(scope="session")
def kaggle(tmp_path_factory) -> tuple[Path, str]:
    """A Kaggle-layout train.csv, and the reference's predictions on it."""
    root = tmp_path_factory.mktemp("kaggle")
    csv = kaggle_csv(root / "train.csv")
    wd = root / "reference"
    argv = command(REFERENCE, wd, REFERENCE.reference.mode, data=str(csv))
    runner.ok(runner.run(argv, wd))
    return csv, runner.predictions_sha(wd)


@pytest.mark.parametrize("impl", TOOLS)
def test_kaggle_train_csv_gives_the_reference_predictions(tmp_path, kaggle, impl):
    adapter, (csv, expected) = ADAPTERS[impl], kaggle
    wd, mode = tmp_path / "wd", adapter.default_mode
    argv = command(adapter, wd, mode, data=str(csv))
    env = environment(adapter, wd, mode)
    result = runner.ok(runner.run(argv, wd, env=env))
    assert result.steps == list(STEPS)
    predictions = adapter.deliverables(wd, staged_settings(wd)).predictions
    assert runner.sha256(predictions) == expected
    assert len(predictions.read_text().splitlines()) == 1 + 24


# Every kind of bad file on the reference; each tool with one that must be read to be refused,
# since all of them read the data through core.data before the tool starts.
BAD_DATA_CASES = [(a.name, case) for a in LOADED.adapters
                  for case in (sorted(BAD_INPUTS) if a.reference is not None else ("unknown sex",))]


@pytest.mark.parametrize("impl,case", BAD_DATA_CASES)
def test_bad_data_gets_one_line_and_a_non_zero_exit(tmp_path, impl, case):
    content, expected = BAD_INPUTS[case]
    csv = tmp_path / "in.csv"
    if content is not None:
        csv.write_text(content)
    adapter, wd = ADAPTERS[impl], tmp_path / "wd"
    mode = adapter.default_mode
    argv = command(adapter, wd, mode, data=str(csv))
    env = environment(adapter, wd, mode)
    result = runner.run(argv, wd, env=env)
    assert result.rc == 2 and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.steps == []


@pytest.mark.parametrize("impl", NAMES)
def test_a_bad_option_gets_one_line_and_exit_2(tmp_path, impl):
    adapter, wd = ADAPTERS[impl], tmp_path / "wd"
    argv = command(adapter, wd, adapter.default_mode)
    result = runner.run(argv + ["--scale", "0"], wd,
                        env=environment(adapter, wd, adapter.default_mode))
    assert result.rc == 2 and "--scale" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# ---------------------------------------------------------------- the adapter itself

@pytest.mark.parametrize("impl", NAMES)
def test_the_adapter_is_stdlib_only_and_names_real_files(impl):
    adapter = ADAPTERS[impl]
    module = LOADED.modules[NAMES.index(impl)]
    heavy = sorted({f for a in LOADED.adapters for f in a.frameworks} | {"pandas", "numpy",
                                                                          "yaml", "sklearn"})
    probe = (f"import json, sys, {module}; heavy = set({heavy!r}); "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & heavy)))")
    out = subprocess.run([runner.PY, "-c", probe], cwd=runner.REPO, capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == []
    roots = (runner.REPO, package_dir(adapter).parent)  # the package may live elsewhere
    named = adapter.source_files + tuple(f for s in adapter.setups for f in s.files)
    assert [f for f in named if not any((root / f).is_file() for root in roots)] == []


@pytest.mark.parametrize("impl", RERUNS)
def test_the_declared_rerun_edits_find_their_anchor_once(impl):
    rerun = ADAPTERS[impl].rerun
    code_root = package_dir(ADAPTERS[impl]).parent  # edits are relative to a copy of the code
    for edit in (rerun.wrapper_edit, rerun.comment_edit):
        text = (code_root / edit.path).read_text()
        assert text.count(edit.old) == 1, (edit.path, edit.old)
