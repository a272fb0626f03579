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

Asymptotic confidence sequence (Waudby-Smith, Wu, Ramdas, Karampatziakis and Mineiro 2023,
"Time-uniform central limit theory and asymptotic confidence sequences", eq. 9 of arXiv 2103.06476v7;
the normal-mixture boundary of Howard, Ramdas, McAuliffe and Sekhon 2021), as GrowthBook
(gbstats ``SequentialTwoSidedTTest``) and Eppo run it. With ``N = n_t + n_c`` units so far and
``sigma^2 = N V`` the variance per unit, re-estimated at every look,

    d ± sigma * sqrt(2 (N rho^2 + 1) / (N^2 rho^2) * log(sqrt(N rho^2 + 1) / alpha)),

    rho^2 = (-2 log(alpha) + log(-2 log(alpha) + 1)) / N*        (their eq. 161),

``rho`` chosen so the boundary is tightest at the planned total sample size ``N*``. Its e-value
``exp(rho^2 N z^2 / (2 (N rho^2 + 1))) / sqrt(N rho^2 + 1)`` (``z = d / sqrt(V)``, their eq. 155) gives
the always-valid p-value. It is the mSPRT boundary with ``tau^2 = rho^2 sigma^2``: the two differ in
the tuning (``N* rho^2 = 7.94`` at alpha 0.05 against ``tau^2 = 10 V_N``) and in that the sequence
rescales with the variance estimated at each look; its guarantee is asymptotic (large ``N``).
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
from experiments.plain import plain
from experiments.stats.sufficient import SampleStats

__all__ = [
    "LOOK_COLUMNS",
    "SequentialResult",
    "always_valid_pvalues",
    "asymptotic_confidence_sequence",
    "asymptotic_pvalues",
    "confidence_sequence",
    "msprt",
    "naive_looks",
    "tuning_rho",
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


def tuning_rho(alpha: float, planned_n: float) -> float:
    """Mixing parameter ``rho`` of the asymptotic confidence sequence, tightest at ``planned_n`` units.

    ``rho^2 = (-2 log(alpha) + log(-2 log(alpha) + 1)) / planned_n`` (Waudby-Smith et al. 2023, eq. 161;
    gbstats ``SequentialTwoSidedTTest.rho`` with ``sequential_tuning_parameter = planned_n``).
    """
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    if not (isinstance(planned_n, int | float) and math.isfinite(planned_n) and planned_n >= 2):
        raise ParameterError("planned_n", planned_n, "a planned total sample size >= 2")
    la = -2 * math.log(alpha)
    return math.sqrt((la + math.log(la + 1)) / planned_n)


def _cs_parts(var: np.ndarray, n: np.ndarray, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """``N rho^2 + 1`` and ``sigma^2 = N V`` per look (non-finite where a look has no variance)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return n * rho**2 + 1, np.where(var > 0, var * n, np.nan)


def asymptotic_confidence_sequence(
    diff: np.ndarray, var: np.ndarray, n: np.ndarray, *, rho: float, alpha: float = 0.05,
    intersect: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Asymptotic confidence sequence ``(low, high)`` of the difference (last axis = looks).

    Parameters
    ----------
    diff, var
        Difference of means and its variance at each look (broadcastable arrays).
    n
        Units in both arms together at each look (``N`` of the module docstring).
    rho
        Mixing parameter, e.g. :func:`tuning_rho`.
    intersect
        Running intersection over looks (still a confidence sequence, never wider); False gives
        each look's boundary as published (and as gbstats reports it).
    """
    if not (isinstance(rho, int | float) and rho > 0 and math.isfinite(rho)):
        raise ParameterError("rho", rho, "a finite number > 0")
    diff, var, n = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (diff, var, n)))
    a, sigma2 = _cs_parts(var, n, rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.sqrt(sigma2 * 2 * a / (n * rho) ** 2 * np.log(np.sqrt(a) / alpha))
    ok = np.isfinite(half)
    low = np.where(ok, diff - half, -np.inf)
    high = np.where(ok, diff + half, np.inf)
    if not intersect:
        return low, high
    return np.maximum.accumulate(low, axis=-1), np.minimum.accumulate(high, axis=-1)


def asymptotic_pvalues(diff: np.ndarray, var: np.ndarray, n: np.ndarray, *, rho: float,
                       running: bool = True) -> np.ndarray:
    """Always-valid p-values of the asymptotic confidence sequence (last axis = looks).

    ``1 / e-value`` capped at 1 (gbstats' p-value at each look); with ``running`` (default) the running
    minimum over looks, which is ``<= alpha`` exactly from the first look whose sequence excludes 0.
    """
    if not (isinstance(rho, int | float) and rho > 0 and math.isfinite(rho)):
        raise ParameterError("rho", rho, "a finite number > 0")
    diff, var, n = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (diff, var, n)))
    a, _ = _cs_parts(var, n, rho)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z2 = diff**2 / var
        log_e = rho**2 * n * z2 / (2 * a) - 0.5 * np.log(a)
    log_e = np.where(np.isfinite(log_e) & (var > 0), log_e, -np.inf)
    p = np.exp(-np.maximum(log_e, 0.0))
    return np.minimum.accumulate(p, axis=-1) if running else p


def _first_at_most(p_values: Sequence[float], alpha: float) -> int | None:
    """Index of the first p-value <= ``alpha`` (None if none is)."""
    return next((i for i, p in enumerate(p_values) if p <= alpha), None)


@dataclass(frozen=True)
class SequentialResult:
    """Look-by-look mSPRT and asymptotic confidence sequence of the difference of means (always valid)."""

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
    cs_low: tuple[float, ...] = ()
    cs_high: tuple[float, ...] = ()
    cs_p_value: tuple[float, ...] = ()
    planned_n: int | None = None
    rho: float | None = None
    cs_method: str = "asymptotic confidence sequence, Waudby-Smith et al. 2023"
    look_labels: tuple[str, ...] = ()
    look_column: str | None = None
    look_every: str | None = None

    @property
    def looks(self) -> int:
        """Number of looks."""
        return len(self.estimate)

    @property
    def rejected_at(self) -> int | None:
        """Index of the first look whose always-valid p-value is <= alpha (None if never)."""
        return _first_at_most(self.p_value, self.alpha)

    @property
    def cs_rejected_at(self) -> int | None:
        """Index of the first look whose confidence sequence excludes 0 (None if never or not computed)."""
        return _first_at_most(self.cs_p_value, self.alpha)

    @property
    def decision(self) -> str:
        """What the confidence sequence lets one conclude at the last look.

        ``"positive"`` or ``"negative"`` once it excludes 0 (the experiment may stop: the sign holds
        whatever the looks), else ``"inconclusive"`` (keep collecting up to the planned size);
        ``"inconsistent"`` when the running intersection is empty (:attr:`cs_empty_at`): no single fixed
        effect fits all the looks, so the sequence supports no decision.
        """
        if not self.cs_low:
            return "inconclusive"
        if self.cs_empty_at is not None:
            return "inconsistent"
        if self.cs_low[-1] > 0:
            return "positive"
        return "negative" if self.cs_high[-1] < 0 else "inconclusive"

    @property
    def cs_empty_at(self) -> int | None:
        """First look where the confidence sequence, intersected over the looks, is empty (low > high):
        the looks contradict one fixed effect (an effect that changes over time, or looks that are not
        cumulative statistics of the same units). None if never or not computed."""
        return next((i for i, (lo, hi) in enumerate(zip(self.cs_low, self.cs_high, strict=True)) if lo > hi),
                    None)

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
            **({"cs_low": list(self.cs_low), "cs_high": list(self.cs_high),
                "cs_p_value": list(self.cs_p_value)} if self.cs_low else {}),
        })

    def to_dict(self) -> dict[str, Any]:
        """Final look's numbers plus the look-by-look lists (JSON-ready)."""
        last = self.looks - 1
        return {
            "metric": self.metric, "arm": self.arm, "control": self.control, "looks": self.looks,
            "estimate": plain(self.estimate[last]), "diff": plain(self.estimate[last]),
            "ci_low": plain(self.ci_low[last]), "ci_high": plain(self.ci_high[last]),
            "p_value": plain(self.p_value[last]),
            "naive_p_value": plain(self.naive_p_value[last]), "rejected_at": self.rejected_at,
            "naive_rejected_at": self.naive_rejected_at, "tau": plain(self.tau), "alpha": self.alpha,
            "method": self.method,
            **({"look_column": self.look_column, "look_every": self.look_every,
                "look_labels": list(self.look_labels)} if self.look_labels else {}),
            **({"confidence_sequence": {
                "method": self.cs_method, "planned_n": self.planned_n, "rho": plain(self.rho),
                "ci_low": plain(self.cs_low[last]), "ci_high": plain(self.cs_high[last]),
                "p_value": plain(self.cs_p_value[last]), "rejected_at": self.cs_rejected_at,
                "empty_at": self.cs_empty_at, "decision": self.decision}} if self.cs_low else {}),
            "by_look": {k: [plain(float(v)) for v in vals] for k, vals in self.to_frame().to_dict(
                as_series=False).items() if k != "look"},
        }

    def summary(self) -> str:
        """One readable line."""
        last = self.looks - 1
        level = round(100 * (1 - self.alpha))
        when = "never" if self.rejected_at is None else f"at look {self.rejected_at + 1}"
        empty = next((i for i, (lo, hi) in enumerate(zip(self.ci_low, self.ci_high, strict=True)) if lo > hi),
                     None)
        ci = (f"{self.ci_low[last]:+.4g} to {self.ci_high[last]:+.4g}" if empty is None else
              f"empty from look {empty + 1}: the looks contradict one fixed effect")
        return (
            f"after {self.looks} looks: diff {self.estimate[last]:+.4g} (always-valid {level}% CI "
            f"{ci}), always-valid p = "
            f"{self.p_value[last]:.3g}; significant {when} (naive peeking: "
            f"{'never' if self.naive_rejected_at is None else f'look {self.naive_rejected_at + 1}'})"
        )

    def cs_summary(self) -> str:
        """One readable line on the confidence sequence (empty when it was not computed)."""
        if not self.cs_low:
            return ""
        last = self.looks - 1
        level = round(100 * (1 - self.alpha))
        at, empty = self.cs_rejected_at, self.cs_empty_at
        if empty is not None:
            return (f"{level}% confidence sequence (tuned for {self.planned_n:,} units) empty from look "
                    f"{empty + 1}: no fixed effect fits every look (an effect that changes over time, or "
                    f"looks that are not cumulative): decision {self.decision}")
        when = "never excludes 0" if at is None else f"excludes 0 from look {at + 1}"
        return (
            f"{level}% confidence sequence (tuned for {self.planned_n:,} units) {self.cs_low[last]:+.4g} to "
            f"{self.cs_high[last]:+.4g}, always-valid p = {self.cs_p_value[last]:.3g}; {when}: "
            f"decision {self.decision}"
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
    planned_n: int | None = None,
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
    planned_n
        Planned total sample size (both arms) for which the asymptotic confidence sequence is tuned
        (:func:`tuning_rho`); default the total at the last look.
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
    total = nt + nc
    if planned_n is None:
        planned_n = int(total[-1])
    elif not (isinstance(planned_n, int) and not isinstance(planned_n, bool) and planned_n >= 2):
        raise ParameterError("planned_n", planned_n, "a whole number of units (both arms) >= 2")
    rho = tuning_rho(alpha, planned_n)
    cs_low, cs_high = asymptotic_confidence_sequence(diff, var, total, rho=rho, alpha=alpha)
    cs_p = asymptotic_pvalues(diff, var, total, rho=rho)
    return SequentialResult(
        n_arm=tuple(int(x) for x in nt), n_control=tuple(int(x) for x in nc),
        estimate=tuple(float(x) for x in diff), se=tuple(float(x) for x in np.sqrt(var)),
        p_value=tuple(float(x) for x in p), ci_low=tuple(float(x) for x in low),
        ci_high=tuple(float(x) for x in high), naive_p_value=tuple(float(x) for x in naive),
        tau=math.sqrt(tau2), alpha=float(alpha), metric=metric, arm=arm, control=control,
        cs_low=tuple(float(x) for x in cs_low), cs_high=tuple(float(x) for x in cs_high),
        cs_p_value=tuple(float(x) for x in cs_p), planned_n=int(planned_n), rho=rho,
    )
