"""What is specific to luigi: its exit codes and execution summary, outputs named after the
parameters, its temp files after a kill, its tree printer, what it reruns after each change
the rerun scenario makes, and the central luigid (started by the harness's own server code).
The contract every tool keeps is tests/conformance."""
from __future__ import annotations

import json
import shutil
import signal
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bench.engine import plan, registry
from bench.engine.profiles import QUICK
from bench.engine.services import Server
from bench.engine.session import execute
from bench.engine.workspace import Workspace, staged_settings
from bench.scenarios.catalog import SCENARIOS
from core import layout, stage
from core.contract import LAPTOP, TEAM
from core.params import Params
from impl_luigi import naming
from impl_luigi.adapter import ADAPTER
from tests.helpers import runner

STEPS = list(runner.STEPS)
TASK_FAILED = 30  # [retcode] task_failed in impl_luigi/luigi.cfg
ALREADY_RUNNING = 10  # [retcode] already_running
SUMMARY = "===== Luigi Execution Summary ====="
DEFAULTS = {k: str(v) for k, v in vars(Params()).items()}


def run(wd: Path, *, fmt="parquet", scale=1, setup=LAPTOP, url=None, data=None, params=(),
        with_adapter_env=True, **inject) -> runner.Result:
    argv = ADAPTER.command(wd, "files", setup=setup, fmt=fmt, scale=scale, data=data,
                           service_url=url)
    for setting in params:
        argv += ["--param", setting]
    return run_argv(argv, wd, setup=setup, url=url, with_adapter_env=with_adapter_env, **inject)


def run_argv(argv, wd: Path, *, setup=LAPTOP, url=None, with_adapter_env=True, **inject):
    env = runner.base_env(wd)
    if with_adapter_env:
        env.update(ADAPTER.environment(wd, "files", setup=setup, service_url=url,
                                       home=runner.home_of(wd)))
    result = runner.run(argv, wd, env=env, **inject)
    assert result.survivors == [], result.survivors
    return result


def delivered(wd: Path):
    return ADAPTER.deliverables(wd, staged_settings(wd))


def predictions_sha(wd: Path) -> str:
    return runner.sha256(delivered(wd).predictions)


def temp_files(wd: Path) -> list[str]:
    return sorted(f for f in runner.files_in(wd) if "-luigi-tmp-" in f)


def slug(**changes) -> str:
    return naming.slug({**DEFAULTS, **{k: str(v) for k, v in changes.items()}})


def load_slug(**changes) -> str:
    """Load's and Preprocess's directory: the settings they carry, without the model's."""
    return naming.slug({k: v for k, v in {**DEFAULTS, **changes}.items()
                        if k not in ("n_estimators", "max_depth")})


def expected_files(fmt: str) -> set[str]:
    data, model = load_slug(format=fmt), slug(format=fmt)
    return {layout.DATA, layout.PARAMS,
            f"interim/load/{data}/train_raw.{_ext(fmt)}", f"interim/load/{data}/test_raw.{_ext(fmt)}",
            f"interim/preprocess/{data}/train_features.{_ext(fmt)}",
            f"interim/preprocess/{data}/test_features.{_ext(fmt)}",
            f"interim/train/{model}/model.pkl",
            f"out/{model}/predictions.csv", f"out/{model}/metrics.json"}


def _ext(fmt: str) -> str:
    return {"pickle": "pkl"}.get(fmt, fmt)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("luigi") / "wd"
    result = runner.ok(run(wd))
    # WARNING level, then luigi's execution summary: every task ran, no warning before it
    assert result.stdout == "" and result.stderr.startswith(SUMMARY), result.stderr
    assert "* 5 ran successfully:" in result.stderr
    assert runner.files_in(wd) == expected_files("parquet")  # luigi's only state: its targets
    return wd


def copy_of(clean_run: Path, tmp_path: Path) -> Path:
    wd = tmp_path / "wd"
    shutil.copytree(clean_run, wd)
    return wd


def test_a_failed_task_exits_with_luigis_task_failed_code_and_says_why(tmp_path):
    wd = tmp_path / "wd"
    failed = run(wd, fail_at="train")
    assert failed.rc == TASK_FAILED, failed.stderr
    assert "InjectedFailure" in failed.stderr  # the task's error, despite WARNING level
    assert "This progress looks :( because there were failed tasks" in failed.stderr
    assert temp_files(wd) == []  # the exception came before any write


def test_failure_exits_non_zero_without_the_adapter_environment(tmp_path):
    """The command adds luigi.cfg itself, so a user typing it gets the same exit status."""
    wd = tmp_path / "wd"
    failed = run(wd, fail_at="load", with_adapter_env=False)
    assert failed.rc == TASK_FAILED, failed.stderr
    assert "InjectedFailure" in failed.stderr


def test_outputs_are_named_after_their_tasks_parameters_and_the_adapter_finds_them(
        clean_run, tmp_path, baseline_outputs):
    """A changed hyperparameter is a parameter of Train: Train, Predict and Evaluate get new
    directories and run; Load's and Preprocess's outputs are found complete. The earlier
    outputs stay, so switching back runs nothing and delivers the earlier, right answer."""
    wd = copy_of(clean_run, tmp_path)
    changed = runner.ok(run(wd, params=["n_estimators=50"]))
    assert changed.steps == ["train", "predict", "evaluate"]
    assert delivered(wd).predictions == wd / "out" / slug(n_estimators=50) / "predictions.csv"
    assert delivered(wd).metrics.is_file()
    assert predictions_sha(wd) != baseline_outputs["parquet"][0]
    assert "* 1 complete ones were encountered:\n    - 1 Preprocess(" in changed.stderr
    assert runner.files_in(wd) > expected_files("parquet")

    back = runner.ok(run(wd))
    assert back.steps == [] and "Did not run any tasks" in back.stderr
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_a_new_scale_is_a_parameter_of_load_and_reruns_every_step(clean_run, tmp_path):
    wd = copy_of(clean_run, tmp_path)
    assert runner.ok(run(wd, scale=2)).steps == STEPS
    assert delivered(wd).predictions == wd / "out" / slug(scale=2) / "predictions.csv"
    assert delivered(wd).predictions.is_file()


def test_crash_midway_through_a_write_leaves_a_temp_file_and_the_rerun_recovers(
        tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    crashed = run(wd, crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL
    assert crashed.steps == ["load", "preprocess"]
    leftovers = temp_files(wd)
    # What a SIGKILL leaves: half of the first preprocess output under luigi's temporary
    # name; the output names themselves do not exist, so complete() cannot be fooled.
    features = f"interim/preprocess/{load_slug()}"
    assert len(leftovers) == 1
    assert leftovers[0].startswith(f"{features}/train_features.parquet-luigi-tmp-")
    assert not list((wd / features).glob("*.parquet"))
    partial_bytes = (wd / leftovers[0]).stat().st_size

    rerun = runner.ok(run(wd))
    assert rerun.steps == STEPS[1:]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]
    # luigi never cleans up after a killed task: the temp file stays until a user removes it.
    assert temp_files(wd) == leftovers
    assert 0 < partial_bytes < (wd / features / "train_features.parquet").stat().st_size
    assert ADAPTER.recovery_commands(wd, "files", setup=LAPTOP, fmt="parquet", scale=1,
                                     data=None, service_url=None) == []


def test_dag_command_prints_luigis_tree_with_the_staged_runs_parameters(clean_run, tmp_path):
    staged = tmp_path / "staged"
    stage.stage(staged, Params(n_estimators=50))
    for wd, state, trees in ((staged, "PENDING", "'n_estimators': '50'"),
                             (clean_run, "COMPLETE", "'n_estimators': '100'")):
        result = runner.ok(run_argv(ADAPTER.dag_command(wd, "files"), wd))
        for task in ("Evaluate", "Predict", "Train", "Preprocess", "Load"):
            line = next(li for li in result.stdout.splitlines() if f"[{task}-" in li)
            assert state in line and str(wd) in line
        assert "StagedData" in result.stdout
        train = next(li for li in result.stdout.splitlines() if "[Train-" in li)
        assert trees in train


def test_a_scheduler_option_without_a_url_gets_one_line(tmp_path):
    wd = tmp_path / "wd"
    result = run_argv([runner.PY, "-m", "impl_luigi", "--workdir", str(wd), "--scheduler-url"],
                      wd)
    assert result.rc == 2 and "--scheduler-url" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    with pytest.raises(ValueError, match="service_url"):
        ADAPTER.command(wd, "files", setup=TEAM, fmt="parquet", scale=1, data=None,
                        service_url=None)


# -- what luigi reruns after each change (the harness's rerun scenario) ---------------------

@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    adapters = registry.load(("core.adapter", "impl_luigi.adapter")).by_name()
    return Workspace(tmp_path_factory.mktemp("rerun"), "tools-luigi", adapters, QUICK)


def rerun_cell(ws: Workspace, change: str, mode: str = "files"):
    slot = plan.Slot("luigi", mode, "rerun", variant=change, format="parquet",
                     selection="rerun")
    return execute(ws, SCENARIOS, plan.Execution(slot, round=1))


# change -> (classification, steps executed, predictions right after the change)
RERUN = {
    # complete() is output existence: new data in data/titanic.csv changes no output name
    "data": ("stale", (), False),
    "param": ("exact", ("train", "predict", "evaluate"), True),
    "core_code": ("stale", (), False),     # code is no parameter
    "wrapper_code": ("stale", (), False),  # nor is the task's own code
    "comment": ("exact", (), True),
    "touch": ("exact", (), True),          # nor a modification time
}


@pytest.mark.parametrize("change", sorted(RERUN))
def test_rerun_after_a_change(ws, change):
    klass, executed, right = RERUN[change]
    rec = rerun_cell(ws, change)
    assert rec.status == "ok", f"{rec.detail.error}\n{rec.stderr_tail}"
    assert rec.detail.change_visible is not (change in ("comment", "touch"))
    assert (rec.detail.classification, rec.detail.executed) == (klass, executed)
    assert rec.verify["predictions_match"] is right
    # luigi's own account: its execution summary
    if executed:
        assert rec.detail.reason.startswith("luigi: 1 complete ones were encountered: "
                                            "Preprocess; 3 ran successfully: Evaluate, "
                                            "Predict, Train"), rec.detail.reason
    else:
        assert "1 complete ones were encountered: Evaluate; Did not run any tasks" \
            in rec.detail.reason, rec.detail.reason


def test_luigi_declares_no_rerun_switch():
    """No luigi setting makes complete() look at content, times or code."""
    assert ADAPTER.rerun.switches == ()


# -- a central luigid, started and stopped as the harness does it ---------------------------

def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.load(reply)


class Luigid(Server):
    def tasks(self, status: str) -> dict:
        query = urllib.parse.quote(json.dumps({"status": status}))
        return _get_json(f"{self.url}/api/task_list?data={query}")["response"]


@pytest.fixture(scope="module")
def luigid(tmp_path_factory):
    root = tmp_path_factory.mktemp("luigid")
    server = Luigid(ADAPTER, ADAPTER.service_for(TEAM), root / "state", root / "logs",
                    ADAPTER.env_prefixes)
    try:
        server.start()
        yield server
    finally:
        server.stop()
    assert server.info["stopped"] == "SIGTERM" and "survivors" not in server.info


def _tasks_of(tasks: dict, wd: Path) -> set[str]:
    return {t["name"] for t in tasks.values() if t["params"].get("workdir") == str(wd)}


def team(wd: Path, luigid, **kw) -> runner.Result:
    return run(wd, setup=TEAM, url=luigid.url, **kw)


def test_luigid_runs_back_to_back_workdirs_and_sees_their_tasks(luigid, tmp_path,
                                                                 baseline_outputs):
    """Two runs seconds apart in different workdirs: the workdir parameter gives each its own
    task ids, so luigid's stable_done_cooldown_secs cannot mix them up."""
    for name in ("first", "second"):
        wd = tmp_path / name
        result = runner.ok(team(wd, luigid))
        assert result.steps == STEPS
        assert predictions_sha(wd) == baseline_outputs["parquet"][0]
        assert runner.files_in(wd) == expected_files("parquet")
        for place in runner.outside(wd):
            assert not place.exists() or list(place.iterdir()) == []
        assert _tasks_of(luigid.tasks("DONE"), wd) == {
            "Load", "Preprocess", "Train", "Predict", "Evaluate", "StagedData"}


def test_luigid_sees_the_parameters_of_each_task(luigid, tmp_path):
    wd = tmp_path / "wd"
    runner.ok(team(wd, luigid, params=["max_depth=4"]))
    done = {t["name"]: t["params"] for t in luigid.tasks("DONE").values()
            if t["params"].get("workdir") == str(wd)}
    assert done["Train"]["max_depth"] == "4" and "max_depth" not in done["Load"]


def test_luigid_rerun_after_failure_resumes(luigid, tmp_path, baseline_outputs):
    wd = tmp_path / "wd"
    failed = team(wd, luigid, fail_at="train")
    assert failed.rc == TASK_FAILED and "InjectedFailure" in failed.stderr
    assert "Train" in _tasks_of(luigid.tasks("FAILED"), wd)
    rerun = runner.ok(team(wd, luigid))
    assert rerun.steps == ["train", "predict", "evaluate"]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]


def test_luigid_refuses_a_crashed_task_until_it_lets_go_then_the_recovery_works(
        luigid, tmp_path, baseline_outputs):
    """After a SIGKILL luigid still believes the dead worker runs preprocess: the plain rerun
    is refused (already_running, with luigi's summary saying why) until luigid drops the
    worker (worker_disconnect_delay plus its 60 s pruning cycle). The declared recovery waits
    for that and reruns."""
    wd = tmp_path / "wd"
    crashed = team(wd, luigid, crash_at="preprocess")
    assert crashed.rc == -signal.SIGKILL
    assert "Preprocess" in _tasks_of(luigid.tasks("RUNNING"), wd)

    refused = team(wd, luigid)
    assert refused.rc == ALREADY_RUNNING, refused.stderr
    assert "were being run by another worker" in refused.stderr
    assert refused.steps == [] and not delivered(wd).predictions.exists()

    commands = ADAPTER.recovery_commands(wd, "files", setup=TEAM, fmt="parquet", scale=1,
                                         data=None, service_url=luigid.url)
    assert len(commands) == 2
    results = [run_argv(argv, wd, setup=TEAM, url=luigid.url) for argv in commands]
    assert [r.rc for r in results] == [0, 0], results[-1].stderr
    assert results[-1].steps == STEPS[1:]
    assert predictions_sha(wd) == baseline_outputs["parquet"][0]
    assert len(temp_files(wd)) == 1  # the killed write's temp file, as in the laptop set-up
