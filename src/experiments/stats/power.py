"""Power, sample size and minimum detectable effect for binary and continuous metrics, several arms.

Method (two-sided test of a difference, equal arm sizes):

- binary: the unpooled-variance normal formula
  ``n = (z_{1-a/2} + z_{power})^2 (p0(1-p0) + p1(1-p1)) / (p1 - p0)^2`` per arm, computed with
  statsmodels ``NormalIndPower`` on the standardised effect ``(p1 - p0) / sqrt((p0(1-p0) + p1(1-p1)) / 2)``
  (which also counts the far tail, so it is exact for the z test the analysis runs);
- continuous: the two-sample t test with a common ``sd``, statsmodels ``TTestIndPower`` on Cohen's
  ``d = mde / sd`` (this reproduces Cohen's 1988 table, e.g. d = 0.5 needs 64 per group).

Several arms: ``arms = K`` means ``K - 1`` treatments each compared with one control; the
family-wise error is held at ``alpha`` by Bonferroni, each comparison at ``alpha / (K - 1)``, and every
arm (control included) gets the same ``n_per_arm``. Sample sizes are rounded up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import polars as pl

from experiments.errors import ParameterError
from experiments.stats.results import _plain
from experiments.validation import as_float, as_int

__all__ = ["MAX_ARMS", "MAX_N_PER_ARM", "PowerKind", "PowerResult", "minimum_detectable_effect",
           "sample_size"]

PowerKind = Literal["binary", "continuous"]
#: Most units per arm a plan may need or be given: well past any population (about 125 times the world's).
MAX_N_PER_ARM: int = 10**12
#: Most arms of a plan.
MAX_ARMS: int = 1000


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

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {k: _plain(v) for k, v in asdict(self).items()}

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
        from statsmodels.stats.power import NormalIndPower

        return NormalIndPower(), "unpooled two-proportion z (statsmodels NormalIndPower)"
    from statsmodels.stats.power import TTestIndPower

    return TTestIndPower(), "two-sample t (statsmodels TTestIndPower)"


def _result(kind: str, baseline: float, d: float, alpha: float, a1: float, power: float, arms: int, n: int,
            sd: float | None, method: str) -> PowerResult:
    """The result for an absolute effect ``d`` and ``n`` units per arm (Bonferroni named over 2 arms)."""
    return PowerResult(
        kind=kind, baseline=baseline, mde=float(d), mde_relative=d / baseline if baseline else float("nan"),
        alpha=alpha, alpha_per_comparison=a1, power=power, arms=arms, n_per_arm=n, n_total=n * arms,
        sd=sd, method=method + (", Bonferroni over arms" if arms > 2 else ""),
    )


def _binary_es(p0: float, d: float) -> float:
    p1 = p0 + d
    return d / math.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / 2)


def _solve_n(solver: Any, es: float, alpha: float, power: float, mde: float) -> int:
    """Units per arm from statsmodels' solver, rounded up; one line when no size within
    :data:`MAX_N_PER_ARM` reaches ``power`` (the solver does not converge there: it returns NaN)."""
    from scipy.stats import norm

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
    """
    baseline, alpha, power, arms, sd, a1 = _common(baseline, alpha, power, arms, kind, sd)
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
        es = abs(d) / sd
    solver, method = _solver(kind)
    n_arm = _solve_n(solver, es, a1, power, mde)
    return _result(kind, baseline, d, alpha, a1, power, arms, n_arm, sd, method)


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
) -> PowerResult:
    """The smallest (upward) effect detected with ``power`` given ``n_per_arm`` units in every arm.

    ``relative`` only changes how the result is read (``mde_relative`` is always filled). For binary
    metrics the increase ``d`` solves ``d / sqrt((p0(1-p0) + p1(1-p1))/2) = effect size`` (brentq).
    """
    baseline, alpha, power, arms, sd, a1 = _common(baseline, alpha, power, arms, kind, sd)
    n = as_int("n_per_arm", n_per_arm, low=2, high=MAX_N_PER_ARM)
    del relative
    solver, method = _solver(kind)
    es = _solve_es(solver, n, a1, power, n_per_arm)
    if kind == "binary":
        from scipy.optimize import brentq

        hi = 1 - baseline - 1e-12
        if _binary_es(baseline, hi) < es:
            raise ParameterError("n_per_arm", n_per_arm, "enough units to detect an effect below 100%")
        d = brentq(lambda x: _binary_es(baseline, x) - es, 1e-15, hi, xtol=1e-14)
    else:
        d = float(es) * sd
    return _result(kind, baseline, d, alpha, a1, power, arms, n, sd, method)
