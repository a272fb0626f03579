"""Effects and interactions of a full factorial holdout, from per-cell sufficient statistics.

In a factorial holdout every unit is held out of each factor (a channel, an offer) independently, so
the units fall into ``2**k`` cells, one per subset of factors held out. The saturated OLS regression of
the outcome on the cells' indicators (equivalently on the exposure indicators and all their products)
fits each cell's mean; its heteroskedasticity-robust HC2 covariance is diagonal with ``s_g**2 / n_g``
per cell (the leverage of a unit in cell ``g`` is ``1 / n_g``, so HC2's ``e**2 / (1 - h)`` summed over
the cell and divided by ``n_g**2`` is the cell's unbiased variance over its size). Every quantity of the
plan is a contrast of cell means, with its variance the weighted sum of those terms:

- a factor's effect with every other factor on: ``mean(none held) - mean(factor held)``;
- a pair's interaction with the others on: ``mean(none) - mean(a) - mean(b) + mean(a and b)``
  (positive: the two help each other);
- the total of the plan: ``mean(none) - mean(all held)``.

These are the effects at the plan (every other factor on), what switching one channel off the plan
does; :func:`experiments.stats.factorial.factorial_effects` gives instead each factor's effect averaged
over the design's mix of the others (more precise, a different estimand when factors interact).

Intervals are normal (``z``), as statsmodels gives for a robust covariance; the tests hold the
estimates and standard errors to ``OLS(y, X).fit(cov_type="HC2").t_test(...)`` on the rows, with ``X``
the exposure indicators and all their products, to 1e-9 relative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any, Literal

import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.plain import plain
from experiments.stats.results import TestedDifference
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import SampleStats

__all__ = ["FACTORIAL_METHOD", "FactorialContrast", "factorial_contrasts", "factorial_frame"]

#: Method label of every contrast.
FACTORIAL_METHOD = "saturated factorial OLS, HC2"

Kind = Literal["factor", "pair", "total"]


@dataclass(frozen=True)
class FactorialContrast(TestedDifference):
    """One contrast of a factorial holdout: a factor's effect, a pair's interaction or the total,
    per unit (times ``scale``, e.g. the customers of the plan)."""

    term: str
    kind: Kind
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    n_min: int
    method: str = FACTORIAL_METHOD
    alpha: float = 0.05
    p_value_adjusted: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready: non-finite numbers become ``None``)."""
        return {k: plain(v) for k, v in asdict(self).items()}

    def to_frame(self) -> pl.DataFrame:
        """One-row polars frame."""
        return factorial_frame([self])

    def summary(self) -> str:
        """One readable line."""
        level = round(100 * (1 - self.alpha))
        return (f"{self.term} ({self.kind}): {self.estimate:+.4g} ({level}% CI {self.ci_low:+.4g} to "
                f"{self.ci_high:+.4g}), p = {self.p_value:.3g} [{self.method}]")


def _contrast(term: str, kind: Kind, weights: Mapping[frozenset[str], float],
              cells: Mapping[frozenset[str], SampleStats], alpha: float, scale: float) -> FactorialContrast:
    estimate = sum(w * cells[g].mean for g, w in weights.items())
    variance = sum(w * w * cells[g].variance / cells[g].n for g, w in weights.items())
    se = math.sqrt(variance) if variance >= 0 else float("nan")
    z = ndtri(1 - alpha / 2)
    stat = estimate / se if se > 0 else float("nan")
    p = 2 * ndtr(-abs(stat)) if math.isfinite(stat) else float("nan")
    return FactorialContrast(
        term=term, kind=kind, estimate=scale * estimate, se=scale * se, ci_low=scale * (estimate - z * se),
        ci_high=scale * (estimate + z * se), statistic=stat, p_value=p,
        n_min=min(cells[g].n for g in weights), alpha=alpha)


def factorial_contrasts(
    cells: Mapping[frozenset[str], SampleStats], factors: Sequence[str], *, alpha: float = 0.05,
    scale: float = 1.0,
) -> list[FactorialContrast]:
    """Each factor's effect, each pair's interaction and the total, with HC2 intervals.

    Parameters
    ----------
    cells
        Sufficient statistics of the outcome per cell, keyed by the set of factors held out (the empty
        set: exposed to everything).
    factors
        The factors, in the order of the output.
    alpha
        Two-sided level of the intervals.
    scale
        Multiplies estimates, standard errors and interval ends (per unit by default; the plan's units
        for totals).

    Returns
    -------
    list of FactorialContrast
        Factors, then pairs (``"a x b"``), then ``"total"``.

    Raises
    ------
    ParameterError
        ``alpha`` outside ``(0, 1)`` or no factor.
    DataError
        A cell the contrasts need has fewer than 2 units.
    """
    if not 0 < alpha < 1:
        raise ParameterError("alpha", alpha, "a number in (0, 1)")
    if not factors:
        raise ParameterError("factors", "", "at least one factor")
    none = frozenset()
    needed = [none, frozenset(factors), *(frozenset((f,)) for f in factors),
              *(frozenset(p) for p in combinations(factors, 2))]
    for g in needed:
        if g not in cells or cells[g].n < 2:
            name = "+".join(sorted(g)) or "none"
            raise DataError(f"factorial cell {name!r} (held out of that) needs at least 2 units; "
                            f"it has {cells[g].n if g in cells else 0}")
    out = [_contrast(f, "factor", {none: 1.0, frozenset((f,)): -1.0}, cells, alpha, scale) for f in factors]
    out += [_contrast(f"{a} x {b}", "pair", {none: 1.0, frozenset((a,)): -1.0, frozenset((b,)): -1.0,
                                              frozenset((a, b)): 1.0}, cells, alpha, scale)
            for a, b in combinations(factors, 2)]
    if len(factors) > 1:
        out.append(_contrast("total", "total", {none: 1.0, frozenset(factors): -1.0}, cells, alpha, scale))
    return out


def factorial_frame(contrasts: Sequence[FactorialContrast]) -> pl.DataFrame:
    """The contrasts as a polars frame, one row each."""
    return pl.DataFrame([c.to_dict() for c in contrasts]).with_columns(
        pl.col(c).cast(pl.Float64) for c in ("estimate", "se", "ci_low", "ci_high", "statistic", "p_value"))
