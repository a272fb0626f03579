"""Interval coverage of the regression-adjusted and on-the-exposed effects over simulated experiments.

Arrays in (one row per simulated experiment), coverage out: each experiment goes through the same path
as ``experiments analyze`` (per-arm sums gathered by polars, then :func:`~experiments.stats.regression.
lin_effect`, :func:`~experiments.stats.cuped.cuped_effect`, :func:`~experiments.stats.exposed.
exposed_effect`), so the figures measure the code that analyses real files. Whoever simulates the
experiments knows the truth and passes it in; nothing here simulates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.stats.cuped import cuped_effect
from experiments.stats.effects import mean_effect
from experiments.stats.exposed import exposed_effect
from experiments.stats.regression import lin_effect, lin_products
from experiments.stats.sufficient import gather

__all__ = ["Coverage", "exposed_coverage", "lin_coverage"]


@dataclass(frozen=True)
class Coverage:
    """Share of intervals that hold the truth, with the mean estimate and mean interval width.

    ``widths`` holds the mean interval width of each estimator compared (``lin``, ``cuped``,
    ``unadjusted``; ``exposed``, ``itt``), ``covered`` the coverage of each, and ``covered_reference``
    their coverage of a second truth when one was given (e.g. the population's average effect when
    ``truth`` is each experiment's own).
    """

    n_experiments: int
    truth: float
    mean_estimate: float
    coverage: float
    mean_width: float
    widths: Mapping[str, float]
    covered: Mapping[str, float]
    covered_reference: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        d = asdict(self)
        d["widths"], d["covered"] = dict(self.widths), dict(self.covered)
        d["covered_reference"] = dict(self.covered_reference)
        return d


def _truths(truth: float | np.ndarray, n: int) -> np.ndarray:
    t = np.broadcast_to(np.asarray(truth, dtype=float), (n,))
    if not np.all(np.isfinite(t)):
        raise ParameterError("truth", truth, "finite numbers, one or one per experiment")
    return t


def _check(name: str, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(a)
    if a.shape[: len(shape)] != shape:
        raise ParameterError(name, f"shape {a.shape}", f"an array of shape {shape} (experiments x units)")
    return a


def _summary(estimates: dict[str, list[float]], lows: dict[str, list[float]], highs: dict[str, list[float]],
             truth: np.ndarray, main: str, reference: np.ndarray | None) -> Coverage:
    def covered(t: np.ndarray) -> dict[str, float]:
        return {k: float(np.mean((np.array(lows[k]) <= t) & (t <= np.array(highs[k])))) for k in estimates}

    widths = {k: float(np.mean(np.array(highs[k]) - np.array(lows[k]))) for k in estimates}
    hit = covered(truth)
    return Coverage(n_experiments=len(truth), truth=float(np.mean(truth)),
                    mean_estimate=float(np.mean(estimates[main])), coverage=hit[main],
                    mean_width=widths[main], widths=widths, covered=hit,
                    covered_reference=covered(reference) if reference is not None else {})


def lin_coverage(y: np.ndarray, treated: np.ndarray, covariates: np.ndarray, truth: float | np.ndarray, *,
                 alpha: float = 0.05, reference: float | np.ndarray | None = None) -> Coverage:
    """Coverage of Lin (2013)-adjusted intervals, beside CUPED on the first covariate and no adjustment.

    Parameters
    ----------
    y
        Outcomes, ``(experiments, units)``.
    treated
        0/1 assignment, same shape.
    covariates
        ``(experiments, units, k)`` pre-period covariates.
    truth
        The average effect each experiment estimates (a number, or one per experiment).
    alpha
        1 - confidence level.
    reference
        A second truth whose coverage is also measured (``covered_reference``).

    Returns
    -------
    Coverage
        ``coverage`` of the Lin intervals; ``widths`` and ``covered`` of ``lin``, ``cuped`` (first
        covariate) and ``unadjusted`` (difference of means).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ParameterError("y", f"shape {y.shape}", "an array of shape (experiments, units)")
    treated = _check("treated", treated, y.shape)
    x = _check("covariates", covariates, y.shape)
    if x.ndim != 3:
        raise ParameterError("covariates", f"shape {x.shape}", "an array of shape (experiments, units, k)")
    names = [f"x{j}" for j in range(x.shape[2])]
    est: dict[str, list[float]] = {"lin": [], "cuped": [], "unadjusted": []}
    low: dict[str, list[float]] = {k: [] for k in est}
    high: dict[str, list[float]] = {k: [] for k in est}
    for r in range(y.shape[0]):
        frame = pl.DataFrame({"arm": np.where(treated[r] == 1, "t", "c"), "y": y[r],
                              **{c: x[r, :, j] for j, c in enumerate(names)}})
        st = gather(frame, arm="arm", metrics=["y"], covariates=names, products=lin_products(["y"], names)
                    if len(names) > 1 else ())
        effects = {
            "lin": lin_effect(st, arm="t", control="c", metric="y", covariates=names, alpha=alpha),
            "cuped": cuped_effect(st, arm="t", control="c", metric="y", covariates=names[:1], alpha=alpha),
            "unadjusted": mean_effect(st.stats("t", "y"), st.stats("c", "y"), alpha=alpha),
        }
        for k, e in effects.items():
            est[k].append(e.estimate)
            low[k].append(e.ci_low)
            high[k].append(e.ci_high)
    n = y.shape[0]
    return _summary(est, low, high, _truths(truth, n), "lin",
                    None if reference is None else _truths(reference, n))


def exposed_coverage(y: np.ndarray, treated: np.ndarray, exposed: np.ndarray, truth: float | np.ndarray, *,
                     alpha: float = 0.05) -> Coverage:
    """Coverage of the effect-on-the-exposed intervals (2SLS), beside the intent-to-treat interval.

    Parameters
    ----------
    y, treated, exposed
        Outcomes, 0/1 assignment and 0/1 exposure, each ``(experiments, units)``.
    truth
        The effect on the exposed (compliers) each experiment estimates.
    alpha
        1 - confidence level.

    Returns
    -------
    Coverage
        ``coverage`` of the 2SLS intervals; ``widths`` and ``covered`` of ``exposed`` and ``itt`` (the
        latter against the same truth: it measures the effect on everyone assigned, so it misses).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ParameterError("y", f"shape {y.shape}", "an array of shape (experiments, units)")
    treated = _check("treated", treated, y.shape)
    exposed = _check("exposed", exposed, y.shape)
    est: dict[str, list[float]] = {"exposed": [], "itt": []}
    low: dict[str, list[float]] = {k: [] for k in est}
    high: dict[str, list[float]] = {k: [] for k in est}
    for r in range(y.shape[0]):
        frame = pl.DataFrame({"arm": np.where(treated[r] == 1, "t", "c"), "y": y[r],
                              "d": np.asarray(exposed[r], dtype=float)})
        st = gather(frame, arm="arm", metrics=["y", "d"], pairs=[("y", "d")])
        effects = {
            "exposed": exposed_effect(st, arm="t", control="c", metric="y", exposure="d", alpha=alpha),
            "itt": mean_effect(st.stats("t", "y"), st.stats("c", "y"), alpha=alpha),
        }
        for k, e in effects.items():
            est[k].append(e.estimate)
            low[k].append(e.ci_low)
            high[k].append(e.ci_high)
    return _summary(est, low, high, _truths(truth, y.shape[0]), "exposed", None)
