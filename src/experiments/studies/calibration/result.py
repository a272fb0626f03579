"""The calibration study: do the package's tests do what they promise, on experiments whose truth is known?

Runs every check of :mod:`experiments.studies.calibration.numbers` from one :class:`CalibrationScenario`,
replays one real ASOS experiment look by look, and turns the results into the verdict, the checks
table and the charts of ``notebooks/calibration.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import polars as pl

from experiments.charts import calibration as cc
from experiments.formatting import fmt
from experiments.studies.base import Figure, Verdict
from experiments.studies.calibration import words
from experiments.studies.calibration.numbers import (
    CalibrationNumbers,
    measure,
)
from experiments.studies.calibration.scenario import CalibrationScenario

__all__ = ["CalibrationResult", "run"]

@dataclass(frozen=True)
class CalibrationResult(CalibrationNumbers):
    """Every measured figure of the calibration study, with the real-experiment replay: the numbers, with
    the words, tables and charts."""

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
        return words.assumptions(self)

    def replay_sentence(self) -> str:
        """What naive peeking and the always-valid test concluded on the real experiment (the notebook's
        replay section)."""
        return words.replay_sentence(self)

    # ------------------------------------------------------------------ the study contract
    def verdict(self) -> Verdict:
        """Are the tests calibrated, and what does peeking do?"""
        parts = words.verdict_parts(self)
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
        return words.data_checks(self)

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
    return measure(scenario, CalibrationResult, asos)
