"""Effects of independently randomised factors (a factorial design) and of each pair's interaction.

Each unit is on or off for each factor, independently (e.g. each customer held out of each channel).
One ``group_by`` over the factors' indicators gives the cells' sufficient statistics (count, mean and
variance of each metric); everything else combines cells:

- a factor's effect is the difference in means between units with it on and off (the other factors as
  randomised): the coefficient of ``y ~ 1 + x`` by least squares, with the HC2 robust standard error,
  which for a binary regressor is ``sqrt(s_on² / n_on + s_off² / n_off)``;
- a pair's interaction is ``ȳ11 - ȳ10 - ȳ01 + ȳ00`` over the 2 × 2 cells of the two factors: the
  coefficient of ``x_a × x_b`` in the saturated ``y ~ 1 + x_a + x_b + x_a x_b``, whose HC2 standard
  error is ``sqrt(Σ s²_cell / n_cell)``.

Both equal statsmodels ``OLS(...).fit(cov_type="HC2")`` (tested); intervals and p-values are normal,
as statsmodels gives them for a robust covariance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl
from scipy import stats as st

from experiments.errors import DataError
from experiments.plain import plain

__all__ = ["FactorEffect", "FactorialResult", "PairInteraction", "factorial_effects"]

_METHOD_EFFECT = "difference in means, HC2 (Neyman) standard error"
_METHOD_PAIR = "2 x 2 interaction contrast, HC2 standard error"


@dataclass(frozen=True)
class FactorEffect:
    """Effect of turning one factor on, on one metric, per unit."""

    factor: str
    metric: str
    n_on: int
    n_off: int
    mean_on: float
    mean_off: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float = 0.05
    method: str = _METHOD_EFFECT

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (non-finite numbers as None)."""
        return {k: plain(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class PairInteraction:
    """Interaction of two factors on one metric, per unit: ``ȳ11 - ȳ10 - ȳ01 + ȳ00``."""

    first: str
    second: str
    metric: str
    n_cells: tuple[int, int, int, int]  # units in cells 11, 10, 01, 00
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float = 0.05
    method: str = _METHOD_PAIR

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (non-finite numbers as None)."""
        return {k: plain(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class FactorialResult:
    """Every factor's effect and every pair's interaction, on every metric."""

    factors: tuple[str, ...]
    metrics: tuple[str, ...]
    effects: tuple[FactorEffect, ...]
    interactions: tuple[PairInteraction, ...]
    alpha: float = 0.05

    def effect(self, factor: str, metric: str) -> FactorEffect:
        """The effect of ``factor`` on ``metric``."""
        for e in self.effects:
            if e.factor == factor and e.metric == metric:
                return e
        raise DataError(f"no effect for factor {factor!r} and metric {metric!r}")

    def interaction(self, first: str, second: str, metric: str) -> PairInteraction:
        """The interaction of ``first`` and ``second`` on ``metric``."""
        for i in self.interactions:
            if {i.first, i.second} == {first, second} and i.metric == metric:
                return i
        raise DataError(f"no interaction for {first!r} and {second!r} on {metric!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"factors": list(self.factors), "metrics": list(self.metrics), "alpha": self.alpha,
                "effects": [e.to_dict() for e in self.effects],
                "interactions": [i.to_dict() for i in self.interactions]}

    def to_frame(self) -> pl.DataFrame:
        """One row per effect and interaction: ``term, metric, estimate, se, ci_low, ci_high, p_value``."""
        rows = [{"term": e.factor, "metric": e.metric, "estimate": e.estimate, "se": e.se,
                 "ci_low": e.ci_low, "ci_high": e.ci_high, "p_value": e.p_value} for e in self.effects]
        rows += [{"term": f"{i.first}:{i.second}", "metric": i.metric, "estimate": i.estimate, "se": i.se,
                  "ci_low": i.ci_low, "ci_high": i.ci_high, "p_value": i.p_value} for i in self.interactions]
        return pl.DataFrame(rows)


def _pool(n: np.ndarray, mean: np.ndarray, var: np.ndarray) -> tuple[int, float, float]:
    """Count, mean and sample variance of the union of cells (``var`` of a one-unit cell is ignored)."""
    total = int(n.sum())
    if total == 0:
        return 0, math.nan, math.nan
    m = float((n * mean).sum() / total)
    m2 = float((np.where(n > 1, (n - 1) * var, 0.0) + n * (mean - m) ** 2).sum())
    return total, m, m2 / (total - 1) if total > 1 else math.nan


def _interval(estimate: float, se: float, alpha: float) -> tuple[float, float, float]:
    z = st.norm.ppf(1 - alpha / 2)
    p = float(2 * st.norm.sf(abs(estimate / se))) if se > 0 else math.nan
    return estimate - z * se, estimate + z * se, p


def factorial_effects(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    factors: Mapping[str, str],
    metrics: Sequence[str],
    alpha: float = 0.05,
) -> FactorialResult:
    """Every factor's effect and every pair's interaction, from one pass of cell statistics.

    Parameters
    ----------
    frame
        One row per unit.
    factors
        Factor name → a Boolean column, true where the factor is on for the unit.
    metrics
        Numeric outcome columns.
    alpha
        1 − the intervals' level.

    Returns
    -------
    FactorialResult
        Effects per factor and metric, interactions per pair of factors (in ``factors`` order) and metric.
    """
    names = list(factors)
    if not names:
        raise DataError("no factors to analyse")
    keys = [f"_f{k}" for k in range(len(names))]
    aggs = [pl.len().alias("_n")]
    for j, m in enumerate(metrics):
        aggs += [pl.col(m).cast(pl.Float64).mean().alias(f"_m{j}"),
                 pl.col(m).cast(pl.Float64).var().fill_null(0.0).alias(f"_v{j}")]
    cells = (frame.lazy()
             .select(*[pl.col(c).cast(pl.Boolean).alias(k) for c, k in zip(factors.values(), keys,
                                                                             strict=True)],
                     *[pl.col(m) for m in metrics])
             .group_by(keys).agg(aggs).collect())
    on = {name: cells[k].to_numpy().astype(bool) for name, k in zip(names, keys, strict=True)}
    n = cells["_n"].to_numpy().astype(np.float64)
    effects, interactions = [], []
    for j, metric in enumerate(metrics):
        mean, var = cells[f"_m{j}"].to_numpy(), cells[f"_v{j}"].to_numpy()
        for name in names:
            x = on[name]
            n1, m1, v1 = _pool(n[x], mean[x], var[x])
            n0, m0, v0 = _pool(n[~x], mean[~x], var[~x])
            if n1 < 2 or n0 < 2:
                raise DataError(f"factor {name!r} needs at least 2 units on and 2 off; has {n1} and {n0}")
            est, se = m1 - m0, math.sqrt(v1 / n1 + v0 / n0)
            low, high, p = _interval(est, se, alpha)
            effects.append(FactorEffect(name, metric, n1, n0, m1, m0, est, se, low, high, p, alpha))
        for a, b in combinations(names, 2):
            parts = []
            for xa, xb in ((True, True), (True, False), (False, True), (False, False)):
                rows = (on[a] == xa) & (on[b] == xb)
                parts.append(_pool(n[rows], mean[rows], var[rows]))
            if min(c[0] for c in parts) < 2:
                raise DataError(f"factors {a!r} and {b!r} need at least 2 units in each of their 4 cells")
            (n11, y11, v11), (n10, y10, v10), (n01, y01, v01), (n00, y00, v00) = parts
            est = y11 - y10 - y01 + y00
            se = math.sqrt(v11 / n11 + v10 / n10 + v01 / n01 + v00 / n00)
            low, high, p = _interval(est, se, alpha)
            interactions.append(PairInteraction(a, b, metric, (n11, n10, n01, n00), est, se, low, high, p,
                                                alpha))
    return FactorialResult(tuple(names), tuple(metrics), tuple(effects), tuple(interactions), alpha)
