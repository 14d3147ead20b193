"""Robust statistics for the report: medians and spreads, never means of timings.

Timing samples on a shared machine are skewed and heavy-tailed, so every summary here is
order-based (median, quartiles, median absolute deviation) and every interval is a
percentile bootstrap with a fixed seed, so the same records always give the same report.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

# Iglewicz & Hoaglin (1993), "How to Detect and Handle Outliers": |M| > 3.5 flags an outlier,
# with M = 0.6745 (x - median) / MAD. 0.6745 is the 0.75 quantile of the standard normal.
OUTLIER_Z = 3.5
_MAD_SCALE = 0.6745
# When MAD is 0 (more than half the samples are equal) the modified z-score is undefined;
# the mean absolute deviation times sqrt(pi/2) = 1.253314 estimates the same scale
# (the fallback used by IBM SPSS for the same score).
_MEAN_AD_SCALE = 1.253314
MIN_SAMPLES_FOR_OUTLIERS = 3
MIN_SAMPLES_FOR_CI = 5
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20261127
CI_LEVEL = 0.95


def _values(xs: Sequence[float]) -> np.ndarray:
    arr = np.asarray(list(xs), dtype="float64")
    if arr.size == 0:
        raise ValueError("no samples")
    return arr


def median(xs: Sequence[float]) -> float:
    return float(np.median(_values(xs)))


def quartiles(xs: Sequence[float]) -> tuple[float, float]:
    """First and third quartile, linear interpolation between order statistics (numpy's default)."""
    q1, q3 = np.percentile(_values(xs), [25, 75])
    return float(q1), float(q3)


def iqr(xs: Sequence[float]) -> float:
    q1, q3 = quartiles(xs)
    return q3 - q1


def mad(xs: Sequence[float]) -> float:
    """Median absolute deviation from the median, unscaled."""
    arr = _values(xs)
    return float(np.median(np.abs(arr - np.median(arr))))


def modified_z(xs: Sequence[float]) -> list[float]:
    """Modified z-score of each sample; all zeros when the samples do not vary at all."""
    arr = _values(xs)
    centre = np.median(arr)
    deviation = arr - centre
    spread = mad(arr)
    if spread > 0:
        return [float(v) for v in _MAD_SCALE * deviation / spread]
    mean_ad = float(np.mean(np.abs(deviation)))
    if mean_ad == 0:
        return [0.0] * arr.size
    return [float(v) for v in deviation / (_MEAN_AD_SCALE * mean_ad)]


def outliers(xs: Sequence[float], threshold: float = OUTLIER_Z) -> list[int]:
    """Indices of samples whose |modified z| exceeds the threshold; none below 3 samples."""
    if len(xs) < MIN_SAMPLES_FOR_OUTLIERS:
        return []
    return [i for i, z in enumerate(modified_z(xs)) if abs(z) > threshold]


@dataclasses.dataclass(frozen=True)
class Summary:
    n: int
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def relative_iqr(self) -> float | None:
        return self.iqr / self.median if self.median > 0 else None


def summarise(xs: Sequence[float]) -> Summary | None:
    if len(xs) == 0:
        return None
    arr = _values(xs)
    q1, q3 = quartiles(arr)
    return Summary(n=int(arr.size), median=median(arr), q1=q1, q3=q3,
                   minimum=float(arr.min()), maximum=float(arr.max()))


@dataclasses.dataclass(frozen=True)
class Ratio:
    """median(a) / median(b), with a bootstrap interval only when both sides have enough samples."""
    value: float
    low: float | None
    high: float | None
    n_a: int
    n_b: int

    @property
    def has_ci(self) -> bool:
        return self.low is not None

    @property
    def excludes_one(self) -> bool:
        return self.has_ci and (self.low > 1 or self.high < 1)


def ratio_of_medians(a: Sequence[float], b: Sequence[float], *,
                     resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                     level: float = CI_LEVEL) -> Ratio | None:
    """Percentile bootstrap of median(a)/median(b), resampling a and b independently."""
    if not a or not b:
        return None
    a_arr, b_arr = _values(a), _values(b)
    denominator = float(np.median(b_arr))
    if denominator <= 0:
        return None
    value = float(np.median(a_arr)) / denominator
    if min(a_arr.size, b_arr.size) < MIN_SAMPLES_FOR_CI:
        return Ratio(value, None, None, int(a_arr.size), int(b_arr.size))
    rng = np.random.default_rng(seed)
    num = np.median(rng.choice(a_arr, size=(resamples, a_arr.size)), axis=1)
    den = np.median(rng.choice(b_arr, size=(resamples, b_arr.size)), axis=1)
    ratios = num[den > 0] / den[den > 0]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return Ratio(value, float(low), float(high), int(a_arr.size), int(b_arr.size))


def is_finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
