"""Gamma-Gamma model of order value (Fader & Hardie 2013), fitted by maximum likelihood."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from experiments.errors import DataError
from experiments.models.clv._common import FittedModel, minimise

__all__ = ["GammaGammaFit", "fit_gamma_gamma", "gamma_gamma_log_likelihood"]


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
class GammaGammaFit(FittedModel):
    """A fitted Gamma-Gamma model: order value ~ Gamma(p, nu), nu ~ Gamma(q, v) across customers."""

    NAMES = ("p", "q", "v")

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int
    iterations: int
    n_zero_value: int = 0
    method: str = "Gamma-Gamma maximum likelihood (L-BFGS-B)"

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

    def summary(self) -> str:
        return (
            f"Gamma-Gamma on {self.n_customers:,} repeat customers: p={self.p:.4g}, q={self.q:.4g}, "
            f"v={self.v:.4g}, mean order value {self.mean_order_value:.2f}"
            + (f" ({self.n_zero_value:,} with value 0 left out)" if self.n_zero_value else "")
        )


def fit_gamma_gamma(frequency, monetary_value, *, start=(1.0, 1.0, 1.0)) -> GammaGammaFit:
    """Fit the Gamma-Gamma model on customers with at least one repeat purchase of positive value.

    Customers with ``frequency == 0`` are dropped, and so are repeat customers whose mean repeat
    purchase value is 0 (their number is ``n_zero_value`` of the fit), as lifetimes does; a negative or
    non-finite ``monetary_value`` raises :class:`DataError`.
    """
    x = np.asarray(frequency, float)
    m = np.asarray(monetary_value, float)
    if x.shape != m.shape:
        raise DataError("frequency and monetary_value must have the same length")
    keep = x > 0
    x, m = x[keep], m[keep]
    if not np.isfinite(m).all() or (m < 0).any():
        raise DataError("monetary value must be a number >= 0 for every repeat customer")
    zero = m == 0
    x, m = x[~zero], m[~zero]
    if x.size < 3:
        raise DataError(
            f"Gamma-Gamma needs at least 3 repeat customers with a positive monetary value; got {x.size}"
            + (f" ({int(zero.sum())} more with value 0)" if zero.any() else "")
        )
    total = float(x.size)
    theta0 = np.log(np.asarray(start, float))
    theta0[2] = np.log(max(float(np.mean(m)), 1e-6))
    with np.errstate(all="ignore"):
        est, ll, nit = minimise(
            lambda th: _gg_objective(th, x, m, total), theta0, jac=True, model="Gamma-Gamma",
            names=GammaGammaFit.NAMES,
        )
    return GammaGammaFit.from_estimates(
        est,
        log_likelihood=ll * total,
        n_customers=int(total),
        iterations=nit,
        n_zero_value=int(zero.sum()),
    )
