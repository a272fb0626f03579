"""Limiting models, fitted when a purchase model's maximum likelihood lies at the edge of its parameter space.

BG/NBD, MBG/NBD and Pareto/NBD mix a Poisson purchase rate over Gamma(r, alpha) and a dropout process
over a second distribution. On some logs the likelihood keeps rising as parameters run to 0 or to
infinity; the supremum is then the likelihood of a simpler model, which this module identifies and fits:

- dropout vanishes (BG/NBD, MBG/NBD: ``a -> 0``, or ``b -> inf`` with ``a`` finite; Pareto/NBD: ``s -> 0``,
  or ``beta -> inf`` with ``s`` finite): every customer stays, the **NBD** (Poisson-gamma) model;
- dropout probability the same for everyone (BG/NBD, MBG/NBD: ``a, b -> inf`` with ``a / (a + b)`` fixed):
  **NBD with homogeneous dropout** ``p``;
- dropout probability 0 or 1 (BG/NBD, MBG/NBD: ``a, b -> 0`` with ``a / (a + b) = pi`` fixed): a share
  ``pi`` drops out at the first chance (BG/NBD: right after the first repeat purchase; MBG/NBD: right
  after the first purchase), the others never: **NBD with a one-off dropout share**;
- the purchase rate the same for everyone (``r, alpha -> inf`` with ``r / alpha`` fixed) and no dropout:
  **Poisson**, ``lambda = sum(x) / sum(T)``; with no repeat purchase in the log at all, ``lambda = 0``.

Gamma-Gamma's maximum at ``q, v -> inf`` (with ``q / v = nu`` fixed) means one spend scale for everyone:
the **Gamma** spend model, order values ~ Gamma(p, nu) for every customer.

Each limit's log-likelihood is the parent model's at the limit (the same terms, so the numbers compare).
Other edges (say ``alpha -> 0``) raise :class:`~experiments.errors.FitError` naming them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy.special import expit, gammaln

from experiments.errors import FitError, ParameterError
from experiments.models.clv._common import BoundaryOptimum, FittedModel, as_arrays, collapse_summary, minimise
from experiments.models.clv.bg_nbd import BGNBDFit, fit_bgnbd
from experiments.models.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from experiments.models.clv.mbg_nbd import MBGNBDFit, fit_mbgnbd
from experiments.models.clv.pareto_nbd import ParetoNBDFit, fit_pareto_nbd

__all__ = [
    "MODELS",
    "GammaSpendFit",
    "GeometricDropoutNBDFit",
    "NBDFit",
    "OneOffDropoutNBDFit",
    "PoissonFit",
    "PurchaseFit",
    "PurchaseModel",
    "SpendFit",
    "fit_purchases",
    "fit_spend",
]

PurchaseModel = Literal["bgnbd", "mbgnbd", "paretonbd"]
#: Purchase models by their command-line name, with their display name.
MODELS: dict[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD"}


def _log_gamma_poisson(r, alpha, x, t):
    """log E[lambda^x exp(-lambda t)] for lambda ~ Gamma(r, alpha)."""
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + t)


@dataclass(frozen=True)
class _Limit(FittedModel):
    log_likelihood: float
    n_customers: int
    n_repeat_customers: int
    iterations: int
    limit_of: str
    limit: str

    @property
    def name(self) -> str:
        return ""

    def summary(self) -> str:
        values = ", ".join(f"{n}={v:.4g}" for n, v in zip(self.NAMES, self.params, strict=True))
        return (
            f"{self.name} (limit of {self.limit_of} as {self.limit}) on {self.n_customers:,} customers: "
            f"{values}, log-likelihood {self.log_likelihood:.2f}"
        )


@dataclass(frozen=True)
class NBDFit(_Limit):
    """NBD (Poisson-gamma) model: purchase rate ~ Gamma(r, alpha), nobody drops out."""

    NAMES = ("r", "alpha")

    r: float = 0.0
    alpha: float = 0.0
    method: str = "NBD maximum likelihood (L-BFGS-B)"

    @property
    def name(self) -> str:
        return "NBD"

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)] = r t / alpha."""
        return self.r * np.asarray(t, dtype=float) / self.alpha

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        x, _, _ = as_arrays(frequency, recency, T)
        return np.ones_like(x)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, T] = (r + x) t / (alpha + T): the posterior mean rate times ``t``."""
        x, _, big_t = as_arrays(frequency, recency, T)
        return (self.r + x) * np.asarray(t, dtype=float) / (self.alpha + big_t)


@dataclass(frozen=True)
class PoissonFit(_Limit):
    """Poisson model: one purchase rate ``lam`` for every customer, nobody drops out."""

    NAMES = ("lam",)

    lam: float = 0.0
    method: str = "Poisson maximum likelihood (closed form)"

    @property
    def name(self) -> str:
        return "Poisson"

    def expected_purchases(self, t) -> np.ndarray:
        return self.lam * np.asarray(t, dtype=float)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        x, _, _ = as_arrays(frequency, recency, T)
        return np.ones_like(x)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        x, _, _ = as_arrays(frequency, recency, T)
        return np.full_like(x, self.lam * float(t))


@dataclass(frozen=True)
class GeometricDropoutNBDFit(_Limit):
    """NBD purchases; after each repeat purchase (``shift = 1``: also after the first) every customer
    drops out with the same probability ``p``."""

    NAMES = ("r", "alpha", "p")

    r: float = 0.0
    alpha: float = 0.0
    p: float = 0.0
    shift: int = 0
    method: str = "NBD with homogeneous dropout, maximum likelihood (L-BFGS-B)"

    @property
    def name(self) -> str:
        return "NBD with homogeneous dropout"

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        x, tx, t = as_arrays(frequency, recency, T)
        can_die = (x + self.shift) >= 1
        log_ratio = (
            np.log(self.p) - np.log1p(-self.p)
            + (self.r + x) * (np.log(self.alpha + t) - np.log(self.alpha + tx))
        )
        return np.where(can_die, expit(-log_ratio), 1.0)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """Alive customers buy at rate ``lambda ~ Gamma(r + x, alpha + T)`` and die after a purchase with
        probability ``p``: E[purchases in t] = (1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p."""
        x, tx, big_t = as_arrays(frequency, recency, T)
        t = float(t)
        a_post = self.alpha + big_t
        expected = (1 - (a_post / (a_post + self.p * t)) ** (self.r + x)) / self.p
        return expected * self.probability_alive(x, tx, big_t)


@dataclass(frozen=True)
class OneOffDropoutNBDFit(_Limit):
    """NBD purchases; a share ``pi`` of customers drops out at the first chance (``shift = 0``: right after
    the first repeat purchase; ``shift = 1``: right after the first purchase), the others never."""

    NAMES = ("r", "alpha", "pi")

    r: float = 0.0
    alpha: float = 0.0
    pi: float = 0.0
    shift: int = 0
    method: str = "NBD with a one-off dropout share, maximum likelihood (L-BFGS-B)"

    @property
    def name(self) -> str:
        return "NBD with a one-off dropout share"

    def _terms(self, x, tx, t):
        """log-likelihood of (still there, dropped out) for each customer, and whether a dropout
        customer still there can drop out later."""
        first = 1 - self.shift  # the purchase count after which the dropout type leaves
        log_stay = np.log1p(-self.pi) + _log_gamma_poisson(self.r, self.alpha, x, t)
        dropout_alive = np.where(x < first, np.log(self.pi) + _log_gamma_poisson(self.r, self.alpha, x, t),
                                 -np.inf)
        dead = np.where(x == first, np.log(self.pi) + _log_gamma_poisson(self.r, self.alpha, x, tx), -np.inf)
        return log_stay, dropout_alive, dead

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        x, tx, t = as_arrays(frequency, recency, T)
        stay, waiting, dead = self._terms(x, tx, t)
        alive = np.logaddexp(stay, waiting)
        return np.exp(alive - np.logaddexp(alive, dead))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """Stayers buy at the posterior mean rate (r + x) / (alpha + T); a dropout customer still there
        (BG/NBD, no repeat purchase yet) makes one more purchase if any, with probability
        1 - ((alpha + T) / (alpha + T + t))^(r + x)."""
        x, tx, big_t = as_arrays(frequency, recency, T)
        t = float(t)
        stay, waiting, dead = self._terms(x, tx, big_t)
        total = np.logaddexp(np.logaddexp(stay, waiting), dead)
        a_post = self.alpha + big_t
        return (np.exp(stay - total) * (self.r + x) * t / a_post
                + np.exp(waiting - total) * (1 - (a_post / (a_post + t)) ** (self.r + x)))


def _ll_one_off(r, alpha, pi, x, tx, t, shift):
    first = 1 - shift
    stay = np.log1p(-pi) + _log_gamma_poisson(r, alpha, x, t)
    waiting = np.where(x < first, np.log(pi) + _log_gamma_poisson(r, alpha, x, t), -np.inf)
    dead = np.where(x == first, np.log(pi) + _log_gamma_poisson(r, alpha, x, tx), -np.inf)
    return np.logaddexp(np.logaddexp(stay, waiting), dead)


def _fit_one_off(xs, txs, ts, w, common, shift):
    mean_rate = max(float(w @ xs / (w @ ts)), 1e-6)
    est, ll, nit = _fit_numeric(
        lambda r, a, odds, x, tx, t: _ll_one_off(r, a, odds / (1 + odds), x, tx, t, shift),
        (1.0, 1.0 / mean_rate, 0.5), ("r", "alpha", "pi / (1 - pi)"), "NBD with a one-off dropout share",
        xs, txs, ts, w,
    )
    r, alpha, odds = est
    return OneOffDropoutNBDFit(
        r=float(r), alpha=float(alpha), pi=float(odds / (1 + odds)), shift=shift, log_likelihood=ll,
        iterations=nit, **common,
    )


def _ll_geometric(r, alpha, p, x, tx, t, shift):
    alive = (x + shift) * np.log1p(-p) + _log_gamma_poisson(r, alpha, x, t)
    can_die = (x + shift) >= 1
    dead = np.where(
        can_die,
        np.log(p) + (x + shift - 1) * np.log1p(-p) + _log_gamma_poisson(r, alpha, x, tx),
        -np.inf,
    )
    return np.logaddexp(alive, dead)


def _fit_numeric(ll: Callable[..., np.ndarray], start, names, model, xs, txs, ts, w):
    total = w.sum()

    def objective(theta):
        value = -(w @ ll(*np.exp(theta), xs, txs, ts)) / total
        return value if np.isfinite(value) else 1e10

    with np.errstate(all="ignore"):
        est, mean_ll, nit = minimise(objective, np.log(np.asarray(start, float)), jac=False, model=model,
                                     names=names)
    return est, mean_ll * total, nit


def _fit_poisson(xs, ts, w, common):
    lam = float(w @ xs / (w @ ts))
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = float(w @ np.where(xs > 0, xs * np.log(lam), 0.0) - lam * (w @ ts))
    return PoissonFit(lam=lam, log_likelihood=ll, iterations=0, **common)


def _fit_nbd(xs, txs, ts, w, common):
    mean_rate = max(float(w @ xs / (w @ ts)), 1e-6)
    (r, alpha), ll, nit = _fit_numeric(
        lambda r, a, x, tx, t: _log_gamma_poisson(r, a, x, t), (1.0, 1.0 / mean_rate), ("r", "alpha"),
        "NBD", xs, txs, ts, w,
    )
    return NBDFit(r=float(r), alpha=float(alpha), log_likelihood=ll, iterations=nit, **common)


def _fit_geometric(xs, txs, ts, w, common, shift):
    mean_rate = max(float(w @ xs / (w @ ts)), 1e-6)
    est, ll, nit = _fit_numeric(
        lambda r, a, p, x, tx, t: _ll_geometric(r, a, p / (1 + p), x, tx, t, shift),
        (1.0, 1.0 / mean_rate, 0.5), ("r", "alpha", "p / (1 - p)"), "NBD with homogeneous dropout",
        xs, txs, ts, w,
    )
    r, alpha, odds = est
    return GeometricDropoutNBDFit(
        r=float(r), alpha=float(alpha), p=float(odds / (1 + odds)), shift=shift, log_likelihood=ll,
        iterations=nit, **common,
    )


#: What a purchase model's edge means: (dropout parameters (shape towards "none", other), its fit).
_DROPOUT = {"bgnbd": ("a", "b"), "mbgnbd": ("a", "b"), "paretonbd": ("s", "beta")}
_FITS: dict[str, Callable[..., BGNBDFit | MBGNBDFit | ParetoNBDFit]] = {
    "bgnbd": fit_bgnbd, "mbgnbd": fit_mbgnbd, "paretonbd": fit_pareto_nbd,
}


@dataclass(frozen=True)
class PurchaseFit:
    """A purchase model's fit, or the limiting model fitted in its place (``limit`` says which edge)."""

    model: str
    fit: (BGNBDFit | MBGNBDFit | ParetoNBDFit | NBDFit | PoissonFit | GeometricDropoutNBDFit
          | OneOffDropoutNBDFit)
    limit: str | None = None

    @property
    def fitted_model(self) -> str:
        """Name of the model whose parameters are reported."""
        return MODELS[self.model] if self.limit is None else self.fit.name  # type: ignore[union-attr]

    @property
    def warning(self) -> str | None:
        """One line on the boundary optimum, or None."""
        if self.limit is None:
            return None
        return (
            f"{MODELS[self.model]} maximum lies at the edge of the parameter space ({self.limit}); "
            f"fitted its limit, the {self.fitted_model} model"
        )

    def to_dict(self) -> dict[str, object]:
        """``model`` (the fitted one), ``limit`` (None for an interior maximum), its parameters and
        ``log_likelihood``."""
        out: dict[str, object] = {"model": self.fitted_model, "limit": self.limit}
        out.update({n: float(v) for n, v in zip(self.fit.NAMES, self.fit.params, strict=True)})
        out["log_likelihood"] = float(self.fit.log_likelihood)
        return out

    def to_frame(self) -> pl.DataFrame:
        """One row per parameter of the fitted model: ``parameter, estimate``."""
        return self.fit.to_frame()

    def summary(self) -> str:
        return self.fit.summary()


def fit_purchases(model: str, frequency, recency, T) -> PurchaseFit:
    """Fit ``model`` (``bgnbd``, ``mbgnbd`` or ``paretonbd``); at a boundary optimum fit its limit instead.

    Raises
    ------
    ParameterError
        An unknown model.
    FitError
        The optimiser failed, or the maximum lies at an edge with no limiting model here.
    """
    if model not in MODELS:
        raise ParameterError("model", model, ", ".join(MODELS))
    try:
        return PurchaseFit(model, _FITS[model](frequency, recency, T))
    except BoundaryOptimum as exc:
        edge = exc
    shape, other = _DROPOUT[model]
    xs, txs, ts, w = collapse_summary(frequency, recency, T)
    common = {"n_customers": int(w.sum()), "n_repeat_customers": int(w[xs > 0].sum()),
              "limit_of": MODELS[model]}
    if not xs.any():  # nobody bought again: the purchase rate's maximum is 0
        fit = PoissonFit(lam=0.0, log_likelihood=0.0, iterations=0, **common,
                         limit="r -> 0 or alpha -> inf: no repeat purchase in the calibration period, rate 0")
        return PurchaseFit(model, fit, limit=fit.limit)
    where = edge.args[0].split("; ")[0]
    shift = 1 if model == "mbgnbd" else 0
    none = {**common, "limit": f"{shape} -> 0: nobody drops out"}
    candidates: list[Callable[[], _Limit]] = [
        lambda: _fit_poisson(xs, ts, w, {**common, "limit": f"r, alpha -> inf, {shape} -> 0: one purchase "
                                         "rate for everyone, nobody drops out"}),
        lambda: _fit_nbd(xs, txs, ts, w, none),
    ]
    if model != "paretonbd":
        candidates += [
            lambda: _fit_geometric(xs, txs, ts, w, {**common, "limit": f"{shape}, {other} -> inf: "
                                   f"{shape} / ({shape} + {other}) fixed, one dropout probability for "
                                   "everyone"}, shift=shift),
            lambda: _fit_one_off(xs, txs, ts, w, {**common, "limit": f"{shape}, {other} -> 0: "
                                 f"{shape} / ({shape} + {other}) fixed, a share drops out at the first "
                                 "chance, the others never"}, shift=shift),
        ]
    fits = []
    for make in candidates:
        try:
            fits.append(make())
        except FitError:  # that limit has no interior maximum either: not the one
            continue
    # the right limit reaches the likelihood found at the edge (the optimiser's own noise allowed); of
    # those that do, the simplest
    edge_ll = edge.mean_log_likelihood * float(w.sum())
    tol = max(1e-2, 1e-6 * abs(edge_ll))
    reached = [f for f in fits if f.log_likelihood >= edge_ll - tol]
    if not reached:
        raise FitError(f"{where}; no limiting model implemented here reaches the likelihood found there")
    fit = min(reached, key=lambda f: (len(f.NAMES), -f.log_likelihood))
    return PurchaseFit(model, fit, limit=fit.limit)


# ------------------------------------------------------------------------------------------ spend
@dataclass(frozen=True)
class GammaSpendFit(FittedModel):
    """Gamma spend model: every customer's order values ~ Gamma(p, nu) (Gamma-Gamma as ``q, v -> inf``)."""

    NAMES = ("p", "nu")

    p: float
    nu: float
    log_likelihood: float
    n_customers: int
    iterations: int
    n_zero_value: int
    limit: str
    limit_of: str = "Gamma-Gamma"
    method: str = "Gamma spend maximum likelihood (L-BFGS-B)"
    name: str = "Gamma"

    @property
    def mean_order_value(self) -> float:
        """p / nu, the same for everyone."""
        return self.p / self.nu

    def conditional_expected_value(self, frequency, monetary_value) -> np.ndarray:
        """p / nu whatever the history: one spend scale for everyone."""
        return np.full(np.shape(np.asarray(frequency, float)), self.mean_order_value)

    def summary(self) -> str:
        return (
            f"Gamma (limit of Gamma-Gamma as {self.limit}) on {self.n_customers:,} repeat customers: "
            f"p={self.p:.4g}, nu={self.nu:.4g}, mean order value {self.mean_order_value:.2f}"
        )


def _gamma_spend_ll(p, nu, x, m):
    """log density of the mean of x orders ~ Gamma(p, nu): Gamma(p x, x nu) at m."""
    px = p * x
    return px * np.log(x * nu) + (px - 1) * np.log(m) - x * nu * m - gammaln(px)


@dataclass(frozen=True)
class SpendFit:
    """Gamma-Gamma's fit, or the Gamma spend model fitted in its place (``limit`` says which edge)."""

    fit: GammaGammaFit | GammaSpendFit
    limit: str | None = None

    @property
    def fitted_model(self) -> str:
        return "Gamma-Gamma" if self.limit is None else "Gamma"

    @property
    def warning(self) -> str | None:
        if self.limit is None:
            return None
        return (f"Gamma-Gamma maximum lies at the edge of the parameter space ({self.limit}); fitted its "
                "limit, the Gamma spend model")

    def to_dict(self) -> dict[str, object]:
        """``model``, ``limit``, the parameters, ``log_likelihood``, ``n_customers``, ``n_zero_value`` and
        ``mean_order_value`` (None when infinite)."""
        out: dict[str, object] = {"model": self.fitted_model, "limit": self.limit}
        out.update({n: float(v) for n, v in zip(self.fit.NAMES, self.fit.params, strict=True)})
        mean = float(self.fit.mean_order_value)
        out.update(log_likelihood=float(self.fit.log_likelihood), n_customers=self.fit.n_customers,
                   n_zero_value=self.fit.n_zero_value, mean_order_value=mean if np.isfinite(mean) else None)
        return out

    def summary(self) -> str:
        return self.fit.summary()


def fit_spend(frequency, monetary_value) -> SpendFit:
    """Fit Gamma-Gamma (on the repeat customers of positive value); at ``q, v -> inf`` the Gamma limit.

    Raises
    ------
    DataError
        As :func:`~experiments.models.clv.gamma_gamma.fit_gamma_gamma`.
    FitError
        The optimiser failed, or the maximum lies at an edge with no limiting model here.
    """
    try:
        return SpendFit(fit_gamma_gamma(frequency, monetary_value))
    except BoundaryOptimum as exc:
        edge = exc
    x = np.asarray(frequency, float)
    m = np.asarray(monetary_value, float)
    keep = (x > 0) & (m > 0)
    zero = int(((x > 0) & (m == 0)).sum())
    x, m = x[keep], m[keep]
    where = edge.args[0].split("; ")[0]
    total = float(x.size)

    def objective(theta):
        value = -_gamma_spend_ll(*np.exp(theta), x, m).sum() / total
        return value if np.isfinite(value) else 1e10

    try:
        with np.errstate(all="ignore"):
            est, mean_ll, nit = minimise(objective, np.log([1.0, 1.0 / float(m.mean())]), jac=False,
                                         model="Gamma spend", names=GammaSpendFit.NAMES)
    except FitError:
        est, mean_ll, nit = None, -np.inf, 0
    ll = mean_ll * total
    edge_ll = edge.mean_log_likelihood * total
    if est is None or ll < edge_ll - max(1e-2, 1e-6 * abs(edge_ll)):
        raise FitError(f"{where}; no limiting model implemented here reaches the likelihood found there")
    fit = GammaSpendFit(p=float(est[0]), nu=float(est[1]), log_likelihood=float(ll), n_customers=int(total),
                        iterations=nit, n_zero_value=zero,
                        limit="q, v -> inf: q / v fixed, one spend scale for everyone")
    return SpendFit(fit, limit=fit.limit)
