"""Ratio metrics (revenue per order, orders per visit) by the delta method, from sufficient statistics.

For units ``i`` with numerator ``a_i`` and denominator ``b_i`` (both per unit, the unit being what was
randomised), the arm's ratio is ``R = sum(a) / sum(b)``. Its delta-method variance is

    var(R) = (s_a^2 - 2 R s_ab + R^2 s_b^2) / (n bbar^2)

with the sample variances and covariance of the arm (ddof = 1), built from ``n``, sums, sums of
squares and ``sum(a b)``. The difference of two independent arms is tested with a z statistic; the
relative lift uses the delta method on ``log(R_arm / R_control)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from experiments.errors import DataError, ParameterError
from experiments.stats.results import Effect
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import ArmStatistics, SampleStats

__all__ = ["RatioStats", "ratio_effect", "ratio_stats"]


@dataclass(frozen=True)
class RatioStats:
    """Sufficient statistics of a ratio metric in one arm."""

    numerator: SampleStats
    denominator: SampleStats
    sum_cross: float

    @property
    def n(self) -> int:
        """Units."""
        return self.numerator.n

    @property
    def ratio(self) -> float:
        """``sum(a) / sum(b)``."""
        return self.numerator.sum / self.denominator.sum if self.denominator.sum else float("nan")

    @property
    def variance(self) -> float:
        """Delta-method variance of the ratio."""
        n, a, b = self.n, self.numerator, self.denominator
        cov = (self.sum_cross - a.sum * b.sum / n) / (n - 1)
        r = self.ratio
        v = a.variance - 2 * r * cov + r * r * b.variance
        return max(v, 0.0) / (n * b.mean**2)


def ratio_stats(
    table: ArmStatistics, arm: str, numerator: str, denominator: str, segment: str | None = None
) -> RatioStats:
    """Ratio statistics of one arm; the table must hold ``sum(numerator * denominator)``.

    Gather it with ``gather(..., metrics=[numerator, denominator], pairs=[(numerator, denominator)])``.
    """
    a, b = table.stats(arm, numerator, segment), table.stats(arm, denominator, segment)
    if a.n != b.n:
        raise DataError(
            f"ratio {numerator}/{denominator} needs both columns on the same units; arm {arm!r} has "
            f"{a.n} and {b.n} non-missing values"
        )
    if a.n < 2:
        raise DataError(f"arm {arm!r} has fewer than two units for the ratio {numerator}/{denominator}")
    if b.sum == 0:
        raise DataError(f"denominator {denominator!r} sums to zero in arm {arm!r}")
    return RatioStats(a, b, table.cross(arm, numerator, denominator, segment))


def ratio_effect(
    table: ArmStatistics,
    *,
    arm: str,
    control: str,
    numerator: str,
    denominator: str,
    alpha: float = 0.05,
    segment: str | None = None,
    metric: str | None = None,
) -> Effect:
    """Difference of ``sum(numerator)/sum(denominator)`` between ``arm`` and ``control`` (delta method).

    Returns an :class:`Effect` whose ``metric`` is ``"numerator/denominator"`` unless named, ``mean_*``
    are the ratios and ``n_*`` the units.
    """
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    t = ratio_stats(table, arm, numerator, denominator, segment)
    c = ratio_stats(table, control, numerator, denominator, segment)
    diff = t.ratio - c.ratio
    se = math.sqrt(t.variance + c.variance)
    z = float(ndtri(1 - alpha / 2))  # the normal quantile, as scipy.stats.norm.ppf
    stat = diff / se if se > 0 else float("nan")
    pval = float(2 * ndtr(-abs(stat))) if se > 0 else float("nan")
    if t.ratio > 0 and c.ratio > 0:
        lse = math.sqrt(t.variance / t.ratio**2 + c.variance / c.ratio**2)
        lr = math.log(t.ratio / c.ratio)
        rel, rlow, rhigh = t.ratio / c.ratio - 1, math.exp(lr - z * lse) - 1, math.exp(lr + z * lse) - 1
    else:
        rel = rlow = rhigh = float("nan")
    return Effect(
        metric=metric or f"{numerator}/{denominator}", arm=arm, control=control, n_arm=t.n, n_control=c.n,
        mean_arm=t.ratio, mean_control=c.ratio, estimate=diff, se=se, ci_low=diff - z * se,
        ci_high=diff + z * se, statistic=stat, p_value=pval, rel_lift=rel, rel_ci_low=rlow,
        rel_ci_high=rhigh, method="ratio (delta method)", alpha=float(alpha), segment=segment,
    )
