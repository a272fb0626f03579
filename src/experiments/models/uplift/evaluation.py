"""Uplift scores judged on a randomised sample: Qini against random, uplift by bin, policy value.

- :func:`qini_vs_random`: the Qini coefficient with a bootstrap over customers. Customers are sorted
  once; each resample is a vector of how often each customer is drawn (multinomial counts, one
  ``numpy`` stream per resample spawned from ``seed``), applied as weights to the sorted order, so no
  resample is ever sorted or built. A resample's coefficient equals scikit-uplift's ``qini_auc_score``
  on the rows repeated that many times (tested).
- :func:`uplift_by_bin`: difference of mean outcome per bin of the ranking (deciles by default), with
  Welch intervals from :func:`experiments.stats.effects.mean_effect`.
- :func:`policy_value` and :func:`profit_curve`: incremental profit of treating the top share, by
  inverse-propensity weighting, with the analytic variance of that mean.
- :func:`compare_policies`: two policies (any two sets of customers to treat) on the same sample: the
  paired difference of their profits and the ratio, with intervals.

Ranks use scikit-uplift's order (descending score; among equal scores, the later row first).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy import stats as sps

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.metrics import qini_auc_score
from experiments.models.uplift.ranking import check_arrays, descending_order, is_binary
from experiments.models.uplift.results import (
    BinUplift,
    PolicyComparison,
    PolicyValue,
    ProfitCurve,
    QiniResult,
    UpliftByBin,
)
from experiments.stats.effects import mean_effect
from experiments.stats.sufficient import SampleStats

__all__ = ["compare_policies", "policy_value", "profit_curve", "qini_vs_random", "rank_order",
           "uplift_by_bin"]

_F = np.float64
_CHUNK_CELLS = 8_000_000  # resamples x customers held at once (about 64 MB per array)


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    return float(alpha)


def rank_order(score: np.ndarray) -> np.ndarray:
    """Positions by descending score, later rows first among equal scores (scikit-uplift's order)."""
    return np.argsort(score, kind="stable")[::-1]


# ------------------------------------------------------------------------------------ Qini bootstrap


def _area(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Trapezoid area of each row's curve, the origin (0, 0) prepended, as ``numpy.trapezoid`` sums it."""
    first = x[:, 0] * q[:, 0] / 2.0
    dx = x[:, 1:] - x[:, :-1]
    q_sum = q[:, 1:] + q[:, :-1]
    dx *= q_sum
    dx /= 2.0
    return first + dx.sum(axis=1)


def _weighted_qini(w: np.ndarray, y_sorted: np.ndarray, t_sorted: np.ndarray,
                   ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area under the Qini curve and its last value for each row of weights ``w`` (in sorted order).

    ``w`` is overwritten.
    """
    x = np.cumsum(w, axis=1)
    wt = w * t_sorted
    n_t = np.cumsum(wt, axis=1)
    wt *= y_sorted
    y_t = np.cumsum(wt, axis=1)
    w *= y_sorted
    w -= wt
    del wt
    y_c = np.cumsum(w, axis=1)
    if ends.size != y_sorted.size:
        x, n_t, y_t, y_c = x[:, ends], n_t[:, ends], y_t[:, ends], y_c[:, ends]
    n_c = x - n_t
    np.divide(n_t, n_c, out=n_t, where=n_c != 0)
    n_t[n_c == 0] = 0.0
    y_c *= n_t
    y_t -= y_c
    return _area(x, y_t), y_t[:, -1].copy()


def _perfect_binary(counts: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area under the perfect Qini curve and its end, from weighted cell counts (binary outcome).

    ``cells`` is the customers x 4 indicator of treated responder, treated non-responder, control
    non-responder, control responder; the perfect order takes them in that order (scores 1, 0, 0, -1).
    """
    c = counts @ cells
    zero = np.zeros(len(c))
    # three groups of the perfect score: (treated responders), (non-responders), (control responders)
    n_t = np.cumsum(np.stack([c[:, 0], c[:, 1], zero], axis=1), axis=1)
    n_c = np.cumsum(np.stack([zero, c[:, 2], c[:, 3]], axis=1), axis=1)
    y_t = np.repeat(c[:, [0]], 3, axis=1)
    y_c = np.stack([zero, zero, c[:, 3]], axis=1)
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c != 0)
    q = y_t - y_c * ratio
    return _area(n_t + n_c, q), q[:, -1]


class _QiniBootstrap:
    """Customers sorted once by score (and by the perfect score); Qini coefficients of weighted resamples.

    Resamples are given as counts per customer **in the sorted order** (:attr:`order`).
    """

    def __init__(self, y: np.ndarray, s: np.ndarray, t: np.ndarray) -> None:
        self.order = descending_order(s)
        s_sorted = s[self.order]
        self.ends = np.append(np.flatnonzero(np.diff(s_sorted)), s.size - 1)
        self.y, t_sorted = y[self.order], t[self.order]
        self.t = t_sorted.astype(_F)
        self.binary = is_binary(y)
        if self.binary:
            code = np.where(t_sorted, np.where(self.y == 1, 0, 1), np.where(self.y == 1, 3, 2))
            self.cells = (code[:, None] == np.arange(4)[None, :]).astype(_F)
        else:
            p_score = self.y * self.t - self.y * (1 - self.t)
            self.p_order = descending_order(p_score)  # positions in the sorted order
            self.p_ends = np.append(np.flatnonzero(np.diff(p_score[self.p_order])), s.size - 1)
            self.p_y, self.p_t = self.y[self.p_order], self.t[self.p_order]

    def replicates(self, blocks: Any) -> np.ndarray:
        """Qini coefficients of each row of each block of counts (resamples x customers, sorted order)."""
        out = []
        for block in blocks:
            w = np.array(block, dtype=_F)
            total = w.sum(axis=1)
            if self.binary:
                p_area, p_end = _perfect_binary(w, self.cells)
            else:
                p_area, p_end = _weighted_qini(w[:, self.p_order], self.p_y, self.p_t, self.p_ends)
            area, _ = _weighted_qini(w, self.y, self.t, self.ends)
            base = total * p_end / 2.0
            with np.errstate(divide="ignore", invalid="ignore"):
                out.append((area - base) / (p_area - base))
        return np.concatenate(out) if out else np.empty(0)


def _count_blocks(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Multinomial counts of ``n`` draws among ``n`` customers, one stream per resample, in blocks."""
    streams = np.random.SeedSequence(seed).spawn(n_resamples)
    per = max(1, min(n_resamples, _CHUNK_CELLS // max(n, 1)))
    for start in range(0, n_resamples, per):
        block = np.empty((min(per, n_resamples - start), n), dtype=_F)
        for i, ss in enumerate(streams[start:start + block.shape[0]]):
            rng = np.random.default_rng(ss)
            block[i] = np.bincount(rng.integers(0, n, size=n), minlength=n)
        yield block


def qini_vs_random(
    y_true: Any,
    uplift: Any,
    treatment: Any,
    *,
    n_resamples: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> QiniResult:
    """Qini coefficient of a ranking against a random one (0), with a bootstrap over customers.

    Parameters
    ----------
    y_true, uplift, treatment
        Outcome (binary or continuous), score and treatment (0/1) of each customer of a randomised sample.
    n_resamples
        Bootstrap resamples (at least 20).
    alpha
        One minus the interval's level.
    seed
        Seed of the resampling (one stream per resample, so numbers do not depend on the block size).

    Returns
    -------
    QiniResult
        scikit-uplift's ``qini_auc_score`` with its percentile interval and bootstrap p-value.
    """
    alpha = _check_alpha(alpha)
    if isinstance(n_resamples, bool) or not (isinstance(n_resamples, int) and n_resamples >= 20):
        raise ParameterError("n_resamples", n_resamples, "an integer >= 20")
    if isinstance(seed, bool) or not (isinstance(seed, int) and seed >= 0):
        raise ParameterError("seed", seed, "an integer >= 0")
    y, s, t = check_arrays(y_true, uplift, treatment)
    estimate = qini_auc_score(y, s, t)
    draws = _QiniBootstrap(y, s, t).replicates(_count_blocks(y.size, n_resamples, seed))
    draws = draws[np.isfinite(draws)]
    if draws.size < 2:
        raise DataError("the Qini coefficient is undefined in the resamples (no effect to normalise by)")
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    p = min(1.0, 2 * min(float(np.mean(draws <= 0)), float(np.mean(draws >= 0))))
    return QiniResult(
        estimate=estimate, se=float(np.std(draws, ddof=1)), ci_low=float(low), ci_high=float(high),
        p_value=p, method="bootstrap over customers (percentile interval)", alpha=alpha,
        n_rows=int(y.size), n_resamples=int(draws.size), seed=seed,
    )


# ------------------------------------------------------------------------------------ uplift by bin


def uplift_by_bin(
    y_true: Any, uplift: Any, treatment: Any, *, bins: int = 10, alpha: float = 0.05
) -> UpliftByBin:
    """Difference of mean outcome (treated − control) in equal-size bins of the score ranking.

    Bin 1 holds the highest scores; sizes differ by at most one (``numpy.array_split``); customers with
    equal scores on a bin edge are split by scikit-uplift's order. Each bin's interval and p-value are
    Welch's (:func:`experiments.stats.effects.mean_effect`); a bin with fewer than two customers in an
    arm gets ``nan``.
    """
    alpha = _check_alpha(alpha)
    y, s, t = check_arrays(y_true, uplift, treatment)
    n = y.size
    if isinstance(bins, bool) or not (isinstance(bins, int) and 1 <= bins <= n):
        raise ParameterError("bins", bins, f"an integer from 1 to the number of customers ({n})")
    sizes = np.full(bins, n // bins)
    sizes[: n % bins] += 1
    edges = np.concatenate(([0], np.cumsum(sizes)))
    which = np.empty(n, dtype=np.int64)
    which[rank_order(s)] = np.repeat(np.arange(bins), sizes)

    def sums(mask: np.ndarray, values: np.ndarray | None) -> np.ndarray:
        return np.bincount(which[mask], weights=None if values is None else values[mask], minlength=bins)

    stats = {}
    for arm, mask in (("t", t), ("c", ~t)):
        stats[arm] = (sums(mask, None), sums(mask, y), sums(mask, y * y))
    score_mean = np.bincount(which, weights=s, minlength=bins) / sizes
    rows = []
    nan = float("nan")
    for b in range(bins):
        st = SampleStats(int(stats["t"][0][b]), float(stats["t"][1][b]), float(stats["t"][2][b]))
        sc = SampleStats(int(stats["c"][0][b]), float(stats["c"][1][b]), float(stats["c"][2][b]))
        if st.n >= 2 and sc.n >= 2:
            e = mean_effect(st, sc, alpha=alpha)
            est, se, lo, hi, p = e.estimate, e.se, e.ci_low, e.ci_high, e.p_value
        else:
            est = st.mean - sc.mean if st.n and sc.n else nan
            se = lo = hi = p = nan
        rows.append(BinUplift(
            bin=b + 1, share_from=float(edges[b] / n), share_to=float(edges[b + 1] / n),
            n_treatment=st.n, n_control=sc.n, mean_treatment=st.mean, mean_control=sc.mean,
            mean_score=float(score_mean[b]), estimate=float(est), se=float(se), ci_low=float(lo),
            ci_high=float(hi), p_value=float(p), method="Welch t", alpha=alpha,
        ))
    return UpliftByBin(rows=tuple(rows), alpha=alpha)


# ------------------------------------------------------------------------------------ policy value


def _propensity(propensity: Any, t: np.ndarray) -> np.ndarray | float:
    if propensity is None:
        return float(np.count_nonzero(t) / t.size)
    if np.ndim(propensity) == 0:
        p = float(propensity)
        if not (0 < p < 1):
            raise ParameterError("propensity", propensity, "a probability strictly between 0 and 1")
        return p
    arr = np.asarray(propensity, dtype=_F).ravel()
    if arr.size != t.size or not np.all((arr > 0) & (arr < 1)):
        raise ParameterError("propensity", f"array of {arr.size}",
                             f"{t.size} probabilities strictly between 0 and 1, or one")
    return arr


def _gain_terms(y: np.ndarray, t: np.ndarray, p: np.ndarray | float, value: float, cost: float) -> np.ndarray:
    """Per customer, the IPW profit term of treating them: ``value * Z - cost``."""
    z = np.where(t, y / p, -y / (1 - p))
    return value * z - cost


def _check_money(name: str, x: float) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise ParameterError(name, x, "a finite number")
    return float(x)


def _targeted(share: float, n: int) -> int:
    return min(n, int(share * n + 1e-7))


def _points(
    y_true: Any, uplift: Any, treatment: Any, shares: np.ndarray, *, value_per_outcome: float,
    cost_per_treated: float, propensity: Any, alpha: float,
) -> list[PolicyValue]:
    """:func:`policy_value` at each of ``shares``, the arguments checked in the order of the signature."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    value = _check_money("value_per_outcome", value_per_outcome)
    cost = _check_money("cost_per_treated", cost_per_treated)
    alpha = _check_alpha(alpha)
    p = _propensity(propensity, t)
    d = _gain_terms(y, t, p, value, cost)[rank_order(s)]
    n = y.size
    s1 = np.concatenate(([0.0], np.cumsum(d)))
    s2 = np.concatenate(([0.0], np.cumsum(d * d)))
    z = float(sps.norm.ppf(1 - alpha / 2))
    p_mean = float(np.mean(p))
    out = []
    for share in shares:
        m = _targeted(float(share), n)
        est = float(s1[m] / n)
        var = max((s2[m] - s1[m] ** 2 / n) / (n - 1), 0.0) if n > 1 else float("nan")
        se = math.sqrt(var / n)
        pval = float(2 * sps.norm.sf(abs(est / se))) if se > 0 else float("nan")
        out.append(PolicyValue(
            share=float(share), n_rows=n, n_targeted=m, estimate=float(est), se=se, ci_low=est - z * se,
            ci_high=est + z * se, p_value=pval, method="inverse-propensity weighting (normal interval)",
            alpha=alpha, value_per_outcome=value, cost_per_treated=cost, propensity=p_mean,
        ))
    return out


def policy_value(
    y_true: Any,
    uplift: Any,
    treatment: Any,
    *,
    share: float,
    value_per_outcome: float = 1.0,
    cost_per_treated: float = 0.0,
    propensity: Any = None,
    alpha: float = 0.05,
) -> PolicyValue:
    """Incremental profit per customer of treating the top ``share`` by score, against treating nobody.

    Parameters
    ----------
    y_true, uplift, treatment
        Outcome, score and treatment (0/1) of each customer of a randomised evaluation sample.
    share
        Share of customers treated, in [0, 1] (the first ``int(share * n)`` by score).
    value_per_outcome
        Money per unit of outcome (per conversion for a binary outcome).
    cost_per_treated
        Money spent per treated customer.
    propensity
        Probability of treatment in the experiment: one number or one per customer; by default the
        observed share of treated customers.
    alpha
        One minus the interval's level.
    """
    if isinstance(share, bool) or not (isinstance(share, int | float) and 0 <= share <= 1):
        raise ParameterError("share", share, "a share from 0 to 1")
    return _points(y_true, uplift, treatment, np.array([float(share)]), value_per_outcome=value_per_outcome,
                   cost_per_treated=cost_per_treated, propensity=propensity, alpha=alpha)[0]


def profit_curve(
    y_true: Any,
    uplift: Any,
    treatment: Any,
    *,
    value_per_outcome: float = 1.0,
    cost_per_treated: float = 0.0,
    propensity: Any = None,
    n_points: int = 101,
    alpha: float = 0.05,
) -> ProfitCurve:
    """:func:`policy_value` at ``n_points`` evenly spaced shares from 0 to 1, and the best of them.

    Share 0 is treating nobody (profit 0), share 1 treating everyone.
    """
    if isinstance(n_points, bool) or not (isinstance(n_points, int) and 2 <= n_points <= 10_001):
        raise ParameterError("n_points", n_points, "an integer from 2 to 10001")
    pts = _points(y_true, uplift, treatment, np.linspace(0.0, 1.0, n_points),
                  value_per_outcome=value_per_outcome, cost_per_treated=cost_per_treated,
                  propensity=propensity, alpha=alpha)
    best = int(np.argmax([pt.estimate for pt in pts]))
    return ProfitCurve(points=tuple(pts), best_index=best)


def _mask(name: str, treat: Any, n: int) -> np.ndarray:
    mask = np.asarray(treat).ravel()
    if mask.dtype != np.bool_ or mask.size != n:
        raise ParameterError(name, f"{mask.dtype} array of {mask.size}", f"{n} true/false values")
    return mask


def compare_policies(
    y_true: Any,
    treatment: Any,
    treat_a: Any,
    treat_b: Any,
    *,
    value_per_outcome: float = 1.0,
    cost_per_treated: float = 0.0,
    propensity: Any = None,
    alpha: float = 0.05,
) -> PolicyComparison:
    """Policy ``a`` against policy ``b`` on one randomised sample: difference and ratio of their profits.

    Each policy's profit per customer is the inverse-propensity mean of :func:`policy_value`
    (``mean(pi_i g_i)`` with ``g_i = value * Z_i - cost``); both use the same customers, so their
    difference is the mean of ``(pi_a - pi_b) g_i`` and its interval is that paired mean's, much
    narrower than two separate intervals. The ratio's interval is the delta method's:
    ``var(pi_a g - R pi_b g) / (n mean(pi_b g)^2)``.

    Parameters
    ----------
    y_true, treatment
        Outcome and treatment (0/1) of each customer of a randomised evaluation sample.
    treat_a, treat_b
        Whom each policy treats: one boolean per customer.
    value_per_outcome, cost_per_treated, propensity, alpha
        As in :func:`policy_value`.
    """
    alpha = _check_alpha(alpha)
    y, _, t = check_arrays(y_true, np.zeros(np.asarray(y_true).size), treatment)
    n = y.size
    a, b = _mask("treat_a", treat_a, n), _mask("treat_b", treat_b, n)
    g = _gain_terms(y, t, _propensity(propensity, t), _check_money("value_per_outcome", value_per_outcome),
                    _check_money("cost_per_treated", cost_per_treated))
    ga, gb = np.where(a, g, 0.0), np.where(b, g, 0.0)
    va, vb = float(ga.mean()), float(gb.mean())
    z = float(sps.norm.ppf(1 - alpha / 2))
    nan = float("nan")
    d = ga - gb
    est = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else nan
    p = float(2 * sps.norm.sf(abs(est / se))) if se > 0 else nan
    if vb != 0 and n > 1:
        ratio = va / vb
        r_se = float((ga - ratio * gb).std(ddof=1) / math.sqrt(n) / abs(vb))
    else:
        ratio = r_se = nan
    return PolicyComparison(
        n_rows=n, share_a=float(a.mean()), share_b=float(b.mean()), value_a=va, value_b=vb, estimate=est,
        se=se, ci_low=est - z * se, ci_high=est + z * se, p_value=p, ratio=ratio, ratio_se=r_se,
        ratio_ci_low=ratio - z * r_se, ratio_ci_high=ratio + z * r_se,
        method="inverse-propensity weighting, paired (normal interval; delta method for the ratio)",
        alpha=alpha,
    )
