"""Sequential monitoring that stays valid however often you look: the mixture SPRT (mSPRT).

Johari, Koomen, Pekelis and Walsh (2017/2022), "Always valid inference: continuous monitoring of A/B
tests". At each look the difference of means ``d`` has (asymptotically normal) variance
``V = s_t^2/n_t + s_c^2/n_c``. Mixing the likelihood ratio of ``theta`` against 0 over a normal prior
``theta ~ N(0, tau^2)`` gives

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 d^2 / (2 V (V + tau^2))),

a test martingale under the null, so ``p_n = min(p_{n-1}, 1 / Lambda_n)`` is an always-valid p-value:
``P(any p_n <= alpha) <= alpha`` under no effect, whatever the looks. Inverting the same statistic at
every ``theta`` gives the confidence sequence

    d ± sqrt(V (V + tau^2) / tau^2 * (2 log(1/alpha) + log((V + tau^2)/V))),

intersected over looks (running max of the lower, min of the upper end).

``tau`` sets which effects are detected fastest. Left as None it is chosen from the design, not the
outcome: ``tau^2 = 10 V_N``, ten times the variance of the estimate at the final look, near the value
that minimises the final-look rejection threshold (|z| ~ 3.04 at alpha 0.05).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats as sps

from experiments.errors import DataError, ParameterError
from experiments.stats.results import _plain
from experiments.stats.sufficient import SampleStats

__all__ = [
    "LOOK_COLUMNS",
    "SequentialResult",
    "always_valid_pvalues",
    "confidence_sequence",
    "msprt",
    "naive_looks",
]

#: Columns of a frame of looks (ASOS naming): cumulative count, mean and variance per arm.
LOOK_COLUMNS: tuple[str, ...] = ("count_t", "mean_t", "variance_t", "count_c", "mean_c", "variance_c")
_TAU_FACTOR = 10.0

Looks = pl.DataFrame | Sequence[tuple[SampleStats, SampleStats]]


def _log_lambda(diff: np.ndarray, var: np.ndarray, tau2: float | np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log(var / (var + tau2)) + tau2 * diff**2 / (2 * var * (var + tau2))


def always_valid_pvalues(diff: np.ndarray, var: np.ndarray, *, tau2: float) -> np.ndarray:
    """Always-valid p-values of the normal-mixture SPRT along the last axis (the looks).

    Parameters
    ----------
    diff, var
        Arrays of the same shape, e.g. ``(replications, looks)``: the cumulative difference of means
        and its variance at each look.
    tau2
        Variance of the normal mixing distribution (> 0).

    Returns
    -------
    numpy.ndarray
        Same shape; non-increasing along the last axis, in (0, 1]. Looks with a non-positive or
        non-finite variance carry the previous value (1 at the start).
    """
    if not (tau2 > 0 and math.isfinite(tau2)):
        raise ParameterError("tau2", tau2, "a finite number > 0")
    diff, var = np.broadcast_arrays(np.asarray(diff, dtype=float), np.asarray(var, dtype=float))
    log_lam = _log_lambda(diff, var, tau2)
    log_lam = np.where(np.isfinite(log_lam) & (var > 0), log_lam, -np.inf)
    p = np.exp(-np.maximum(log_lam, 0.0))
    return np.minimum.accumulate(p, axis=-1)


def confidence_sequence(
    diff: np.ndarray, var: np.ndarray, *, tau2: float, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Running-intersection confidence sequence ``(low, high)`` for the difference (last axis = looks)."""
    diff, var = np.broadcast_arrays(np.asarray(diff, dtype=float), np.asarray(var, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.sqrt(var * (var + tau2) / tau2 * (2 * math.log(1 / alpha) + np.log((var + tau2) / var)))
    ok = np.isfinite(half) & (var > 0)
    low = np.where(ok, diff - half, -np.inf)
    high = np.where(ok, diff + half, np.inf)
    return np.maximum.accumulate(low, axis=-1), np.minimum.accumulate(high, axis=-1)


def _first_at_most(p_values: Sequence[float], alpha: float) -> int | None:
    """Index of the first p-value <= ``alpha`` (None if none is)."""
    return next((i for i, p in enumerate(p_values) if p <= alpha), None)


@dataclass(frozen=True)
class SequentialResult:
    """Look-by-look mSPRT: always-valid p-values and confidence sequence of the difference of means."""

    n_arm: tuple[int, ...]
    n_control: tuple[int, ...]
    estimate: tuple[float, ...]
    se: tuple[float, ...]
    p_value: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    naive_p_value: tuple[float, ...]
    tau: float
    alpha: float
    method: str = "mSPRT (normal mixture), Johari et al."
    metric: str | None = None
    arm: str | None = None
    control: str | None = None

    @property
    def looks(self) -> int:
        """Number of looks."""
        return len(self.estimate)

    @property
    def rejected_at(self) -> int | None:
        """Index of the first look whose always-valid p-value is <= alpha (None if never)."""
        return _first_at_most(self.p_value, self.alpha)

    @property
    def naive_rejected_at(self) -> int | None:
        """First look where the fixed-horizon p-value is <= alpha (what peeking would conclude)."""
        return _first_at_most(self.naive_p_value, self.alpha)

    def to_frame(self) -> pl.DataFrame:
        """One row per look."""
        return pl.DataFrame({
            "look": list(range(self.looks)), "n_arm": list(self.n_arm), "n_control": list(self.n_control),
            "estimate": list(self.estimate), "se": list(self.se), "p_value": list(self.p_value),
            "ci_low": list(self.ci_low), "ci_high": list(self.ci_high),
            "naive_p_value": list(self.naive_p_value),
        })

    def to_dict(self) -> dict[str, Any]:
        """Final look's numbers plus the look-by-look lists (JSON-ready)."""
        last = self.looks - 1
        return {
            "metric": self.metric, "arm": self.arm, "control": self.control, "looks": self.looks,
            "estimate": _plain(self.estimate[last]), "diff": _plain(self.estimate[last]),
            "ci_low": _plain(self.ci_low[last]), "ci_high": _plain(self.ci_high[last]),
            "p_value": _plain(self.p_value[last]),
            "naive_p_value": _plain(self.naive_p_value[last]), "rejected_at": self.rejected_at,
            "naive_rejected_at": self.naive_rejected_at, "tau": _plain(self.tau), "alpha": self.alpha,
            "method": self.method,
            "by_look": {k: [_plain(float(v)) for v in vals] for k, vals in self.to_frame().to_dict(
                as_series=False).items() if k != "look"},
        }

    def summary(self) -> str:
        """One readable line."""
        last = self.looks - 1
        level = round(100 * (1 - self.alpha))
        when = "never" if self.rejected_at is None else f"at look {self.rejected_at + 1}"
        return (
            f"after {self.looks} looks: diff {self.estimate[last]:+.4g} (always-valid {level}% CI "
            f"{self.ci_low[last]:+.4g} to {self.ci_high[last]:+.4g}), always-valid p = "
            f"{self.p_value[last]:.3g}; significant {when} (naive peeking: "
            f"{'never' if self.naive_rejected_at is None else f'look {self.naive_rejected_at + 1}'})"
        )


def _arrays(looks: Looks) -> tuple[np.ndarray, ...]:
    if isinstance(looks, pl.DataFrame):
        absent = [c for c in LOOK_COLUMNS if c not in looks.columns]
        if absent:
            raise DataError(f"looks frame lacks columns {absent}; it needs {list(LOOK_COLUMNS)}")
        cols = [looks[c].cast(pl.Float64).to_numpy() for c in LOOK_COLUMNS]
        nt, mt, vt, nc, mc, vc = cols
    else:
        pairs = list(looks)
        nt = np.array([t.n for t, _ in pairs], dtype=float)
        mt = np.array([t.mean for t, _ in pairs])
        vt = np.array([t.variance for t, _ in pairs])
        nc = np.array([c.n for _, c in pairs], dtype=float)
        mc = np.array([c.mean for _, c in pairs])
        vc = np.array([c.variance for _, c in pairs])
    if len(nt) == 0:
        raise DataError("sequential test needs at least one look")
    return nt, mt, vt, nc, mc, vc


def naive_looks(looks: Looks, *, alpha: float = 0.05) -> pl.DataFrame:
    """The fixed-horizon (z test) p-value and interval at each look: what naive peeking reports."""
    nt, mt, vt, nc, mc, vc = _arrays(looks)
    diff = mt - mc
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(vt / nt + vc / nc)
        p = 2 * sps.norm.sf(np.abs(diff / se))
    z = sps.norm.ppf(1 - alpha / 2)
    return pl.DataFrame({"look": np.arange(len(diff)), "diff": diff, "se": se, "p_value": p,
                         "ci_low": diff - z * se, "ci_high": diff + z * se})


def msprt(
    looks: Looks,
    *,
    alpha: float = 0.05,
    tau: float | None = None,
    metric: str | None = None,
    arm: str | None = None,
    control: str | None = None,
) -> SequentialResult:
    """Mixture SPRT on cumulative per-arm statistics at each look (see the module docstring).

    Parameters
    ----------
    looks
        Either a polars frame with :data:`LOOK_COLUMNS` (one row per look, in time order) or a sequence
        of ``(treatment, control)`` :class:`SampleStats`, cumulative at each look.
    alpha
        Error rate held over all looks.
    tau
        Standard deviation of the mixing distribution of the effect (same units as the metric);
        default ``sqrt(10 V_N)``.
    """
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    nt, mt, vt, nc, mc, vc = _arrays(looks)
    diff = mt - mc
    with np.errstate(divide="ignore", invalid="ignore"):
        var = vt / nt + vc / nc
    if tau is None:
        finite = var[np.isfinite(var) & (var > 0)]
        if finite.size == 0:
            raise DataError("no look has a positive variance: nothing to test")
        tau2 = _TAU_FACTOR * float(finite[-1])
    else:
        if not (isinstance(tau, int | float) and tau > 0 and math.isfinite(tau)):
            raise ParameterError("tau", tau, "a finite number > 0")
        tau2 = float(tau) ** 2
    p = always_valid_pvalues(diff, var, tau2=tau2)
    low, high = confidence_sequence(diff, var, tau2=tau2, alpha=alpha)
    naive = naive_looks(looks, alpha=alpha)["p_value"].to_numpy()
    return SequentialResult(
        n_arm=tuple(int(x) for x in nt), n_control=tuple(int(x) for x in nc),
        estimate=tuple(float(x) for x in diff), se=tuple(float(x) for x in np.sqrt(var)),
        p_value=tuple(float(x) for x in p), ci_low=tuple(float(x) for x in low),
        ci_high=tuple(float(x) for x in high), naive_p_value=tuple(float(x) for x in naive),
        tau=math.sqrt(tau2), alpha=float(alpha), metric=metric, arm=arm, control=control,
    )
