"""Calibration results: measured rates with Wilson intervals, and what each calibration check found.

Measured rates (false positives, coverage, power) carry a Wilson interval
(:func:`experiments.stats.rates.wilson_interval`) so "5.1% (4.2% to 6.1%)" can be judged against the
nominal level. The simulated experiments come from :mod:`experiments.simulate.replications`, the
estimators that test them from :mod:`experiments.stats.vectorised`; the checks that join the two live
in :mod:`experiments.studies.calibration.numbers`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.stats.power import PowerResult
from experiments.stats.rates import wilson_interval

__all__ = [
    "TAU_FACTOR",
    "CupedStudy",
    "PeekingStudy",
    "PowerStudy",
    "Rate",
    "ReplicationStudy",
    "SequenceStudy",
    "check_alpha",
    "measured_rate",
    "rates_frame",
]

MetricKind = Literal["binary", "continuous"]
#: mSPRT mixing variance as a multiple of the planned final-look variance (as ``sequential.msprt``).
TAU_FACTOR = 10.0


# --------------------------------------------------------------------------------------------
# result objects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """A rate measured over simulated experiments, with its Wilson interval and the nominal target."""

    name: str
    hits: int
    trials: int
    rate: float
    ci_low: float
    ci_high: float
    target: float
    level: float = 0.95

    @property
    def contains_target(self) -> bool:
        """Whether the interval of the measured rate covers the nominal target."""
        return bool(self.ci_low <= self.target <= self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self) | {"contains_target": self.contains_target}

    def summary(self) -> str:
        """One readable line."""
        lvl = round(100 * self.level)
        return (
            f"{self.name}: {self.rate:.2%} ({lvl}% CI {self.ci_low:.2%} to {self.ci_high:.2%}; "
            f"{self.hits:,} of {self.trials:,}); "
            + (f"nominal {self.target:.1%}" if math.isfinite(self.target) else "no nominal target")
        )


def measured_rate(name: str, hits: np.ndarray | int, trials: int | None = None, *, target: float,
                  level: float = 0.95) -> Rate:
    """A :class:`Rate` from a boolean array (or a count of hits and trials), Wilson interval.

    Parameters
    ----------
    name
        What is measured (e.g. ``"false-positive rate"``).
    hits
        Boolean array, one element per replication, or the number of hits.
    trials
        Number of replications (needed when ``hits`` is a count).
    target
        Nominal value of the rate (alpha, 1 - alpha, planned power).
    level
        Confidence level of the Wilson interval.
    """
    if isinstance(hits, np.ndarray):
        trials = int(hits.size)
        count = int(np.count_nonzero(hits))
    else:
        count = int(hits)
    if trials is None or trials < 1:
        raise ParameterError("trials", trials, "an integer >= 1")
    low, high = wilson_interval(count, trials, 1 - level)
    return Rate(name, count, trials, count / trials, float(low), float(high), float(target), level)


@dataclass(frozen=True)
class ReplicationStudy:
    """Replicated experiments of one design: rejection rate, coverage and bias against the truth.

    With ``true_diff == 0`` (an A/A test) ``reject`` is the false-positive rate (target alpha);
    otherwise it is the power (target: the planned power, when given).
    """

    kind: MetricKind
    method: str
    replications: int
    n_per_arm: int
    alpha: float
    true_diff: float
    reject: Rate
    coverage: Rate
    mean_estimate: float
    bias: float
    bias_se: float
    mean_width: float
    settings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (rates as nested dicts)."""
        out = asdict(self)
        out["reject"], out["coverage"] = self.reject.to_dict(), self.coverage.to_dict()
        return out

    def to_frame(self) -> pl.DataFrame:
        """One row per measured rate: measure, rate, interval, target."""
        return rates_frame([self.reject, self.coverage], study=f"{self.kind} ({self.method})")

    def summary(self) -> str:
        """Readable lines."""
        return "\n".join(
            [
                f"{self.replications:,} simulated {self.kind} experiments, {self.n_per_arm:,} per arm, "
                f"true difference {self.true_diff:+.4g} [{self.method}]",
                "  " + self.reject.summary(),
                "  " + self.coverage.summary(),
                f"  bias {self.bias:+.3g} (se {self.bias_se:.2g}), mean interval width {self.mean_width:.4g}",
            ]
        )


@dataclass(frozen=True)
class CupedStudy:
    """Unadjusted (Welch) against CUPED intervals on the same simulated experiments."""

    replications: int
    n_per_arm: int
    alpha: float
    true_diff: float
    correlation: float
    unadjusted: ReplicationStudy
    cuped: ReplicationStudy

    @property
    def width_ratio(self) -> float:
        """Mean CUPED interval width over mean unadjusted width (below 1: narrower)."""
        return self.cuped.mean_width / self.unadjusted.mean_width

    @property
    def expected_width_ratio(self) -> float:
        """What theory predicts: ``sqrt(1 - rho^2)`` with ``rho`` the covariate–metric correlation."""
        return math.sqrt(max(1.0 - self.correlation**2, 0.0))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {
            "replications": self.replications, "n_per_arm": self.n_per_arm, "alpha": self.alpha,
            "true_diff": self.true_diff, "correlation": self.correlation,
            "width_ratio": self.width_ratio, "expected_width_ratio": self.expected_width_ratio,
            "unadjusted": self.unadjusted.to_dict(), "cuped": self.cuped.to_dict(),
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per method: mean estimate, bias and its se, mean width, coverage, power."""
        rows = []
        for s in (self.unadjusted, self.cuped):
            rows.append(
                {
                    "method": s.method, "true_diff": s.true_diff, "mean_estimate": s.mean_estimate,
                    "bias": s.bias, "bias_se": s.bias_se, "mean_width": s.mean_width,
                    "coverage": s.coverage.rate, "coverage_low": s.coverage.ci_low,
                    "coverage_high": s.coverage.ci_high, "reject": s.reject.rate,
                    "reject_low": s.reject.ci_low, "reject_high": s.reject.ci_high,
                }
            )
        return pl.DataFrame(rows)

    def summary(self) -> str:
        """Readable lines."""
        return (
            f"CUPED over {self.replications:,} experiments ({self.n_per_arm:,} per arm, correlation "
            f"{self.correlation:.2f}): width ratio {self.width_ratio:.3f} (theory "
            f"{self.expected_width_ratio:.3f})\n{self.unadjusted.summary()}\n{self.cuped.summary()}"
        )


@dataclass(frozen=True)
class PeekingStudy:
    """A/A experiments looked at after every day: naive repeated tests against always-valid p-values."""

    replications: int
    looks: int
    n_per_look: int
    base_rate: float
    alpha: float
    tau2: float
    naive: Rate
    always_valid: Rate
    final_look: Rate
    naive_by_look: tuple[float, ...]
    always_valid_by_look: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        out = asdict(self)
        for k in ("naive", "always_valid", "final_look"):
            out[k] = getattr(self, k).to_dict()
        out["naive_by_look"] = list(self.naive_by_look)
        out["always_valid_by_look"] = list(self.always_valid_by_look)
        return out

    def to_frame(self) -> pl.DataFrame:
        """Share of experiments declared significant at or before each look, per method (tidy)."""
        look = list(range(1, self.looks + 1))
        return pl.DataFrame(
            {
                "look": look * 2,
                "method": ["naive test at every look"] * self.looks
                + ["always-valid (mSPRT)"] * self.looks,
                "false_positive_rate": [*self.naive_by_look, *self.always_valid_by_look],
            }
        )

    def rates_frame(self) -> pl.DataFrame:
        """The three measured rates with intervals."""
        return rates_frame([self.final_look, self.naive, self.always_valid], study="peeking")

    def summary(self) -> str:
        """Readable lines."""
        return (
            f"{self.replications:,} A/A experiments, {self.looks} looks of {self.n_per_look:,} per arm:\n"
            f"  {self.final_look.summary()}\n  {self.naive.summary()}\n  {self.always_valid.summary()}"
        )


@dataclass(frozen=True)
class SequenceStudy:
    """A/A experiments looked at every day: naive tests, the mSPRT and the asymptotic confidence sequence.

    All three run on the same simulated experiments; each rate is the share declared significant at
    some look. Widths are those each method reports at a look (the running intersection for the two
    always-valid ones), averaged over looks and experiments.
    """

    replications: int
    looks: int
    n_per_look: int
    base_rate: float
    alpha: float
    tau2: float
    planned_n: int
    naive: Rate
    msprt: Rate
    sequence: Rate
    sequence_width: float
    msprt_width: float
    fixed_width: float
    final_width_ratio: float
    naive_by_look: tuple[float, ...]
    msprt_by_look: tuple[float, ...]
    sequence_by_look: tuple[float, ...]

    @property
    def width_ratio(self) -> float:
        """Average confidence-sequence width over the average mSPRT width (below 1: narrower)."""
        return self.sequence_width / self.msprt_width

    @property
    def fixed_width_ratio(self) -> float:
        """Average confidence-sequence width over the average fixed-horizon interval's width."""
        return self.sequence_width / self.fixed_width

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        out = asdict(self)
        for k in ("naive", "msprt", "sequence"):
            out[k] = getattr(self, k).to_dict()
        for k in ("naive_by_look", "msprt_by_look", "sequence_by_look"):
            out[k] = list(getattr(self, k))
        return out | {"width_ratio": self.width_ratio, "fixed_width_ratio": self.fixed_width_ratio}

    def to_frame(self) -> pl.DataFrame:
        """Share of experiments declared significant at or before each look, per method (tidy)."""
        look = list(range(1, self.looks + 1))
        names = ("naive test at every look", "always-valid (mSPRT)", "confidence sequence")
        return pl.DataFrame({
            "look": look * 3,
            "method": [m for m in names for _ in look],
            "false_positive_rate": [*self.naive_by_look, *self.msprt_by_look, *self.sequence_by_look],
        })

    def rates_frame(self) -> pl.DataFrame:
        """The three measured rates with intervals."""
        return rates_frame([self.naive, self.msprt, self.sequence], study=f"{self.looks} looks")

    def summary(self) -> str:
        """Readable lines."""
        return (
            f"{self.replications:,} A/A experiments, {self.looks} looks of {self.n_per_look:,} per arm:\n"
            f"  {self.naive.summary()}\n  {self.msprt.summary()}\n  {self.sequence.summary()}\n"
            f"  average width: confidence sequence / mSPRT {self.width_ratio:.3f}, / fixed-horizon "
            f"{self.fixed_width_ratio:.3f}"
        )


def rates_frame(rates: list[Rate], *, study: str = "") -> pl.DataFrame:
    """Stack rates into a frame: study, measure, rate, ci_low, ci_high, target, hits, trials."""
    return pl.DataFrame(
        {
            "study": [study] * len(rates),
            "measure": [r.name for r in rates],
            "rate": [r.rate for r in rates],
            "ci_low": [r.ci_low for r in rates],
            "ci_high": [r.ci_high for r in rates],
            "target": [r.target for r in rates],
            "hits": [r.hits for r in rates],
            "trials": [r.trials for r in rates],
        }
    )


@dataclass(frozen=True)
class PowerStudy:
    """Simulated power at the effect the power calculation says is detectable."""

    plan: PowerResult
    study: ReplicationStudy

    @property
    def measured(self) -> Rate:
        """The simulated rejection rate (target: the planned power)."""
        return self.study.reject

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"plan": self.plan.to_dict(), "study": self.study.to_dict()}

    def to_frame(self) -> pl.DataFrame:
        """Planned against measured power, and coverage of the true difference."""
        return self.study.to_frame()

    def summary(self) -> str:
        """Readable lines."""
        return f"plan: {self.plan.summary()}\n{self.study.summary()}"


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float strictly between 0 and 1."""
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    return float(alpha)


