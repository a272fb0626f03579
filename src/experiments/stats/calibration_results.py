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
from experiments.stats.regression_coverage import Coverage
from experiments.stats.tails import TailCalibration

__all__ = [
    "TAU_FACTOR",
    "CappingStudy",
    "CupedStudy",
    "ExposureStudy",
    "PeekingStudy",
    "PowerStudy",
    "Rate",
    "RegressionStudy",
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


@dataclass(frozen=True)
class CappingStudy:
    """Capping heavy-tailed spend at pooled percentiles: bias, variance and coverage over simulated
    experiments.

    ``levels`` holds one :class:`~experiments.stats.tails.TailCalibration` per cap percentile (all on the
    same experiments); ``capped_coverage`` the coverage of each capped interval for its capped estimand,
    ``uncapped_coverage`` that of the uncapped interval for the true difference.
    """

    replications: int
    n_per_arm: int
    cv: float
    alpha: float
    levels: tuple[TailCalibration, ...]
    capped_coverage: tuple[Rate, ...]
    uncapped_coverage: Rate

    @property
    def true_diff(self) -> float:
        """True uncapped difference of mean spend per customer."""
        return self.levels[0].true_mean_diff

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"replications": self.replications, "n_per_arm": self.n_per_arm, "cv": self.cv,
                "alpha": self.alpha, "levels": [lv.to_dict() for lv in self.levels],
                "capped_coverage": [r.to_dict() for r in self.capped_coverage],
                "uncapped_coverage": self.uncapped_coverage.to_dict()}

    def to_frame(self) -> pl.DataFrame:
        """One row per estimate (uncapped, then each cap): bias against the true uncapped difference (and
        as a share of it), variance and interval width relative to uncapped, RMSE, coverage of its own
        estimand."""
        first = self.levels[0]
        truth = first.true_mean_diff
        rows = [("uncapped", truth, first.bias_mean, 1.0, first.rmse_mean, first.width_mean, 1.0,
                 self.uncapped_coverage.rate)]
        rows += [(f"capped at p{lv.cap_percentile:g}", lv.true_capped_diff, lv.bias_capped, lv.variance_ratio,
                  lv.rmse_capped, lv.width_capped, lv.width_ratio, r.rate)
                 for lv, r in zip(self.levels, self.capped_coverage, strict=True)]
        names = ("method", "estimand", "bias", "variance_ratio", "rmse", "mean_width", "width_ratio",
                 "coverage")
        frame = pl.DataFrame(rows, schema=names, orient="row")
        return frame.with_columns(true_diff=pl.lit(truth), relative_bias=pl.col("bias") / truth).select(
            "method", "true_diff", "estimand", "bias", "relative_bias", "variance_ratio", "rmse",
            "mean_width", "width_ratio", "coverage")

    def summary(self) -> str:
        """Readable lines."""
        first = self.levels[0]
        lines = [f"{self.replications:,} experiments of {self.n_per_arm:,} customers per arm, spend CV "
                 f"{self.cv:.1f}, true difference {self.true_diff:+.4g}",
                 f"  uncapped: bias {first.bias_mean:+.4g}, sd {first.sd_mean:.4g}, RMSE "
                 f"{first.rmse_mean:.4g}, mean width {first.width_mean:.4g}; "
                 f"{self.uncapped_coverage.summary()}"]
        for lv, r in zip(self.levels, self.capped_coverage, strict=True):
            lines.append(
                f"  capped at p{lv.cap_percentile:g}: bias {lv.bias_capped:+.4g} "
                f"({lv.bias_capped / lv.true_mean_diff:+.1%} of the true difference), variance "
                f"x{lv.variance_ratio:.3f}, RMSE {lv.rmse_capped:.4g}, interval width x{lv.width_ratio:.3f}; "
                f"capped estimand {lv.true_capped_diff:+.4g}, {r.summary()}")
        return "\n".join(lines)


def _coverage_rate(name: str, share: float, trials: int, target: float) -> Rate:
    return measured_rate(name, round(share * trials), trials, target=target)


@dataclass(frozen=True)
class RegressionStudy:
    """Lin (2013)'s regression adjustment on several covariates beside CUPED on one and no adjustment.

    ``lin``, ``cuped`` and ``unadjusted`` are the coverages of each interval for each experiment's true
    average effect, ``widths`` their mean interval widths (same experiments).
    """

    replications: int
    units: int
    covariates: int
    alpha: float
    truth: float
    mean_estimate: float
    lin: Rate
    cuped: Rate
    unadjusted: Rate
    widths: dict[str, float]

    @classmethod
    def from_coverage(cls, cov: Coverage, *, units: int, covariates: int, alpha: float) -> RegressionStudy:
        """From :func:`experiments.stats.regression_coverage.lin_coverage`'s result."""
        n, target = cov.n_experiments, 1 - alpha
        names = {"lin": f"Lin regression on {covariates} covariates", "cuped": "CUPED on one covariate",
                 "unadjusted": "unadjusted difference"}
        rates = {k: _coverage_rate(f"coverage, {v}", cov.covered[k], n, target) for k, v in names.items()}
        return cls(replications=n, units=units, covariates=covariates, alpha=alpha, truth=cov.truth,
                   mean_estimate=cov.mean_estimate, widths=dict(cov.widths), **rates)

    @property
    def width_ratio(self) -> float:
        """Mean Lin interval width over the unadjusted one."""
        return self.widths["lin"] / self.widths["unadjusted"]

    @property
    def cuped_width_ratio(self) -> float:
        """Mean Lin interval width over CUPED's on one covariate."""
        return self.widths["lin"] / self.widths["cuped"]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        out = asdict(self) | {k: getattr(self, k).to_dict() for k in ("lin", "cuped", "unadjusted")}
        return out | {"width_ratio": self.width_ratio, "cuped_width_ratio": self.cuped_width_ratio}

    def to_frame(self) -> pl.DataFrame:
        """One row per estimator: coverage, mean width, width relative to unadjusted."""
        keys = ("unadjusted", "cuped", "lin")
        rates = [getattr(self, k) for k in keys]
        return pl.DataFrame({
            "method": [r.name.removeprefix("coverage, ") for r in rates],
            "coverage": [r.rate for r in rates], "ci_low": [r.ci_low for r in rates],
            "ci_high": [r.ci_high for r in rates],
            "mean_width": [self.widths[k] for k in keys],
            "width_ratio": [self.widths[k] / self.widths["unadjusted"] for k in keys],
        })

    def summary(self) -> str:
        """Readable lines."""
        return (f"{self.replications:,} experiments of {self.units:,} customers, true average effect "
                f"{self.truth:.4g} (mean Lin estimate {self.mean_estimate:.4g})\n  {self.lin.summary()}\n  "
                f"{self.cuped.summary()}\n  {self.unadjusted.summary()}\n  mean width: Lin / unadjusted "
                f"{self.width_ratio:.3f}, Lin / CUPED {self.cuped_width_ratio:.3f}")


@dataclass(frozen=True)
class ExposureStudy:
    """The effect on the exposed (2SLS) when part of the treatment arm is never reached, beside the
    intent-to-treat interval judged against the same truth."""

    replications: int
    units: int
    reach: float
    alpha: float
    truth: float
    mean_estimate: float
    exposed: Rate
    itt: Rate
    widths: dict[str, float]

    @classmethod
    def from_coverage(cls, cov: Coverage, *, units: int, reach: float, alpha: float) -> ExposureStudy:
        """From :func:`experiments.stats.regression_coverage.exposed_coverage`'s result."""
        n, target = cov.n_experiments, 1 - alpha
        return cls(replications=n, units=units, reach=reach, alpha=alpha, truth=cov.truth,
                   mean_estimate=cov.mean_estimate,
                   exposed=_coverage_rate("coverage of the effect on the exposed, 2SLS",
                                          cov.covered["exposed"], n, target),
                   itt=_coverage_rate("intent-to-treat interval holding the effect on the exposed",
                                      cov.covered["itt"], n, target),
                   widths=dict(cov.widths))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self) | {"exposed": self.exposed.to_dict(), "itt": self.itt.to_dict()}

    def to_frame(self) -> pl.DataFrame:
        """One row per interval: its coverage of the effect on the exposed, with Wilson interval."""
        rates = [self.exposed, self.itt]
        return pl.DataFrame({
            "method": ["effect on the exposed (2SLS)", "intent-to-treat"],
            "coverage": [r.rate for r in rates], "ci_low": [r.ci_low for r in rates],
            "ci_high": [r.ci_high for r in rates], "target": [r.target for r in rates],
            "mean_width": [self.widths["exposed"], self.widths["itt"]],
        })

    def summary(self) -> str:
        """Readable lines."""
        return (f"{self.replications:,} experiments of {self.units:,} customers, {self.reach:.0%} of the "
                f"treated reached; effect on the exposed {self.truth:.4g} (mean 2SLS estimate "
                f"{self.mean_estimate:.4g})\n  {self.exposed.summary()}\n  {self.itt.summary()}")


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float strictly between 0 and 1."""
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    return float(alpha)


