"""The report's statistics, fits and number formats on samples whose answers are known by hand."""
from __future__ import annotations

import random

import pytest

from bench.render import fmt
from bench.render.analysis import fit, stats
from bench.render.analysis.groups import samples
from bench.store.records import Record


def test_median_of_odd_even_and_single_samples():
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert stats.median([7.0]) == 7.0


def test_no_samples_is_an_error_not_a_zero():
    with pytest.raises(ValueError):
        stats.median([])
    assert stats.summarise([]) is None


def test_quartiles_interpolate_between_order_statistics():
    assert stats.quartiles([1, 2, 3, 4, 5]) == (2.0, 4.0)
    assert stats.quartiles([1, 2, 3, 4]) == (1.75, 3.25)
    assert stats.iqr([1, 2, 3, 4]) == 1.5


def test_single_sample_summary_has_no_spread():
    s = stats.summarise([0.42])
    assert (s.n, s.median, s.q1, s.q3, s.iqr, s.minimum, s.maximum) == (1, 0.42, 0.42, 0.42, 0.0,
                                                                          0.42, 0.42)
    assert s.relative_iqr == 0.0
    assert stats.mad([0.42]) == 0.0
    assert stats.outliers([0.42]) == []


def test_mad_is_the_median_of_absolute_deviations():
    # median 3; deviations 2, 1, 0, 1, 97 -> median 1
    assert stats.mad([1, 2, 3, 4, 100]) == 1.0


def test_modified_z_score_flags_the_far_sample_only():
    z = stats.modified_z([1, 2, 3, 4, 100])
    assert z[2] == 0.0
    assert z[4] == pytest.approx(0.6745 * 97)
    assert stats.outliers([1, 2, 3, 4, 100]) == [4]
    assert stats.outliers([1, 2, 3, 4, 5]) == []


def test_outliers_detected_on_both_sides():
    assert stats.outliers([0.01, 10, 10.1, 10.2, 10.3, 9.9]) == [0]


def test_mad_zero_falls_back_to_mean_absolute_deviation():
    # more than half the samples equal: MAD = 0; mean |x - 5| = 0.8
    values = [5, 5, 5, 5, 9]
    assert stats.mad(values) == 0.0
    z = stats.modified_z(values)
    assert z[4] == pytest.approx(4 / (1.253314 * 0.8))
    assert stats.outliers(values) == [4]


def test_identical_samples_have_no_outliers():
    assert stats.modified_z([2.0, 2.0, 2.0]) == [0.0, 0.0, 0.0]
    assert stats.outliers([2.0, 2.0, 2.0, 2.0]) == []


def test_too_few_samples_for_outlier_detection():
    assert stats.outliers([1.0, 1000.0]) == []


def test_ratio_without_enough_samples_has_no_interval():
    r = stats.ratio_of_medians([2.0, 4.0, 6.0], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert r.value == pytest.approx(4.0 / 3.0)
    assert not r.has_ci and r.low is None and r.high is None
    assert (r.n_a, r.n_b) == (3, 5)


def test_ratio_interval_brackets_the_estimate_and_is_reproducible():
    a = [2.0, 2.1, 1.9, 2.05, 1.95, 2.2]
    b = [1.0, 1.1, 0.9, 1.05, 0.95]
    r = stats.ratio_of_medians(a, b)
    assert r.has_ci and r.low <= r.value <= r.high
    assert 1.5 < r.low and r.high < 2.6
    assert r.excludes_one
    assert stats.ratio_of_medians(a, b) == r  # seeded: the same records give the same report


def test_ratio_of_identical_constant_samples_is_exact():
    r = stats.ratio_of_medians([2.0] * 5, [1.0] * 5)
    assert (r.value, r.low, r.high) == (2.0, 2.0, 2.0)


def test_ratio_interval_includes_one_for_the_same_distribution():
    a = [1.0, 1.2, 0.9, 1.1, 1.05, 0.95]
    r = stats.ratio_of_medians(a, list(reversed(a)))
    assert r.value == 1.0 and r.has_ci and not r.excludes_one


def test_ratio_with_zero_or_missing_denominator():
    assert stats.ratio_of_medians([1.0] * 5, [0.0] * 5) is None
    assert stats.ratio_of_medians([1.0], []) is None


# ---------------------------------------------------------------- the fit of cost per task

def test_fit_of_an_exact_line_recovers_it_with_a_closed_interval():
    ns = [10, 50, 100, 200] * 2
    f = fit.fit(ns, [2.0 + 0.01 * n for n in ns])
    assert f.fixed.value == pytest.approx(2.0) and f.per_task.value == pytest.approx(0.01)
    assert f.per_task.high - f.per_task.low == pytest.approx(0.0, abs=1e-9)
    assert f.linear is True


def test_fit_intervals_use_the_t_distribution():
    # y = 1 + N + residuals (+1, -1, -1, +1) at N = 0..3: RSS = 4, s^2 = 2, Sxx = 5,
    # se(slope) = sqrt(2 / 5); t(0.975, 2) = 4.302653
    f = fit.fit([0, 1, 2, 3], [2.0, 1.0, 2.0, 5.0])
    assert f.per_task.value == pytest.approx(1.0)
    assert f.per_task.high - f.per_task.value == pytest.approx(4.302653 * (2 / 5) ** 0.5, rel=1e-5)


def test_fit_flags_material_curvature_and_not_noise():
    rng = random.Random(3)
    ns = [10, 50, 100, 200, 500] * 3
    quadratic = fit.fit(ns, [1 + 0.01 * n + 4e-5 * n * n + rng.gauss(0, 0.05) for n in ns])
    assert quadratic.linear is False and quadratic.curvature.coefficient.value > 0
    noisy = fit.fit(ns, [1 + 0.01 * n + rng.gauss(0, 0.05) for n in ns])
    assert noisy.linear is True


def test_fit_needs_two_sizes_and_says_when_it_cannot_judge_linearity():
    assert fit.fit([10, 10, 10], [1.0, 1.1, 0.9]) is None
    two_sizes = fit.fit([10, 50, 10, 50], [1.0, 2.0, 1.1, 2.1])
    assert two_sizes.per_task.low is not None and two_sizes.linear is None


# ---------------------------------------------------------------- how numbers read

def test_numbers_read_with_three_significant_digits_and_units():
    assert [fmt.seconds(x) for x in (0.0123, 0.5, 1.234, 12.34, 123.4, 0)] == [
        "12.3 ms", "500 ms", "1.23 s", "12.3 s", "123 s", "0 s"]
    assert fmt.signed_seconds(-0.25) == "−250 ms"
    assert [fmt.nbytes(n) for n in (512, 1_500, 1_500_000, 2_000_000_000)] == [
        "512 B", "1.50 kB", "1.50 MB", "2.00 GB"]
    assert fmt.percent(0.0712) == "7.1 %"
    assert fmt.seconds_tick(0.5) == "500 ms" and fmt.seconds_tick(2.0) == "2 s"


def test_ratios_read_with_their_interval_or_their_counts():
    with_ci = stats.Ratio(1.234, 1.1, 1.35, 5, 5)
    without = stats.Ratio(1.234, None, None, 3, 5)
    assert fmt.ratio(with_ci) == "×1.23 [1.10, 1.35] 95 % CI"
    assert fmt.ratio(without) == "×1.23, n=3 vs 5: too few samples for an interval"
    assert fmt.ratio_short(with_ci) == "×1.23 [1.10, 1.35]"
    assert fmt.ratio_short(without) == "×1.23 (n=3 vs 5)"
    assert fmt.ratio(None) == fmt.ratio_short(None) == "n/a"


def test_spread_text_gives_samples_when_an_iqr_would_mean_nothing():
    def recs(*walls):
        return [Record(run_id="t", impl="x", mode="m", scenario="cold", round=i + 1,
                       status="ok", wall_s=w, detail={}) for i, w in enumerate(walls)]
    assert fmt.spread(samples(recs(1.5))) == "1.50 s (one sample)"
    assert fmt.spread(samples(recs(1.0, 2.0))) == "1.50 s (n=2: 1.00 s and 2.00 s)"
    assert fmt.spread(samples(recs(1.0, 2.0, 3.0))) == "2.00 s (IQR 1.00 s, n=3)"
    assert fmt.spread(samples([])) == "no usable samples"
