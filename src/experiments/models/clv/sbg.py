"""Shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007), by maximum likelihood.

A cohort of customers renews once a period; each customer churns at the end of any period with her own
probability ``theta ~ Beta(alpha, beta)``. The data are the cohort's survivors at the start (its size)
and at the end of each period. Retention rates rise with tenure because the customers who stay are the
ones who churn less.

Reference: Fader & Hardie (2007), "How to project customer retention", *Journal of Interactive
Marketing* 21(1): on years 1-7 of two cohorts of 1,000 customers, "regular" (survivors 631, 468, 382,
326, 289, 262, 241) alpha = 0.704, beta = 1.182 and "high end" (869, 743, 653, 593, 551, 517, 491)
alpha = 0.668, beta = 3.806. Fader & Hardie (2010), "Customer-base valuation in a contractual setting:
the perils of ignoring heterogeneity", *Marketing Science* 29(1): discounted expected lifetime and
residual lifetime (DEL, DERL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, hyp2f1

from experiments.errors import DataError, FitError
from experiments.models.clv._common import FittedModel, minimise

__all__ = ["SBGFit", "fit_sbg", "sbg_log_likelihood"]


def _check(survivors) -> np.ndarray:
    s = np.asarray(survivors, dtype=float)
    if s.ndim != 1 or s.size < 2:
        raise DataError("survivors need the cohort size and at least one period's survivors")
    if not np.isfinite(s).all() or (s < 0).any() or (np.floor(s) != s).any():
        raise DataError("survivors must be whole numbers >= 0")
    if s[0] <= 0:
        raise DataError(f"the cohort size (survivors at period 0) must be > 0; got {s[0]:g}")
    if (np.diff(s) > 0).any():
        t = int(np.flatnonzero(np.diff(s) > 0)[0]) + 1
        raise DataError(
            f"survivors must not increase: {s[t - 1]:g} at period {t - 1}, {s[t]:g} at period {t}"
        )
    return s


def _sbg_ll(alpha, beta, s):
    t = np.arange(1, s.size, dtype=float)
    churned = -np.diff(s)
    log_p = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)
    log_s = betaln(alpha, beta + s.size - 1) - betaln(alpha, beta)
    return churned @ log_p + s[-1] * log_s


def sbg_log_likelihood(params, survivors) -> float:
    """Log-likelihood of a cohort's survivors at ``params = (alpha, beta)`` (Fader & Hardie 2007, eq. 7)."""
    alpha, beta = params
    return float(_sbg_ll(alpha, beta, _check(survivors)))


@dataclass(frozen=True)
class SBGFit(FittedModel):
    """A fitted sBG model: churn probability ~ Beta(alpha, beta) across the cohort's customers."""

    NAMES = ("alpha", "beta")

    alpha: float
    beta: float
    log_likelihood: float
    n_customers: int
    n_periods: int
    iterations: int
    method: str = "sBG maximum likelihood (L-BFGS-B)"

    def survival(self, t) -> np.ndarray:
        """S(t): share of the cohort still a customer after ``t`` periods (Fader & Hardie 2007, eq. 4)."""
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(self.alpha, self.beta + t) - betaln(self.alpha, self.beta))

    def retention_rate(self, t) -> np.ndarray:
        """r(t) = S(t) / S(t - 1) for ``t >= 1``: (beta + t - 1) / (alpha + beta + t - 1) (eq. 5)."""
        t = np.asarray(t, dtype=float)
        return (self.beta + t - 1) / (self.alpha + self.beta + t - 1)

    @property
    def mean_lifetime(self) -> float:
        """Expected periods a new customer stays, E[1 / theta] = (alpha + beta - 1) / (alpha - 1);
        infinite when ``alpha <= 1``."""
        return (self.alpha + self.beta - 1) / (self.alpha - 1) if self.alpha > 1 else math.inf

    def expected_lifetime(self, horizon: int) -> float:
        """Expected periods a new customer stays among the first ``horizon`` (sum of S(0)..S(horizon - 1))."""
        return float(self.survival(np.arange(int(horizon))).sum())

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """DEL: sum over t >= 0 of S(t) / (1 + d)^t = 2F1(1, beta; alpha + beta; 1 / (1 + d)) (F&H 2010)."""
        return float(hyp2f1(1.0, self.beta, self.alpha + self.beta, 1.0 / (1.0 + discount_rate)))

    def discounted_expected_residual_lifetime(self, discount_rate: float, renewals: int) -> float:
        """DERL of a customer who has renewed ``renewals`` times: the discounted number of further
        periods, sum over t >= n of S(t) / S(n - 1) / (1 + d)^(t - n) with n = renewals + 1
        = (beta + n - 1) / (alpha + beta + n - 1) 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))
        (F&H 2010)."""
        n = int(renewals) + 1
        a, b = self.alpha, self.beta
        return float((b + n - 1) / (a + b + n - 1) * hyp2f1(1.0, b + n, a + b + n, 1 / (1 + discount_rate)))

    def summary(self) -> str:
        return (
            f"sBG on a cohort of {self.n_customers:,} over {self.n_periods} periods: alpha={self.alpha:.4g}, "
            f"beta={self.beta:.4g}, log-likelihood {self.log_likelihood:.2f}"
        )


def fit_sbg(survivors, *, start=(1.0, 1.0)) -> SBGFit:
    """Fit the sBG model to one cohort: ``survivors[0]`` is its size, ``survivors[t]`` those left after ``t``
    periods.

    Raises
    ------
    DataError
        Fewer than two values, values that are not whole numbers >= 0, or survivors that increase.
    BoundaryOptimum, FitError
        Nobody churned, the maximum lies at the edge of the parameter space, or the optimiser fails.
    """
    s = _check(survivors)
    if s[-1] == s[0]:
        raise FitError(f"sBG: nobody churned in {s.size - 1} periods; the churn probability's maximum "
                       "is at 0, no model to fit")

    def objective(theta):
        value = -_sbg_ll(*np.exp(theta), s) / s[0]
        return value if np.isfinite(value) else 1e10

    with np.errstate(all="ignore"):
        est, ll, nit = minimise(objective, np.log(np.asarray(start, float)), jac=False, model="sBG",
                                names=SBGFit.NAMES)
    return SBGFit.from_estimates(
        est, log_likelihood=float(ll * s[0]), n_customers=int(s[0]), n_periods=s.size - 1, iterations=nit
    )
