"""Vectorised twins of the package's estimators: many replications at once from sufficient statistics.

:func:`proportion_arrays`, :func:`welch_arrays` and :func:`cuped_arrays` give, for arrays of per-replication
sufficient statistics, the same numbers as :func:`~experiments.stats.effects.proportion_effect`,
:func:`~experiments.stats.effects.mean_effect` and :func:`~experiments.stats.cuped.cuped_effect` (tested
equal on single replications, to 1e-12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats as sps

from experiments.stats.sufficient import ArmStatistics, SampleStats

__all__ = ["ArmSums", "EffectArrays", "cuped_arrays", "proportion_arrays", "welch_arrays"]


@dataclass(frozen=True, eq=False)
class EffectArrays:
    """Effects of many replications at once: each field is an array with one value per replication.

    The same numbers :class:`~experiments.stats.results.Effect` holds (treatment − control), without
    the relative lift.
    """

    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    method: str
    alpha: float

    @property
    def rejects(self) -> np.ndarray:
        """Whether each replication's test rejects at ``alpha``."""
        return self.p_value < self.alpha

    @property
    def width(self) -> np.ndarray:
        """Interval widths."""
        return self.ci_high - self.ci_low

    def covers(self, truth: float) -> np.ndarray:
        """Whether each interval contains ``truth``."""
        return (self.ci_low <= truth) & (truth <= self.ci_high)

    def to_frame(self) -> pl.DataFrame:
        """One row per replication."""
        return pl.DataFrame(
            {k: getattr(self, k) for k in ("estimate", "se", "ci_low", "ci_high", "statistic", "p_value")}
        )



# --------------------------------------------------------------------------------------------
# vectorised estimators (twins of the package's estimators, tested equal on single replications)
# --------------------------------------------------------------------------------------------
def proportion_arrays(
    c1: np.ndarray, n1: np.ndarray | int, c0: np.ndarray, n0: np.ndarray | int, *, alpha: float = 0.05
) -> EffectArrays:
    """Wald difference of proportions for many replications; equals ``proportion_effect(method="wald")``.

    Unpooled standard error, normal interval and two-sided p-value (statsmodels
    ``test_proportions_2indep`` / ``confint_proportions_2indep`` with ``method="wald"``). A replication
    with no variation in either arm gets a nan p-value and a zero-width interval, as the package does.
    """
    c1, c0 = np.asarray(c1, dtype=float), np.asarray(c0, dtype=float)
    n1, n0 = np.asarray(n1, dtype=float), np.asarray(n0, dtype=float)
    p1, p0 = c1 / n1, c0 / n0
    diff = p1 - p0
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return _normal_arrays(diff, se, alpha, "two-proportion wald")


def welch_arrays(treatment: ArmSums, control: ArmSums, *, alpha: float = 0.05) -> EffectArrays:
    """Welch difference of means of the metric for many replications; equals ``mean_effect``."""
    m1, v1 = treatment.mean_var("y")
    m0, v0 = control.mean_var("y")
    return _welch(m1 - m0, v1 / treatment.n, v0 / control.n, treatment.n, control.n, alpha, "Welch t")


def cuped_arrays(treatment: ArmSums, control: ArmSums, *, alpha: float = 0.05) -> EffectArrays:
    """CUPED difference of means adjusted by the covariate, for many replications.

    ``theta = cov(y, x) / var(x)`` pooled over both arms (within-arm moments); each arm's mean is
    ``mean(y) - theta * (mean(x) - pooled mean(x))`` and its variance ``var(y) - 2 theta cov(y, x) +
    theta^2 var(x)``; the interval is normal with the unequal-variance standard error. Equals
    :func:`experiments.stats.cuped.cuped_effect` on the same sufficient statistics.
    """
    n1, n0 = treatment.n, control.n
    sxy = treatment.comoment() + control.comoment()
    sxx = treatment.comoment("x", "x") + control.comoment("x", "x")
    theta = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 0)
    my1, vy1 = treatment.mean_var("y")
    my0, vy0 = control.mean_var("y")
    mx1, vx1 = treatment.mean_var("x")
    mx0, vx0 = control.mean_var("x")
    c1 = treatment.comoment() / (n1 - 1)
    c0 = control.comoment() / (n0 - 1)
    diff = (my1 - my0) - theta * (mx1 - mx0)
    va1 = np.maximum(vy1 - 2 * theta * c1 + theta**2 * vx1, 0.0)
    va0 = np.maximum(vy0 - 2 * theta * c0 + theta**2 * vx0, 0.0)
    return _normal_arrays(diff, np.sqrt(va1 / n1 + va0 / n0), alpha, "CUPED (pooled theta)")


def _normal_arrays(diff: np.ndarray, se: np.ndarray, alpha: float, method: str) -> EffectArrays:
    z = sps.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, diff / se, np.nan)
    p = 2 * sps.norm.sf(np.abs(stat))
    return EffectArrays(diff, se, diff - z * se, diff + z * se, stat, p, method, alpha)


def _welch(diff: np.ndarray, v1: np.ndarray, v0: np.ndarray, n1: np.ndarray, n0: np.ndarray,
           alpha: float, method: str) -> EffectArrays:
    se = np.sqrt(v1 + v0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
        stat = np.where(se > 0, diff / se, np.nan)
    p = 2 * sps.t.sf(np.abs(stat), df)
    half = np.where(se > 0, sps.t.ppf(1 - alpha / 2, df) * se, 0.0)
    return EffectArrays(diff, se, diff - half, diff + half, stat, p, method, alpha)


@dataclass(frozen=True, eq=False)
class ArmSums:
    """Per-replication sufficient statistics of one arm: metric ``y`` (spend) and covariate ``x``.

    Each field is an array with one value per replication: ``n``, ``y`` (sum), ``yy`` (sum of
    squares), ``x``, ``xx`` and ``xy``.
    """

    n: np.ndarray
    y: np.ndarray
    yy: np.ndarray
    x: np.ndarray
    xx: np.ndarray
    xy: np.ndarray

    def mean_var(self, col: Literal["x", "y"]) -> tuple[np.ndarray, np.ndarray]:
        """Means and unbiased variances of ``y`` or ``x``."""
        s, ss = getattr(self, col), getattr(self, col + col)
        return s / self.n, np.maximum((ss - s**2 / self.n) / (self.n - 1), 0.0)

    def comoment(self, a: Literal["x", "y"] = "x", b: Literal["x", "y"] = "y") -> np.ndarray:
        """Centred cross-product ``sum((a - mean a)(b - mean b))``."""
        key = "".join(sorted(a + b))
        return getattr(self, key) - getattr(self, a) * getattr(self, b) / self.n

    def sample_stats(self, i: int, col: Literal["x", "y"] = "y") -> SampleStats:
        """The :class:`SampleStats` of replication ``i``."""
        return SampleStats(n=int(self.n[i]), sum=float(getattr(self, col)[i]),
                           sum_squares=float(getattr(self, col + col)[i]))

    @staticmethod
    def table(treatment: ArmSums, control: ArmSums, i: int, *, metric: str = "spend",
              covariate: str = "history", labels: tuple[str, str] = ("treatment", "control")
              ) -> ArmStatistics:
        """Replication ``i`` as the :class:`ArmStatistics` that :func:`gather` would return."""
        rows = []
        for label, s in zip(labels, (treatment, control), strict=True):
            n = int(s.n[i])
            rows.append(
                {
                    "arm": label, "n": n,
                    f"{metric}.n": n, f"{metric}.sum": float(s.y[i]), f"{metric}.sumsq": float(s.yy[i]),
                    f"{covariate}.n": n, f"{covariate}.sum": float(s.x[i]),
                    f"{covariate}.sumsq": float(s.xx[i]),
                    f"{metric}.{covariate}.sumxy": float(s.xy[i]),
                }
            )
        return ArmStatistics(pl.DataFrame(rows), "arm", (metric,), (covariate,), None)


