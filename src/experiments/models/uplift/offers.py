"""Several offers against one control: per-arm outcome models, the best offer for each customer, and the
budget curve (the multi-armed Qini with costs), judged on a randomised sample.

- :func:`fit_arm_models`: a T-learner over every arm. One outcome regression per arm (control
  included), cross-fitted: each row is predicted by models that never saw it (out of fold), and new
  rows by the mean of the fold models. The uplift of offer ``k`` is ``mu_k(x) - mu_0(x)``.
- :func:`assign_offers`: each customer's offer with the highest predicted uplift, when positive; under a
  budget, customers are taken by predicted uplift per dollar of predicted spend (a greedy knapsack)
  until the budget is spent.
- :func:`policy_terms`: each customer's contribution to the value of an assignment against no offer,
  inverse-propensity weighted (IPW) or doubly robust (AIPW, with outcome models fitted elsewhere):
  ``mu_k - mu_0 + 1{A=k}(Y - mu_k)/e_k - 1{A=0}(Y - mu_0)/e_0`` for a customer given ``k``, 0 for one
  given nothing. Their mean is unbiased in a randomised experiment with known arm probabilities ``e``;
  the interval is the normal one of that mean. Differences and ratios of two policies are paired on
  the same customers (:func:`compare_terms`).
- :func:`budget_curve`: the value of the greedy assignment as the budget grows, with its interval.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl
import scipy.stats as sps
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.fitting import (
    default_classifier,
    default_regressor,
    fit_outcome_model,
    predict_outcome,
)

__all__ = [
    "ArmFit",
    "TermComparison",
    "TermValue",
    "assign_offers",
    "budget_curve",
    "compare_terms",
    "fit_arm_models",
    "policy_terms",
    "term_value",
]


@dataclass(frozen=True)
class ArmFit:
    """Predicted outcome of every row under every arm (column 0: the control)."""

    oof: np.ndarray
    new: np.ndarray | None
    folds: int
    seed: int

    def uplift(self, which: str = "oof") -> np.ndarray:
        """Predicted uplift of each offer (columns 1..K minus column 0)."""
        m = self.oof if which == "oof" else self.new
        if m is None:
            raise ParameterError("which", which, "'oof', or 'new' when new rows were scored")
        return m[:, 1:] - m[:, :1]


def _check_arms(arm: Any, n: int, n_arms: int) -> np.ndarray:
    a = np.asarray(arm).ravel()
    if a.size != n or not np.issubdtype(a.dtype, np.integer):
        raise DataError(f"arm codes are one integer per row ({n:,} rows)")
    if n_arms < 2 or a.min(initial=0) < 0 or a.max(initial=0) >= n_arms:
        raise DataError(f"arm codes run from 0 (control) to {n_arms - 1}")
    return a.astype(np.int64)


def fit_arm_models(X: Any, y: Any, arm: Any, *, n_arms: int, folds: int = 2, seed: int = 0,
                   X_new: Any = None, estimator: Any = None, binary: bool | None = None,
                   learner: str = "t", n_jobs: int | None = None) -> ArmFit:
    """Cross-fitted outcome model of every arm: a multi-arm T-learner (``learner="t"``: one model per
    arm) or S-learner (``"s"``: one model of the features and the arm's indicators, predicted with each
    arm's indicator set).

    Parameters
    ----------
    X, y
        Features (rows x columns, NaN for missing) and outcome of a randomised experiment.
    arm
        Arm code of each row: 0 for the control, 1..``n_arms - 1`` for the offers.
    n_arms
        Number of arms, the control included.
    folds, seed
        Seeded folds stratified on the arm; every arm needs at least 2 rows per fold.
    X_new
        Rows the models never saw, scored by the mean of the fold models.
    estimator
        A scikit-learn estimator (default histogram gradient boosting, one OpenMP thread per fold).
    binary
        Model a 0/1 outcome's probability with a classifier (default: when ``y`` holds only 0 and 1).
    """
    if isinstance(folds, bool) or not (isinstance(folds, int) and folds >= 2):
        raise ParameterError("folds", folds, "an integer >= 2")
    if learner not in ("s", "t"):
        raise ParameterError("learner", learner, "s or t")
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.shape[0] != y.size:
        raise DataError(f"features and outcome differ in rows: {X.shape[0]}, {y.size}")
    if not np.isfinite(y).all():
        raise DataError("outcome has missing or infinite values")
    a = _check_arms(arm, y.size, n_arms)
    counts = np.bincount(a, minlength=n_arms)
    if counts.min() < 2 * folds:
        raise DataError(f"arm {int(np.argmin(counts))} has {int(counts.min())} rows; cross-fitting with "
                        f"{folds} folds needs at least {2 * folds} per arm")
    new = None if X_new is None else np.asarray(X_new, dtype=np.float64)
    if new is not None and (new.ndim != 2 or new.shape[1] != X.shape[1]):
        raise DataError(f"X_new has shape {new.shape}; it needs the {X.shape[1]} feature columns of X")
    binary = bool(np.all((y == 0) | (y == 1))) if binary is None else bool(binary)
    if estimator is not None:
        est = estimator
    else:
        est = default_classifier(seed) if binary else default_regressor(seed)
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, a))

    def one(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        out = np.empty((test.size, n_arms))
        out_new = None if new is None else np.empty((new.shape[0], n_arms))
        with threadpool_limits(limits=1, user_api="openmp"):
            if learner == "s":
                model = fit_outcome_model(est, _with_arm(X[train], a[train], n_arms), y[train], binary=binary)
                for k in range(n_arms):
                    out[:, k] = predict_outcome(model, _with_arm(X[test], k, n_arms))
                    if out_new is not None and new is not None:
                        out_new[:, k] = predict_outcome(model, _with_arm(new, k, n_arms))
                return out, out_new
            for k in range(n_arms):
                rows = train[a[train] == k]
                model = fit_outcome_model(est, X[rows], y[rows], binary=binary)
                out[:, k] = predict_outcome(model, X[test])
                if out_new is not None and new is not None:
                    out_new[:, k] = predict_outcome(model, new)
        return out, out_new

    workers = n_jobs if n_jobs is not None else min(folds, os.cpu_count() or 1)
    if workers == 1:
        parts = [one(tr, te) for tr, te in splits]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lambda s: one(*s), splits))
    oof = np.empty((y.size, n_arms))
    total = None if new is None else np.zeros((new.shape[0], n_arms))
    for (_, test), (pred, pred_new) in zip(splits, parts, strict=True):
        oof[test] = pred
        if total is not None and pred_new is not None:
            total += pred_new  # in fold order: the result does not depend on n_jobs
    return ArmFit(oof=oof, new=None if total is None else total / folds, folds=folds, seed=seed)


def _with_arm(X: np.ndarray, arm: np.ndarray | int, n_arms: int) -> np.ndarray:
    """The features and one indicator column per arm."""
    codes = np.broadcast_to(np.asarray(arm), (X.shape[0],))
    return np.hstack([X, (codes[:, None] == np.arange(n_arms)[None, :]).astype(np.float64)])


def assign_offers(uplift: Any, spend: Any = None, *, budget: float | None = None) -> np.ndarray:
    """Each customer's offer (1..K; 0 for none): the highest predicted uplift, when positive.

    Parameters
    ----------
    uplift
        Predicted incremental profit of each offer (rows x K).
    spend
        Predicted spend of each offer (rows x K; media plus incentives paid). Without it every treated
        customer costs 1 and ``budget`` is a share of customers.
    budget
        Spend per customer of the table (total budget / rows); customers are taken by uplift per dollar
        of their best offer until it is spent. None: no budget.
    """
    u = np.asarray(uplift, dtype=np.float64)
    if u.ndim != 2 or u.shape[1] < 1 or not np.isfinite(u).all():
        raise DataError("uplift is a finite rows x offers array")
    n = u.shape[0]
    best = np.argmax(u, axis=1)
    rows = np.arange(n)
    gain = u[rows, best]
    a = np.where(gain > 0, best + 1, 0)
    if budget is None:
        return a
    if not (isinstance(budget, int | float) and math.isfinite(budget) and budget >= 0):
        raise ParameterError("budget", budget, "a finite spend per customer >= 0")
    cost = _cost(spend, u)[rows, best]
    order, cum = _greedy_order(gain, cost, a)
    keep = np.zeros(n, dtype=bool)
    keep[order[cum <= budget * n + 1e-9]] = True
    return np.where(keep, a, 0)


def _cost(spend: Any, u: np.ndarray) -> np.ndarray:
    if spend is None:
        return np.ones_like(u)
    c = np.asarray(spend, dtype=np.float64)
    if c.shape != u.shape or not np.isfinite(c).all():
        raise DataError(f"spend has shape {c.shape}; it needs the uplift's {u.shape}, finite")
    return np.maximum(c, 1e-6)  # a free offer is taken first, not divided by zero


def _greedy_order(gain: np.ndarray, cost: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Customers by decreasing gain per dollar (the untreated last), and the cumulative spend."""
    ratio = np.where(a > 0, gain / cost, -np.inf)
    order = np.argsort(-ratio, kind="stable")
    cum = np.cumsum(np.where(a[order] > 0, cost[order], 0.0))
    return order, cum


def _check_propensities(propensities: Any) -> np.ndarray:
    e = np.asarray(propensities, dtype=np.float64).ravel()
    if e.size < 2 or not np.all((e > 0) & (e < 1)):
        raise ParameterError("propensities", list(e), "one probability per arm (control first, at least 2), "
                             "each strictly between 0 and 1")
    return e


def policy_terms(y: Any, arm: Any, assignment: Any, propensities: Any, *, mu: Any = None) -> np.ndarray:
    """Each customer's term of the value of ``assignment`` against giving nobody an offer.

    ``y`` is the observed outcome, ``arm`` the randomised arm code (0 = control), ``assignment`` the arm
    code the policy gives (0 = nothing), ``propensities`` each arm's known probability, ``mu`` (rows x
    arms) outcome predictions from models fitted on other customers: with it the terms are doubly robust
    (AIPW), without it inverse-propensity weighted. The value's estimate is the terms' mean.
    """
    yy = np.asarray(y, dtype=np.float64).ravel()
    n = yy.size
    e = _check_propensities(propensities)
    a = _check_arms(arm, n, e.size)
    d = _check_arms(assignment, n, e.size)
    got = (a == d).astype(np.float64)
    ctl = (a == 0).astype(np.float64)
    if mu is None:
        terms = got * yy / e[d] - ctl * yy / e[0]
    else:
        m = np.asarray(mu, dtype=np.float64)
        if m.shape != (n, e.size) or not np.isfinite(m).all():
            raise DataError(f"mu has shape {m.shape}; it needs ({n}, {e.size}), finite")
        rows = np.arange(n)
        md, m0 = m[rows, d], m[:, 0]
        terms = md - m0 + got * (yy - md) / e[d] - ctl * (yy - m0) / e[0]
    return np.where(d > 0, terms, 0.0)


@dataclass(frozen=True)
class TermValue:
    """Mean of per-customer terms with its normal interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    alpha: float

    def to_dict(self) -> dict[str, float]:
        """Plain values."""
        return asdict(self)


def term_value(terms: Any, *, alpha: float = 0.05, scale: float = 1.0) -> TermValue:
    """The mean of ``terms`` (times ``scale``, e.g. 1,000 for per 1,000 customers) with its interval."""
    t = np.asarray(terms, dtype=np.float64).ravel()
    if t.size < 2:
        raise DataError("a value needs at least 2 customers")
    if not 0 < alpha < 1:
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    z = float(sps.norm.ppf(1 - alpha / 2))
    est = float(t.mean()) * scale
    se = float(t.std(ddof=1) / math.sqrt(t.size)) * abs(scale)
    return TermValue(est, se, est - z * se, est + z * se, alpha)


@dataclass(frozen=True)
class TermComparison:
    """Policy a against policy b on the same customers: their difference and ratio, paired."""

    difference: TermValue
    ratio: float
    ratio_ci_low: float
    ratio_ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return {"difference": self.difference.to_dict(), "ratio": self.ratio,
                "ratio_ci_low": self.ratio_ci_low, "ratio_ci_high": self.ratio_ci_high}


def compare_terms(a: Any, b: Any, *, alpha: float = 0.05, scale: float = 1.0) -> TermComparison:
    """Difference (``a - b``) and ratio (``a / b``, delta method) of two policies' values."""
    ta, tb = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if ta.shape != tb.shape:
        raise DataError("both policies' terms are over the same customers")
    diff = term_value(ta - tb, alpha=alpha, scale=scale)
    vb = float(tb.mean())
    z = float(sps.norm.ppf(1 - alpha / 2))
    if vb == 0:
        return TermComparison(diff, float("nan"), float("nan"), float("nan"))
    ratio = float(ta.mean()) / vb
    r_se = float((ta - ratio * tb).std(ddof=1) / math.sqrt(ta.size) / abs(vb))
    return TermComparison(diff, ratio, ratio - z * r_se, ratio + z * r_se)


def budget_curve(uplift: Any, y: Any, arm: Any, propensities: Any, *, spend: Any = None, mu: Any = None,
                 budgets: Any = None, n_points: int = 41, alpha: float = 0.05) -> pl.DataFrame:
    """Value of the greedy assignment (:func:`assign_offers`) at each budget, with its interval.

    The multi-armed Qini with costs: customers are taken by predicted uplift per dollar of their best
    offer; at each budget (spend per customer, or share of customers without ``spend``) the policy treats
    the first of them whose predicted spend fits, and its value against no offer is the mean of their
    :func:`policy_terms`. Default budgets: ``n_points`` from 0 to what treating every customer with a
    positive predicted uplift costs.

    Returns columns ``budget``, ``treated_share``, ``estimate``, ``se``, ``ci_low``, ``ci_high`` (per
    customer; multiply for per 1,000).
    """
    u = np.asarray(uplift, dtype=np.float64)
    if u.ndim != 2:
        raise DataError("uplift is a rows x offers array")
    n = u.shape[0]
    rows = np.arange(n)
    best = np.argmax(u, axis=1)
    gain = u[rows, best]
    a = np.where(gain > 0, best + 1, 0)
    cost = _cost(spend, u)[rows, best]
    order, cum = _greedy_order(gain, cost, a)
    d = policy_terms(y, arm, a, propensities, mu=mu)[order]
    s1 = np.concatenate(([0.0], np.cumsum(d)))
    s2 = np.concatenate(([0.0], np.cumsum(d * d)))
    full = float(cum[-1]) / n if n else 0.0
    grid = (np.linspace(0.0, full, n_points) if budgets is None
            else np.asarray(budgets, dtype=np.float64).ravel())
    if (grid < 0).any() or not np.isfinite(grid).all():
        raise ParameterError("budgets", list(grid), "finite budgets >= 0")
    m = np.searchsorted(cum, grid * n + 1e-9, side="right")
    m = np.minimum(m, int(np.count_nonzero(a)))
    z = float(sps.norm.ppf(1 - alpha / 2))
    est = s1[m] / n
    var = np.maximum((s2[m] - s1[m] ** 2 / n) / (n - 1), 0.0)
    se = np.sqrt(var / n)
    return pl.DataFrame({"budget": grid, "treated_share": m / n, "estimate": est, "se": se,
                         "ci_low": est - z * se, "ci_high": est + z * se})
