"""Which executions the scaling scenarios plan (cost per task, parallel, rerun), per profile."""
from __future__ import annotations

import collections

from bench.engine import plan, registry
from bench.engine.profiles import (CHANGES, DEFAULT, FULL, PROFILES, QUICK, QUICK_SCALING,
                                   SCALING, SHAPES)
from bench.scenarios.catalog import SCENARIOS

SCALING_SCENARIOS = ("pertask", "parallel", "rerun")


MAKERS = {name: s.slots for name, s in SCENARIOS.items() if s.slots}


def _adapters():
    loaded = registry.load()
    assert not loaded.problems, loaded.problems
    return loaded.adapters


def _runners(adapter) -> tuple[str, ...]:
    return tuple(adapter.parallel.runners) if adapter.parallel else ()


def _by_scenario(profile):
    slots = plan.slots_for(profile, _adapters(), MAKERS)
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


def test_quick_leaves_the_scaling_scenarios_to_its_own_quick_profile():
    assert not set(_by_scenario(QUICK)) & set(SCALING_SCENARIOS)
    assert set(_by_scenario(QUICK_SCALING)) == set(SCALING_SCENARIOS)


def test_quick_scaling_runs_each_scaling_scenario_at_its_smallest_size():
    grouped = _by_scenario(QUICK_SCALING)
    for adapter in _adapters():
        pertask = [s for s in grouped["pertask"] if s.impl == adapter.name]
        assert sorted((s.mode, s.variant, s.size) for s in pertask) == sorted(
            (m, shape, 10) for m in adapter.synthetic.modes for shape in SHAPES)
        parallel = [s for s in grouped["parallel"] if s.impl == adapter.name]
        assert sorted((s.runner, s.size) for s in parallel) == sorted(
            (r, w) for r in _runners(adapter) for w in (1, 2))
        rerun = [s for s in grouped["rerun"] if s.impl == adapter.name]
        switches = tuple(m.name for m in adapter.rerun.switches) if adapter.rerun else ()
        assert sorted((s.mode, s.variant) for s in rerun) == sorted(
            (m, c) for m in (adapter.default_mode, *switches) for c in CHANGES)
        assert {s.setup for s in grouped["pertask"] + grouped["parallel"] + rerun} == {"laptop"}
    # every tool takes part in each scenario
    names = {adapter.name for adapter in _adapters()}
    for scenario in SCALING_SCENARIOS:
        assert {s.impl for s in grouped[scenario]} == names, scenario


def test_full_measures_more_sizes_than_the_scaling_profile_and_more_rounds():
    assert max(FULL.task_counts) > max(SCALING.task_counts)
    for scenario in ("pertask", "parallel"):
        assert FULL.rounds[scenario] >= 5


def test_a_parallel_only_run_warms_up_with_its_own_smallest_slot_not_a_pipeline_mode():
    profile = SCALING.with_overrides(scenarios=["parallel"])
    adapters = {a.name: a for a in _adapters()}
    slots = plan.slots_for(profile, adapters.values(), MAKERS)
    order = plan.schedule(slots, profile, 1, lambda s: False,
                          {a.name: a.default_mode for a in adapters.values()})
    warm = [ex.slot for ex in order if ex.warmup]
    assert {s.impl for s in warm} == set(adapters)
    for s in warm:
        assert s.scenario == "parallel" and s.size == 1
        assert s.runner in _runners(adapters[s.impl]) and s.mode is None


def test_mode_selection_picks_parallel_runners_too():
    prefect = next(a for a in _adapters() if a.name == "prefect")
    assert "dask" in _runners(prefect)
    slots = plan.slots_for(SCALING, [prefect], MAKERS, modes={"dask"})
    assert {(s.scenario, s.runner) for s in slots} == {("parallel", "dask")}
