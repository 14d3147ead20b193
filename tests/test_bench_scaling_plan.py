"""Which executions the scaling scenarios plan (cost per task, parallel, rerun), per profile."""
from __future__ import annotations

import collections

from bench import plan, registry
from bench.profiles import CHANGES, DEFAULT, FULL, PROFILES, QUICK, SCALING, SHAPES

SCALING_SCENARIOS = ("pertask", "parallel", "rerun")


def _impls():
    loaded = registry.load()
    assert not loaded.problems, loaded.problems
    return loaded.impls


def _by_scenario(profile):
    slots = plan.slots_for(profile, _impls())
    grouped = collections.defaultdict(list)
    for s in slots:
        grouped[s.scenario].append(s)
    return grouped


def test_the_default_budget_leaves_the_scaling_scenarios_out():
    assert not set(_by_scenario(DEFAULT)) & set(SCALING_SCENARIOS)


def test_the_scaling_profile_runs_only_the_scaling_scenarios():
    assert set(_by_scenario(SCALING)) == set(SCALING_SCENARIOS)
    assert PROFILES["scaling"] is SCALING
    assert SCALING.task_counts[0] == 10 and len(SCALING.task_counts) >= 4


def test_quick_runs_each_scaling_scenario_at_its_smallest_size():
    grouped = _by_scenario(QUICK)
    for impl in _impls():
        pertask = [s for s in grouped["pertask"] if s.impl == impl.name]
        assert sorted((s.mode, s.step, s.scale) for s in pertask) == sorted(
            (m, shape, 10) for m in impl.synthetic_modes for shape in SHAPES)
        parallel = [s for s in grouped["parallel"] if s.impl == impl.name]
        assert sorted((s.mode, s.scale) for s in parallel) == sorted(
            (r, w) for r in impl.parallel_runners for w in (1, 2))
        rerun = [s for s in grouped["rerun"] if s.impl == impl.name]
        assert sorted(s.step for s in rerun) == sorted(CHANGES)
        assert {s.mode for s in rerun} == {impl.default_mode}
    # every tool takes part in each scenario
    names = {impl.name for impl in _impls()}
    for scenario in SCALING_SCENARIOS:
        assert {s.impl for s in grouped[scenario]} == names, scenario


def test_full_measures_more_sizes_than_the_scaling_profile_and_more_rounds():
    assert max(FULL.task_counts) > max(SCALING.task_counts)
    for scenario in ("pertask", "parallel"):
        assert FULL.rounds[scenario] >= 5


def test_a_parallel_only_run_warms_up_with_its_own_smallest_slot_not_a_pipeline_mode():
    profile = SCALING.with_overrides(scenarios=["parallel"])
    impls = _impls()
    slots = plan.slots_for(profile, impls)
    order = plan.schedule(slots, profile, 1, lambda s: False,
                          {impl.name: impl.default_mode for impl in impls})
    warm = [ex.slot for ex in order if ex.warmup]
    assert {s.impl for s in warm} == {impl.name for impl in impls}
    for s in warm:
        assert s.scenario == "parallel" and s.scale == 1
        assert s.mode in impls[[i.name for i in impls].index(s.impl)].parallel_runners


def test_mode_selection_picks_parallel_runners_too():
    impls = _impls()
    prefect = next(i for i in impls if i.name == "prefect")
    assert "dask" in prefect.parallel_runners
    slots = plan.slots_for(SCALING, [prefect], modes={"dask"})
    assert {(s.scenario, s.mode) for s in slots} == {("parallel", "dask")}
