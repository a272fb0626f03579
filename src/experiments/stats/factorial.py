"""Effects of a factorial randomised design, from the cells' sufficient statistics.

Each unit is on or off for each factor, independently (a customer held out of each channel, offered
each lever), so the units fall into up to ``2**k`` cells. One ``group_by`` over the factors gives each
cell's count, mean and unbiased variance of every metric (:func:`cell_statistics`); every estimand is a
contrast of cell means, ``Σ w_g ȳ_g``, with the HC2 variance ``Σ w_g² s_g² / n_g``
(:func:`weighted_contrast`):

- the saturated OLS regression of the outcome on the cells' indicators fits each cell's mean, and its
  HC2 covariance is diagonal with ``s_g² / n_g`` per cell (a unit's leverage is ``1 / n_g``, so HC2's
  ``e² / (1 - h)`` summed over the cell and divided by ``n_g²`` is the cell's unbiased variance over its
  size). A factor's effect with every other factor on, a pair's interaction, a lever's main effect
  averaged over the others (equal weights, the coefficient of a centred lever) and the whole plan (all on
  against all off) are such contrasts;
- a factor's effect pooled over the others as randomised (:func:`pooled_effect`) is the difference in
  means of the units with it on and off: the cells pooled by that factor alone (:meth:`FactorialCells.pooled`)
  and contrasted ``+1, -1``, the coefficient of ``y ~ 1 + x`` with its HC2 (Welch, Neyman) standard error
  ``sqrt(s_on² / n_on + s_off² / n_off)``; a pair's interaction pooled over the other factors likewise
  contrasts the pair's four pooled cells.

The pooled effect and the effect with the others on are different estimands when factors interact; the
pooled one is more precise. Intervals are normal (``z``), as statsmodels gives them for a robust
covariance; the tests hold estimates, standard errors and p-values to ``OLS(y, X).fit(cov_type="HC2")``
on the rows, to 1e-9 relative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.exact_sums import group_sums
from experiments.stats.results import TestedDifference
from experiments.stats.special import ndtr, ndtri

__all__ = ["CONTRAST_METHOD", "POOLED_METHOD", "CellMoments", "FactorialCells", "FactorialContrast",
           "cell_statistics", "contrast_frame", "pooled_effect", "weighted_contrast"]

#: Method label of a contrast of cell means.
CONTRAST_METHOD = "saturated factorial OLS, HC2"
#: Method label of a factor's effect pooled over the others.
POOLED_METHOD = "difference in means, HC2 (Neyman) standard error"

Cell = frozenset[str]


@dataclass(frozen=True)
class CellMoments:
    """Count, mean and unbiased variance (NaN below 2 units) of one metric in one cell."""

    n: int
    mean: float
    variance: float


@dataclass(frozen=True)
class FactorialCells:
    """Sufficient statistics of every metric in every cell, a cell keyed by the set of factors on."""

    factors: tuple[str, ...]
    metrics: tuple[str, ...]
    cells: Mapping[Cell, Mapping[str, CellMoments]]

    def __getitem__(self, on: Cell) -> Mapping[str, CellMoments]:
        return self.cells[on]

    def counts(self) -> dict[Cell, int]:
        """Units per cell (one metric's count: every metric is counted on every unit)."""
        return {g: next(iter(m.values())).n if m else 0 for g, m in self.cells.items()}

    def units(self, factor: str, *, on: bool) -> int:
        """Units with ``factor`` on (or off)."""
        return sum(n for g, n in self.counts().items() if (factor in g) == on)

    def pooled(self, factors: Sequence[str]) -> FactorialCells:
        """The cells of ``factors`` alone, each pooling the cells of the other factors (the union of their
        units: count, mean and unbiased variance)."""
        unknown = [f for f in factors if f not in self.factors]
        if unknown:
            raise ParameterError("factors", ",".join(unknown),
                                 f"factors of the design: {', '.join(self.factors)}")
        keep = frozenset(factors)
        groups: dict[Cell, list[Cell]] = {}
        for g in self.cells:
            groups.setdefault(g & keep, []).append(g)
        out: dict[Cell, dict[str, CellMoments]] = {}
        for key, members in groups.items():
            out[key] = {}
            for m in self.metrics:
                n = np.array([self.cells[g][m].n for g in members], dtype=np.float64)
                mean = np.array([self.cells[g][m].mean for g in members])
                var = np.array([self.cells[g][m].variance for g in members])
                out[key][m] = _pool(n, mean, var)
        return FactorialCells(tuple(factors), self.metrics, out)


@dataclass(frozen=True)
class FactorialContrast(TestedDifference):
    """One contrast of cell means on one metric, per unit (times ``scale`` when given): a factor's
    effect, a main effect, a pair's interaction or the total."""

    term: str
    kind: str
    metric: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    n_min: int
    method: str = CONTRAST_METHOD
    alpha: float = 0.05
    p_value_adjusted: float | None = None

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval."""
        return self.ci_low <= value <= self.ci_high

    def to_frame(self) -> pl.DataFrame:
        """One-row polars frame."""
        return contrast_frame([self])

    def summary(self) -> str:
        """One readable line."""
        level = round(100 * (1 - self.alpha))
        return (f"{self.term} ({self.kind}, {self.metric}): {self.estimate:+.4g} ({level}% CI "
                f"{self.ci_low:+.4g} to {self.ci_high:+.4g}), p = {self.p_value:.3g} [{self.method}]")


def _pool(n: np.ndarray, mean: np.ndarray, var: np.ndarray) -> CellMoments:
    """Count, mean and sample variance of the union of cells (``var`` of a one-unit cell is ignored)."""
    total = int(n.sum())
    if total == 0:
        return CellMoments(0, math.nan, math.nan)
    m = float((n * mean).sum() / total)
    m2 = float((np.where(n > 1, (n - 1) * np.nan_to_num(var), 0.0) + n * (mean - m) ** 2).sum())
    return CellMoments(total, m, m2 / (total - 1) if total > 1 else math.nan)


def cell_statistics(frame: pl.DataFrame | pl.LazyFrame, *, factors: Mapping[str, str] | Sequence[str],
                    metrics: Sequence[str]) -> FactorialCells:
    """Count, mean and unbiased variance of every metric in every cell, from one ``group_by``.

    Parameters
    ----------
    frame
        One row per unit.
    factors
        Factor name -> a Boolean column, true where the factor is on for the unit (or the column names,
        naming the factors).
    metrics
        Numeric outcome columns.

    Raises
    ------
    DataError
        A column missing, or no factor.
    """
    factors = dict(factors) if isinstance(factors, Mapping) else {f: f for f in factors}
    if not factors:
        raise DataError("no factors to analyse")
    lazy = frame.lazy()
    names = lazy.collect_schema().names()
    for col in [*factors.values(), *metrics]:
        if col not in names:
            raise DataError(f"column {col!r} not found; columns: {', '.join(names)}")
    keys = [f"_f{k}" for k in range(len(factors))]
    base = lazy.select(*[pl.col(c).cast(pl.Boolean).alias(k) for c, k in zip(factors.values(), keys,
                                                                              strict=True)],
                       *[pl.col(m).cast(pl.Float64).alias(f"_y{j}") for j, m in enumerate(metrics)])
    # Two passes of order-free sums (the cell means, then the squared deviations from them), so the
    # statistics are the same bits whatever the number of threads.
    firsts = group_sums(base, keys, {f"_s{j}": pl.col(f"_y{j}") for j in range(len(metrics))},
                        aggs=[pl.len().alias("_n")])
    firsts = firsts.with_columns(pl.col(f"_s{j}") / pl.col("_n") for j in range(len(metrics)))
    means = firsts.rename({f"_s{j}": f"_m{j}" for j in range(len(metrics))})
    squares = group_sums(base.join(means.lazy().drop("_n"), on=keys), keys,
                         {f"_v{j}": (pl.col(f"_y{j}") - pl.col(f"_m{j}")) ** 2
                          for j in range(len(metrics))})
    rows = means.join(squares, on=keys).with_columns(
        pl.when(pl.col("_n") > 1).then(pl.col(f"_v{j}") / (pl.col("_n") - 1)).otherwise(None)
        .alias(f"_v{j}") for j in range(len(metrics)))
    names_ = list(factors)
    cells: dict[Cell, dict[str, CellMoments]] = {}
    for row in rows.iter_rows(named=True):
        on = frozenset(f for f, k in zip(names_, keys, strict=True) if row[k])
        cells[on] = {m: CellMoments(int(row["_n"]), float(row[f"_m{j}"]),
                                    math.nan if row[f"_v{j}"] is None else float(row[f"_v{j}"]))
                     for j, m in enumerate(metrics)}
    return FactorialCells(tuple(names_), tuple(metrics), cells)


def _cell_name(cells: FactorialCells, g: Cell) -> str:
    return ", ".join(f"{f}={'on' if f in g else 'off'}" for f in cells.factors)


def weighted_contrast(cells: FactorialCells, weights: Mapping[Cell, float], *, metric: str, term: str,
                      kind: str, alpha: float = 0.05, scale: float = 1.0,
                      method: str = CONTRAST_METHOD) -> FactorialContrast:
    """``Σ w_g ȳ_g`` over cells, with the HC2 standard error ``sqrt(Σ w_g² s_g² / n_g)``.

    Parameters
    ----------
    cells
        :func:`cell_statistics` (or its :meth:`FactorialCells.pooled` cells).
    weights
        Cell (the set of factors on) -> weight.
    metric, term, kind
        The metric contrasted, and the contrast's name and kind (carried into the result).
    alpha
        Two-sided level of the interval.
    scale
        Multiplies the estimate, the standard error and the interval's ends (per unit by default).

    Raises
    ------
    ParameterError
        ``alpha`` outside ``(0, 1)`` or ``metric`` not gathered.
    DataError
        A weighted cell with fewer than 2 units.
    """
    if not 0 < alpha < 1:
        raise ParameterError("alpha", alpha, "a number in (0, 1)")
    if metric not in cells.metrics:
        raise ParameterError("metric", metric, f"one of {', '.join(cells.metrics)}")
    for g in weights:
        n = cells.cells[g][metric].n if g in cells.cells else 0
        if n < 2:
            raise DataError(f"factorial cell {_cell_name(cells, g)} needs at least 2 units; it has {n}")
    used = {g: cells.cells[g][metric] for g in weights}
    estimate = float(sum(w * used[g].mean for g, w in weights.items()))
    variance = float(sum(w * w * used[g].variance / used[g].n for g, w in weights.items()))
    se = math.sqrt(variance) if variance >= 0 else math.nan
    z = float(ndtri(1 - alpha / 2))
    stat = estimate / se if se > 0 else math.nan
    p = float(2 * ndtr(-abs(stat))) if math.isfinite(stat) else math.nan
    return FactorialContrast(term=term, kind=kind, metric=metric, estimate=scale * estimate, se=scale * se,
                             ci_low=scale * (estimate - z * se), ci_high=scale * (estimate + z * se),
                             statistic=stat, p_value=p, n_min=min(c.n for c in used.values()),
                             method=method, alpha=alpha)


def pooled_effect(cells: FactorialCells, factor: str, *, metric: str, alpha: float = 0.05
                  ) -> FactorialContrast:
    """A factor's effect pooled over the other factors as randomised: the difference in means of the
    units with it on and off, with the HC2 (Welch) standard error of ``y ~ 1 + x``."""
    on = cells.pooled((factor,))
    return weighted_contrast(on, {frozenset((factor,)): 1.0, frozenset(): -1.0}, metric=metric, term=factor,
                             kind="pooled", alpha=alpha, method=POOLED_METHOD)


def contrast_frame(contrasts: Sequence[FactorialContrast]) -> pl.DataFrame:
    """The contrasts as a polars frame, one row each."""
    return pl.DataFrame([c.to_dict() for c in contrasts]).with_columns(
        pl.col(c).cast(pl.Float64) for c in ("estimate", "se", "ci_low", "ci_high", "statistic", "p_value"))
