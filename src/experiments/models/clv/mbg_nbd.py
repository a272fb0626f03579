"""MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007), fitted by maximum likelihood.

As BG/NBD, but a customer may also drop out right after the first purchase, so a customer with no
repeat purchase is not certainly alive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1

from experiments.models.clv._common import FittedModel, as_arrays, collapse_summary, minimise

__all__ = ["MBGNBDFit", "fit_mbgnbd", "mbgnbd_log_likelihood"]


def _mbg_ll(r, alpha, a, b, x, tx, t):
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + t)
    dead = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + tx)
    return a1 + np.logaddexp(alive, dead)


def mbgnbd_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per-customer MBG/NBD log-likelihood at ``params = (r, alpha, a, b)`` (Batislam et al. 2007)."""
    r, alpha, a, b = params
    x, tx, t = as_arrays(frequency, recency, T)
    return _mbg_ll(r, alpha, a, b, x, tx, t)


@dataclass(frozen=True)
class MBGNBDFit(FittedModel):
    """A fitted MBG/NBD model: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    NAMES = ("r", "alpha", "a", "b")

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    n_repeat_customers: int
    iterations: int
    method: str = "MBG/NBD maximum likelihood (L-BFGS-B)"

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in ``(0, t]``."""
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params
        hyp = hyp2f1(r, b + 1, a + b, t / (alpha + t))
        return b / (a - 1) * (1 - hyp * (alpha / (alpha + t)) ** r)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still a customer at T | frequency, recency, T)."""
        x, tx, t = as_arrays(frequency, recency, T)
        r, alpha, a, b = self.params
        log_ratio = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        return expit(-log_ratio)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | frequency, recency, T]: expected purchases in ``(T, T + t]``."""
        x, tx, big_t = as_arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + big_t + t))
        first = (a + b + x) / (a - 1) * (1 - hyp * ((alpha + big_t) / (alpha + big_t + t)) ** (r + x))
        return first * self.probability_alive(x, tx, big_t)

    def summary(self) -> str:
        return (
            f"MBG/NBD on {self.n_customers:,} customers ({self.n_repeat_customers:,} repeat): "
            f"r={self.r:.4g}, alpha={self.alpha:.4g}, a={self.a:.4g}, b={self.b:.4g}, "
            f"log-likelihood {self.log_likelihood:.2f}"
        )


def fit_mbgnbd(frequency, recency, T, *, start: tuple[float, float, float, float] | None = None) -> MBGNBDFit:
    """Fit the MBG/NBD model by maximum likelihood (numerical gradients on collapsed summaries).

    Raises
    ------
    BoundaryOptimum
        When the maximum lies at the edge of the parameter space.
    FitError
        When the optimiser does not converge.
    """
    xs, txs, ts, w = collapse_summary(frequency, recency, T)
    total = w.sum()
    if start is None:
        mean_rate = max(float(w @ xs / (w @ ts)), 1e-6)
        start = (1.0, 1.0 / mean_rate, 1.0, 1.0)

    def objective(theta):
        r, alpha, a, b = np.exp(theta)
        value = -(w @ _mbg_ll(r, alpha, a, b, xs, txs, ts)) / total
        return value if np.isfinite(value) else 1e10

    with np.errstate(all="ignore"):
        est, ll, nit = minimise(objective, np.log(np.asarray(start, float)), jac=False, model="MBG/NBD",
                                names=MBGNBDFit.NAMES)
    return MBGNBDFit.from_estimates(
        est,
        log_likelihood=ll * total,
        n_customers=int(total),
        n_repeat_customers=int(w[xs > 0].sum()),
        iterations=nit,
    )
