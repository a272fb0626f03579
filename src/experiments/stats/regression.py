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
not zero, since ``xbar_g`` differs from ``xbar`` by chance, and need the sums of ``e^2``, ``e^2 d`` and
``e^2 d d'`` per arm. They come either from third and fourth moments of ``(y, x)`` (``y`` at most
squared) gathered in the one pass (:func:`lin_products`, :func:`lin_moments`), or from a second pass
over the rows once each arm's means and slopes are known from the second-order sums
(:func:`lin_residual_sums`): ``1 + k + k (k + 1) / 2`` sums per metric instead of ``O(k^4)``, of
centred values, so nothing cancels; ``experiments analyze`` takes the second pass (on 10 M rows with
three covariates and two metrics, about 2.5 times faster than the moments in the one pass, for more
memory: see benchmarks/bench_analyze_covariates.py). The two agree to rounding.

statsmodels' HC1 multiplies HC0 by ``N / (N - 2 (k + 1))`` (``N = n_t + n_c``, ``k`` covariates); that
is the standard error given here, equal to ``OLS(...).fit(cov_type="HC1")`` on the rows up to rounding
(the tests hold it to 1e-9 relative). HC2, which Lin (2013) prefers in small samples, weights each
squared residual by ``1 / (1 - h_ii)``, which no finite set of sums determines: the second pass could
weigh it in per row (not done). HC1 and HC2 differ by terms of order ``k / n_g``, a few parts per
million at the sizes of marketing experiments.

The raw fourth moments lose precision when a covariate's mean is many standard deviations from zero
(fourth powers cancel): centre or rescale such a column (e.g. a year, a customer number) before the
analysis, or use the second pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations_with_replacement

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.exact_sums import group_sums
from experiments.stats.effects import relative_lift_delta
from experiments.stats.results import Effect
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import ArmStatistics, SampleStats

__all__ = ["LIN_METHOD", "LinFit", "ResidualSums", "lin_effect", "lin_fit", "lin_moments", "lin_products",
           "lin_residual_sums", "raw_moments", "second_moments"]

_Meat = tuple[float, np.ndarray, np.ndarray]  # sum e^2, sum e^2 d, sum e^2 d d' of one arm

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


def _check_counts(table: ArmStatistics, arm: str, metric: str, covariates: Sequence[str],
                  segment: str | None) -> SampleStats:
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
    return y


def second_moments(table: ArmStatistics, arm: str, metric: str, covariates: Sequence[str],
                   segment: str | None = None) -> np.ndarray:
    """Raw moments ``sum(w_p w_q)`` of ``w = (1, y, x_1, ..., x_k)`` in one arm, a ``(k + 2)^2``
    array read from the usual sums, sums of squares and cross-products (no products needed)."""
    cols = [metric, *covariates]
    y = _check_counts(table, arm, metric, covariates, segment)
    size = len(cols) + 1
    keys = [(i, j) for i in range(size) for j in range(i, size) if (i, j) != (0, 0)]
    values = table.products(arm, [[cols[k - 1] for k in key if k] for key in keys], segment)
    r = np.zeros((size, size))
    r[0, 0] = float(y.n)
    for (i, j), v in zip(keys, values, strict=True):
        r[i, j] = r[j, i] = v
    if not np.all(np.isfinite(r)):
        raise DataError(f"the squares of {metric!r} and covariates {list(covariates)} overflow in arm "
                        f"{arm!r}; rescale the columns")
    return r


def lin_moments(table: ArmStatistics, arm: str, metric: str, covariates: Sequence[str],
                segment: str | None = None) -> np.ndarray:
    """Raw moments ``sum(w_p w_q w_r w_s)`` of ``w = (1, y, x_1, ..., x_k)`` in one arm, as a
    ``(k + 2)^4`` array; entries with ``y`` three or four times (never used) are 0."""
    cols = [metric, *covariates]
    y = _check_counts(table, arm, metric, covariates, segment)
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
    """One arm's regression from its raw moments, and its HC0 variance at a centring point.

    ``r``: the ``(k + 2)^4`` raw moments (:func:`lin_moments`), or only the ``(k + 2)^2`` second
    moments with ``meat`` = ``(sum e^2, sum e^2 d, sum e^2 d d')`` gathered in a second pass
    (:func:`lin_residual_sums`).
    """

    def __init__(self, r: np.ndarray, meat: _Meat | None = None) -> None:
        self.r = r
        r2 = r if r.ndim == 2 else r[0, 0]
        self.meat = meat
        self.n = float(r2[0, 0])
        self.mean = r2[0, 1:] / self.n  # (y, x_1, ..., x_k)
        size = r2.shape[0]
        self.a = np.hstack([-self.mean[:, None], np.eye(size - 1)])  # centred (y, x) = a @ w
        c2 = self.a @ r2 @ self.a.T
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
        if self.meat is not None:
            e2, e2d, e2dd = self.meat
        else:
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


def lin_fit(arm: np.ndarray, control: np.ndarray, *,
            meat: tuple[_Meat, _Meat] | None = None) -> LinFit:
    """Lin (2013)'s interacted OLS of one arm against the control from their raw moments.

    Parameters
    ----------
    arm, control
        ``(k + 2)^4`` arrays of raw moments of ``(1, y, x_1, ..., x_k)`` (:func:`lin_moments` from
        gathered sums, or :func:`raw_moments` from rows); or, with ``meat``, their ``(k + 2)^2``
        second moments (:func:`second_moments`).
    meat
        The arm's and the control's residual sums ``(sum e^2, sum e^2 d, sum e^2 d d')``
        (:meth:`ResidualSums.meat`), in place of the third and fourth moments.

    Returns
    -------
    LinFit
        Equal to statsmodels ``OLS(y, [1, t, xc, t * xc]).fit(cov_type="HC1")``'s ``t`` coefficient and
        standard error within 1e-9 relative on the tests' data.
    """
    t, c = (_Arm(arm), _Arm(control)) if meat is None else (_Arm(arm, meat[0]), _Arm(control, meat[1]))
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


@dataclass(frozen=True)
class ResidualSums:
    """Each arm's sums of its OLS residuals' squares, gathered in a second pass (:func:`lin_residual_sums`).

    ``sums[(arm, metric)]`` is ``(sum e^2, sum e^2 d, sum e^2 d d')`` over the arm's rows, with
    ``e = y - ybar_g - b_g' d`` the residual of the arm's regression and ``d = x - xbar_g`` the
    covariates centred at the arm's mean: the HC0 meat of the arm, whatever arm it is compared with.
    """

    covariates: tuple[str, ...]
    sums: Mapping[tuple[str, str], _Meat]
    #: why an arm's regression of a metric could not be fitted (the :class:`DataError` message)
    errors: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def meat(self, arm: str, metric: str) -> _Meat:
        """``(sum e^2, sum e^2 d, sum e^2 d d')`` of ``metric`` in ``arm``; a :class:`DataError` (why)
        when that regression could not be fitted."""
        if (arm, metric) in self.sums:
            return self.sums[(arm, metric)]
        raise DataError(self.errors.get((arm, metric), f"no residual sums of {metric!r} in arm {arm!r}"))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the covariates, each arm's and metric's sums, and the reasons of those left out."""
        return {
            "covariates": list(self.covariates),
            "sums": [{"arm": a, "metric": m, "e2": e2, "e2d": e2d.tolist(), "e2dd": e2dd.tolist()}
                     for (a, m), (e2, e2d, e2dd) in self.sums.items()],
            "errors": [{"arm": a, "metric": m, "error": why} for (a, m), why in self.errors.items()],
        }


def lin_residual_sums(
    data: pl.DataFrame | pl.LazyFrame,
    table: ArmStatistics,
    *,
    arm: str,
    metrics: Sequence[str],
    covariates: Sequence[str],
    values: Mapping[str, pl.Expr] | None = None,
) -> ResidualSums:
    """Second pass over the rows for :func:`lin_effect`: each arm's HC0 meat from its residuals.

    The first pass (``table``, the usual sums and cross-products) gives each arm's means and OLS
    slopes; this pass sums ``e^2``, ``e^2 d_j`` and ``e^2 d_j d_l`` per arm (``1 + k + k (k + 1) / 2``
    exact sums per metric, against the ``O(k^4)`` third and fourth moments of :func:`lin_products`,
    and centred, so nothing cancels). Arms whose regression cannot be fitted are left out (and
    :func:`lin_effect` says why).

    Parameters
    ----------
    data
        The rows ``table`` was gathered from.
    table
        Statistics of ``metrics`` and ``covariates`` gathered from ``data`` by ``arm`` (segments summed).
    arm
        Arm column of ``data`` (its values are matched to ``table``'s labels as text).
    metrics, covariates
        Outcome and covariate columns.
    values
        Numeric values of a column (as in :func:`experiments.stats.sufficient.gather_exprs`).
    """
    values = values or {}
    covariates = list(covariates)
    k = len(covariates)

    def value(c: str) -> pl.Expr:
        return values[c] if c in values else pl.col(c).cast(pl.Float64)

    arms = table.arms
    coef: dict[str, list[float]] = {}  # per arm: x means, then per metric: y mean and slopes
    fitted: dict[str, list[str]] = {m: [] for m in metrics}
    errors: dict[tuple[str, str], str] = {}
    for a in arms:
        xs = [table.stats(a, c) for c in covariates]
        row = [x.sum / x.n if x.n else math.nan for x in xs]
        for m in metrics:
            try:
                fit = _Arm(second_moments(table, a, m, covariates))
            except DataError as exc:
                errors[(a, m)] = str(exc)
                row += [math.nan] * (k + 1)
                continue
            fitted[m].append(a)
            row += [float(fit.mean[0]), *map(float, fit.beta)]
        coef[a] = row
    if not any(fitted.values()):
        return ResidualSums(tuple(covariates), {}, errors)
    key = "\x00lin arm"
    index = pl.col(arm).cast(pl.String).replace_strict(arms, list(range(len(arms))), default=None,
                                                      return_dtype=pl.UInt32)

    def per_arm(i: int) -> pl.Expr:  # the arm's coefficient i on each row
        out = pl.lit(coef[arms[-1]][i], pl.Float64)
        for j in range(len(arms) - 1):
            out = pl.when(pl.col(key) == j).then(pl.lit(coef[arms[j]][i], pl.Float64)).otherwise(out)
        return out

    lf = data.lazy().with_columns(index.alias(key)).filter(pl.col(key).is_not_null())
    d = {c: f"\x00lin d{j}" for j, c in enumerate(covariates)}
    lf = lf.with_columns((value(c) - per_arm(j)).alias(d[c]) for j, c in enumerate(covariates))
    e2 = {m: f"\x00lin e2 {i}" for i, m in enumerate(metrics)}
    res = []
    for i, m in enumerate(metrics):
        at = k + i * (k + 1)
        e = value(m) - per_arm(at)
        for j, c in enumerate(covariates):
            e = e - per_arm(at + 1 + j) * pl.col(d[c])
        res.append((e * e).alias(e2[m]))
    lf = lf.with_columns(res)
    sums: dict[str, pl.Expr] = {}
    for m in metrics:
        sums[e2[m]] = pl.col(e2[m])
        for j, c in enumerate(covariates):
            sums[f"{e2[m]} {j}"] = pl.col(e2[m]) * pl.col(d[c])
            for ll in range(j, k):
                sums[f"{e2[m]} {j} {ll}"] = pl.col(e2[m]) * pl.col(d[c]) * pl.col(d[covariates[ll]])
    # each product once per row, then its exact sum (three aggregations read the column)
    groups = group_sums(lf.with_columns(**sums), [key], {name: pl.col(name) for name in sums})
    out: dict[tuple[str, str], _Meat] = {}
    for r in groups.iter_rows(named=True):
        a = arms[r[key]]
        for m in metrics:
            if a not in fitted[m]:
                continue
            e2d = np.array([r[f"{e2[m]} {j}"] for j in range(k)])
            e2dd = np.zeros((k, k))
            for j in range(k):
                for ll in range(j, k):
                    e2dd[j, ll] = e2dd[ll, j] = r[f"{e2[m]} {j} {ll}"]
            out[(a, m)] = (float(r[e2[m]]), e2d, e2dd)
    return ResidualSums(tuple(covariates), out, errors)


def lin_effect(
    table: ArmStatistics,
    *,
    arm: str,
    control: str,
    metric: str,
    covariates: Sequence[str],
    alpha: float = 0.05,
    segment: str | None = None,
    residuals: ResidualSums | None = None,
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
    residuals
        The arms' residual sums from a second pass (:func:`lin_residual_sums`, not with ``segment``):
        then ``table`` needs only the usual second-order sums, no products.

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
    if residuals is not None and (segment is not None or residuals.covariates != tuple(covariates)):
        raise ParameterError("residuals", residuals.covariates,
                             f"residual sums of the whole table on covariates {covariates}")
    try:
        if residuals is None:
            fit = lin_fit(lin_moments(table, arm, metric, covariates, segment),
                          lin_moments(table, control, metric, covariates, segment))
        else:
            fit = lin_fit(second_moments(table, arm, metric, covariates),
                          second_moments(table, control, metric, covariates),
                          meat=(residuals.meat(arm, metric), residuals.meat(control, metric)))
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
