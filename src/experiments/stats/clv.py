"""Buy-till-you-die models of customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma.

Each model is fitted by maximum likelihood (L-BFGS-B on log-parameters) from the per-customer summary
``frequency`` (repeat purchases in the calibration period), ``recency`` (time of the last repeat
purchase since the first) and ``T`` (time from the first purchase to the calibration end). Customers
with identical ``(frequency, recency, T)`` are collapsed into weighted rows first, so the cost of a fit
grows with the number of distinct summaries, not of customers.

References
----------
Fader, Hardie & Lee (2005), "Counting your customers the easy way", *Marketing Science* 24(2):
the BG/NBD model; on CDNOW (2,357 customers, weeks 1-39) r = 0.243, alpha = 4.414, a = 0.793,
b = 2.426, log-likelihood -9582.4 (reproduced to 1e-3 by ``tests/test_clv.py``).
Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": on the 946 CDNOW repeat buyers
p = 6.25, q = 3.74, gamma = 15.44.
Schmittlein, Morrison & Colombo (1987); Fader, Hardie & Lee (2005b), "A note on implementing the
Pareto/NBD model in MATLAB": the Pareto/NBD likelihood used here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy import optimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from experiments.errors import DataError, FitError

__all__ = [
    "BGNBDFit",
    "GammaGammaFit",
    "GroupCLV",
    "ParetoNBDFit",
    "bgnbd_log_likelihood",
    "clv",
    "clv_by_group",
    "clv_histogram",
    "collapse_summary",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_pareto_nbd",
    "gamma_gamma_log_likelihood",
    "holdout_by_frequency",
    "pareto_nbd_log_likelihood",
]


# --------------------------------------------------------------------------------------------- input
def _as_arrays(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    t = np.asarray(T, dtype=float)
    if not (x.shape == tx.shape == t.shape) or x.ndim != 1:
        raise DataError("frequency, recency and T must be 1-d arrays of the same length")
    if x.size == 0:
        raise DataError("no customers to fit")
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(t).all()):
        raise DataError("frequency, recency and T must be finite numbers")
    if (x < 0).any() or (np.floor(x) != x).any():
        raise DataError("frequency must hold whole numbers >= 0")
    if (tx < 0).any() or (tx > t + 1e-9).any():
        raise DataError("recency must lie in [0, T]")
    if (t < 0).any():
        raise DataError("T must be >= 0 for every customer (first purchase on or before calibration end)")
    return x, tx, t


def collapse_summary(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(frequency, recency, T)`` rows and how many customers share each."""
    x, tx, t = _as_arrays(frequency, recency, T)
    order = np.lexsort((t, tx, x))
    x, tx, t = x[order], tx[order], t[order]
    new = np.ones(x.size, dtype=bool)
    new[1:] = (np.diff(x) != 0) | (np.diff(tx) != 0) | (np.diff(t) != 0)
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, x.size)).astype(float)
    return x[starts], tx[starts], t[starts], counts


def _minimise(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray] | float],
    start: np.ndarray,
    *,
    jac: bool,
    model: str,
) -> tuple[np.ndarray, float, int]:
    bounds = [(-12.0, 12.0)] * len(start)
    res = optimize.minimize(
        fun,
        start,
        jac=jac,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-7},
    )
    at_bound = np.any(np.abs(np.abs(res.x) - 12.0) < 1e-6)
    if not res.success or not np.all(np.isfinite(res.x)) or at_bound:
        why = "a parameter ran off to its bound" if at_bound else str(res.message)
        raise FitError(f"{model} fit did not converge ({why}); no estimates reported")
    value = res.fun if np.isscalar(res.fun) else float(res.fun)
    return np.exp(res.x), -float(value), int(res.nit)


# -------------------------------------------------------------------------------------------- BG/NBD
def _bgnbd_terms(r, alpha, a, b, x, tx, t):
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + t)
    pos = x > 0
    a4 = np.where(
        pos,
        np.log(a) - np.log(np.where(pos, b + x - 1, 1.0)) - (r + x) * np.log(alpha + tx),
        -np.inf,
    )
    return a1, a2, a3, a4, pos


def bgnbd_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at ``params = (r, alpha, a, b)`` (FHL 2005, eq. 6)."""
    r, alpha, a, b = params
    x, tx, t = _as_arrays(frequency, recency, T)
    a1, a2, a3, a4, _ = _bgnbd_terms(r, alpha, a, b, x, tx, t)
    return a1 + a2 + np.logaddexp(a3, a4)


def _bgnbd_objective(theta, x, tx, t, w, total, ux=None, uinv=None, uw=None):
    """Mean negative log-likelihood and its gradient in log-parameters.

    Terms that depend on the frequency only (gamma and beta functions) are evaluated once per distinct
    frequency ``ux`` (weights ``uw``), the rest per customer; ``uinv`` maps customers to ``ux``.
    """
    r, alpha, a, b = np.exp(theta)
    if ux is None:
        ux, uinv = np.unique(x, return_inverse=True)
        uw = np.bincount(uinv, weights=w)
    # frequency-only parts
    f1 = gammaln(r + ux) - gammaln(r) + betaln(a, b + ux) - betaln(a, b)
    g_r = digamma(r + ux) - digamma(r)
    dab, dabx = digamma(a + b), digamma(a + b + ux)
    g_a = dab - dabx
    g_b = dab + digamma(b + ux) - digamma(b) - dabx
    upos = ux > 0
    c4 = np.where(upos, np.log(a) - np.log(np.where(upos, b + ux - 1, 1.0)), -np.inf)
    inv_b = np.where(upos, 1.0 / np.where(upos, b + ux - 1, 1.0), 0.0)
    # per-customer parts
    rx = r + x
    la_t = np.log(alpha + t)
    la_tx = np.log(alpha + tx)
    a3 = -rx * la_t
    a4 = c4[uinv] - rx * la_tx
    ll = np.logaddexp(a3, a4)
    w4 = expit(a4 - a3)  # 0 where frequency is 0 (a4 = -inf)
    w3 = 1.0 - w4
    ww4 = w * w4
    total_ll = uw @ f1 + w.sum() * r * np.log(alpha) + w @ ll
    d_r = uw @ g_r + w.sum() * np.log(alpha) - w @ (w3 * la_t) - ww4 @ la_tx
    d_alpha = w.sum() * r / alpha - w @ (w3 * rx / (alpha + t)) - ww4 @ (rx / (alpha + tx))
    s4 = np.bincount(uinv, weights=ww4, minlength=ux.size)
    d_a = uw @ g_a + s4.sum() / a
    d_b = uw @ g_b - s4 @ inv_b
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -total_ll / total, -grad / total


@dataclass(frozen=True)
class BGNBDFit:
    """A fitted BG/NBD model: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    n_repeat_customers: int
    iterations: int
    method: str = "BG/NBD maximum likelihood (L-BFGS-B)"

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in ``(0, t]``."""
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params
        hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still a customer at T | frequency, recency, T)."""
        x, tx, t = _as_arrays(frequency, recency, T)
        r, alpha, a, b = self.params
        pos = x > 0
        log_ratio = (
            np.log(a)
            - np.log(np.where(pos, b + x - 1, 1.0))
            + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        )
        return np.where(pos, expit(-log_ratio), 1.0)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | frequency, recency, T]: expected purchases in ``(T, T + t]`` (FHL 2005, eq. 10)."""
        x, tx, big_t = _as_arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params
        z = t / (alpha + big_t + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
        return first * self.probability_alive(x, tx, big_t)

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame({"parameter": ["r", "alpha", "a", "b"], "estimate": list(self.params)})

    def summary(self) -> str:
        return (
            f"BG/NBD on {self.n_customers:,} customers ({self.n_repeat_customers:,} repeat): "
            f"r={self.r:.4g}, alpha={self.alpha:.4g}, a={self.a:.4g}, b={self.b:.4g}, "
            f"log-likelihood {self.log_likelihood:.2f}"
        )


def fit_bgnbd(frequency, recency, T, *, start: tuple[float, float, float, float] | None = None) -> BGNBDFit:
    """Fit the BG/NBD model by maximum likelihood with analytic gradients.

    Raises
    ------
    FitError
        When the optimiser does not converge or a parameter runs to the edge of its range.
    """
    xs, txs, ts, w = collapse_summary(frequency, recency, T)
    total = w.sum()
    if start is None:
        mean_rate = max(float(w @ xs / (w @ ts)), 1e-6)
        start = (1.0, 1.0 / mean_rate, 1.0, 1.0)
    theta0 = np.log(np.asarray(start, dtype=float))
    ux, uinv = np.unique(xs, return_inverse=True)
    uw = np.bincount(uinv, weights=w)
    with np.errstate(all="ignore"):
        est, ll, nit = _minimise(
            lambda th: _bgnbd_objective(th, xs, txs, ts, w, total, ux, uinv, uw),
            theta0,
            jac=True,
            model="BG/NBD",
        )
    return BGNBDFit(
        r=float(est[0]),
        alpha=float(est[1]),
        a=float(est[2]),
        b=float(est[3]),
        log_likelihood=ll * total,
        n_customers=int(total),
        n_repeat_customers=int(w[xs > 0].sum()),
        iterations=nit,
    )


# ----------------------------------------------------------------------------------------- Pareto/NBD
def pareto_nbd_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood at ``params = (r, alpha, s, beta)``."""
    r, alpha, s, beta = params
    x, tx, t = _as_arrays(frequency, recency, T)
    return _pareto_ll(r, alpha, s, beta, x, tx, t)


def _log_a0(r, alpha, s, beta, x, tx, t):
    """log of A0 in Fader, Hardie & Lee's Pareto/NBD note (both branches of alpha vs beta)."""
    rsx = r + s + x
    if alpha >= beta:
        big, other_b = alpha, s + 1
    else:
        big, other_b = beta, r + x
    diff = abs(alpha - beta)
    h1 = hyp2f1(rsx, other_b, rsx + 1, diff / (big + tx))
    h2 = hyp2f1(rsx, other_b, rsx + 1, diff / (big + t))
    with np.errstate(divide="ignore", invalid="ignore"):
        l1 = np.log(h1) - rsx * np.log(big + tx)
        l2 = np.log(h2) - rsx * np.log(big + t)
        return l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))


def _pareto_ll(r, alpha, s, beta, x, tx, t):
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    first = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    second = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, tx, t)
    return base + np.logaddexp(first, second)


@dataclass(frozen=True)
class ParetoNBDFit:
    """A fitted Pareto/NBD model: purchase rate ~ Gamma(r, alpha), dropout rate ~ Gamma(s, beta)."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    n_customers: int
    iterations: int
    method: str = "Pareto/NBD maximum likelihood (L-BFGS-B)"

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.s, self.beta)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        x, tx, t = _as_arrays(frequency, recency, T)
        r, alpha, s, beta = self.params
        log_ratio = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + t)
            + s * np.log(beta + t)
            + _log_a0(r, alpha, s, beta, x, tx, t)
        )
        return expit(-log_ratio)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T] (Schmittlein et al. 1987); needs s > 1."""
        x, tx, big_t = _as_arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        r, alpha, s, beta = self.params
        first = (r + x) * (beta + big_t) / ((alpha + big_t) * (s - 1))
        return (
            first
            * (1 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1))
            * self.probability_alive(x, tx, big_t)
        )

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame({"parameter": ["r", "alpha", "s", "beta"], "estimate": list(self.params)})

    def summary(self) -> str:
        return (
            f"Pareto/NBD on {self.n_customers:,} customers: r={self.r:.4g}, alpha={self.alpha:.4g}, "
            f"s={self.s:.4g}, beta={self.beta:.4g}, log-likelihood {self.log_likelihood:.2f}"
        )


def fit_pareto_nbd(frequency, recency, T, *, start=None) -> ParetoNBDFit:
    """Fit the Pareto/NBD model by maximum likelihood (numerical gradients)."""
    xs, txs, ts, w = collapse_summary(frequency, recency, T)
    total = w.sum()
    if start is None:
        mean_rate = max(float(w @ xs / (w @ ts)), 1e-6)
        start = (1.0, 1.0 / mean_rate, 1.0, float(np.average(ts, weights=w)))

    def objective(theta):
        r, alpha, s, beta = np.exp(theta)
        ll = _pareto_ll(r, alpha, s, beta, xs, txs, ts)
        value = -(w @ ll) / total
        return value if np.isfinite(value) else 1e10

    with np.errstate(all="ignore"):
        est, ll, nit = _minimise(objective, np.log(np.asarray(start, float)), jac=False, model="Pareto/NBD")
    return ParetoNBDFit(
        r=float(est[0]),
        alpha=float(est[1]),
        s=float(est[2]),
        beta=float(est[3]),
        log_likelihood=ll * total,
        n_customers=int(total),
        iterations=nit,
    )


# ---------------------------------------------------------------------------------------- Gamma-Gamma
def gamma_gamma_log_likelihood(params, frequency, monetary_value) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean order value (Fader & Hardie 2013)."""
    p, q, v = params
    x = np.asarray(frequency, float)
    m = np.asarray(monetary_value, float)
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def _gg_objective(theta, x, m, total):
    p, q, v = np.exp(theta)
    px = p * x
    lxmv = np.log(x * m + v)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * lxmv
    )
    dpq = digamma(px + q)
    d_p = x * (dpq - digamma(px) + np.log(m) + np.log(x) - lxmv)
    d_q = dpq - digamma(q) + np.log(v) - lxmv
    d_v = q / v - (px + q) / (x * m + v)
    grad = np.array([d_p.sum() * p, d_q.sum() * q, d_v.sum() * v])
    return -ll.sum() / total, -grad / total


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma model: order value ~ Gamma(p, nu), nu ~ Gamma(q, v) across customers."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int
    iterations: int
    method: str = "Gamma-Gamma maximum likelihood (L-BFGS-B)"

    @property
    def params(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.v)

    @property
    def mean_order_value(self) -> float:
        """Population mean order value p v / (q - 1) (infinite when q <= 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else math.inf

    def conditional_expected_value(self, frequency, monetary_value) -> np.ndarray:
        """E[order value | x repeat purchases with mean m]; the population mean when x = 0."""
        x = np.asarray(frequency, float)
        m = np.nan_to_num(np.asarray(monetary_value, float))
        p, q, v = self.params
        return p * (v + x * m) / (p * x + q - 1)

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame({"parameter": ["p", "q", "v"], "estimate": list(self.params)})

    def summary(self) -> str:
        return (
            f"Gamma-Gamma on {self.n_customers:,} repeat customers: p={self.p:.4g}, q={self.q:.4g}, "
            f"v={self.v:.4g}, mean order value {self.mean_order_value:.2f}"
        )


def fit_gamma_gamma(frequency, monetary_value, *, start=(1.0, 1.0, 1.0)) -> GammaGammaFit:
    """Fit the Gamma-Gamma model on customers with at least one repeat purchase.

    Customers with ``frequency == 0`` are dropped; ``monetary_value`` must be > 0 for the others.
    """
    x = np.asarray(frequency, float)
    m = np.asarray(monetary_value, float)
    if x.shape != m.shape:
        raise DataError("frequency and monetary_value must have the same length")
    keep = x > 0
    x, m = x[keep], m[keep]
    if x.size < 3:
        raise DataError(f"Gamma-Gamma needs at least 3 repeat customers; got {x.size}")
    if not np.isfinite(m).all() or (m <= 0).any():
        raise DataError("monetary value must be a positive number for every repeat customer")
    total = float(x.size)
    theta0 = np.log(np.asarray(start, float))
    theta0[2] = np.log(max(float(np.mean(m)), 1e-6))
    with np.errstate(all="ignore"):
        est, ll, nit = _minimise(
            lambda th: _gg_objective(th, x, m, total), theta0, jac=True, model="Gamma-Gamma"
        )
    return GammaGammaFit(
        p=float(est[0]),
        q=float(est[1]),
        v=float(est[2]),
        log_likelihood=ll * total,
        n_customers=int(total),
        iterations=nit,
    )


# ------------------------------------------------------------------------------------------------ CLV
def clv(
    purchases: BGNBDFit | ParetoNBDFit,
    spend: GammaGammaFit,
    frequency,
    recency,
    T,
    monetary_value,
    *,
    horizon: float,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    steps: int = 12,
) -> np.ndarray:
    """Expected discounted margin of each customer over the next ``horizon`` time units.

    The horizon is cut into ``steps`` equal steps; the expected purchases of each step (difference of
    the conditional expectation) are valued at the Gamma-Gamma expected order value times ``margin``
    and discounted at ``discount_rate`` per time unit, at the step's end.
    """
    x, tx, t = _as_arrays(frequency, recency, T)
    value = spend.conditional_expected_value(x, monetary_value) * margin
    grid = np.linspace(0.0, float(horizon), int(steps) + 1)[1:]
    cum = np.stack([purchases.conditional_expected_purchases(g, x, tx, t) for g in grid])
    inc = np.diff(np.vstack([np.zeros_like(x), cum]), axis=0)
    disc = (1.0 + discount_rate) ** -grid
    return value * (disc @ inc)


# ----------------------------------------------------------------------------------- group summaries
@dataclass(frozen=True)
class GroupCLV:
    """BG/NBD and Gamma-Gamma fitted on one group's calibration period, checked on its holdout."""

    group: str
    purchases: BGNBDFit
    spend: GammaGammaFit
    n_customers: int
    predicted_holdout: float
    actual_holdout: float
    mean_clv: float
    clv_lower: float
    clv_upper: float

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            **{k: v for k, v in zip(("r", "alpha", "a", "b"), self.purchases.params, strict=True)},
            **{k: v for k, v in zip(("p", "q", "v"), self.spend.params, strict=True)},
            "n_customers": self.n_customers,
            "predicted_holdout_per_customer": self.predicted_holdout,
            "actual_holdout_per_customer": self.actual_holdout,
            "mean_clv": self.mean_clv,
            "clv_lower": self.clv_lower,
            "clv_upper": self.clv_upper,
        }

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([self.to_dict()])

    def summary(self) -> str:
        return (
            f"{self.group}: holdout purchases per customer predicted {self.predicted_holdout:.3f}, "
            f"actual {self.actual_holdout:.3f}; mean CLV {self.mean_clv:.2f} "
            f"(95% CI {self.clv_lower:.2f} to {self.clv_upper:.2f})"
        )


def clv_by_group(
    frame: pl.DataFrame,
    *,
    group: str,
    holdout_length: float,
    horizon: float,
    margin: float,
    discount_rate: float = 0.0,
    frequency: str = "frequency_cal",
    recency: str = "recency_cal",
    T: str = "T_cal",
    monetary_value: str = "monetary_cal",
    holdout: str = "purchases_holdout",
) -> tuple[list[GroupCLV], pl.DataFrame]:
    """Fit BG/NBD and Gamma-Gamma per group; return the fits and each customer's ``clv`` and group.

    CLV is the expected discounted margin over ``horizon`` time units after the calibration end.
    """
    for col in (group, frequency, recency, T, monetary_value, holdout):
        if col not in frame.columns:
            raise DataError(f"column {col!r} not found; available: {', '.join(frame.columns)}")
    results, parts = [], []
    for label in sorted(frame[group].unique().to_list()):
        sub = frame.filter(pl.col(group) == label)
        x, tx, t = (sub[c].to_numpy() for c in (frequency, recency, T))
        m = sub[monetary_value].to_numpy()
        bg = fit_bgnbd(x, tx, t)
        gg = fit_gamma_gamma(x, m)
        pred = bg.conditional_expected_purchases(holdout_length, x, tx, t)
        values = clv(bg, gg, x, tx, t, m, horizon=horizon, margin=margin, discount_rate=discount_rate)
        se = float(values.std(ddof=1) / np.sqrt(values.size))
        mean = float(values.mean())
        results.append(
            GroupCLV(
                group=str(label),
                purchases=bg,
                spend=gg,
                n_customers=int(x.size),
                predicted_holdout=float(pred.mean()),
                actual_holdout=float(sub[holdout].mean()),
                mean_clv=mean,
                clv_lower=mean - 1.96 * se,
                clv_upper=mean + 1.96 * se,
            )
        )
        parts.append(
            pl.DataFrame(
                {
                    "group": [str(label)] * x.size,
                    "frequency": x,
                    "clv": values,
                    "predicted": pred,
                    "actual": sub[holdout].to_numpy().astype(float),
                }
            )
        )
    return results, pl.concat(parts)


def holdout_by_frequency(customers: pl.DataFrame, *, max_frequency: int = 7) -> pl.DataFrame:
    """Mean predicted and actual holdout purchases by calibration frequency (top bin ``max+``), per group.

    ``customers`` is the second frame returned by :func:`clv_by_group`.
    """
    binned = customers.with_columns(
        pl.col("frequency").clip(upper_bound=max_frequency).cast(pl.Int64).alias("bin")
    )
    return (
        binned.group_by("group", "bin")
        .agg(pl.len().alias("n"), pl.col("predicted").mean(), pl.col("actual").mean())
        .sort("group", "bin")
        .with_columns(
            pl.when(pl.col("bin") == max_frequency)
            .then(pl.lit(f"{max_frequency}+"))
            .otherwise(pl.col("bin").cast(pl.String))
            .alias("frequency")
        )
    )


def clv_histogram(customers: pl.DataFrame, *, bins: int = 40, upper_quantile: float = 0.99) -> pl.DataFrame:
    """Share of customers per CLV bin and group (values above the quantile go into the last bin)."""
    values = customers["clv"].to_numpy()
    top = float(np.quantile(values, upper_quantile)) if values.size else 1.0
    edges = np.linspace(0.0, max(top, 1e-9), bins + 1)
    width = edges[1] - edges[0]
    return (
        customers.with_columns((pl.col("clv") / width).floor().clip(0, bins - 1).cast(pl.Int64).alias("bin"))
        .group_by("group", "bin")
        .agg(pl.len().alias("n"))
        .with_columns(
            (pl.col("n") / pl.col("n").sum().over("group")).alias("share"),
            (pl.col("bin") * width).alias("clv_from"),
            ((pl.col("bin") + 1) * width).alias("clv_to"),
        )
        .sort("group", "bin")
    )
