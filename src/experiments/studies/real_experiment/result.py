"""The real-experiment study: the whole battery on an experiment file, told as a decision.

Runs :func:`experiments.stats.row_analysis.analyze` once on the whole table (with CUPED on the pre-period
covariate) and once per segment column, compares the best treatment arm with the runner-up, and turns
it all into the verdict ("which treatment to send, what it adds per 1,000 recipients"), the tables and
the charts of ``notebooks/real_experiment.ipynb``.

The uplift section asks whom one arm moves: cross-fitted uplift learners
(:func:`experiments.models.uplift.compare_learners`) score every customer out of fold, and each ranking
is judged by its Qini coefficient against random (bootstrap interval over customers) and by the uplift
in each decile of it. The numbers are computed in :mod:`experiments.studies.real_experiment.numbers`,
worded in :mod:`experiments.studies.real_experiment.words`; the tables and charts are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

from experiments.charts import real_experiment as rc
from experiments.charts import uplift as uc
from experiments.formatting import fmt, p_value
from experiments.stats.results import effects_frame
from experiments.studies.base import Figure, Verdict
from experiments.studies.real_experiment import words
from experiments.studies.real_experiment.numbers import RealExperimentNumbers, measure
from experiments.studies.real_experiment.scenario import RealExperimentScenario
from experiments.uplift_learners import LEARNER_NAMES

__all__ = ["RealExperimentResult", "run"]


@dataclass(frozen=True)
class RealExperimentResult(RealExperimentNumbers):
    """Everything the real-experiment report states: the numbers, with the words, tables and charts."""

    # ------------------------------------------------------------------ tables
    def effects_table(self) -> pl.DataFrame:
        """The per-recipient effects as the report shows them."""
        unit = f"per {self.scenario.per:,}"
        return self.per_unit_frame().select(
            "arm", "metric", "method",
            pl.col("estimate").alias(f"change {unit}"), pl.col("low").alias("95% low"),
            pl.col("high").alias("95% high"), pl.col("rel_lift").alias("relative lift"),
            pl.col("p_adjusted").alias(f"p ({self.result.correction})"),
        )

    def arms_table(self) -> pl.DataFrame:
        """Rows per arm and the mean of each metric."""
        eff = effects_frame(self.result.overall())
        ctrl = eff.group_by("metric", maintain_order=True).agg(
            pl.col("n_control").first().alias("n"), pl.col("mean_control").first().alias("mean"))
        ctrl = ctrl.with_columns(arm=pl.lit(self.scenario.control))
        arms = eff.select("arm", "metric", pl.col("n_arm").alias("n"), pl.col("mean_arm").alias("mean"))
        both = pl.concat([ctrl.select("arm", "metric", "n", "mean"), arms])
        return both.pivot(on="metric", index="arm", values="mean").join(
            both.group_by("arm").agg(pl.col("n").max().alias("customers")), on="arm", maintain_order="left")

    # ------------------------------------------------------------------ the study contract
    def verdict(self) -> Verdict:
        """Which arm to send, on the decision metric, with intervals."""
        parts = words.verdict_parts(self)
        return Verdict(parts["headline"], parts["tone"], tuple(parts["details"]))

    def figures(self) -> tuple[Figure, ...]:
        """Each treatment arm's effect on each metric per ``per`` recipients (CUPED on the decision one)."""
        s = self.scenario
        out = []
        for a in self.treatment_arms:
            for m in s.metrics:
                e = self.decision_effect(a) if m == s.decision_metric else self.effect(m, a)
                unit = "$" if m == s.decision_metric and self.kind(m) == "continuous" else ""
                out.append(Figure(f"effect_{m}", f"{m} per {s.per:,} recipients ({a})", s.per * e.estimate,
                                  s.per * e.ci_low, s.per * e.ci_high, None, unit, group=a))
        if self.uplift is not None:
            for ev in self.uplift.evaluations:
                q = ev.qini
                out.append(Figure("uplift_qini", f"Qini coefficient of the {LEARNER_NAMES[ev.learner]} "
                                  f"({s.uplift_arm}, {s.uplift_outcome})", q.estimate, q.ci_low,
                                  q.ci_high, None, "", group=ev.learner))
        return tuple(out)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        out = {"arms": self.arms_table(), "effects": self.effects_table(),
               "heterogeneity": self.heterogeneity_table()}
        if self.uplift is not None:
            out |= {"uplift_learners": self.uplift_table(), "uplift_deciles": self.uplift_decile_table()}
        return out

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        out = {"effects": self.effects_chart(), "cuped": self.cuped_chart(), "segments": self.segment_chart()}
        if self.uplift is not None:
            out |= {"uplift_qini": self.uplift_qini_chart(), "uplift_deciles": self.uplift_decile_chart()}
        return out

    def headline_text(self) -> str:
        """Rounded headline numbers (the notebook's check cell prints them): effects, then uplift models."""
        lines = [str(self.headline_numbers())]
        if self.uplift is not None:
            lines.append(f"uplift of {self.scenario.uplift_arm} on {self.uplift.outcome}: " + "; ".join(
                f"{ev.learner} qini {ev.qini.estimate:.3f} [{ev.qini.ci_low:.3f}, {ev.qini.ci_high:.3f}]"
                for ev in self.uplift.evaluations))
        return "\n".join(lines)

    def headline_numbers(self) -> dict[str, Any]:
        """Rounded headline figures (stable: the data is fixed)."""
        s = self.scenario
        out: dict[str, Any] = {"best_arm": self.best_arm}
        for a in self.treatment_arms:
            for m in s.metrics:
                out[f"{a}: {m} per {s.per}"] = round(s.per * self.effect(m, a).estimate, 1)
        return out

    def data_checks(self) -> list[str]:
        """Plain sentences on the checks run before any test."""
        return words.data_checks(self)

    def assumptions(self) -> list[str]:
        """What the analysis assumes."""
        return words.assumptions(self)

    def uplift_sentences(self) -> list[str]:
        """Whom the uplift arm moves, in words (the notebook's uplift section)."""
        return words.uplift_sentences(self)

    # ------------------------------------------------------------------ charts
    def effects_chart(self) -> alt.FacetChart:
        """Every arm's effect on every metric, per recipients, with intervals."""
        s, best = self.scenario, self.best_arm
        d = self.decision_effect(best)
        title = (f"The {best} adds the most {s.decision_metric}: {fmt(s.per * d.estimate, 'money')} per "
                 f"{s.per:,} recipients" if self.kind(s.decision_metric) == "continuous"
                 else f"The {best} adds the most {s.decision_metric} per {s.per:,} recipients")
        frame = self.per_unit_frame().filter(pl.col("method") == "unadjusted")
        return rc.effects_by_arm(frame, title=title, per=s.per)

    def cuped_chart(self) -> alt.Chart:
        """Interval widths, unadjusted against CUPED."""
        s = self.scenario
        w = self.width_frame()
        if not s.covariates:
            return rc.interval_widths(w, title="No covariate given: intervals are unadjusted")
        best = self.best_arm
        plain = self.effect(s.decision_metric, best).se
        cup = self.decision_effect(best).se
        change = cup / plain - 1
        title = (f"CUPED with {', '.join(s.covariates)} narrows the {s.decision_metric} interval by "
                 f"{fmt(-change, 'pct', 1)}" if change < -0.01
                 else f"CUPED with {', '.join(s.covariates)} barely changes the intervals "
                      f"({fmt(change, 'pct', 1)} on {s.decision_metric}): it hardly predicts the outcome")
        return rc.interval_widths(w, title=title)

    def segment_chart(self) -> alt.FacetChart:
        """Effect on the decision metric within each segment."""
        s = self.scenario
        het = self.heterogeneity_table()
        differs = het.filter(pl.col("p") < s.alpha)
        if differs.height:
            cols = ", ".join(sorted(set(differs["segment column"].to_list())))
            title = (f"Only {cols} hints at a {s.decision_metric} effect that differs (Cochran's Q p < "
                     f"{s.alpha:g} in {differs.height} of {het.height} uncorrected tests)")
        else:
            title = f"No segment column shows a {s.decision_metric} effect that clearly differs"
        return rc.effects_by_segment(self.segment_frame(), title=title, per=s.per,
                                     metric=s.decision_metric)

    # ------------------------------------------------------------------ uplift section
    def uplift_table(self) -> pl.DataFrame:
        """Each uplift learner: Qini coefficient with its bootstrap interval and p-value, uplift at 30%."""
        if self.uplift is None:
            return _skipped()
        per = self.scenario.per
        return pl.DataFrame([{
            "learner": LEARNER_NAMES[ev.learner], "Qini coefficient": ev.qini.estimate,
            "95% low": ev.qini.ci_low, "95% high": ev.qini.ci_high, "bootstrap p": p_value(ev.qini.p_value),
            f"uplift among the top {ev.metrics.k:.0%}, per {per:,}": per * ev.metrics.uplift_at_k,
        } for ev in self.uplift.evaluations])

    def uplift_decile_table(self) -> pl.DataFrame:
        """Uplift per decile of the main learner's ranking, per ``per`` recipients, with intervals."""
        if self.uplift is None:
            return _skipped()
        per = self.scenario.per
        return self.uplift.evaluations[0].bins.to_frame().select(
            pl.col("bin").alias("decile"), pl.col("n_treatment").alias("treated"),
            pl.col("n_control").alias("control"), pl.col("mean_treatment").alias("mean treated"),
            pl.col("mean_control").alias("mean control"),
            (pl.col("estimate") * per).alias(f"uplift per {per:,}"),
            (pl.col("ci_low") * per).alias("95% low"), (pl.col("ci_high") * per).alias("95% high"))

    def uplift_qini_chart(self) -> alt.Chart:
        """Qini curves of every learner and of a random ranking."""
        if self.uplift is None:
            return _skipped_chart()
        s, ev = self.scenario, self.uplift.evaluations[0]
        frames = []
        for e in self.uplift.evaluations:
            frames.append(e.metrics.to_frame().select("share", pl.col("qini").alias("value"),
                                                      pl.lit(LEARNER_NAMES[e.learner]).alias("ranking")))
        frames.append(ev.metrics.to_frame().select("share", pl.col("qini_random").alias("value"),
                                                   pl.lit("random").alias("ranking")))
        verdict = "above" if ev.qini.ci_low > 0 else "not clearly above"
        title = (f"The {LEARNER_NAMES[ev.learner]}'s ranking is {verdict} random: Qini coefficient "
                 f"{ev.qini.estimate:.3f} (95% CI {ev.qini.ci_low:.3f} to {ev.qini.ci_high:.3f})")
        outcome = self.uplift.outcome
        return uc.qini_curves(pl.concat(frames), title=title, y_title=f"incremental {outcome}",
                              subtitle=f"incremental {outcome} among the first share of customers, ranked by "
                              f"predicted uplift of the {s.uplift_arm} (out of fold)")

    def uplift_decile_chart(self) -> alt.LayerChart | alt.Chart:
        """Uplift per decile of the main learner's ranking."""
        if self.uplift is None:
            return _skipped_chart()
        s, ev = self.scenario, self.uplift.evaluations[0]
        frame = ev.bins.to_frame().select(
            "bin", pl.col("estimate") * s.per, pl.col("ci_low") * s.per, pl.col("ci_high") * s.per,
            "n_treatment", "n_control")
        top, bottom = ev.bins.rows[0], ev.bins.rows[-1]
        high, low = words.per_recipients(self, top.estimate), words.per_recipients(self, bottom.estimate)
        title = (f"{self.uplift.outcome}: {high} per {s.per:,} recipients in the tenth with the highest "
                 f"predicted uplift, {low} in the lowest")
        return uc.uplift_by_bin(frame, title=title, y_title=f"uplift per {s.per:,} recipients",
                                subtitle=f"{s.uplift_arm} minus {s.control}, per decile of the "
                                f"{LEARNER_NAMES[ev.learner]}'s predicted uplift (1 = highest), 95% "
                                "intervals")


def _skipped() -> pl.DataFrame:
    return pl.DataFrame({"uplift section": [words.SKIPPED]})


def _skipped_chart() -> alt.Chart:
    return alt.Chart(pl.DataFrame({"x": [0]})).mark_text().encode(text=alt.value("")).properties(
        title=words.SKIPPED, width=520, height=20)


def run(scenario: RealExperimentScenario, data: pl.DataFrame | pl.LazyFrame | None = None
        ) -> RealExperimentResult:
    """Analyse the experiment file of ``scenario`` (or ``data`` when given).

    The default file is read with :func:`experiments.datasets.load_hillstrom` (sha256-checked),
    any other with :func:`experiments.datasets.scan_table` (lazy).
    """
    return measure(scenario, RealExperimentResult, data)
