"""The calibration study: do the package's tests do what they promise, on experiments whose truth is known?

Runs every check of :mod:`experiments.studies.calibration.numbers` from one :class:`CalibrationScenario`,
replays one real ASOS experiment look by look, and turns the results into the verdict, the checks
table and the charts of ``notebooks/calibration.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import altair as alt
import numpy as np
import polars as pl

from experiments.charts import calibration as cc
from experiments.formatting import fmt
from experiments.stats.calibration import (
    CappingStudy,
    CupedStudy,
    ExposureStudy,
    PeekingStudy,
    PowerStudy,
    Rate,
    RegressionStudy,
    ReplicationStudy,
    SequenceStudy,
)
from experiments.stats.replay import asos_looks, replay_frame
from experiments.stats.sequential import SequentialResult, msprt
from experiments.studies.base import Figure, Verdict
from experiments.studies.calibration.numbers import (
    binary_study,
    capping_study,
    cuped_study,
    exposure_study,
    peeking_study,
    power_study,
    regression_study,
    sequence_study,
)
from experiments.studies.calibration.scenario import CalibrationScenario

__all__ = ["CalibrationResult", "run"]

#: Acceptance bands of the study, as fractions of the nominal level: a measured false-positive rate
#: within alpha ± 20% (4–6% at alpha 5%), coverage within 1 - alpha ± 1 point (94–96% at 95%).
FPR_BAND = 0.2
COVERAGE_BAND = 0.01
POWER_BAND = 0.03


@dataclass(frozen=True)
class CalibrationResult:
    """Every measured figure of the calibration study, with the real-experiment replay."""

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

    def more_sentences(self) -> list[str]:
        """What capping, regression adjustment and the exposed effect showed (those that were run)."""
        out = []
        if (cp := self.capping) is not None:
            parts = [f"at p{lv.cap_percentile:g} it moves the estimate by "
                     f"{lv.bias_capped / lv.true_mean_diff:+.0%} of the true difference while cutting its "
                     f"variance by {fmt(1 - lv.variance_ratio, 'pct', 0)} (RMSE {lv.rmse_capped:.3f} "
                     f"against {lv.rmse_mean:.3f} $ uncapped; intervals "
                     f"{lv.width_ratio:.2f}x as wide; {fmt(r.rate, 'pct')} cover the capped difference)"
                     for lv, r in zip(cp.levels, cp.capped_coverage, strict=True)]
            out.append(f"Capping heavy-tailed spend (coefficient of variation {cp.cv:.0f}, Lewis & Rao "
                       "2015): " + "; ".join(parts) + f"; the uncapped interval covers the truth in "
                       f"{fmt(cp.uncapped_coverage.rate, 'pct')}.")
        if (rg := self.regression) is not None:
            out.append(f"Regression adjustment (Lin 2013) on {rg.covariates} covariates covers the true "
                       f"effect in {fmt(rg.lin.rate, 'pct')} of experiments with intervals "
                       f"{fmt(1 - rg.width_ratio, 'pct', 0)} narrower than unadjusted and "
                       f"{fmt(1 - rg.cuped_width_ratio, 'pct', 0)} narrower than CUPED on one covariate "
                       f"(which covers {fmt(rg.cuped.rate, 'pct')}).")
        if (ex := self.exposure) is not None:
            out.append(f"With {fmt(1 - ex.reach, 'pct', 0)} of the treated never reached, the interval for "
                       f"the effect on the exposed covers its truth ({ex.truth:.2f} $) in "
                       f"{fmt(ex.exposed.rate, 'pct')} of experiments; the intent-to-treat interval holds it "
                       f"in only {fmt(ex.itt.rate, 'pct')}: it measures the effect diluted over everyone "
                       "assigned.")
        return out

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

    def more_figures(self) -> list[Figure]:
        """Headline figures of the capping, regression and exposure checks (those run)."""
        a = self.scenario.alpha
        out = []
        if (cp := self.capping) is not None:
            for lv, r in zip(cp.levels, cp.capped_coverage, strict=True):
                tag = f"p{lv.cap_percentile:g}".replace(".", "_")
                at = f"Capped at p{lv.cap_percentile:g}"
                out += [Figure(f"capped_{tag}_relative_bias", f"{at}: bias / true difference",
                               lv.bias_capped / lv.true_mean_diff, truth=0.0, unit="%"),
                        Figure(f"capped_{tag}_variance_ratio", f"{at}: variance / uncapped",
                               lv.variance_ratio, unit="x"),
                        Figure(f"capped_{tag}_coverage", f"{at}: coverage of the capped effect", r.rate,
                               r.ci_low, r.ci_high, 1 - a, "%")]
        if (rg := self.regression) is not None:
            out += [Figure("lin_coverage", f"Interval coverage (Lin, {rg.covariates} covariates)",
                           rg.lin.rate, rg.lin.ci_low, rg.lin.ci_high, 1 - a, "%"),
                    Figure("lin_width_ratio", "Lin interval width / unadjusted", rg.width_ratio, unit="x")]
        if (ex := self.exposure) is not None:
            out += [Figure("exposed_coverage", "Coverage of the effect on the exposed (2SLS)",
                           ex.exposed.rate, ex.exposed.ci_low, ex.exposed.ci_high, 1 - a, "%"),
                    Figure("itt_covers_exposed", "Intent-to-treat interval holding the effect on the exposed",
                           ex.itt.rate, ex.itt.ci_low, ex.itt.ci_high, 1 - a, "%")]
        return out

    def sequence_sentence(self) -> str:
        """What the confidence sequence costs and holds against the mSPRT (empty without the study)."""
        if not self.sequences:
            return ""
        parts = [f"{fmt(sq.sequence.rate, 'pct')} over {sq.looks} looks (mSPRT {fmt(sq.msprt.rate, 'pct')}, "
                 f"naive {fmt(sq.naive.rate, 'pct')})" for sq in self.sequences]
        long = self.sequences[-1]
        return (
            "The asymptotic confidence sequence (Waudby-Smith et al. 2023, as GrowthBook and Eppo run it) "
            f"declares {' and '.join(parts)} of A/A tests significant; its intervals are on average "
            f"{long.width_ratio:.2f}x as wide as the mSPRT's over {long.looks} looks "
            f"({long.final_width_ratio:.3f}x at the planned size, {long.fixed_width_ratio:.2f}x a "
            "fixed-horizon interval): the same normal-mixture boundary, tuned a little tighter at the end."
        )

    @property
    def all_pass(self) -> bool:
        """Every check but the naive-peeking one (which is expected to fail) is within its band."""
        c = self.checks()
        return bool(c.filter(~pl.col("check").str.contains("naive|intent-to-treat"))["passed"].all())

    # ------------------------------------------------------------------ verdict
    def verdict_parts(self) -> dict[str, Any]:
        """Headline, details, tone and key numbers for :func:`experiments.render.display.verdict`."""
        s, a = self.scenario, self.scenario.alpha
        fpr, cov = self.aa_binary.reject, self.power.study.coverage
        pk = self.peeking
        tone: Literal["good", "bad", "neutral"] = "good" if self.all_pass else "bad"
        head = (
            f"The tests are calibrated: {fmt(fpr.rate, 'pct')} false positives in {fpr.trials:,} A/A tests "
            f"(95% CI {fmt(fpr.ci_low, 'pct')} to {fmt(fpr.ci_high, 'pct')}; target {fmt(a, 'pct', 0)}), "
            f"{fmt(cov.rate, 'pct')} interval coverage; but peeking daily with a naive test gives "
            f"{fmt(pk.naive.rate, 'pct')} false positives, the always-valid test "
            f"{fmt(pk.always_valid.rate, 'pct')}."
            if self.all_pass
            else "Some calibration checks miss their band: see the table below before trusting the tests."
        )
        cu = self.cuped
        pw = self.power
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
            self.replay_sentence(),
            *([self.sequence_sentence()] if self.sequences else []),
            *self.more_sentences(),
        ]
        numbers = {
            "false_positive_rate": round(fpr.rate, 4), "coverage": round(cov.rate, 4),
            "naive_peeking_fpr": round(pk.naive.rate, 4), "always_valid_fpr": round(pk.always_valid.rate, 4),
            "power": round(pw.measured.rate, 4), "planned_power": s.power,
            "cuped_width_ratio": round(cu.width_ratio, 4),
            **self.sequence_numbers(4),
            **self.more_numbers(4),
        }
        return {"headline": head, "details": details, "tone": tone, "numbers": numbers}

    def replay_sentence(self) -> str:
        """What naive peeking and the always-valid test concluded on the real experiment."""
        r, s = self.replay, self.scenario
        days = self.replay_table["day"].unique().sort().to_list()
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

    def checks_table(self) -> pl.DataFrame:
        """The checks as the report shows them (rates as fractions, for ``table(formats=pct)``)."""
        return self.checks().select(
            "check", "rate", "ci_low", "ci_high", "target", "band_low", "band_high", "experiments",
            pl.when(pl.col("passed")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("within band"),
        )

    def cuped_table(self) -> pl.DataFrame:
        """Unadjusted against CUPED on the same experiments: estimate, bias, width, coverage, rejections."""
        return self.cuped.to_frame().select("method", "true_diff", "mean_estimate", "bias", "bias_se",
                                            "mean_width", "coverage", "reject")

    def assumptions(self) -> list[str]:
        """How the experiments were simulated, in plain words."""
        s = self.scenario
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

    # ------------------------------------------------------------------ the study contract
    def verdict(self) -> Verdict:
        """Are the tests calibrated, and what does peeking do?"""
        parts = self.verdict_parts()
        return Verdict(parts["headline"], parts["tone"], tuple(parts["details"]))

    def figures(self) -> tuple[Figure, ...]:
        """Each measured rate with its Wilson interval and its nominal target as the truth."""
        s = self.scenario
        rates = [("false_positive_rate", "A/A false-positive rate (conversion)", self.aa_binary.reject,
                  s.alpha),
                 ("coverage", "Interval coverage (conversion)", self.power.study.coverage, 1 - s.alpha),
                 ("power", "Power at the planned effect", self.power.measured, s.power),
                 ("naive_peeking_fpr", "False positives, daily naive peeking", self.peeking.naive, s.alpha),
                 ("always_valid_fpr", "False positives, always-valid peeking", self.peeking.always_valid,
                  s.alpha)]
        out = [Figure(name, label, r.rate, r.ci_low, r.ci_high, target, "%")
               for name, label, r, target in rates]
        out.append(Figure("cuped_width_ratio", "CUPED interval width / unadjusted", self.cuped.width_ratio,
                          truth=self.cuped.expected_width_ratio, unit="x"))
        for sq in self.sequences:
            r = sq.sequence
            out.append(Figure(f"sequence_fpr_{sq.looks}_looks", f"False positives, confidence sequence over "
                              f"{sq.looks} looks", r.rate, r.ci_low, r.ci_high, s.alpha, "%"))
        if self.sequences:
            out.append(Figure("sequence_width_ratio", "Confidence sequence width / mSPRT width",
                              self.sequences[-1].width_ratio, unit="x"))
        out += self.more_figures()
        return tuple(out)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        more = {k: v.to_frame() for k, v in (("capping", self.capping), ("regression", self.regression),
                                             ("exposure", self.exposure)) if v is not None}
        return {"checks": self.checks_table(), "cuped": self.cuped_table(), "replay": self.replay_table,
                **more}

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        return {"rates": self.rates_chart(), "cuped": self.cuped_chart(), "peeking": self.peeking_chart(),
                "replay": self.replay_chart(),
                **({"sequence": self.sequence_chart()} if self.sequences else {}),
                **({"capping": self.capping_chart()} if self.capping else {}),
                **({"regression": self.regression_chart()} if self.regression else {}),
                **({"exposure": self.exposure_chart()} if self.exposure else {})}

    def data_checks(self) -> list[str]:
        """The real experiment replayed, and the checks within their bands."""
        c = self.checks()
        passed = int(c["passed"].sum())
        expected = ("the naive-peeking and intent-to-treat checks are" if self.exposure else
                    "the naive-peeking check is")
        return [f"{passed} of {c.height} checks are within their acceptance band ({expected} "
                "expected to fail).", self.replay_sentence()]

    def headline_text(self) -> str:
        """Rounded headline numbers (what the notebook's check cell prints)."""
        return str(self.headline_numbers())

    # ------------------------------------------------------------------ charts
    def rates_chart(self) -> alt.LayerChart:
        """Every calibration rate against its target."""
        c = self.checks().filter(~pl.col("check").str.contains("power|peeking|intent-to-treat"))
        worst = c.with_columns(off=(pl.col("rate") - pl.col("target")).abs()).sort("off")["off"][-1]
        return cc.rates_against_targets(
            c, title=f"Every false-positive rate and coverage lands within {100 * worst:.1f} points of "
                     "its nominal level"
        )

    def peeking_chart(self) -> alt.LayerChart:
        """False positives accumulating look by look."""
        pk = self.peeking
        return cc.peeking_curve(
            pk.to_frame(), alpha=pk.alpha,
            title=f"Peeking daily with a naive test: {fmt(pk.naive.rate, 'pct', 0)} false positives after "
                  f"{pk.looks} looks; always-valid stays at {fmt(pk.always_valid.rate, 'pct')}",
        )

    def sequence_chart(self) -> alt.LayerChart:
        """False positives look by look over the longer monitoring: naive, mSPRT, confidence sequence."""
        sq = self.sequences[-1]
        verb = "stay" if sq.sequence.rate <= sq.alpha and sq.msprt.rate <= sq.alpha else "do not all stay"
        return cc.sequence_curves(
            sq.to_frame(), alpha=sq.alpha,
            title=[f"Over {sq.looks} daily looks the confidence sequence ({fmt(sq.sequence.rate, 'pct')}) "
                   f"and the mSPRT ({fmt(sq.msprt.rate, 'pct')}) {verb} below {fmt(sq.alpha, 'pct', 0)}; "
                   f"naive peeking reaches {fmt(sq.naive.rate, 'pct', 0)}",
                   f"the confidence sequence is {sq.width_ratio:.2f}x as wide as the mSPRT on average"],
        )

    def capping_chart(self) -> alt.LayerChart:
        """Capped against uncapped: where each estimate lands, how wide, against the true difference."""
        cp = self.capping
        assert cp is not None
        lo, hi = cp.levels[0], cp.levels[-1]
        return cc.capping_tradeoff(
            cp.to_frame(),
            title=[f"Capping at p{lo.cap_percentile:g} cuts the variance by "
                   f"{fmt(1 - lo.variance_ratio, 'pct', 0)} but shifts the estimate by "
                   f"{lo.bias_capped / lo.true_mean_diff:+.0%} of the true effect",
                   f"at p{hi.cap_percentile:g}: variance {fmt(1 - hi.variance_ratio, 'pct', 0)} lower, shift "
                   f"{hi.bias_capped / hi.true_mean_diff:+.0%}"],
        )

    def regression_chart(self) -> alt.LayerChart:
        """Interval widths of unadjusted, CUPED and Lin, with their coverage."""
        rg = self.regression
        assert rg is not None
        return cc.adjustment_widths(
            rg.to_frame(),
            title=f"Lin's adjustment on {rg.covariates} covariates: intervals "
                  f"{fmt(1 - rg.width_ratio, 'pct', 0)} narrower than unadjusted, "
                  f"{fmt(1 - rg.cuped_width_ratio, 'pct', 0)} narrower than CUPED, "
                  f"coverage {fmt(rg.lin.rate, 'pct')}",
        )

    def exposure_chart(self) -> alt.LayerChart:
        """Coverage of the effect on the exposed: 2SLS against intent-to-treat."""
        ex = self.exposure
        assert ex is not None
        return cc.exposure_coverage(
            ex.to_frame(), level=1 - ex.alpha,
            title=f"{fmt(1 - ex.reach, 'pct', 0)} of the treated never reached: the exposed-effect interval "
                  f"covers in {fmt(ex.exposed.rate, 'pct')}, the intent-to-treat one in "
                  f"{fmt(ex.itt.rate, 'pct')}",
        )

    def cuped_chart(self) -> alt.LayerChart:
        """Unadjusted against CUPED: same average estimate, narrower interval."""
        cu = self.cuped
        return cc.cuped_widths(
            cu.to_frame(),
            title=f"CUPED: intervals {fmt(1 - cu.width_ratio, 'pct', 0)} narrower, estimate still on the "
                  "truth",
        )

    def replay_chart(self) -> alt.FacetChart:
        """The real experiment, look by look."""
        r = self.replay
        if r.naive_rejected_at is not None and r.rejected_at is None:
            title = "ASOS experiment: early naive looks cry 'significant'; the always-valid test never does"
        elif r.rejected_at is not None:
            title = "ASOS experiment: the always-valid test also finds an effect"
        else:
            title = "ASOS experiment: neither method finds an effect at any look"
        return cc.replay_looks(self.replay_table, title=title)


def run(scenario: CalibrationScenario, asos: pl.DataFrame | None = None) -> CalibrationResult:
    """Run every calibration study of ``scenario`` and the ASOS replay.

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
        from experiments.datasets import load_asos

        asos = load_asos(s.asos_file)
    looks = asos_looks(asos, experiment=s.asos_experiment, variant=s.asos_variant, metric=s.asos_metric)
    replay = msprt(looks, alpha=s.alpha, metric=f"metric {s.asos_metric}",
                   arm=f"variant {s.asos_variant}", control="control")
    return CalibrationResult(s, aa_binary, aa_spend, power, cuped, peeking, replay,
                              replay_frame(looks, replay), sequences=sequences,
                              capping=capping_study(replications=s.capping_replications, alpha=s.alpha,
                                                    seed=seeds[6]),
                              regression=regression_study(replications=s.coverage_replications, alpha=s.alpha,
                                                          seed=seeds[7]),
                              exposure=exposure_study(replications=s.coverage_replications, alpha=s.alpha,
                                                      seed=seeds[8]))
