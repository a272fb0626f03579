"""Per-arm rates and means with intervals, for tables and charts."""

from __future__ import annotations

import math

import polars as pl
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from experiments.stats.sufficient import ArmStatistics

__all__ = ["arm_means"]


def arm_means(
    table: ArmStatistics,
    metric: str,
    *,
    binary: bool,
    alpha: float = 0.05,
    segment: str | None = None,
) -> pl.DataFrame:
    """Mean of ``metric`` in each arm with a ``1 - alpha`` interval.

    Binary metrics get the Wilson score interval (statsmodels ``proportion_confint``), continuous
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
            low, high = proportion_confint(round(s.sum), s.n, alpha=alpha, method="wilson")
            method = "Wilson"
        else:
            half = float(sps.t.ppf(1 - alpha / 2, s.n - 1)) * math.sqrt(s.variance / s.n) if s.n > 1 else 0.0
            low, high, method = s.mean - half, s.mean + half, "t"
        rows.append({"arm": arm, "n": s.n, "mean": s.mean, "low": float(low), "high": float(high),
                     "method": method})
    return pl.DataFrame(rows)
