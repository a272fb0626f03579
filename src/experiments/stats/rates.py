"""Per-arm rates and means with intervals, for tables and charts."""

from __future__ import annotations

import math

import polars as pl

from experiments.stats.special import ndtri, stdtrit
from experiments.stats.sufficient import ArmStatistics

__all__ = ["arm_means", "wilson_interval"]


def wilson_interval(count: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a proportion ``count / n`` at level ``1 - alpha``, clipped to [0, 1].

    The formula of statsmodels' ``proportion_confint(..., method="wilson")``, written out with the
    same operations (equal to it bit for bit; tested), so that the run path does not import statsmodels.
    """
    crit = -float(ndtri(alpha / 2.0))
    crit2 = crit**2
    q = count / n
    denom = 1 + crit2 / n
    center = (q + crit2 / (2 * n)) / denom
    dist = crit * math.sqrt(q * (1.0 - q) / n + crit2 / (4.0 * n**2)) / denom
    return min(max(center - dist, 0.0), 1.0), min(max(center + dist, 0.0), 1.0)


def arm_means(
    table: ArmStatistics,
    metric: str,
    *,
    binary: bool,
    alpha: float = 0.05,
    segment: str | None = None,
) -> pl.DataFrame:
    """Mean of ``metric`` in each arm with a ``1 - alpha`` interval.

    Binary metrics get the Wilson score interval (:func:`wilson_interval`), continuous
    ones the t interval of the mean.

    Returns
    -------
    polars.DataFrame
        Columns ``arm, n, mean, low, high, method``.
    """
    rows = []
    for arm in table.arms:
        s = table.stats(arm, metric, segment)
        if binary:
            low, high = wilson_interval(round(s.sum), s.n, alpha)
            method = "Wilson"
        else:
            half = float(stdtrit(s.n - 1, 1 - alpha / 2)) * math.sqrt(s.variance / s.n) if s.n > 1 else 0.0
            low, high, method = s.mean - half, s.mean + half, "t"
        rows.append({"arm": arm, "n": s.n, "mean": s.mean, "low": float(low), "high": float(high),
                     "method": method})
    return pl.DataFrame(rows)
