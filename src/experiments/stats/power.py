"""Power, sample size and minimum detectable effect for binary and continuous metrics, several arms.

Method (two-sided test of a difference, equal arm sizes):

- binary: the unpooled-variance normal formula
  ``n = (z_{1-a/2} + z_{power})^2 (p0(1-p0) + p1(1-p1)) / (p1 - p0)^2`` per arm, computed with
  statsmodels ``NormalIndPower`` on the standardised effect ``(p1 - p0) / sqrt((p0(1-p0) + p1(1-p1)) / 2)``
  (which also counts the far tail, so it is exact for the z test the analysis runs);
- continuous: the two-sample t test with a common ``sd``, statsmodels ``TTestIndPower`` on Cohen's
  ``d = mde / sd`` (this reproduces Cohen's 1988 table, e.g. d = 0.5 needs 64 per group).

Regression adjustment (CUPED, covariates): with ``r2`` the share of the metric's variance that the
pre-period covariates explain, the adjusted estimate's variance is ``(1 - r2)`` times the unadjusted
one, so the standardised effect is divided by ``sqrt(1 - r2)`` and the normal sample size scales by
``(1 - r2)`` (Deng et al. 2013); the same statsmodels solvers run on the reduced variance.

Sequential monitoring (:func:`sequential_sample_size`): ``looks`` equally spaced looks up to a maximum
size, tested at each with the asymptotic confidence sequence (``cs``; Waudby-Smith et al. 2023, tuned
for that maximum) or the mSPRT (``msprt``; mixing variance ten times the final-look variance), as
``experiments analyze`` runs them. On the z scale both reject at look ``k`` (information fraction
``t = k / looks``) when ``|Z_t| >= sqrt((1 + 1 / (c t)) (2 log(1/alpha) + log(1 + c t)))``, with
``c = -2 log(alpha) + log(1 - 2 log(alpha))`` for ``cs`` and ``c = 10`` for ``msprt``. The power of a
drift ``theta`` (the z statistic's mean at the maximum size) is found by simulating Brownian paths
at the looks (common random numbers, seeded); the maximum size solves power(theta) = the target, and
the expected size under the alternative is the mean stopping fraction times it. The normal
approximation of the drift ignores the estimation of the variance at each look.

Several arms: ``arms = K`` means ``K - 1`` treatments each compared with one control; the
family-wise error is held at ``alpha`` by Bonferroni, each comparison at ``alpha / (K - 1)``, and every
arm (control included) gets the same ``n_per_arm``. Sample sizes are rounded up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy.optimize import brentq
from scipy.stats import norm
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from experiments.errors import ParameterError
from experiments.plain import plain
from experiments.validation import as_float, as_int

__all__ = ["MAX_ARMS", "MAX_LOOKS", "MAX_N_PER_ARM", "PowerKind", "PowerResult", "SequentialMethod",
           "SequentialPlan", "minimum_detectable_effect", "sample_size", "sequential_boundary",
           "sequential_power", "sequential_sample_size"]

PowerKind = Literal["binary", "continuous"]
#: Most units per arm a plan may need or be given: well past any population (about 125 times the world's).
MAX_N_PER_ARM: int = 10**12
#: Most arms of a plan.
MAX_ARMS: int = 1000
#: Most looks of a sequential plan.
MAX_LOOKS: int = 1000
SequentialMethod = Literal["cs", "msprt"]
#: Simulated paths x looks of a sequential plan (memory: 8 bytes each, a few arrays of that size).
_PATH_CELLS = 4_000_000


@dataclass(frozen=True)
class PowerResult:
    """A sample size (per arm) together with the effect it detects."""

    kind: str
    baseline: float
    mde: float
    mde_relative: float
    alpha: float
    alpha_per_comparison: float
    power: float
    arms: int
    n_per_arm: int
    n_total: int
    sd: float | None
    method: str
    r2: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {k: plain(v) for k, v in asdict(self).items()}

    def to_frame(self) -> pl.DataFrame:
        """One-row frame."""
        return pl.DataFrame([self.to_dict()])

    def summary(self) -> str:
        """One readable line."""
        if self.kind == "binary":
            eff = f"{self.baseline:.2%} -> {self.baseline + self.mde:.2%} ({100 * self.mde:+.3g} pp, " \
                  f"{self.mde_relative:+.1%})"
        else:
            eff = (f"{self.mde:+.4g} on a mean of {self.baseline:.4g} ({self.mde_relative:+.1%}, "
                   f"sd {self.sd:.4g})")
        return (
            f"{self.n_per_arm:,} per arm ({self.n_total:,} in {self.arms} arms) to detect {eff} with "
            f"{self.power:.0%} power at alpha {self.alpha:g}"
            + (f" (Bonferroni: {self.alpha_per_comparison:.4g} per comparison)" if self.arms > 2 else "")
            + (f", regression adjustment explaining R² = {self.r2:g} of the variance" if self.r2 else "")
        )


def _common(baseline: float, alpha: float, power: float, arms: int, kind: str, sd: float | None):
    if kind not in ("binary", "continuous"):
        raise ParameterError("kind", kind, "binary or continuous")
    alpha = as_float("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    power = as_float("power", power, low=0, high=1, low_open=True, high_open=True)
    arms = as_int("arms", arms, low=2, high=MAX_ARMS)
    if kind == "binary":
        baseline = as_float("baseline", baseline, low=0, high=1, low_open=True, high_open=True)
        sd = None
    else:
        baseline = as_float("baseline", baseline)
        if sd is None:
            raise ParameterError("sd", sd, "the standard deviation of the metric (needed for continuous)")
        sd = as_float("sd", sd, low=0, low_open=True)
    return baseline, alpha, power, arms, sd, alpha / (arms - 1)


def _solver(kind: str) -> tuple[Any, str]:
    """statsmodels' power solver of ``kind`` and the method it names."""
    if kind == "binary":
        return NormalIndPower(), "unpooled two-proportion z (statsmodels NormalIndPower)"

    return TTestIndPower(), "two-sample t (statsmodels TTestIndPower)"


def _result(kind: str, baseline: float, d: float, alpha: float, a1: float, power: float, arms: int, n: int,
            sd: float | None, method: str, r2: float = 0.0) -> PowerResult:
    """The result for an absolute effect ``d`` and ``n`` units per arm (Bonferroni named over 2 arms)."""
    return PowerResult(
        kind=kind, baseline=baseline, mde=float(d), mde_relative=d / baseline if baseline else float("nan"),
        alpha=alpha, alpha_per_comparison=a1, power=power, arms=arms, n_per_arm=n, n_total=n * arms,
        sd=sd, method=method + (", Bonferroni over arms" if arms > 2 else "")
        + (f", variance x (1 - R²) = {1 - r2:.4g} (regression adjustment)" if r2 else ""), r2=r2,
    )


def _check_r2(r2: float) -> float:
    return as_float("r2", r2, low=0, high=1, high_open=True)


def _binary_es(p0: float, d: float) -> float:
    p1 = p0 + d
    return d / math.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / 2)


def _solve_n(solver: Any, es: float, alpha: float, power: float, mde: float) -> int:
    """Units per arm from statsmodels' solver, rounded up; one line when no size within
    :data:`MAX_N_PER_ARM` reaches ``power`` (the solver does not converge there: it returns NaN)."""
    z = norm.isf(alpha / 2) + norm.ppf(power)
    if not es > 0 or (z / es) ** 2 > MAX_N_PER_ARM:  # the normal approximation, to refuse before solving
        raise ParameterError("mde", mde, f"an effect detectable with at most {MAX_N_PER_ARM:.0e} units per "
                             "arm (this one is too small)")
    if solver.power(es, nobs1=2, alpha=alpha) >= power:  # below the solver's range: the smallest test
        return 2
    n = float(solver.solve_power(effect_size=es, alpha=alpha, power=power))
    if not math.isfinite(n) or n > MAX_N_PER_ARM:
        raise ParameterError("mde", mde, f"an effect detectable with at most {MAX_N_PER_ARM:.0e} units per "
                             "arm (the sample-size solver found none)")
    return max(2, math.ceil(n - 1e-9))


def sample_size(
    *,
    baseline: float,
    mde: float,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
    kind: PowerKind = "binary",
    sd: float | None = None,
    r2: float = 0.0,
) -> PowerResult:
    """Units per arm to detect ``mde`` (see the module docstring for the method).

    Parameters
    ----------
    baseline
        Control rate (binary, in (0, 1)) or control mean (continuous).
    mde
        Minimum detectable effect: absolute (a rate difference, e.g. 0.01 = 1 pp) or, with
        ``relative=True``, a fraction of the baseline (0.05 = +5 %).
    alpha, power
        Family-wise two-sided significance level and the power wanted for each comparison.
    arms
        Number of arms including the control.
    kind
        ``"binary"`` or ``"continuous"`` (which needs ``sd``).
    r2
        Share of the metric's variance explained by the covariates of a regression adjustment, in
        [0, 1) (0: none); the variance used is ``(1 - r2)`` times the unadjusted one.
    """
    baseline, alpha, power, arms, sd, a1 = _common(baseline, alpha, power, arms, kind, sd)
    r2 = _check_r2(r2)
    d, es = _effect(baseline, mde, relative, kind, sd, r2)
    solver, method = _solver(kind)
    n_arm = _solve_n(solver, es, a1, power, mde)
    return _result(kind, baseline, d, alpha, a1, power, arms, n_arm, sd, method, r2)


def _effect(baseline: float, mde: float, relative: bool, kind: str, sd: float | None,
            r2: float) -> tuple[float, float]:
    """The absolute effect and its standardised size on the (adjusted) variance."""
    mde = as_float("mde", mde)
    if mde == 0:
        raise ParameterError("mde", mde, "a non-zero effect")
    d = mde * baseline if relative else mde
    if relative and d == 0:
        raise ParameterError("baseline", baseline, "non-zero with a relative mde")
    if kind == "binary":
        if not 0 < baseline + d < 1:
            raise ParameterError("mde", mde, f"an effect keeping the rate in (0, 1) from {baseline}")
        es = abs(_binary_es(baseline, d))
    else:
        assert sd is not None
        es = abs(d) / sd
    return d, es / math.sqrt(1 - r2)


def _solve_es(solver: Any, n: int, alpha: float, power: float, n_per_arm: object) -> float:
    """The standardised effect ``n`` units per arm detect with ``power`` (one line if none is found)."""
    es = float(solver.solve_power(nobs1=n, alpha=alpha, power=power))
    if not (math.isfinite(es) and es > 0):
        raise ParameterError("n_per_arm", n_per_arm, "a number of units per arm for which the effect-size "
                             "solver converges (try fewer, or a larger alpha or smaller power)")
    return es


def minimum_detectable_effect(
    *,
    baseline: float,
    n_per_arm: int,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
    kind: PowerKind = "binary",
    sd: float | None = None,
    r2: float = 0.0,
) -> PowerResult:
    """The smallest (upward) effect detected with ``power`` given ``n_per_arm`` units in every arm.

    ``relative`` only changes how the result is read (``mde_relative`` is always filled). For binary
    metrics the increase ``d`` solves ``d / sqrt((p0(1-p0) + p1(1-p1))/2) = effect size`` (brentq).
    """
    baseline, alpha, power, arms, sd, a1 = _common(baseline, alpha, power, arms, kind, sd)
    r2 = _check_r2(r2)
    n = as_int("n_per_arm", n_per_arm, low=2, high=MAX_N_PER_ARM)
    del relative
    solver, method = _solver(kind)
    es = _solve_es(solver, n, a1, power, n_per_arm) * math.sqrt(1 - r2)
    if kind == "binary":
        hi = 1 - baseline - 1e-12
        if _binary_es(baseline, hi) < es:
            raise ParameterError("n_per_arm", n_per_arm, "enough units to detect an effect below 100%")
        d = brentq(lambda x: _binary_es(baseline, x) - es, 1e-15, hi, xtol=1e-14)
    else:
        d = float(es) * sd
    return _result(kind, baseline, d, alpha, a1, power, arms, n, sd, method, r2)


# --------------------------------------------------------------------------------------------------
# sequential monitoring: maximum and expected sample size
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SequentialPlan:
    """Sample sizes of a sequentially monitored comparison (see the module docstring for the method)."""

    fixed: PowerResult
    method: str
    looks: int
    n_max_per_arm: int
    n_max_total: int
    expected_n_per_arm: float
    inflation: float
    expected_fraction: float
    power_at_max: float
    power_se: float
    final_boundary: float
    replications: int
    seed: int
    description: str

    @property
    def planned_n(self) -> int:
        """Units of one comparison (treatment and control) at the maximum: what the confidence
        sequence is tuned for (``experiments analyze --planned-n``)."""
        return 2 * self.n_max_per_arm

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (the fixed-horizon plan nested under ``fixed``)."""
        out = {k: plain(v) for k, v in asdict(self).items() if k != "fixed"}
        return out | {"planned_n": self.planned_n, "fixed": self.fixed.to_dict()}

    def to_frame(self) -> pl.DataFrame:
        """One-row frame of the sequential figures (with the fixed-horizon units per arm)."""
        d = self.to_dict()
        return pl.DataFrame([{k: v for k, v in d.items() if k != "fixed"}
                             | {"fixed_n_per_arm": self.fixed.n_per_arm}])

    def summary(self) -> str:
        """One readable line."""
        name = "confidence sequence" if self.method == "cs" else "mSPRT"
        return (
            f"{self.n_max_per_arm:,} per arm at most ({self.inflation:.2f}x the fixed-horizon "
            f"{self.fixed.n_per_arm:,}) for {self.fixed.power:.0%} power with the {name} over {self.looks} "
            f"looks; under the effect it stops after {self.expected_n_per_arm:,.0f} per arm on average "
            f"({self.expected_fraction:.0%} of the maximum)"
        )


def _mixing_c(method: str, alpha: float) -> float:
    if method == "cs":
        la = -2 * math.log(alpha)
        return la + math.log(la + 1)
    if method == "msprt":
        return 10.0
    raise ParameterError("sequential", method, "cs or msprt")


def sequential_boundary(looks: int, alpha: float, method: SequentialMethod = "cs") -> np.ndarray:
    """|z| at or beyond which each of ``looks`` equally spaced looks rejects (module docstring)."""
    looks = as_int("looks", looks, low=1, high=MAX_LOOKS)
    alpha = as_float("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    c = _mixing_c(method, alpha)
    t = np.arange(1, looks + 1) / looks
    return np.sqrt((1 + 1 / (c * t)) * (2 * math.log(1 / alpha) + np.log1p(c * t)))


def _paths(looks: int, replications: int, seed: int) -> np.ndarray:
    """Standard Brownian motion at ``t = k / looks``, shape (replications, looks)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    steps = rng.standard_normal((replications, looks)) * math.sqrt(1 / looks)
    return np.cumsum(steps, axis=1)


def sequential_power(
    drift: float, boundary: np.ndarray, *, replications: int = 200_000, seed: int = 0,
    paths: np.ndarray | None = None,
) -> tuple[float, float]:
    """Power and mean stopping fraction of a sequential test with a drift, by simulation.

    Parameters
    ----------
    drift
        Mean of the z statistic at the last look (``effect / se`` at the maximum size).
    boundary
        |z| thresholds at equally spaced looks (e.g. :func:`sequential_boundary`).
    replications, seed
        Simulated Brownian paths (ignored when ``paths`` is given).

    Returns
    -------
    tuple
        ``(power, expected_fraction)``: the share of paths that cross at some look, and the mean
        information fraction at which they stop (1 for paths that never cross).
    """
    b = np.asarray(boundary, dtype=float)
    k = b.size
    w = _paths(k, replications, seed) if paths is None else paths
    t = np.arange(1, k + 1) / k
    z = (drift * t + w) / np.sqrt(t)
    cross = np.abs(z) >= b
    hit = cross.any(axis=1)
    first = np.where(hit, cross.argmax(axis=1), k - 1)
    return float(hit.mean()), float(t[first].mean())


def sequential_sample_size(
    *,
    baseline: float,
    mde: float,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
    kind: PowerKind = "binary",
    sd: float | None = None,
    r2: float = 0.0,
    looks: int = 20,
    method: SequentialMethod = "cs",
    replications: int | None = None,
    seed: int = 0,
) -> SequentialPlan:
    """Maximum and expected units per arm when the comparison is monitored at ``looks`` looks.

    Parameters are those of :func:`sample_size`, plus ``looks`` (equally spaced, the last at the
    maximum size), ``method`` (``"cs"`` or ``"msprt"``), and the simulated paths (``replications``,
    default as many as fit 4 million path-looks, at most 200,000; ``seed``).
    """
    fixed = sample_size(baseline=baseline, mde=mde, relative=relative, alpha=alpha, power=power, arms=arms,
                        kind=kind, sd=sd, r2=r2)
    looks = as_int("looks", looks, low=1, high=MAX_LOOKS)
    if replications is None:
        replications = min(200_000, _PATH_CELLS // looks)
    replications = as_int("replications", replications, low=1000, high=10_000_000)
    seed = as_int("seed", seed, low=0)
    a1 = fixed.alpha_per_comparison
    bound = sequential_boundary(looks, a1, method)
    w = _paths(looks, replications, seed)
    # each path crosses the upper boundary for drifts >= up, the lower one for drifts <= low
    root_t = np.sqrt(np.arange(1, looks + 1) / looks)
    up = ((bound - w / root_t) / root_t).min(axis=1)
    low = ((-bound - w / root_t) / root_t).max(axis=1)
    hi = float(bound.max() + norm.ppf(power) + 5)
    theta = brentq(lambda x: float(((x >= up) | (x <= low)).mean()) - power, 0.0, hi, xtol=1e-6)
    _, es = _effect(fixed.baseline, mde, relative, kind, fixed.sd, fixed.r2)
    n_max = max(2, math.ceil(2 * (theta / es) ** 2 - 1e-9))
    if n_max > MAX_N_PER_ARM:
        raise ParameterError("mde", mde, "an effect a sequential test detects with at most "
                             f"{MAX_N_PER_ARM:.0e} units per arm (this one is too small)")
    drift = es * math.sqrt(n_max / 2)
    got, frac = sequential_power(drift, bound, paths=w)
    name = ("asymptotic confidence sequence (Waudby-Smith et al. 2023) tuned for the maximum size"
            if method == "cs" else "mSPRT (Johari et al.), mixing variance 10x the final-look variance")
    return SequentialPlan(
        fixed=fixed, method=method, looks=looks, n_max_per_arm=n_max, n_max_total=n_max * fixed.arms,
        expected_n_per_arm=frac * n_max, inflation=n_max / fixed.n_per_arm, expected_fraction=frac,
        power_at_max=got, power_se=math.sqrt(got * (1 - got) / replications), final_boundary=float(bound[-1]),
        replications=replications, seed=seed,
        description=f"{name}; {looks} equally spaced looks; normal approximation of the z statistic; "
        f"power and expected size from {replications:,} simulated Brownian paths (seed {seed})",
    )
