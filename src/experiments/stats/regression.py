"""Regression adjustment on several covariates: Lin (2013)'s interacted OLS from per-arm sums.

For a treatment arm ``t`` against the control ``c``, Lin's estimator is the ``treat`` coefficient of the
OLS regression, on the rows of the two arms,

    y ~ 1 + treat + xc + treat * xc          (xc = covariates centred at their mean over both arms)

Its design spans the same space as ``[1 - treat, treat, (1 - treat) xc, treat xc]``, so the fit is one
regression per arm, ``y = a_g + b_g' (x - xbar) + e`` in arm ``g``, and the ``treat`` coefficient is
``a_t - a_c``, the difference of the two arms' predictions at the pooled covariate mean ``xbar``:

    a_g = ybar_g + b_g' (xbar - xbar_g),     b_g = Sxx_g^-1 Sxy_g     (S: sums centred in the arm).

The sandwich (heteroskedasticity-robust) covariance is block-diagonal by arm, so
``var(a_t - a_c) = var(a_t) + var(a_c)``. In arm ``g``, ``a_g = sum_i w_i y_i`` with weights
``w_i = 1/n_g + delta_g' Sxx_g^-1 d_i`` (``d_i = x_i - xbar_g``, ``delta_g = xbar - xbar_g``), and HC0 is

    var0(a_g) = sum_i w_i^2 e_i^2
              = sum e^2 / n_g^2 + (2 / n_g) a' sum(e^2 d) + a' sum(e^2 d d') a,    a = Sxx_g^-1 delta_g.

The first term alone is the per-arm residual variance over ``n_g`` (what CUPED uses); the other two are
not zero, since ``xbar_g`` differs from ``xbar`` by chance, and need the sums of ``e^2 d`` and
``e^2 d d'``: third and fourth moments of ``(y, x)`` with ``y`` at most squared. They are gathered in
the same one pass (:func:`lin_products`). statsmodels' HC1 multiplies HC0 by ``N / (N - 2 (k + 1))``
(``N = n_t + n_c``, ``k`` covariates); that is the standard error given here, equal to
``OLS(...).fit(cov_type="HC1")`` on the rows up to rounding (the tests hold it to 1e-9 relative). HC2,
which Lin (2013) prefers in small samples, weights each squared residual by ``1 / (1 - h_ii)``, which no
finite set of sums determines: it would take a second pass. HC1 and HC2 differ by terms of order
``k / n_g``, a few parts per million at the sizes of marketing experiments.

The raw moments lose precision when a covariate's mean is many standard deviations from zero (fourth
powers cancel): centre or rescale such a column (e.g. a year, a customer number) before the analysis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np

from experiments.errors import DataError, ParameterError
from experiments.stats.effects import relative_lift_delta
from experiments.stats.results import Effect
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import ArmStatistics, SampleStats

__all__ = ["LIN_METHOD", "LinFit", "lin_effect", "lin_fit", "lin_moments", "lin_products", "raw_moments"]

#: ``Effect.method`` of Lin-adjusted effects.
LIN_METHOD = "Lin (2013) interacted OLS, HC1"


def lin_products(metrics: Sequence[str], covariates: Sequence[str]) -> list[tuple[str, ...]]:
    """The products of three and four columns :func:`lin_effect` needs beyond the usual sums.

    Every product of degree 3 or 4 of ``metric`` and the covariates in which the metric appears at
    most twice (``y^2 x``, ``y x x``, ``x x x``, ``y^2 x x``, ``y x x x``, ``x x x x``); the products
    of covariates alone are shared by all metrics.
    """
    out: dict[tuple[str, ...], None] = {}
    for degree in (3, 4):
        for combo in combinations_with_replacement(list(covariates), degree):
            out[combo] = None
        for m in metrics:
            for ys in (1, 2):
                for combo in combinations_with_replacement(list(covariates), degree - ys):
                    out[(m,) * ys + combo] = None
    return list(out)


def lin_moments(table: ArmStatistics, arm: str, metric: str, covariates: Sequence[str],
                segment: str | None = None) -> np.ndarray:
    """Raw moments ``sum(w_p w_q w_r w_s)`` of ``w = (1, y, x_1, ..., x_k)`` in one arm, as a
    ``(k + 2)^4`` array; entries with ``y`` three or four times (never used) are 0."""
    cols = [metric, *covariates]
    y = table.stats(arm, metric, segment)
    if y.n < 2:
        raise DataError(f"arm {arm!r} has fewer than two values of {metric!r}")
    for c in covariates:
        n = table.stats(arm, c, segment).n
        if n != y.n:
            raise DataError(
                f"regression adjustment needs {metric!r} and covariate {c!r} on the same rows; arm {arm!r} "
                f"has {y.n} values of the metric and {n} of the covariate (missing values)"
            )
    size = len(cols) + 1
    r = np.zeros((size,) * 4)
    keys = sorted({tuple(sorted(i for i in index if i)) for index in np.ndindex(*r.shape)} - {()})
    keys = [k for k in keys if k.count(1) <= 2]
    values = table.products(arm, [[cols[i - 1] for i in k] for k in keys], segment)
    sums = dict(zip(keys, values, strict=True))
    sums[()] = float(y.n)
    for index in np.ndindex(*r.shape):
        key = tuple(sorted(i for i in index if i))
        if key.count(1) <= 2:
            r[index] = sums[key]
    if not np.all(np.isfinite(r)):
        raise DataError(f"the third and fourth powers of {metric!r} and covariates {list(covariates)} "
                        f"overflow in arm {arm!r}; rescale the columns")
    return r


def raw_moments(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Raw moments ``sum(w_p w_q w_r w_s)`` of ``w = (1, y, x)`` over rows: the array
    :func:`lin_moments` reads from gathered sums, computed here from the rows (``x``: ``(n, k)``)."""
    w = np.column_stack([np.ones(len(y)), np.asarray(y, dtype=float), np.asarray(x, dtype=float)])
    return np.einsum("ip,iq,ir,is->pqrs", w, w, w, w, optimize=True)


class _Arm:
    """One arm's regression from its raw moments, and its HC0 variance at a centring point."""

    def __init__(self, r: np.ndarray) -> None:
        self.r = r
        self.n = float(r[0, 0, 0, 0])
        self.mean = r[0, 0, 0, 1:] / self.n  # (y, x_1, ..., x_k)
        size = r.shape[0]
        self.a = np.hstack([-self.mean[:, None], np.eye(size - 1)])  # centred (y, x) = a @ w
        c2 = self.a @ r[0, 0] @ self.a.T
        self.sxx, sxy = c2[1:, 1:], c2[1:, 0]
        try:
            self.beta = np.linalg.solve(self.sxx, sxy)
        except np.linalg.LinAlgError:
            raise DataError("covariates are collinear or constant within an arm") from None
        if not np.all(np.isfinite(self.beta)):
            raise DataError("covariates are collinear or constant within an arm")
        self.gamma = self.a.T @ np.concatenate([[1.0], -self.beta])  # residual e = gamma' w

    def predict(self, xbar: np.ndarray) -> float:
        return float(self.mean[0] + self.beta @ (xbar - self.mean[1:]))

    def hc0(self, xbar: np.ndarray) -> float:
        g, d = self.gamma, self.a[1:]
        e2 = float(g @ self.r[0, 0] @ g)
        e2d = np.einsum("p,q,jr,pqr->j", g, g, d, self.r[0], optimize=True)
        e2dd = np.einsum("p,q,jr,ls,pqrs->jl", g, g, d, d, self.r, optimize=True)
        a = np.linalg.solve(self.sxx, xbar - self.mean[1:])
        return max(e2 / self.n**2 + 2 / self.n * float(a @ e2d) + float(a @ e2dd @ a), 0.0)


@dataclass(frozen=True)
class LinFit:
    """Lin's estimate from two arms' raw moments: the ``treat`` coefficient, its HC1 standard error,
    the two arms' adjusted means (at the pooled covariate mean) and their HC1 variances."""

    estimate: float
    se: float
    mean_arm: float
    mean_control: float
    var_arm: float
    var_control: float
    n_arm: int
    n_control: int


def lin_fit(arm: np.ndarray, control: np.ndarray) -> LinFit:
    """Lin (2013)'s interacted OLS of one arm against the control from their raw moments.

    Parameters
    ----------
    arm, control
        ``(k + 2)^4`` arrays of raw moments of ``(1, y, x_1, ..., x_k)`` (:func:`lin_moments` from
        gathered sums, or :func:`raw_moments` from rows).

    Returns
    -------
    LinFit
        Equal to statsmodels ``OLS(y, [1, t, xc, t * xc]).fit(cov_type="HC1")``'s ``t`` coefficient and
        standard error within 1e-9 relative on the tests' data.
    """
    t, c = _Arm(arm), _Arm(control)
    total = t.n + c.n
    xbar = (t.n * t.mean[1:] + c.n * c.mean[1:]) / total
    k = len(xbar)
    if total <= 2 * (k + 1):
        raise DataError(f"{int(total)} rows cannot fit a regression on {k} covariates in each of two arms")
    scale = total / (total - 2 * (k + 1))  # HC1
    vt, vc = scale * t.hc0(xbar), scale * c.hc0(xbar)
    mt, mc = t.predict(xbar), c.predict(xbar)
    return LinFit(estimate=mt - mc, se=math.sqrt(vt + vc), mean_arm=mt, mean_control=mc, var_arm=vt,
                  var_control=vc, n_arm=int(t.n), n_control=int(c.n))


def lin_effect(
    table: ArmStatistics,
    *,
    arm: str,
    control: str,
    metric: str,
    covariates: Sequence[str],
    alpha: float = 0.05,
    segment: str | None = None,
) -> Effect:
    """Lin (2013)-adjusted effect of ``arm`` against ``control`` on ``metric``, with HC1 errors.

    Parameters
    ----------
    table
        Statistics gathered with the covariates and ``products=lin_products([metric], covariates)``.
    arm, control, metric
        Treatment and control labels; outcome column.
    covariates
        Pre-period columns (one or more).
    alpha
        1 - confidence level (normal quantiles, as statsmodels uses with robust covariances).
    segment
        Restrict to one segment of a segmented table (the regression on that segment's rows).

    Returns
    -------
    Effect
        ``mean_arm``/``mean_control`` are the arms' predictions at the pooled covariate mean;
        ``rel_lift`` is their ratio minus one (delta method on the log ratio).
    """
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    covariates = list(covariates)
    if not covariates:
        raise ParameterError("covariates", covariates, "at least one pre-period covariate column")
    missing = [c for c in covariates if c not in table.covariates]
    if missing:
        raise DataError(f"covariates {missing} were not gathered; pass them to gather(covariates=...)")
    try:
        fit = lin_fit(lin_moments(table, arm, metric, covariates, segment),
                      lin_moments(table, control, metric, covariates, segment))
    except DataError as exc:
        raise DataError(f"{metric!r}, {arm!r} against {control!r}: {exc}") from None
    z = float(ndtri(1 - alpha / 2))
    diff, se = fit.estimate, fit.se
    if se > 0:
        stat = diff / se
        pval = float(2 * ndtr(-abs(stat)))
    else:
        stat, pval = float("nan"), float("nan")
    rel, rlow, rhigh = relative_lift_delta(
        SampleStats.from_moments(fit.n_arm, fit.mean_arm, fit.var_arm * fit.n_arm),
        SampleStats.from_moments(fit.n_control, fit.mean_control, fit.var_control * fit.n_control), alpha,
    )
    return Effect(
        metric=metric, arm=arm, control=control, n_arm=fit.n_arm, n_control=fit.n_control,
        mean_arm=fit.mean_arm, mean_control=fit.mean_control, estimate=diff, se=se, ci_low=diff - z * se,
        ci_high=diff + z * se, statistic=stat, p_value=pval, rel_lift=rel, rel_ci_low=rlow,
        rel_ci_high=rhigh, method=f"{LIN_METHOD} ({', '.join(covariates)})", alpha=float(alpha),
        segment=segment,
    )
