"""Main effects and interaction of a randomised 2 x 2 design, from per-cell sufficient statistics.

Units fall into four cells by two levers ``a`` and ``b``, each on or off. The OLS regression of the
outcome on the centred indicators ``a - 1/2``, ``b - 1/2`` and their product is saturated (it fits each
cell's mean), and its coefficients are the contrasts of the cell means

- main effect of ``a``: ``((ab - b) + (a - none)) / 2`` (its effect averaged over ``b`` off and on),
- main effect of ``b``: likewise,
- interaction: ``(ab - b) - (a - none)`` (positive: the levers help each other).

The heteroskedasticity-robust HC2 covariance of a saturated regression is diagonal in the cells with
``s_g**2 / n_g`` per cell (a unit's leverage is ``1 / n_g``), so each contrast's variance is the sum of
its squared weights times those terms, computed from counts, sums and sums of squares gathered by one
``group_by``. Intervals are normal (``z``), as statsmodels gives for a robust covariance; the tests hold
estimates, standard errors and p-values to ``OLS(y, X).fit(cov_type="HC2")`` on the rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.stats.results import TestedDifference, plain_value
from experiments.stats.special import ndtr, ndtri
from experiments.stats.sufficient import SampleStats

__all__ = ["METHOD", "LeverEffect", "cell_statistics", "two_by_two"]

#: Method label of every contrast.
METHOD = "2 x 2 factorial OLS (centred levers), HC2"

Term = Literal["main", "interaction"]
#: The four cells as (a on, b on).
_CELLS = ((False, False), (True, False), (False, True), (True, True))


@dataclass(frozen=True)
class LeverEffect(TestedDifference):
    """One contrast of a 2 x 2 design: a lever's main effect or the two levers' interaction, per unit."""

    lever: str
    term: Term
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    n_min: int
    method: str = METHOD
    alpha: float = 0.05
    p_value_adjusted: float | None = None

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval."""
        return self.ci_low <= value <= self.ci_high

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready: non-finite numbers become ``None``)."""
        return {k: plain_value(v) for k, v in asdict(self).items()}

    def summary(self) -> str:
        """One readable line."""
        level = round(100 * (1 - self.alpha))
        return (f"{self.lever} ({self.term}): {self.estimate:+.4g} ({level}% CI {self.ci_low:+.4g} to "
                f"{self.ci_high:+.4g}), p = {self.p_value:.3g} [{self.method}]")


def cell_statistics(frame: pl.DataFrame | pl.LazyFrame, outcome: str, a: str, b: str
                    ) -> dict[tuple[bool, bool], SampleStats]:
    """Count, sum and sum of squares of ``outcome`` per cell of the boolean columns ``a`` and ``b``."""
    lazy = frame.lazy()
    names = lazy.collect_schema().names()
    for col in (outcome, a, b):
        if col not in names:
            raise DataError(f"column {col!r} not found; columns: {', '.join(names)}")
    y = pl.col(outcome).cast(pl.Float64)
    rows = (lazy.group_by(pl.col(a).cast(pl.Boolean), pl.col(b).cast(pl.Boolean))
            .agg(n=pl.len(), s=y.sum(), ss=(y * y).sum()).collect())
    return {(bool(ra), bool(rb)): SampleStats(int(n), float(s), float(ss))
            for ra, rb, n, s, ss in rows.iter_rows()}


def _contrast(lever: str, term: Term, weights: Mapping[tuple[bool, bool], float],
              cells: Mapping[tuple[bool, bool], SampleStats], alpha: float) -> LeverEffect:
    estimate = float(sum(w * cells[g].mean for g, w in weights.items()))
    se = math.sqrt(sum(w * w * cells[g].variance / cells[g].n for g, w in weights.items()))
    z = float(ndtri(1 - alpha / 2))
    stat = estimate / se if se > 0 else float("nan")
    p = float(2 * ndtr(-abs(stat))) if math.isfinite(stat) else float("nan")
    return LeverEffect(lever=lever, term=term, estimate=estimate, se=se, ci_low=estimate - z * se,
                       ci_high=estimate + z * se, statistic=stat, p_value=p,
                       n_min=min(c.n for c in cells.values()), alpha=alpha)


def two_by_two(cells: Mapping[tuple[bool, bool], SampleStats], *, a: str = "a", b: str = "b",
               alpha: float = 0.05) -> tuple[LeverEffect, LeverEffect, LeverEffect]:
    """Main effect of ``a``, main effect of ``b`` and their interaction, with HC2 intervals.

    Parameters
    ----------
    cells
        Sufficient statistics per cell, keyed by ``(a on, b on)`` (:func:`cell_statistics`).
    a, b
        Names of the two levers (the interaction is named ``"a x b"``).
    alpha
        Two-sided level of the intervals.

    Raises
    ------
    ParameterError
        ``alpha`` outside ``(0, 1)``.
    DataError
        A cell with fewer than 2 units.
    """
    if not 0 < alpha < 1:
        raise ParameterError("alpha", alpha, "a number in (0, 1)")
    for g in _CELLS:
        n = cells[g].n if g in cells else 0
        if n < 2:
            raise DataError(f"cell {a}={'on' if g[0] else 'off'}, {b}={'on' if g[1] else 'off'} needs at "
                            f"least 2 units; it has {n}")
    none, only_a, only_b, both = _CELLS
    return (
        _contrast(a, "main", {none: -0.5, only_a: 0.5, only_b: -0.5, both: 0.5}, cells, alpha),
        _contrast(b, "main", {none: -0.5, only_a: -0.5, only_b: 0.5, both: 0.5}, cells, alpha),
        _contrast(f"{a} x {b}", "interaction", {none: 1.0, only_a: -1.0, only_b: -1.0, both: 1.0}, cells,
                  alpha),
    )
