"""Variance reduction with pre-period covariates (CUPED / regression adjustment) from sufficient statistics.

With covariates ``x`` (one or several) measured before assignment, the pooled within-arm slope

    theta = (Sxx_arm + Sxx_control)^-1 (Sxy_arm + Sxy_control)      (S = centred sums of products)

is exactly the slope of the OLS regression ``y ~ 1 + treat + x``, and the adjusted difference

    diff = (ybar_arm - ybar_control) - theta' (xbar_arm - xbar_control)

is exactly that regression's ``treat`` coefficient. Because ``x`` is independent of assignment the
adjustment is unbiased for the average effect, and its variance is that of the residual ``y - theta'x``,
smaller by the factor ``1 - R^2``. The standard error is the unequal-variance (Welch-type, normal
quantile) one from the residual variance of each arm; it equals the heteroskedasticity-robust
(HC) standard error of the regression up to terms of order ``1/n`` (theta treated as known), which the
tests bound against statsmodels ``OLS(...).fit(cov_type="HC1")`` on the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from experiments.errors import DataError, ParameterError
from experiments.stats.effects import relative_lift_delta
from experiments.stats.results import Effect
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import ArmStatistics, SampleStats

__all__ = ["CupedParts", "cuped_effect", "cuped_parts", "regression_adjusted_rows"]


class CupedParts:
    """Centred sums of one arm: n, means of y and x, Syy, Sxy (vector) and Sxx (matrix)."""

    __slots__ = ("n", "sxx", "sxy", "syy", "xbar", "ybar")

    def __init__(self, table: ArmStatistics, arm: str, metric: str, covariates: Sequence[str],
                 segment: str | None) -> None:
        y = table.stats(arm, metric, segment)
        n = y.n
        if n < 2:
            raise DataError(f"arm {arm!r} has fewer than two values of {metric!r}")
        xs = [table.stats(arm, c, segment) for c in covariates]
        for c, s in zip(covariates, xs, strict=True):
            if s.n != n:
                raise DataError(
                    f"CUPED needs {metric!r} and covariate {c!r} on the same rows; arm {arm!r} has "
                    f"{n} values of the metric and {s.n} of the covariate (missing values)"
                )
        k = len(covariates)
        self.n = n
        self.ybar = y.mean
        self.xbar = np.array([s.mean for s in xs])
        self.syy = y.sum_squares - n * y.mean**2
        self.sxy = np.array([
            table.cross(arm, metric, c, segment) - n * self.xbar[j] * y.mean
            for j, c in enumerate(covariates)
        ])
        sxx = np.empty((k, k))
        for i, a in enumerate(covariates):
            for j, b in enumerate(covariates):
                if j < i:
                    sxx[i, j] = sxx[j, i]
                    continue
                sxx[i, j] = table.cross(arm, a, b, segment) - n * self.xbar[i] * self.xbar[j]
        self.sxx = sxx

    def residual_variance(self, theta: np.ndarray) -> float:
        """Sample variance (ddof = 1) of ``y - theta'x`` in the arm."""
        ss = self.syy - 2 * theta @ self.sxy + theta @ self.sxx @ theta
        return max(float(ss) / (self.n - 1), 0.0)


def cuped_parts(
    table: ArmStatistics, *, arm: str, metric: str, covariates: Sequence[str], segment: str | None = None
) -> CupedParts:
    """The centred sums of ``metric`` and ``covariates`` in one arm (for custom estimators)."""
    return CupedParts(table, arm, metric, covariates, segment)


def cuped_effect(
    table: ArmStatistics,
    *,
    arm: str,
    control: str,
    metric: str,
    covariates: Sequence[str],
    alpha: float = 0.05,
    segment: str | None = None,
) -> Effect:
    """Regression-adjusted (CUPED, pooled theta) effect of ``arm`` against ``control`` on ``metric``.

    Parameters
    ----------
    table
        Sufficient statistics gathered with the covariates (``gather(..., covariates=...)``).
    arm, control
        Treatment and control labels.
    metric
        Outcome column.
    covariates
        Pre-period columns (not affected by the treatment).
    alpha
        1 - confidence level.
    segment
        Restrict to one segment of a segmented table.

    Returns
    -------
    Effect
        ``method`` is ``"CUPED (pooled theta=...)"``; ``mean_arm``/``mean_control`` are the covariate-
        adjusted means at the pooled covariate mean; ``rel_lift`` is their ratio minus one (delta method).
    """
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    covariates = list(covariates)
    if not covariates:
        raise ParameterError("covariates", covariates, "at least one pre-period covariate column")
    missing = [c for c in covariates if c not in table.covariates]
    if missing:
        raise DataError(f"covariates {missing} were not gathered; pass them to gather(covariates=...)")
    t = CupedParts(table, arm, metric, covariates, segment)
    c = CupedParts(table, control, metric, covariates, segment)
    sxx = t.sxx + c.sxx
    try:
        theta = np.linalg.solve(sxx, t.sxy + c.sxy)
    except np.linalg.LinAlgError:
        raise DataError(f"covariates {covariates} are collinear or constant within arms") from None
    diff = (t.ybar - c.ybar) - float(theta @ (t.xbar - c.xbar))
    vt, vc = t.residual_variance(theta), c.residual_variance(theta)
    se = math.sqrt(vt / t.n + vc / c.n)
    xpool = (t.n * t.xbar + c.n * c.xbar) / (t.n + c.n)
    mt = t.ybar - float(theta @ (t.xbar - xpool))
    mc = c.ybar - float(theta @ (c.xbar - xpool))
    z = float(ndtri(1 - alpha / 2))
    if se > 0:
        stat = diff / se
        pval = float(2 * ndtr(-abs(stat)))
    else:
        stat, pval = float("nan"), float("nan")
    rel, rlow, rhigh = relative_lift_delta(
        SampleStats.from_moments(t.n, mt, vt), SampleStats.from_moments(c.n, mc, vc), alpha
    )
    label = ", ".join(f"{name}={th:.4g}" for name, th in zip(covariates, theta, strict=True))
    return Effect(
        metric=metric, arm=arm, control=control, n_arm=t.n, n_control=c.n, mean_arm=mt, mean_control=mc,
        estimate=diff, se=se, ci_low=diff - z * se, ci_high=diff + z * se, statistic=stat, p_value=pval,
        rel_lift=rel, rel_ci_low=rlow, rel_ci_high=rhigh, method=f"CUPED (pooled theta: {label})",
        alpha=float(alpha), segment=segment,
    )


def regression_adjusted_rows(
    y: np.ndarray, treat: np.ndarray, x: np.ndarray, *, cov_type: str = "HC1", interacted: bool = False
) -> dict[str, Any]:
    """Row-level reference: OLS ``y ~ 1 + treat + x`` (or Lin's interacted form) with robust errors.

    ``interacted=True`` fits Lin (2013): ``y ~ 1 + treat + xc + treat * xc`` with ``xc`` centred at its
    overall mean. Returns ``{"diff", "se", "p_value", "ci_low", "ci_high"}`` of the ``treat`` coefficient
    (statsmodels, normal reference distribution as statsmodels uses for robust covariances).
    """
    # statsmodels (with pandas) costs about a second at import; only this row-level reference uses it
    import statsmodels.api as sm

    x = np.asarray(x, dtype=float)
    x = x.reshape(len(x), -1)
    t = np.asarray(treat, dtype=float).reshape(-1, 1)
    if interacted:
        xc = x - x.mean(axis=0)
        design = np.hstack([np.ones_like(t), t, xc, t * xc])
    else:
        design = np.hstack([np.ones_like(t), t, x])
    fit = sm.OLS(np.asarray(y, dtype=float), design).fit(cov_type=cov_type)
    low, high = fit.conf_int()[1]
    return {
        "diff": float(fit.params[1]), "se": float(fit.bse[1]), "p_value": float(fit.pvalues[1]),
        "ci_low": float(low), "ci_high": float(high),
    }
