"""Retention curves (Kaplan-Meier) by group, the log-rank test and a Cox proportional-hazards model.

Thin wrappers over statsmodels' ``SurvfuncRight``, ``survdiff`` and ``PHReg`` that take numpy arrays
(or polars Series) and return frozen results with plain numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import ndtri
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from experiments.errors import DataError, FitError

__all__ = ["CoxResult", "RetentionCurves", "cox_ph", "retention_curves"]


def _arrays(durations, events) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events).astype(float)
    if d.shape != e.shape or d.ndim != 1 or d.size == 0:
        raise DataError("durations and events must be non-empty 1-d arrays of the same length")
    if not np.isfinite(d).all() or (d < 0).any():
        raise DataError("durations must be finite numbers >= 0")
    if not np.isin(e, (0.0, 1.0)).all():
        raise DataError("events must be 0/1 (1 = churned, 0 = still a customer, censored)")
    return d, e


@dataclass(frozen=True)
class RetentionCurves:
    """Kaplan-Meier retention by group, evaluated on a time grid, and the log-rank test."""

    frame: pl.DataFrame  # group, time, retention, ci_low, ci_high
    logrank_statistic: float
    logrank_p_value: float
    groups: tuple[str, ...]
    final_retention: tuple[float, ...]
    alpha: float
    method: str = "Kaplan-Meier (statsmodels SurvfuncRight), log-rank (survdiff)"

    def to_dict(self) -> dict[str, object]:
        return {
            "groups": list(self.groups),
            "final_retention": list(self.final_retention),
            "logrank_statistic": self.logrank_statistic,
            "logrank_p_value": self.logrank_p_value,
            "alpha": self.alpha,
            "method": self.method,
        }

    def to_frame(self) -> pl.DataFrame:
        return self.frame

    def summary(self) -> str:
        parts = ", ".join(f"{g} {r:.1%}" for g, r in zip(self.groups, self.final_retention, strict=True))
        return (
            f"Retention at the end: {parts}; log-rank chi2 {self.logrank_statistic:.2f}, "
            f"p={self.logrank_p_value:.3g}"
        )


def retention_curves(durations, events, groups, *, grid=None, alpha: float = 0.05) -> RetentionCurves:
    """Kaplan-Meier retention curve of each group with pointwise intervals, and the log-rank test.

    Parameters
    ----------
    durations, events
        Time to churn (or to the end of observation) and 1 = churned, 0 = censored.
    groups
        Group label of each customer (e.g. the arm).
    grid
        Times at which the curves are reported (default: 101 points from 0 to the largest duration).
    """
    d, e = _arrays(durations, events)
    g = np.asarray(groups).astype(str)
    if g.shape != d.shape:
        raise DataError("groups must have one label per customer")
    labels = tuple(sorted(set(g.tolist())))
    if len(labels) < 2:
        raise DataError("retention curves by group need at least 2 groups")
    grid = np.linspace(0.0, float(d.max()), 101) if grid is None else np.asarray(grid, float)
    z = float(ndtri(1 - alpha / 2))  # the normal quantile (scipy.stats.norm.ppf's own function)
    frames, finals = [], []
    for label in labels:
        sel = g == label
        sf = SurvfuncRight(d[sel], e[sel])
        times = sf.surv_times
        idx = np.searchsorted(times, grid, side="right") - 1
        surv = np.where(idx >= 0, sf.surv_prob[np.maximum(idx, 0)], 1.0)
        se = np.where(idx >= 0, sf.surv_prob_se[np.maximum(idx, 0)], 0.0)
        frames.append(
            pl.DataFrame(
                {
                    "group": [label] * grid.size,
                    "time": grid,
                    "retention": surv,
                    "ci_low": np.clip(surv - z * se, 0, 1),
                    "ci_high": np.clip(surv + z * se, 0, 1),
                }
            )
        )
        finals.append(float(surv[-1]))
    stat, p = survdiff(d, e, g)
    return RetentionCurves(
        frame=pl.concat(frames),
        logrank_statistic=float(stat),
        logrank_p_value=float(p),
        groups=labels,
        final_retention=tuple(finals),
        alpha=alpha,
    )


@dataclass(frozen=True)
class CoxResult:
    """Cox proportional-hazards fit: hazard ratio of each covariate with its interval."""

    names: tuple[str, ...]
    coefficients: tuple[float, ...]
    hazard_ratios: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    p_values: tuple[float, ...]
    n: int
    events: int
    alpha: float
    method: str = "Cox proportional hazards (statsmodels PHReg, Efron ties)"

    def hazard_ratio(self, name: str) -> float:
        return self.hazard_ratios[self.names.index(name)]

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "covariate": list(self.names),
                "hazard_ratio": list(self.hazard_ratios),
                "ci_low": list(self.ci_low),
                "ci_high": list(self.ci_high),
                "p_value": list(self.p_values),
            }
        )

    def summary(self) -> str:
        level = round(100 * (1 - self.alpha))
        return "; ".join(
            f"hazard ratio of {n} {h:.3f} ({level}% CI {lo:.3f} to {hi:.3f}, p={p:.3g})"
            for n, h, lo, hi, p in zip(
                self.names, self.hazard_ratios, self.ci_low, self.ci_high, self.p_values, strict=True
            )
        )


def cox_ph(durations, events, covariates: Mapping[str, object], *, alpha: float = 0.05) -> CoxResult:
    """Fit a Cox model of churn on ``covariates`` (name -> array, e.g. ``{"offer": arm == "offer"}``)."""
    d, e = _arrays(durations, events)
    if not covariates:
        raise DataError("the Cox model needs at least one covariate")
    names = tuple(covariates)
    x = np.column_stack([np.asarray(covariates[k], dtype=float) for k in names])
    if x.shape[0] != d.size or not np.isfinite(x).all():
        raise DataError("covariates must be finite and have one value per customer")
    if e.sum() == 0:
        raise DataError("no churn events: the Cox model cannot be fitted")
    try:
        res = PHReg(d, x, status=e, ties="efron").fit()
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise FitError(f"Cox model did not converge: {exc}") from None
    params = np.asarray(res.params)
    if not np.isfinite(params).all():
        raise FitError("Cox model did not converge (non-finite coefficients)")
    ci = np.asarray(res.conf_int(alpha=alpha))
    return CoxResult(
        names=names,
        coefficients=tuple(map(float, params)),
        hazard_ratios=tuple(map(float, np.exp(params))),
        ci_low=tuple(map(float, np.exp(ci[:, 0]))),
        ci_high=tuple(map(float, np.exp(ci[:, 1]))),
        p_values=tuple(map(float, np.asarray(res.pvalues))),
        n=int(d.size),
        events=int(e.sum()),
        alpha=alpha,
    )
