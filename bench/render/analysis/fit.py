"""Straight-line fits of wall time against the number of tasks: wall = fixed + N x per-task.

Method: ordinary least squares on every usable sample (not on medians, so the spread at each N
enters the standard errors). The 95 % confidence interval of each coefficient is
estimate ± t(0.975, n - 2) × standard error, with the standard errors from the residual
variance s² = RSS / (n - 2) and (XᵀX)⁻¹ (any regression text, e.g. Montgomery, Peck & Vining,
"Introduction to Linear Regression Analysis", ch. 2).

Non-linearity rule: the same samples are fitted with a quadratic a + bN + cN². Cost is called
not linear in N when c's 95 % t interval (n - 3 degrees of freedom) excludes 0 *and* the bend
is material: at some measured N the quadratic fit departs from the straight line by more than
MATERIAL_SHARE of the line. The first half alone would flag curvature too small to matter on a
quiet machine with many samples; the second alone would flag noise.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats as scipy_stats

CI_LEVEL = 0.95
MATERIAL_SHARE = 0.10
METHOD = ("Ordinary least squares of wall time on N over every usable sample; 95 % intervals "
          "are estimate ± t(0.975, n−2) × standard error. Cost is flagged as not linear in N when "
          "a quadratic term c·N², fitted to the same samples, has a 95 % t interval (n−3 degrees "
          "of freedom) that excludes 0 and, at some measured N, the quadratic fit departs from the "
          f"straight line by more than {MATERIAL_SHARE:.0%} of the line.")


@dataclasses.dataclass(frozen=True)
class Coefficient:
    value: float
    low: float | None   # None: too few samples for an interval
    high: float | None


@dataclasses.dataclass(frozen=True)
class Curvature:
    coefficient: Coefficient
    departure: float        # largest |quadratic - line| / line over the measured sizes
    significant: bool       # interval excludes 0
    material: bool


@dataclasses.dataclass(frozen=True)
class LinearFit:
    fixed: Coefficient
    per_task: Coefficient
    n_samples: int
    sizes: tuple[int, ...]
    residuals: tuple[tuple[int, float, float], ...]  # (N, wall, wall - fitted)
    max_relative_residual: float
    curvature: Curvature | None   # None: fewer than 3 sizes or no degree of freedom left

    @property
    def linear(self) -> bool | None:
        """None when the samples cannot tell."""
        if self.curvature is None:
            return None
        return not (self.curvature.significant and self.curvature.material)

    def predict(self, n: float) -> float:
        return self.fixed.value + self.per_task.value * n


def fit(ns, walls) -> LinearFit | None:
    """None with fewer than two distinct sizes: no slope to estimate."""
    x = np.asarray(ns, dtype=float)
    y = np.asarray(walls, dtype=float)
    if len(x) != len(y) or len(set(x.tolist())) < 2:
        return None
    (fixed, per_task), fitted = _ols(x, y, degree=1)
    resid = y - fitted
    return LinearFit(
        fixed=fixed, per_task=per_task, n_samples=len(x),
        sizes=tuple(sorted({int(v) for v in x})),
        residuals=tuple((int(n), float(w), float(r)) for n, w, r in zip(x, y, resid)),
        max_relative_residual=float(np.max(np.abs(resid) / np.abs(fitted))),
        curvature=_curvature(x, y, fixed.value, per_task.value))


def _ols(x: np.ndarray, y: np.ndarray, degree: int) -> tuple[list[Coefficient], np.ndarray]:
    design = np.vander(x, degree + 1, increasing=True)
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ beta
    dof = len(x) - (degree + 1)
    if dof < 1:
        return [Coefficient(float(b), None, None) for b in beta], fitted
    s2 = float(np.sum((y - fitted) ** 2)) / dof
    se = np.sqrt(np.diag(s2 * np.linalg.pinv(design.T @ design)))
    t = float(scipy_stats.t.ppf(0.5 + CI_LEVEL / 2, dof))
    return [Coefficient(float(b), float(b - t * e), float(b + t * e))
            for b, e in zip(beta, se)], fitted


def _curvature(x: np.ndarray, y: np.ndarray, fixed: float, per_task: float) -> Curvature | None:
    if len(set(x.tolist())) < 3 or len(x) < 4:
        return None
    (a, b, c), _ = _ols(x, y, degree=2)
    sizes = np.unique(x)
    line = fixed + per_task * sizes
    bend = a.value + b.value * sizes + c.value * sizes ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        departure = float(np.nanmax(np.abs(bend - line) / np.abs(line)))
    significant = c.low is not None and (c.low > 0 or c.high < 0)
    return Curvature(c, departure, bool(significant), bool(departure > MATERIAL_SHARE))
