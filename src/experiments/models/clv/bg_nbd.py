"""BG/NBD purchase model (Fader, Hardie & Lee 2005), fitted by maximum likelihood."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from experiments.models.clv._common import FittedModel, as_arrays, collapse_summary, minimise

__all__ = ["BGNBDFit", "bgnbd_log_likelihood", "fit_bgnbd"]


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
    x, tx, t = as_arrays(frequency, recency, T)
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
class BGNBDFit(FittedModel):
    """A fitted BG/NBD model: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    NAMES = ("r", "alpha", "a", "b")

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    n_repeat_customers: int
    iterations: int
    method: str = "BG/NBD maximum likelihood (L-BFGS-B)"

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in ``(0, t]``."""
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params
        hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still a customer at T | frequency, recency, T)."""
        x, tx, t = as_arrays(frequency, recency, T)
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
        x, tx, big_t = as_arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self.params
        z = t / (alpha + big_t + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
        return first * self.probability_alive(x, tx, big_t)

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
    BoundaryOptimum
        When the maximum lies at the edge of the parameter space (:func:`~experiments.models.clv.limits.
        fit_purchases` fits the limiting model instead).
    FitError
        When the optimiser does not converge.
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
        est, ll, nit = minimise(
            lambda th: _bgnbd_objective(th, xs, txs, ts, w, total, ux, uinv, uw),
            theta0,
            jac=True,
            model="BG/NBD",
            names=BGNBDFit.NAMES,
        )
    return BGNBDFit.from_estimates(
        est,
        log_likelihood=ll * total,
        n_customers=int(total),
        n_repeat_customers=int(w[xs > 0].sum()),
        iterations=nit,
    )
