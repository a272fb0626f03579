"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987), fitted by maximum likelihood."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from experiments.models.clv._common import FittedModel, as_arrays, collapse_summary, minimise

__all__ = ["ParetoNBDFit", "fit_pareto_nbd", "pareto_nbd_log_likelihood"]


def pareto_nbd_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood at ``params = (r, alpha, s, beta)``."""
    r, alpha, s, beta = params
    x, tx, t = as_arrays(frequency, recency, T)
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
class ParetoNBDFit(FittedModel):
    """A fitted Pareto/NBD model: purchase rate ~ Gamma(r, alpha), dropout rate ~ Gamma(s, beta)."""

    NAMES = ("r", "alpha", "s", "beta")

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    n_customers: int
    iterations: int
    method: str = "Pareto/NBD maximum likelihood (L-BFGS-B)"

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        x, tx, t = as_arrays(frequency, recency, T)
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
        x, tx, big_t = as_arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        r, alpha, s, beta = self.params
        first = (r + x) * (beta + big_t) / ((alpha + big_t) * (s - 1))
        return (
            first
            * (1 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1))
            * self.probability_alive(x, tx, big_t)
        )

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
        est, ll, nit = minimise(objective, np.log(np.asarray(start, float)), jac=False, model="Pareto/NBD",
                               names=ParetoNBDFit.NAMES)
    return ParetoNBDFit.from_estimates(
        est,
        log_likelihood=ll * total,
        n_customers=int(total),
        iterations=nit,
    )
