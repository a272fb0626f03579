"""The calibration checks: simulated experiments (:mod:`experiments.simulate.replications`) fed through the
vectorised twins of the package's estimators (:mod:`experiments.stats.calibration_results`).

Each check measures a rate with its Wilson interval: false positives of A/A tests, coverage of the true
difference, power at the planned detectable effect, CUPED's gain, what daily peeking does, the
asymptotic confidence sequence against the mSPRT, capping's bias and variance on heavy-tailed spend,
regression adjustment on three covariates, and the effect on the exposed under cookie loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import polars as pl

from experiments.datasets import load_asos
from experiments.errors import ParameterError
from experiments.formatting import fmt
from experiments.simulate.replications import (
    HeavySpendModel,
    SpendModel,
    heavy_spend_blocks,
    simulate_cookie_loss,
    simulate_covariate_spend,
    simulate_looks,
    simulate_proportions,
    simulate_spend,
)
from experiments.stats.calibration_results import (
    TAU_FACTOR,
    CappingStudy,
    CupedStudy,
    ExposureStudy,
    PeekingStudy,
    PowerStudy,
    Rate,
    RegressionStudy,
    ReplicationStudy,
    SequenceStudy,
    check_alpha,
    measured_rate,
)
from experiments.stats.power import minimum_detectable_effect
from experiments.stats.regression_coverage import exposed_coverage, lin_coverage
from experiments.stats.replay import asos_looks, replay_frame
from experiments.stats.sequential import (
    SequentialResult,
    always_valid_pvalues,
    asymptotic_confidence_sequence,
    asymptotic_pvalues,
    confidence_sequence,
    msprt,
    tuning_rho,
)
from experiments.stats.tails import tail_calibration, tail_replications
from experiments.stats.vectorised import ArmSums, EffectArrays, cuped_arrays, proportion_arrays, welch_arrays
from experiments.studies.calibration.scenario import CalibrationScenario

__all__ = [
    "COVERAGE_BAND",
    "FPR_BAND",
    "POWER_BAND",
    "CalibrationNumbers",
    "binary_study",
    "capping_study",
    "continuous_study",
    "cuped_study",
    "exposure_study",
    "measure",
    "peeking_study",
    "power_study",
    "regression_study",
    "sequence_study",
]

MetricKind = Literal["binary", "continuous"]


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
    alpha = check_alpha(alpha)
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
    alpha = check_alpha(alpha)
    model = model or SpendModel()
    if not (-1 < lift <= 10):
        raise ParameterError("lift", lift, "a number > -1 and <= 10")
    t_arrays, c_arrays = simulate_spend(replications=replications, n_per_arm=n_per_arm, lift=lift, seed=seed,
                                        model=model)
    t, c = ArmSums(**t_arrays), ArmSums(**c_arrays)
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
    alpha = check_alpha(alpha)
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


def _mean_finite(x: np.ndarray) -> float:
    ok = np.isfinite(x)
    return float(x[ok].mean()) if ok.any() else float("nan")


def sequence_study(
    *, replications: int = 2000, looks: int = 20, n_per_look: int = 500, base_rate: float = 0.1,
    alpha: float = 0.05, seed: int = 0,
) -> SequenceStudy:
    """A/A experiments tested at every look with naive tests, the mSPRT and the confidence sequence.

    The same experiments as :func:`peeking_study` with the same arguments. The mSPRT mixing variance
    is fixed as there (ten times the planned final-look variance); the confidence sequence
    (:func:`experiments.stats.sequential.asymptotic_confidence_sequence`) is tuned for the planned
    total at the last look, as ``experiments analyze`` does by default. Both must keep the share of
    experiments declared significant at any look at or below ``alpha``; the widths compare what each
    reports (running intersections), averaged over looks and experiments.
    """
    alpha = check_alpha(alpha)
    c1, c0, n = simulate_looks(replications=replications, looks=looks, n_per_look=n_per_look,
                               base_rate=base_rate, seed=seed)
    est = proportion_arrays(c1, n, c0, n, alpha=alpha)
    var = est.se**2
    tau2 = TAU_FACTOR * 2 * base_rate * (1 - base_rate) / float(n[-1])
    planned = int(2 * n[-1])
    rho = tuning_rho(alpha, planned)
    total = 2 * n
    p_m = always_valid_pvalues(est.estimate, var, tau2=tau2)
    m_low, m_high = confidence_sequence(est.estimate, var, tau2=tau2, alpha=alpha)
    p_cs = asymptotic_pvalues(est.estimate, var, total, rho=rho)
    s_low, s_high = asymptotic_confidence_sequence(est.estimate, var, total, rho=rho, alpha=alpha)
    raw_low, raw_high = asymptotic_confidence_sequence(est.estimate[:, -1:], var[:, -1:], total[-1:], rho=rho,
                                                       alpha=alpha, intersect=False)
    m_final = confidence_sequence(est.estimate[:, -1:], var[:, -1:], tau2=tau2, alpha=alpha)
    by_look = {
        "naive": np.logical_or.accumulate(np.nan_to_num(est.p_value, nan=1.0) < alpha, axis=1),
        "msprt": np.logical_or.accumulate(p_m <= alpha, axis=1),
        "sequence": np.logical_or.accumulate(p_cs <= alpha, axis=1),
    }
    return SequenceStudy(
        replications=replications, looks=looks, n_per_look=n_per_look, base_rate=base_rate, alpha=alpha,
        tau2=tau2, planned_n=planned,
        naive=measured_rate(f"naive test at every look, {looks} looks", by_look["naive"][:, -1],
                            target=alpha),
        msprt=measured_rate(f"always-valid (mSPRT), {looks} looks", by_look["msprt"][:, -1], target=alpha),
        sequence=measured_rate(f"confidence sequence, {looks} looks", by_look["sequence"][:, -1],
                               target=alpha),
        sequence_width=_mean_finite(s_high - s_low), msprt_width=_mean_finite(m_high - m_low),
        fixed_width=_mean_finite(est.width),
        final_width_ratio=_mean_finite(raw_high - raw_low) / _mean_finite(m_final[1] - m_final[0]),
        naive_by_look=tuple(float(v) for v in by_look["naive"].mean(axis=0)),
        msprt_by_look=tuple(float(v) for v in by_look["msprt"].mean(axis=0)),
        sequence_by_look=tuple(float(v) for v in by_look["sequence"].mean(axis=0)),
    )


def capping_study(
    *, replications: int = 500, n_per_arm: int = 5000, cap_percentiles: tuple[float, ...] = (99.0, 99.9),
    alpha: float = 0.05, seed: int = 0, model: HeavySpendModel | None = None,
) -> CappingStudy:
    """Capped against uncapped differences of heavy-tailed spend (coefficient of variation near 10).

    The same simulated experiments are capped at each pooled percentile of ``cap_percentiles`` by
    :func:`experiments.stats.tails.tail_replications` and judged by
    :func:`~experiments.stats.tails.tail_calibration` against the exact truths of
    :meth:`~experiments.simulate.replications.HeavySpendModel.truth`: the capped estimate is biased
    towards zero against the true uncapped difference, with less variance; its interval should cover the
    capped estimand ``1 - alpha`` of the time.
    """
    alpha = check_alpha(alpha)
    model = model or HeavySpendModel()
    truths = [model.truth(p) for p in cap_percentiles]
    batches: list[list] = [[] for _ in cap_percentiles]
    for control, treatment in heavy_spend_blocks(replications=replications, n_per_arm=n_per_arm, seed=seed,
                                                 model=model):
        for i, p in enumerate(cap_percentiles):
            batches[i].append(tail_replications(control, treatment, quantile=0.5, cap_percentile=p,
                                                alpha=alpha))
    levels = tuple(tail_calibration(b, true_mean_diff=t["mean_diff"], true_capped_diff=t["capped_diff"],
                                    true_quantile_diff=0.0)
                   for b, t in zip(batches, truths, strict=True))
    target = 1 - alpha
    capped = tuple(measured_rate(f"coverage of the capped effect, cap at p{lv.cap_percentile:g}",
                                 round(lv.coverage_capped * lv.n_reps), lv.n_reps, target=target)
                   for lv in levels)
    first = levels[0]
    uncapped = measured_rate("coverage of the true effect, uncapped",
                             round(first.coverage_mean * first.n_reps), first.n_reps, target=target)
    return CappingStudy(replications=replications, n_per_arm=n_per_arm, cv=model.cv, alpha=alpha,
                        levels=levels, capped_coverage=capped, uncapped_coverage=uncapped)


def regression_study(
    *, replications: int = 50, units: int = 2000, alpha: float = 0.05, seed: int = 0,
) -> RegressionStudy:
    """Coverage and width of Lin (2013)'s interval on three covariates, against CUPED and no adjustment.

    Spend comes from :func:`experiments.simulate.replications.simulate_covariate_spend` (effects that vary
    with the covariates); every experiment goes through
    :func:`experiments.stats.regression_coverage.lin_coverage`, the path of ``experiments analyze
    --covariate``. The truth is each experiment's own average effect (the simulator knows each
    customer's).
    """
    alpha = check_alpha(alpha)
    w = simulate_covariate_spend(replications=replications, units=units, seed=seed)
    x = np.stack([w["history"], w["recency"], w["frequency"]], axis=-1)
    cov = lin_coverage(w["spend"], w["treated"], x, w["effect"].mean(axis=1), alpha=alpha)
    return RegressionStudy.from_coverage(cov, units=units, covariates=x.shape[2], alpha=alpha)


def exposure_study(
    *, replications: int = 50, units: int = 2000, reach_active: float = 0.8, reach_inactive: float = 0.4,
    alpha: float = 0.05, seed: int = 0,
) -> ExposureStudy:
    """Coverage of the effect-on-the-exposed interval when part of the treatment arm is never reached.

    Experiments from :func:`experiments.simulate.replications.simulate_cookie_loss` (by default 40 % of
    the treated never reached) go through :func:`experiments.stats.regression_coverage.exposed_coverage`
    (2SLS, as ``experiments analyze --exposed``); the intent-to-treat interval is judged against the
    same truth, which it does not estimate.
    """
    alpha = check_alpha(alpha)
    w, truth = simulate_cookie_loss(replications=replications, units=units, reach_active=reach_active,
                                    reach_inactive=reach_inactive, seed=seed)
    cov = exposed_coverage(w["spend"], w["treated"], w["exposed"], truth, alpha=alpha)
    reach = float(w["exposed"].sum() / w["treated"].sum())
    return ExposureStudy.from_coverage(cov, units=units, reach=reach, alpha=alpha)


#: Acceptance bands of the study, as fractions of the nominal level: a measured false-positive rate
#: within alpha ± 20% (4–6% at alpha 5%), coverage within 1 - alpha ± 1 point (94–96% at 95%).
FPR_BAND = 0.2
COVERAGE_BAND = 0.01
POWER_BAND = 0.03


N = TypeVar("N", bound="CalibrationNumbers")


@dataclass(frozen=True)
class CalibrationNumbers:
    """Every measured figure of the calibration study, with the real-experiment replay, and the checks
    against their acceptance bands."""

    scenario: CalibrationScenario
    aa_binary: ReplicationStudy
    aa_spend: CupedStudy
    power: PowerStudy
    cuped: CupedStudy
    peeking: PeekingStudy
    replay: SequentialResult
    replay_table: pl.DataFrame
    #: The confidence sequence against the mSPRT and naive peeking, over ``looks`` and ``long_looks``.
    sequences: tuple[SequenceStudy, ...] = ()
    #: Capping heavy-tailed spend at p99 and p99.9: bias, variance, coverage of the capped estimand.
    capping: CappingStudy | None = None
    #: Lin's regression adjustment on three covariates, beside CUPED on one and no adjustment.
    regression: RegressionStudy | None = None
    #: The effect on the exposed when part of the treatment arm is never reached.
    exposure: ExposureStudy | None = None

    # ------------------------------------------------------------------ checks
    def checks(self) -> pl.DataFrame:
        """One row per calibration check: measured rate, Wilson interval, target, band, passed."""
        a = self.scenario.alpha
        fpr_band = (a * (1 - FPR_BAND), a * (1 + FPR_BAND))
        cov_band = (1 - a - COVERAGE_BAND, 1 - a + COVERAGE_BAND)
        pw = self.scenario.power
        rows: list[tuple[str, Rate, tuple[float, float]]] = [
            ("A/A false-positive rate, conversion (Wald)", self.aa_binary.reject, fpr_band),
            ("A/A false-positive rate, spend (Welch)", self.aa_spend.unadjusted.reject, fpr_band),
            ("A/A false-positive rate, spend (CUPED)", self.aa_spend.cuped.reject, fpr_band),
            ("coverage of the true effect, conversion", self.power.study.coverage, cov_band),
            ("coverage of the true effect, spend (Welch)", self.cuped.unadjusted.coverage, cov_band),
            ("coverage of the true effect, spend (CUPED)", self.cuped.cuped.coverage, cov_band),
            ("power at the planned detectable effect", self.power.measured,
             (pw - POWER_BAND, pw + POWER_BAND)),
            ("daily peeking, always-valid (mSPRT)", self.peeking.always_valid, (0.0, a)),
            ("daily peeking, naive test at every look", self.peeking.naive, (0.0, a)),
            *self.sequence_rows(),
            *self.capping_rows(), *self.regression_rows(), *self.exposure_rows(),
        ]
        return pl.DataFrame(
            {
                "check": [r[0] for r in rows],
                "rate": [r[1].rate for r in rows],
                "ci_low": [r[1].ci_low for r in rows],
                "ci_high": [r[1].ci_high for r in rows],
                "target": [r[1].target for r in rows],
                "band_low": [r[2][0] for r in rows],
                "band_high": [r[2][1] for r in rows],
                "experiments": [r[1].trials for r in rows],
                "passed": [r[2][0] <= r[1].rate <= r[2][1] for r in rows],
            }
        )

    def sequence_rows(self) -> list[tuple[str, Rate, tuple[float, float]]]:
        """Checks of the confidence sequence over both monitoring lengths, and of the mSPRT and naive
        peeking over the longer one (the shorter one's are the peeking checks): all at or below alpha."""
        a = self.scenario.alpha
        rows = []
        for i, sq in enumerate(self.sequences):
            rows.append((f"daily peeking over {sq.looks} looks, confidence sequence", sq.sequence, (0.0, a)))
            if i:
                over = f"daily peeking over {sq.looks} looks"
                rows += [(f"{over}, always-valid (mSPRT)", sq.msprt, (0.0, a)),
                         (f"{over}, naive test at every look", sq.naive, (0.0, a))]
        return rows

    def coverage_band(self, rate: Rate) -> tuple[float, float]:
        """1 - alpha ± 1 point, widened to two binomial standard errors when fewer experiments were run
        (the capping, regression and exposure checks run fewer: each goes through the analysis path)."""
        level = 1 - self.scenario.alpha
        half = max(COVERAGE_BAND, 2 * (level * (1 - level) / rate.trials) ** 0.5)
        return max(0.0, level - half), min(1.0, level + half)

    def capping_rows(self) -> list[tuple[str, Rate, tuple[float, float]]]:
        """Coverage of each capped interval for its capped estimand (heavy-tailed spend)."""
        if self.capping is None:
            return []
        return [(f"coverage of the capped effect, spend capped at p{lv.cap_percentile:g}", r,
                 self.coverage_band(r))
                for lv, r in zip(self.capping.levels, self.capping.capped_coverage, strict=True)]

    def regression_rows(self) -> list[tuple[str, Rate, tuple[float, float]]]:
        """Coverage of Lin's interval on three covariates."""
        rg = self.regression
        if rg is None:
            return []
        return [(f"coverage of the true effect, spend (Lin, {rg.covariates} covariates)", rg.lin,
                 self.coverage_band(rg.lin))]

    def exposure_rows(self) -> list[tuple[str, Rate, tuple[float, float]]]:
        """Coverage of the effect on the exposed by the 2SLS interval, and by the intent-to-treat interval
        (expected to fail: it estimates the effect on everyone assigned)."""
        ex = self.exposure
        if ex is None:
            return []
        lost = f"{fmt(1 - ex.reach, 'pct', 0)} of treated never reached"
        return [(f"coverage of the effect on the exposed, {lost} (2SLS)", ex.exposed,
                 self.coverage_band(ex.exposed)),
                (f"coverage of the effect on the exposed, {lost}, by the intent-to-treat interval", ex.itt,
                 self.coverage_band(ex.itt))]

    @property
    def all_pass(self) -> bool:
        """Every check but the naive-peeking one (which is expected to fail) is within its band."""
        c = self.checks()
        return bool(c.filter(~pl.col("check").str.contains("naive|intent-to-treat"))["passed"].all())

    def more_numbers(self, digits: int) -> dict[str, float]:
        """Headline figures of capping, regression adjustment and the exposed effect (those run)."""
        out: dict[str, float] = {}
        if (cp := self.capping) is not None:
            for lv in cp.levels:
                tag = f"p{lv.cap_percentile:g}".replace(".", "_")
                out[f"capped_{tag}_relative_bias"] = round(lv.bias_capped / lv.true_mean_diff, digits)
                out[f"capped_{tag}_variance_ratio"] = round(lv.variance_ratio, digits)
        if (rg := self.regression) is not None:
            out["lin_coverage"] = round(rg.lin.rate, digits)
            out["lin_width_ratio"] = round(rg.width_ratio, digits)
        if (ex := self.exposure) is not None:
            out["exposed_coverage"] = round(ex.exposed.rate, digits)
            out["itt_covers_exposed"] = round(ex.itt.rate, digits)
        return out

    def sequence_numbers(self, digits: int) -> dict[str, float]:
        """False-positive rate of the confidence sequence per monitoring length, and its width ratio."""
        out = {f"sequence_fpr_{sq.looks}_looks": round(sq.sequence.rate, digits) for sq in self.sequences}
        if self.sequences:
            long = self.sequences[-1]
            out[f"msprt_fpr_{long.looks}_looks"] = round(long.msprt.rate, digits)
            out["sequence_width_ratio"] = round(long.width_ratio, digits)
        return out

    def headline_numbers(self) -> dict[str, float]:
        """Rounded headline figures, stable under the fixed seed (for an output-checked cell)."""
        return {
            "aa_false_positive_rate": round(self.aa_binary.reject.rate, 3),
            "coverage": round(self.power.study.coverage.rate, 3),
            "power": round(self.power.measured.rate, 3),
            "naive_peeking_fpr": round(self.peeking.naive.rate, 3),
            "always_valid_fpr": round(self.peeking.always_valid.rate, 3),
            "cuped_width_ratio": round(self.cuped.width_ratio, 3),
            **self.sequence_numbers(3),
            **self.more_numbers(3),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every study."""
        return {
            "scenario": self.scenario.to_params(), "aa_binary": self.aa_binary.to_dict(),
            "aa_spend": self.aa_spend.to_dict(), "power": self.power.to_dict(),
            "cuped": self.cuped.to_dict(), "peeking": self.peeking.to_dict(), "replay": self.replay.to_dict(),
            "sequences": [sq.to_dict() for sq in self.sequences],
            **{k: v.to_dict() for k, v in (("capping", self.capping), ("regression", self.regression),
                                           ("exposure", self.exposure)) if v is not None},
        }


def measure(scenario: CalibrationScenario, into: type[N], asos: pl.DataFrame | None = None) -> N:
    """Run every calibration study of ``scenario`` and the ASOS replay, as ``into`` (the numbers, or the
    result class that adds the report's words, tables and charts to them).

    Parameters
    ----------
    scenario
        Sizes, seed and the ASOS experiment to replay.
    asos
        The ASOS table; read from ``scenario.asos_file`` with
        :func:`experiments.datasets.load_asos` when None.
    """
    s = scenario
    seeds = [int(x.generate_state(1)[0]) for x in np.random.SeedSequence(s.seed).spawn(9)]
    aa_binary = binary_study(replications=s.replications, n_per_arm=s.n_per_arm, base_rate=s.base_rate,
                             alpha=s.alpha, seed=seeds[0])
    aa_spend = cuped_study(replications=s.replications, n_per_arm=s.cuped_n_per_arm, lift=0.0,
                           alpha=s.alpha, seed=seeds[1])
    power = power_study(replications=s.replications, n_per_arm=s.n_per_arm, base_rate=s.base_rate,
                        alpha=s.alpha, power=s.power, seed=seeds[2])
    cuped = cuped_study(replications=s.replications, n_per_arm=s.cuped_n_per_arm, lift=s.cuped_lift,
                        alpha=s.alpha, seed=seeds[3])
    peeking = peeking_study(replications=s.replications, looks=s.looks, n_per_look=s.n_per_look,
                            base_rate=s.base_rate, alpha=s.alpha, seed=seeds[4])
    # the shorter run repeats the peeking study's experiments (same seed), the longer one has its own
    sequences = tuple(
        sequence_study(replications=s.replications, looks=k, n_per_look=s.n_per_look, base_rate=s.base_rate,
                       alpha=s.alpha, seed=seed)
        for k, seed in ((s.looks, seeds[4]), (s.long_looks, seeds[5])))
    if asos is None:
        asos = load_asos(s.asos_file)
    looks = asos_looks(asos, experiment=s.asos_experiment, variant=s.asos_variant, metric=s.asos_metric)
    replay = msprt(looks, alpha=s.alpha, metric=f"metric {s.asos_metric}",
                   arm=f"variant {s.asos_variant}", control="control")
    return into(s, aa_binary, aa_spend, power, cuped, peeking, replay,
                replay_frame(looks, replay), sequences=sequences,
                capping=capping_study(replications=s.capping_replications, alpha=s.alpha,
                                      seed=seeds[6]),
                regression=regression_study(replications=s.coverage_replications, alpha=s.alpha,
                                            seed=seeds[7]),
                exposure=exposure_study(replications=s.coverage_replications, alpha=s.alpha,
                                        seed=seeds[8]))
