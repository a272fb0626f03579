"""The calibration study's words: are the tests calibrated, what peeking costs, what the real
experiment's replay shows, and how the experiments were simulated, from
:class:`~experiments.studies.calibration.numbers.CalibrationNumbers`."""

from __future__ import annotations

from typing import Any, Literal

from experiments.formatting import fmt
from experiments.studies.calibration.numbers import CalibrationNumbers

__all__ = ["assumptions", "data_checks", "more_sentences", "replay_sentence", "sequence_sentence",
           "verdict_parts"]


def verdict_parts(r: CalibrationNumbers) -> dict[str, Any]:
    """Headline, details, tone and key numbers of the verdict."""
    s, a = r.scenario, r.scenario.alpha
    fpr, cov = r.aa_binary.reject, r.power.study.coverage
    pk = r.peeking
    tone: Literal["good", "bad", "neutral"] = "good" if r.all_pass else "bad"
    head = (
        f"The tests are calibrated: {fmt(fpr.rate, 'pct')} false positives in {fpr.trials:,} A/A tests "
        f"(95% CI {fmt(fpr.ci_low, 'pct')} to {fmt(fpr.ci_high, 'pct')}; target {fmt(a, 'pct', 0)}), "
        f"{fmt(cov.rate, 'pct')} interval coverage; but peeking daily with a naive test gives "
        f"{fmt(pk.naive.rate, 'pct')} false positives, the always-valid test "
        f"{fmt(pk.always_valid.rate, 'pct')}."
        if r.all_pass
        else "Some calibration checks miss their band: see the table below before trusting the tests."
    )
    cu = r.cuped
    pw = r.power
    details = [
        f"Power: planned {fmt(s.power, 'pct', 0)} to detect {fmt(pw.plan.mde, 'pp', 2)} on a "
        f"{fmt(s.base_rate, 'pct')} conversion rate with {s.n_per_arm:,} per arm; measured "
        f"{fmt(pw.measured.rate, 'pct')} ({fmt(pw.measured.ci_low, 'pct')} to "
        f"{fmt(pw.measured.ci_high, 'pct')}).",
        f"CUPED with pre-period spend (correlation {cu.correlation:.2f}) makes intervals "
        f"{fmt(1 - cu.width_ratio, 'pct', 0)} narrower (theory "
        f"{fmt(1 - cu.expected_width_ratio, 'pct', 0)}); "
        f"its average estimate is off the truth by {cu.cuped.bias:+.3f} $ (se {cu.cuped.bias_se:.3f}).",
        f"Daily peeking over {pk.looks} looks: naive {fmt(pk.naive.rate, 'pct')} "
        f"({fmt(pk.naive.ci_low, 'pct')} to {fmt(pk.naive.ci_high, 'pct')}); always-valid "
        f"{fmt(pk.always_valid.rate, 'pct')} ({fmt(pk.always_valid.ci_low, 'pct')} to "
        f"{fmt(pk.always_valid.ci_high, 'pct')}); one test at the end {fmt(pk.final_look.rate, 'pct')}.",
        replay_sentence(r),
        *([sequence_sentence(r)] if r.sequences else []),
        *more_sentences(r),
    ]
    numbers = {
        "false_positive_rate": round(fpr.rate, 4), "coverage": round(cov.rate, 4),
        "naive_peeking_fpr": round(pk.naive.rate, 4), "always_valid_fpr": round(pk.always_valid.rate, 4),
        "power": round(pw.measured.rate, 4), "planned_power": s.power,
        "cuped_width_ratio": round(cu.width_ratio, 4),
        **r.sequence_numbers(4),
        **r.more_numbers(4),
    }
    return {"headline": head, "details": details, "tone": tone, "numbers": numbers}


def replay_sentence(n: CalibrationNumbers) -> str:
    """What naive peeking and the always-valid test concluded on the real experiment."""
    r, s = n.replay, n.scenario
    days = n.replay_table["day"].unique().sort().to_list()
    naive_at = r.naive_rejected_at
    av_at = r.rejected_at
    naive = ("a naive peeker would have stopped on day "
             f"{days[naive_at]:g} with a 'significant' {r.estimate[naive_at]:+.4f}"
             if naive_at is not None else "a naive peeker never saw significance")
    av = ("the always-valid test rejected on day " f"{days[av_at]:g}" if av_at is not None
          else f"the always-valid test never rejected (final p = {r.p_value[-1]:.2f})")
    last = r.looks - 1
    return (
        f"ASOS experiment {s.asos_experiment} (variant {s.asos_variant}, metric {s.asos_metric}), "
        f"{r.looks} looks over {days[-1]:g} days: {naive}; {av}; the final difference is "
        f"{r.estimate[last]:+.4f} (naive 95% CI {r.estimate[last] - 1.96 * r.se[last]:+.4f} to "
        f"{r.estimate[last] + 1.96 * r.se[last]:+.4f}, p = {r.naive_p_value[last]:.2f})."
    )


def sequence_sentence(r: CalibrationNumbers) -> str:
    """What the confidence sequence costs and holds against the mSPRT (empty without the study)."""
    if not r.sequences:
        return ""
    parts = [f"{fmt(sq.sequence.rate, 'pct')} over {sq.looks} looks (mSPRT {fmt(sq.msprt.rate, 'pct')}, "
             f"naive {fmt(sq.naive.rate, 'pct')})" for sq in r.sequences]
    long = r.sequences[-1]
    return (
        "The asymptotic confidence sequence (Waudby-Smith et al. 2023, as GrowthBook and Eppo run it) "
        f"declares {' and '.join(parts)} of A/A tests significant; its intervals are on average "
        f"{long.width_ratio:.2f}x as wide as the mSPRT's over {long.looks} looks "
        f"({long.final_width_ratio:.3f}x at the planned size, {long.fixed_width_ratio:.2f}x a "
        "fixed-horizon interval): the same normal-mixture boundary, tuned a little tighter at the end."
    )


def more_sentences(r: CalibrationNumbers) -> list[str]:
    """What capping, regression adjustment and the exposed effect showed (those that were run)."""
    out = []
    if (cp := r.capping) is not None:
        parts = [f"at p{lv.cap_percentile:g} it moves the estimate by "
                 f"{lv.bias_capped / lv.true_mean_diff:+.0%} of the true difference while cutting its "
                 f"variance by {fmt(1 - lv.variance_ratio, 'pct', 0)} (RMSE {lv.rmse_capped:.3f} "
                 f"against {lv.rmse_mean:.3f} $ uncapped; intervals "
                 f"{lv.width_ratio:.2f}x as wide; {fmt(c.rate, 'pct')} cover the capped difference)"
                 for lv, c in zip(cp.levels, cp.capped_coverage, strict=True)]
        out.append(f"Capping heavy-tailed spend (coefficient of variation {cp.cv:.0f}, Lewis & Rao "
                   "2015): " + "; ".join(parts) + f"; the uncapped interval covers the truth in "
                   f"{fmt(cp.uncapped_coverage.rate, 'pct')}.")
    if (rg := r.regression) is not None:
        out.append(f"Regression adjustment (Lin 2013) on {rg.covariates} covariates covers the true "
                   f"effect in {fmt(rg.lin.rate, 'pct')} of experiments with intervals "
                   f"{fmt(1 - rg.width_ratio, 'pct', 0)} narrower than unadjusted and "
                   f"{fmt(1 - rg.cuped_width_ratio, 'pct', 0)} narrower than CUPED on one covariate "
                   f"(which covers {fmt(rg.cuped.rate, 'pct')}).")
    if (ex := r.exposure) is not None:
        out.append(f"With {fmt(1 - ex.reach, 'pct', 0)} of the treated never reached, the interval for "
                   f"the effect on the exposed covers its truth ({ex.truth:.2f} $) in "
                   f"{fmt(ex.exposed.rate, 'pct')} of experiments; the intent-to-treat interval holds it "
                   f"in only {fmt(ex.itt.rate, 'pct')}: it measures the effect diluted over everyone "
                   "assigned.")
    return out


def assumptions(r: CalibrationNumbers) -> list[str]:
    """How the experiments were simulated, in plain words."""
    s = r.scenario
    return [
        f"Every study runs {s.replications:,} independent experiments from seed {s.seed} (the "
        "capping, regression and exposure checks fewer, as below); rates carry Wilson 95% intervals "
        "(statsmodels).",
        f"Conversion: {s.n_per_arm:,} customers per arm, control rate {fmt(s.base_rate, 'pct')}; "
        "conversions drawn as binomial counts; tested with the package's Wald difference of proportions.",
        f"Spend: {s.cuped_n_per_arm:,} customers per arm; a latent customer value (gamma) drives both "
        "pre-period spend and in-test spend (40% of customers spend nothing); the treatment multiplies "
        f"spend by {1 + s.cuped_lift:g}, so the true difference is known exactly.",
        f"Peeking: {s.looks} daily looks, {s.n_per_look:,} new customers per arm each day, no true "
        "effect; the always-valid test is the normal-mixture SPRT (Johari et al.) with its mixing "
        "variance fixed in advance at ten times the planned final-look variance.",
        f"Confidence sequence: the same daily A/A experiments over {s.looks} and {s.long_looks} looks; "
        "the asymptotic confidence sequence of Waudby-Smith et al. (2023) tuned for the planned total at "
        "the last look, its variance re-estimated at each look; widths are those reported at each look "
        "(running intersections), averaged over looks and experiments.",
        f"Capping: {s.capping_replications:,} experiments of 5,000 customers per arm whose spend is zero "
        "or a lognormal order (5% buy, coefficient of variation 10 as Lewis & Rao 2015 report for "
        "retail); the treatment lifts buying 10% and order size 5%; the truths (uncapped difference, "
        "difference of means capped at the population's pooled p99 and p99.9) are exact.",
        f"Regression adjustment: {s.coverage_replications:,} experiments of 2,000 customers, spend "
        "driven by three pre-period covariates (history, recency, frequency) whose effect differs by "
        "customer; truth: each experiment's own average effect; each experiment goes through the path of "
        "`experiments analyze --covariate` (three times).",
        f"Cookie loss: {s.coverage_replications:,} experiments of 2,000 customers; 80% of active and "
        "40% of inactive customers reachable (60% overall), reachable customers spend more anyway; the "
        "effect on the exposed (5/3 $) is estimated by 2SLS as `experiments analyze --exposed` does.",
        "Bands: false-positive rates within alpha ± 20% (4–6% at 5%), coverage within 1 − alpha ± 1 "
        "point (widened to two binomial standard errors for the checks run on fewer experiments), "
        "measured power within 3 points of the plan, always-valid peeking at or below alpha.",
        "The ASOS file holds per-arm cumulative counts, means and variances per look, not customers; "
        "its datasheet warns of sample-ratio mismatch and telemetry loss in some experiments.",
    ]


def data_checks(r: CalibrationNumbers) -> list[str]:
    """The real experiment replayed, and the checks within their bands."""
    c = r.checks()
    passed = int(c["passed"].sum())
    expected = ("the naive-peeking and intent-to-treat checks are" if r.exposure else
                "the naive-peeking check is")
    return [f"{passed} of {c.height} checks are within their acceptance band ({expected} "
            "expected to fail).", replay_sentence(r)]
