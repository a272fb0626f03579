"""Calibration by simulation: thousands of seeded experiments whose truth is known.

Each study draws per-arm sufficient statistics for many replications at once (binomial counts for a
binary metric; blocks of customer rows summed to counts, sums, squares and cross-products for spend
with a pre-period covariate; per-look binomial increments for monitoring) and feeds them through
vectorised twins of the package's estimators. The twins are tested equal to
:func:`~experiments.stats.effects.proportion_effect`, :func:`~experiments.stats.effects.mean_effect`
and :func:`~experiments.stats.cuped.cuped_effect` on single replications, so a calibrated rate here
is the rate of the code the reports use.

Measured rates (false positives, coverage, power) carry a Wilson interval (statsmodels
``proportion_confint``) so "5.1% (4.2% to 6.1%)" can be judged against the nominal level.

All randomness comes from ``numpy.random.Generator`` streams spawned from one ``SeedSequence``: the
same seed gives the same numbers, whatever the block size used internally.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from experiments.errors import DataError, ParameterError
from experiments.stats.power import PowerResult, minimum_detectable_effect
from experiments.stats.sequential import LOOK_COLUMNS, SequentialResult, always_valid_pvalues, naive_looks
from experiments.stats.sufficient import ArmStatistics, SampleStats

__all__ = [
    "TAU_FACTOR",
    "ArmSums",
    "CupedStudy",
    "EffectArrays",
    "PeekingStudy",
    "PowerStudy",
    "Rate",
    "ReplicationStudy",
    "SpendModel",
    "asos_looks",
    "binary_study",
    "continuous_study",
    "cuped_arrays",
    "cuped_study",
    "measured_rate",
    "peeking_study",
    "power_study",
    "proportion_arrays",
    "rates_frame",
    "replay_frame",
    "simulate_looks",
    "simulate_proportions",
    "simulate_spend",
    "spend_rows",
    "welch_arrays",
]

MetricKind = Literal["binary", "continuous"]
#: Replications drawn per block (each block has its own spawned stream): fixed so results do not
#: depend on memory settings.
BLOCK_REPLICATIONS = 100
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
    low, high = proportion_confint(count, trials, alpha=1 - level, method="wilson")
    return Rate(name, count, trials, count / trials, float(low), float(high), float(target), level)


@dataclass(frozen=True, eq=False)
class EffectArrays:
    """Effects of many replications at once: each field is an array with one value per replication.

    The same numbers :class:`~experiments.stats.results.Effect` holds (treatment − control), without
    the relative lift.
    """

    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    method: str
    alpha: float

    @property
    def rejects(self) -> np.ndarray:
        """Whether each replication's test rejects at ``alpha``."""
        return self.p_value < self.alpha

    @property
    def width(self) -> np.ndarray:
        """Interval widths."""
        return self.ci_high - self.ci_low

    def covers(self, truth: float) -> np.ndarray:
        """Whether each interval contains ``truth``."""
        return (self.ci_low <= truth) & (truth <= self.ci_high)

    def to_frame(self) -> pl.DataFrame:
        """One row per replication."""
        return pl.DataFrame(
            {k: getattr(self, k) for k in ("estimate", "se", "ci_low", "ci_high", "statistic", "p_value")}
        )


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


# --------------------------------------------------------------------------------------------
# vectorised estimators (twins of the package's estimators, tested equal on single replications)
# --------------------------------------------------------------------------------------------
def proportion_arrays(
    c1: np.ndarray, n1: np.ndarray | int, c0: np.ndarray, n0: np.ndarray | int, *, alpha: float = 0.05
) -> EffectArrays:
    """Wald difference of proportions for many replications; equals ``proportion_effect(method="wald")``.

    Unpooled standard error, normal interval and two-sided p-value (statsmodels
    ``test_proportions_2indep`` / ``confint_proportions_2indep`` with ``method="wald"``). A replication
    with no variation in either arm gets a nan p-value and a zero-width interval, as the package does.
    """
    c1, c0 = np.asarray(c1, dtype=float), np.asarray(c0, dtype=float)
    n1, n0 = np.asarray(n1, dtype=float), np.asarray(n0, dtype=float)
    p1, p0 = c1 / n1, c0 / n0
    diff = p1 - p0
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return _normal_arrays(diff, se, alpha, "two-proportion wald")


def welch_arrays(treatment: ArmSums, control: ArmSums, *, alpha: float = 0.05) -> EffectArrays:
    """Welch difference of means of the metric for many replications; equals ``mean_effect``."""
    m1, v1 = treatment.mean_var("y")
    m0, v0 = control.mean_var("y")
    return _welch(m1 - m0, v1 / treatment.n, v0 / control.n, treatment.n, control.n, alpha, "Welch t")


def cuped_arrays(treatment: ArmSums, control: ArmSums, *, alpha: float = 0.05) -> EffectArrays:
    """CUPED difference of means adjusted by the covariate, for many replications.

    ``theta = cov(y, x) / var(x)`` pooled over both arms (within-arm moments); each arm's mean is
    ``mean(y) - theta * (mean(x) - pooled mean(x))`` and its variance ``var(y) - 2 theta cov(y, x) +
    theta^2 var(x)``; the interval is normal with the unequal-variance standard error. Equals
    :func:`experiments.stats.cuped.cuped_effect` on the same sufficient statistics.
    """
    n1, n0 = treatment.n, control.n
    sxy = treatment.comoment() + control.comoment()
    sxx = treatment.comoment("x", "x") + control.comoment("x", "x")
    theta = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 0)
    my1, vy1 = treatment.mean_var("y")
    my0, vy0 = control.mean_var("y")
    mx1, vx1 = treatment.mean_var("x")
    mx0, vx0 = control.mean_var("x")
    c1 = treatment.comoment() / (n1 - 1)
    c0 = control.comoment() / (n0 - 1)
    diff = (my1 - my0) - theta * (mx1 - mx0)
    va1 = np.maximum(vy1 - 2 * theta * c1 + theta**2 * vx1, 0.0)
    va0 = np.maximum(vy0 - 2 * theta * c0 + theta**2 * vx0, 0.0)
    return _normal_arrays(diff, np.sqrt(va1 / n1 + va0 / n0), alpha, "CUPED (pooled theta)")


def _normal_arrays(diff: np.ndarray, se: np.ndarray, alpha: float, method: str) -> EffectArrays:
    z = sps.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, diff / se, np.nan)
    p = 2 * sps.norm.sf(np.abs(stat))
    return EffectArrays(diff, se, diff - z * se, diff + z * se, stat, p, method, alpha)


def _welch(diff: np.ndarray, v1: np.ndarray, v0: np.ndarray, n1: np.ndarray, n0: np.ndarray,
           alpha: float, method: str) -> EffectArrays:
    se = np.sqrt(v1 + v0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
        stat = np.where(se > 0, diff / se, np.nan)
    p = 2 * sps.t.sf(np.abs(stat), df)
    half = np.where(se > 0, sps.t.ppf(1 - alpha / 2, df) * se, 0.0)
    return EffectArrays(diff, se, diff - half, diff + half, stat, p, method, alpha)


# --------------------------------------------------------------------------------------------
# simulated sufficient statistics
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ArmSums:
    """Per-replication sufficient statistics of one arm: metric ``y`` (spend) and covariate ``x``.

    Each field is an array with one value per replication: ``n``, ``y`` (sum), ``yy`` (sum of
    squares), ``x``, ``xx`` and ``xy``.
    """

    n: np.ndarray
    y: np.ndarray
    yy: np.ndarray
    x: np.ndarray
    xx: np.ndarray
    xy: np.ndarray

    def mean_var(self, col: Literal["x", "y"]) -> tuple[np.ndarray, np.ndarray]:
        """Means and unbiased variances of ``y`` or ``x``."""
        s, ss = getattr(self, col), getattr(self, col + col)
        return s / self.n, np.maximum((ss - s**2 / self.n) / (self.n - 1), 0.0)

    def comoment(self, a: Literal["x", "y"] = "x", b: Literal["x", "y"] = "y") -> np.ndarray:
        """Centred cross-product ``sum((a - mean a)(b - mean b))``."""
        key = "".join(sorted(a + b))
        return getattr(self, key) - getattr(self, a) * getattr(self, b) / self.n

    def sample_stats(self, i: int, col: Literal["x", "y"] = "y") -> SampleStats:
        """The :class:`SampleStats` of replication ``i``."""
        return SampleStats(n=int(self.n[i]), sum=float(getattr(self, col)[i]),
                           sum_squares=float(getattr(self, col + col)[i]))

    @staticmethod
    def table(treatment: ArmSums, control: ArmSums, i: int, *, metric: str = "spend",
              covariate: str = "history", labels: tuple[str, str] = ("treatment", "control")
              ) -> ArmStatistics:
        """Replication ``i`` as the :class:`ArmStatistics` that :func:`gather` would return."""
        rows = []
        for label, s in zip(labels, (treatment, control), strict=True):
            n = int(s.n[i])
            rows.append(
                {
                    "arm": label, "n": n,
                    f"{metric}.n": n, f"{metric}.sum": float(s.y[i]), f"{metric}.sumsq": float(s.yy[i]),
                    f"{covariate}.n": n, f"{covariate}.sum": float(s.x[i]),
                    f"{covariate}.sumsq": float(s.xx[i]),
                    f"{metric}.{covariate}.sumxy": float(s.xy[i]),
                }
            )
        return ArmStatistics(pl.DataFrame(rows), "arm", (metric,), (covariate,), None)


@dataclass(frozen=True)
class SpendModel:
    """How simulated customers spend: a latent value drives both pre-period and in-test spend.

    ``value ~ Gamma(value_shape, 1)``; pre-period spend ``history = history_scale * value *
    LogNormal(0, noise_sigma)``; in-test ``spend = buys * spend_scale * value * LogNormal(0,
    noise_sigma)`` with ``buys ~ Bernoulli(buy_rate)``; treated spend is multiplied by ``1 + lift``,
    so the true difference in spend per customer is ``lift * mean_spend`` exactly.
    """

    value_shape: float = 0.6
    history_scale: float = 200.0
    spend_scale: float = 80.0
    buy_rate: float = 0.6
    noise_sigma: float = 0.4

    @property
    def mean_spend(self) -> float:
        """Expected in-test spend of an untreated customer (dollars)."""
        return self.buy_rate * self.spend_scale * self.value_shape * math.exp(self.noise_sigma**2 / 2)

    def draw(self, rng: np.random.Generator, shape: tuple[int, int], lift: float
             ) -> tuple[np.ndarray, np.ndarray]:
        """Pre-period spend and in-test spend for an array of customers."""
        value = rng.gamma(self.value_shape, 1.0, shape)
        history = self.history_scale * value * rng.lognormal(0.0, self.noise_sigma, shape)
        buys = rng.random(shape) < self.buy_rate
        spend = np.where(buys, (1 + lift) * self.spend_scale * value
                         * rng.lognormal(0.0, self.noise_sigma, shape), 0.0)
        return history, spend


def _streams(seed: int, replications: int) -> Iterator[tuple[np.random.Generator, int]]:
    """One generator per block of :data:`BLOCK_REPLICATIONS` replications, spawned from ``seed``."""
    blocks = -(-replications // BLOCK_REPLICATIONS)
    for b, child in enumerate(np.random.SeedSequence(seed).spawn(blocks)):
        yield np.random.default_rng(child), min(BLOCK_REPLICATIONS, replications - b * BLOCK_REPLICATIONS)


def simulate_proportions(
    *, replications: int, n_per_arm: int, base_rate: float, diff: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Conversions in treatment and control for many experiments (binomial counts).

    Returns ``(c1, c0)``: arrays of conversions out of ``n_per_arm`` each, the treatment at
    ``base_rate + diff`` and the control at ``base_rate``.
    """
    _check_sizes(replications, n_per_arm)
    _check_rate("base_rate", base_rate)
    _check_rate("base_rate + diff", base_rate + diff)
    c1, c0 = [], []
    for rng, r in _streams(seed, replications):
        c0.append(rng.binomial(n_per_arm, base_rate, r))
        c1.append(rng.binomial(n_per_arm, base_rate + diff, r))
    return np.concatenate(c1), np.concatenate(c0)


def _spend_blocks(replications: int, n_per_arm: int, lift: float, seed: int, model: SpendModel
                  ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    for rng, r in _streams(seed, replications):
        x0, y0 = model.draw(rng, (r, n_per_arm), 0.0)
        x1, y1 = model.draw(rng, (r, n_per_arm), lift)
        yield x1, y1, x0, y0


def simulate_spend(
    *, replications: int, n_per_arm: int, lift: float = 0.0, seed: int = 0,
    model: SpendModel | None = None,
) -> tuple[ArmSums, ArmSums]:
    """Sufficient statistics of spend and pre-period spend for many experiments.

    Customer rows are drawn block by block (:data:`BLOCK_REPLICATIONS` experiments at a time) and
    reduced to counts, sums, squares and cross-products at once, so memory stays bounded.

    Returns
    -------
    (treatment, control)
        :class:`ArmSums` with one value per replication.
    """
    _check_sizes(replications, n_per_arm)
    model = model or SpendModel()
    sums: list[list[np.ndarray]] = [[] for _ in range(10)]
    for x1, y1, x0, y0 in _spend_blocks(replications, n_per_arm, lift, seed, model):
        for j, (x, y) in enumerate(((x1, y1), (x0, y0))):
            for k, v in enumerate((y.sum(1), (y * y).sum(1), x.sum(1), (x * x).sum(1), (x * y).sum(1))):
                sums[5 * j + k].append(v)
    arrays = [np.concatenate(s) for s in sums]
    n = np.full(replications, float(n_per_arm))
    return ArmSums(n, *arrays[:5]), ArmSums(n.copy(), *arrays[5:])


def spend_rows(
    *, replications: int, n_per_arm: int, lift: float = 0.0, seed: int = 0,
    model: SpendModel | None = None,
) -> pl.DataFrame:
    """The customer rows behind :func:`simulate_spend` (for checks on small sizes).

    Columns: ``replication``, ``arm`` (``treatment`` / ``control``), ``history``, ``spend``.
    """
    _check_sizes(replications, n_per_arm)
    model = model or SpendModel()
    frames = []
    start = 0
    for x1, y1, x0, y0 in _spend_blocks(replications, n_per_arm, lift, seed, model):
        r = x1.shape[0]
        rep = np.repeat(np.arange(start, start + r), n_per_arm)
        for label, x, y in (("treatment", x1, y1), ("control", x0, y0)):
            frames.append(pl.DataFrame({"replication": rep, "arm": label, "history": x.ravel(),
                                        "spend": y.ravel()}))
        start += r
    return pl.concat(frames)


def simulate_looks(
    *, replications: int, looks: int, n_per_look: int, base_rate: float, diff: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative conversions at each look of experiments monitored every day.

    Each look adds ``n_per_look`` customers to each arm. Returns ``(c1, c0, n)``: conversions in
    treatment and control, shape ``(replications, looks)``, and customers per arm at each look.
    """
    _check_sizes(replications, n_per_look)
    if not (isinstance(looks, int) and looks >= 1):
        raise ParameterError("looks", looks, "an integer >= 1")
    _check_rate("base_rate", base_rate)
    _check_rate("base_rate + diff", base_rate + diff)
    c1, c0 = [], []
    for rng, r in _streams(seed, replications):
        c0.append(rng.binomial(n_per_look, base_rate, (r, looks)).cumsum(axis=1))
        c1.append(rng.binomial(n_per_look, base_rate + diff, (r, looks)).cumsum(axis=1))
    n = n_per_look * np.arange(1, looks + 1)
    return np.concatenate(c1), np.concatenate(c0), n


# --------------------------------------------------------------------------------------------
# studies
# --------------------------------------------------------------------------------------------
def _study(kind: MetricKind, est: EffectArrays, true_diff: float, n_per_arm: int,
           reject_target: float | None, settings: dict[str, float]) -> ReplicationStudy:
    ok = np.isfinite(est.estimate)
    errors = est.estimate[ok] - true_diff
    r = int(ok.sum())
    null = true_diff == 0
    target = est.alpha if null else (reject_target if reject_target is not None else float("nan"))
    return ReplicationStudy(
        kind=kind, method=est.method, replications=est.estimate.size, n_per_arm=n_per_arm, alpha=est.alpha,
        true_diff=float(true_diff),
        reject=measured_rate("false-positive rate" if null else "power", est.rejects, target=target),
        coverage=measured_rate("interval coverage", est.covers(true_diff), target=1 - est.alpha),
        mean_estimate=float(est.estimate[ok].mean()),
        bias=float(errors.mean()),
        bias_se=float(errors.std(ddof=1) / math.sqrt(r)) if r > 1 else float("nan"),
        mean_width=float(est.width[ok].mean()),
        settings=dict(settings),
    )


def binary_study(
    *, replications: int = 2000, n_per_arm: int = 5000, base_rate: float = 0.1, diff: float = 0.0,
    alpha: float = 0.05, seed: int = 0, planned_power: float | None = None,
) -> ReplicationStudy:
    """Replicated two-arm experiments on a conversion rate, tested with the Wald difference.

    With ``diff = 0`` this measures the false-positive rate (should be ``alpha``) and coverage of
    zero; with a true ``diff`` it measures power (compare with ``planned_power``) and coverage of
    the true difference (should be ``1 - alpha``).
    """
    alpha = _check_alpha(alpha)
    c1, c0 = simulate_proportions(replications=replications, n_per_arm=n_per_arm, base_rate=base_rate,
                                  diff=diff, seed=seed)
    est = proportion_arrays(c1, n_per_arm, c0, n_per_arm, alpha=alpha)
    return _study("binary", est, diff, n_per_arm, planned_power,
                  {"base_rate": base_rate, "seed": seed})


def continuous_study(
    *, replications: int = 2000, n_per_arm: int = 2000, lift: float = 0.0, alpha: float = 0.05,
    seed: int = 0, model: SpendModel | None = None, planned_power: float | None = None,
) -> ReplicationStudy:
    """Replicated two-arm experiments on skewed spend per customer, tested with Welch's t."""
    return cuped_study(replications=replications, n_per_arm=n_per_arm, lift=lift, alpha=alpha, seed=seed,
                       model=model, planned_power=planned_power).unadjusted


def cuped_study(
    *, replications: int = 2000, n_per_arm: int = 2000, lift: float = 0.05, alpha: float = 0.05,
    seed: int = 0, model: SpendModel | None = None, planned_power: float | None = None,
) -> CupedStudy:
    """Unadjusted and CUPED estimates of the spend difference on the same simulated experiments.

    CUPED should be unbiased (mean estimate at the true ``lift * mean_spend``), keep coverage at
    ``1 - alpha`` and narrow the interval by about ``sqrt(1 - rho^2)``.
    """
    alpha = _check_alpha(alpha)
    model = model or SpendModel()
    if not (-1 < lift <= 10):
        raise ParameterError("lift", lift, "a number > -1 and <= 10")
    t, c = simulate_spend(replications=replications, n_per_arm=n_per_arm, lift=lift, seed=seed,
                          model=model)
    truth = lift * model.mean_spend
    settings = {"lift": lift, "mean_spend": model.mean_spend, "seed": seed}
    sxx = c.comoment("x", "x")
    syy = c.comoment("y", "y")
    rho = float(np.mean(c.comoment() / np.sqrt(sxx * syy)))
    return CupedStudy(
        replications=replications, n_per_arm=n_per_arm, alpha=alpha, true_diff=truth, correlation=rho,
        unadjusted=_study("continuous", welch_arrays(t, c, alpha=alpha), truth, n_per_arm,
                          planned_power, settings),
        cuped=_study("continuous", cuped_arrays(t, c, alpha=alpha), truth, n_per_arm,
                     planned_power, settings),
    )


def peeking_study(
    *, replications: int = 2000, looks: int = 20, n_per_look: int = 500, base_rate: float = 0.1,
    alpha: float = 0.05, tau2: float | None = None, seed: int = 0,
) -> PeekingStudy:
    """A/A experiments tested after every look: naive Wald tests against always-valid p-values.

    An experiment counts as a false positive when any look up to the last is significant. The naive
    rule inflates the rate well past ``alpha``; the always-valid mixture SPRT p-values of
    :func:`experiments.stats.sequential.always_valid_pvalues` keep it at or below ``alpha``.

    Parameters
    ----------
    tau2
        Mixing variance of the mSPRT prior on the difference (squared proportion units). Default, as
        :func:`~experiments.stats.sequential.msprt` does: ten times the planned variance of the
        difference at the last look, ``10 * 2 p (1 - p) / N`` (fixed by the design, not the data).
    """
    alpha = _check_alpha(alpha)
    c1, c0, n = simulate_looks(replications=replications, looks=looks, n_per_look=n_per_look,
                               base_rate=base_rate, seed=seed)
    est = proportion_arrays(c1, n, c0, n, alpha=alpha)
    if tau2 is None:
        tau2 = TAU_FACTOR * 2 * base_rate * (1 - base_rate) / float(n[-1])
    if not (isinstance(tau2, int | float) and math.isfinite(tau2) and tau2 > 0):
        raise ParameterError("tau2", tau2, "a number > 0")
    p_av = always_valid_pvalues(est.estimate, est.se**2, tau2=float(tau2))
    naive_hit = np.nan_to_num(est.p_value, nan=1.0) < alpha
    av_hit = p_av <= alpha
    naive_by_look = np.logical_or.accumulate(naive_hit, axis=1)
    av_by_look = np.logical_or.accumulate(av_hit, axis=1)
    return PeekingStudy(
        replications=replications, looks=looks, n_per_look=n_per_look, base_rate=base_rate,
        alpha=alpha, tau2=float(tau2),
        naive=measured_rate("naive test at every look", naive_by_look[:, -1], target=alpha),
        always_valid=measured_rate("always-valid at every look", av_by_look[:, -1], target=alpha),
        final_look=measured_rate("single test at the last look", naive_hit[:, -1], target=alpha),
        naive_by_look=tuple(float(v) for v in naive_by_look.mean(axis=0)),
        always_valid_by_look=tuple(float(v) for v in av_by_look.mean(axis=0)),
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


def power_study(
    *, replications: int = 2000, n_per_arm: int = 5000, base_rate: float = 0.05, alpha: float = 0.05,
    power: float = 0.8, seed: int = 0,
) -> PowerStudy:
    """Simulate at the effect that :func:`~experiments.stats.power.minimum_detectable_effect` plans for.

    The share of experiments whose Wald test rejects should match the planned ``power``; the
    intervals should cover the true difference ``1 - alpha`` of the time.
    """
    plan = minimum_detectable_effect(baseline=base_rate, n_per_arm=n_per_arm, alpha=alpha, power=power)
    study = binary_study(replications=replications, n_per_arm=n_per_arm, base_rate=base_rate,
                         diff=plan.mde, alpha=alpha, seed=seed, planned_power=power)
    return PowerStudy(plan, study)


# --------------------------------------------------------------------------------------------
# replay of a real experiment, look by look (ASOS per-arm summary statistics)
# --------------------------------------------------------------------------------------------
def asos_looks(frame: pl.DataFrame, *, experiment: str, variant: int, metric: int) -> pl.DataFrame:
    """The looks of one ASOS experiment arm and metric, in time order, with complete variances.

    Parameters
    ----------
    frame
        The ASOS Digital Experiments table (``experiment_id, variant_id, metric_id,
        time_since_start, count_c, count_t, mean_c, mean_t, variance_c, variance_t``).
    experiment, variant, metric
        Which experiment, treatment arm and metric to replay.

    Raises
    ------
    DataError
        When the combination is absent (the message lists what exists for that experiment).
    """
    need = ["experiment_id", "variant_id", "metric_id", "time_since_start", *LOOK_COLUMNS]
    absent = [c for c in need if c not in frame.columns]
    if absent:
        raise DataError(f"ASOS table lacks columns {absent}")
    rows = frame.filter(
        (pl.col("experiment_id") == experiment) & (pl.col("variant_id") == variant)
        & (pl.col("metric_id") == metric)
    )
    if rows.height == 0:
        have = (frame.filter(pl.col("experiment_id") == experiment)
                .select("variant_id", "metric_id").unique().sort("variant_id", "metric_id").rows())
        raise DataError(
            f"no ASOS looks for experiment {experiment!r}, variant {variant}, metric {metric}; "
            + (f"that experiment has (variant, metric) {have}" if have else "no such experiment id")
        )
    rows = rows.drop_nulls(list(LOOK_COLUMNS)).sort("time_since_start")
    if rows.height == 0:
        raise DataError(f"ASOS experiment {experiment!r} has no look with variances for metric {metric}")
    return rows.select("time_since_start", *LOOK_COLUMNS)


def replay_frame(looks: pl.DataFrame, result: SequentialResult) -> pl.DataFrame:
    """Tidy look-by-look frame of a replay: day, method, difference, interval, p-value, significant.

    ``looks`` is :func:`asos_looks`' frame and ``result`` the :func:`~experiments.stats.sequential.msprt`
    run on it; the naive rows carry the fixed-horizon z interval and p-value of each look.
    """
    naive = naive_looks(looks, alpha=result.alpha)
    by_look = result.to_frame()
    day = looks["time_since_start"]
    common = {"look": by_look["look"] + 1, "day": day, "diff": by_look["estimate"]}
    naive_part = pl.DataFrame(common | {
        "method": "naive test at each look", "ci_low": naive["ci_low"], "ci_high": naive["ci_high"],
        "p_value": naive["p_value"]})
    av_part = pl.DataFrame(common | {
        "method": "always-valid (mSPRT)", "ci_low": by_look["ci_low"], "ci_high": by_look["ci_high"],
        "p_value": by_look["p_value"]})
    return pl.concat([naive_part, av_part]).with_columns(
        significant=pl.col("p_value") <= result.alpha
    )


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    return float(alpha)


def _check_sizes(replications: int, n: int) -> None:
    if not (isinstance(replications, int | np.integer) and replications >= 1):
        raise ParameterError("replications", replications, "an integer >= 1")
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ParameterError("n_per_arm", n, "an integer >= 2")


def _check_rate(name: str, p: float) -> None:
    if not (0 <= p <= 1):
        raise ParameterError(name, p, "a probability in [0, 1]")
