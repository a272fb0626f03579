"""The real-experiment study: the whole battery on an experiment file, told as a decision.

Runs :func:`experiments.stats.runner.analyze` once on the whole table (with CUPED on the pre-period
covariate) and once per segment column, compares the best treatment arm with the runner-up, and turns
it all into the verdict ("which treatment to send, what it adds per 1,000 recipients"), the tables and
the charts of ``notebooks/real_experiment.ipynb``.

The uplift section asks whom one arm moves: cross-fitted uplift learners
(:func:`experiments.models.uplift.compare_learners`) score every customer out of fold, and each ranking
is judged by its Qini coefficient against random (bootstrap interval over customers) and by the uplift
in each decile of it; its sentences, tables and charts are in
:mod:`experiments.studies.real_experiment.uplift`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import altair as alt
import polars as pl

from experiments.charts import real_experiment as rc
from experiments.formatting import fmt
from experiments.stats.effects import compare
from experiments.stats.results import Effect, effects_frame
from experiments.stats.runner import AnalysisResult, analyze
from experiments.stats.sufficient import gather
from experiments.studies.base import Figure, Verdict
from experiments.studies.real_experiment.scenario import RealExperimentScenario
from experiments.studies.real_experiment.uplift import (
    uplift_decile_chart,
    uplift_decile_table,
    uplift_qini_chart,
    uplift_sentences,
    uplift_table,
)
from experiments.studies.targeting.scenario import LEARNER_NAMES

if TYPE_CHECKING:
    from experiments.models.uplift.results import LearnerComparison

__all__ = ["UPLIFT_FOLDS", "UPLIFT_LEARNERS", "UPLIFT_RESAMPLES", "UPLIFT_SEED",
           "RealExperimentResult", "run"]

#: Learners of the uplift section (the first one's deciles are shown), on histogram gradient boosting.
UPLIFT_LEARNERS: tuple[str, ...] = ("x", "t")
#: Cross-fitting folds, seed (of the folds, the models and the bootstrap) and bootstrap resamples.
UPLIFT_FOLDS, UPLIFT_SEED, UPLIFT_RESAMPLES = 3, 2008, 200


@dataclass(frozen=True)
class RealExperimentResult:
    """Everything the real-experiment report states."""

    scenario: RealExperimentScenario
    result: AnalysisResult
    segment_results: tuple[AnalysisResult, ...]
    arm_gap: Effect | None
    uplift: LearnerComparison | None = None

    # ------------------------------------------------------------------ lookups
    @property
    def treatment_arms(self) -> list[str]:
        """Arms other than the control, in data order."""
        return [a for a in self.result.arms if a != self.scenario.control]

    def effect(self, metric: str, arm: str, *, cuped: bool = False) -> Effect:
        """The overall effect of ``arm`` on ``metric`` (CUPED-adjusted when asked and available)."""
        pool = self.result.adjusted_results if cuped else self.result.overall()
        for e in pool:
            if e.metric == metric and e.arm == arm and e.segment is None:
                return e
        raise KeyError(f"no {'CUPED ' if cuped else ''}effect of {arm!r} on {metric!r}")

    def decision_effect(self, arm: str) -> Effect:
        """The effect used for the decision: CUPED on the decision metric when a covariate is set."""
        return self.effect(self.scenario.decision_metric, arm, cuped=bool(self.scenario.covariates))

    @property
    def best_arm(self) -> str:
        """The treatment arm with the largest estimated effect on the decision metric."""
        return max(self.treatment_arms, key=lambda a: self.decision_effect(a).estimate)

    def _kind(self, metric: str) -> str:
        return str(self.result.metrics.get(metric, "continuous"))

    # ------------------------------------------------------------------ frames
    def per_unit_frame(self) -> pl.DataFrame:
        """Effects per ``per`` recipients: arm, metric, method, estimate, low, high, p (adjusted)."""
        per = self.scenario.per
        rows = []
        pools = [("unadjusted", self.result.overall())]
        if self.result.adjusted_results:
            pools.append((f"CUPED ({', '.join(self.result.covariates)})", list(self.result.adjusted_results)))
        for method, pool in pools:
            for e in pool:
                p = e.p_value if e.p_value_adjusted is None else e.p_value_adjusted
                rows.append({
                    "arm": e.arm, "metric": e.metric, "method": method, "estimate": per * e.estimate,
                    "low": per * e.ci_low, "high": per * e.ci_high, "rel_lift": e.rel_lift,
                    "p_adjusted": p, "significant": e.significant,
                })
        return pl.DataFrame(rows)

    def effects_table(self) -> pl.DataFrame:
        """The per-recipient effects as the report shows them."""
        unit = f"per {self.scenario.per:,}"
        return self.per_unit_frame().select(
            "arm", "metric", "method",
            pl.col("estimate").alias(f"change {unit}"), pl.col("low").alias("95% low"),
            pl.col("high").alias("95% high"), pl.col("rel_lift").alias("relative lift"),
            pl.col("p_adjusted").alias(f"p ({self.result.correction})"),
        )

    def width_frame(self) -> pl.DataFrame:
        """Interval widths per ``per`` recipients, unadjusted against CUPED: arm, metric, method, width."""
        f = self.per_unit_frame()
        return f.select("arm", "metric", "method", (pl.col("high") - pl.col("low")).alias("width"))

    def segment_frame(self) -> pl.DataFrame:
        """Effects on the decision metric within each segment: column, segment, arm, estimate, interval."""
        per, m = self.scenario.per, self.scenario.decision_metric
        rows = []
        for res in self.segment_results:
            for e in res.results:
                if e.segment is None or e.metric != m:
                    continue
                rows.append({
                    "column": res.segment, "segment": f"{res.segment} = {e.segment}", "arm": e.arm,
                    "n": e.n_arm + e.n_control, "estimate": per * e.estimate, "low": per * e.ci_low,
                    "high": per * e.ci_high, "significant": e.significant,
                })
        schema = {"column": pl.String, "segment": pl.String, "arm": pl.String, "n": pl.Int64,
                  "estimate": pl.Float64, "low": pl.Float64, "high": pl.Float64, "significant": pl.Boolean}
        return pl.DataFrame(rows, schema=schema)

    def heterogeneity_table(self) -> pl.DataFrame:
        """Cochran's Q test per segment column and arm on the decision metric."""
        rows = []
        for res in self.segment_results:
            for h in res.heterogeneity:
                if h.metric != self.scenario.decision_metric:
                    continue
                rows.append({"segment column": res.segment, "arm": h.arm, "Q": h.q, "df": h.df,
                             "p": h.p_value, "I2": h.i2})
        return pl.DataFrame(rows, schema={"segment column": pl.String, "arm": pl.String, "Q": pl.Float64,
                                          "df": pl.Int64, "p": pl.Float64, "I2": pl.Float64})

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

    # ------------------------------------------------------------------ prose
    def _number(self, metric: str, x: float) -> str:
        if metric == self.scenario.decision_metric and self._kind(metric) == "continuous":
            return ("+" if x >= 0 else "") + fmt(x, "money")
        return f"{x:+,.1f}"

    def _amount(self, metric: str, e: Effect) -> str:
        per = self.scenario.per
        n = self._number
        return (f"{metric} {n(metric, per * e.estimate)} (95% CI {n(metric, per * e.ci_low)} to "
                f"{n(metric, per * e.ci_high)})")

    def verdict_parts(self) -> dict[str, Any]:
        """Headline, details, tone and numbers for :func:`experiments.render.display.verdict`."""
        s = self.scenario
        best = self.best_arm
        d = self.decision_effect(best)
        per = f"per {s.per:,} recipients"
        effects = [self._amount(m, self.effect(m, best, cuped=m == s.decision_metric and bool(s.covariates)))
                   for m in s.metrics]
        if d.significant and d.estimate > 0:
            tone: Literal["good", "bad", "neutral"] = "good"
            head = f"Send the {best}: against {s.control}, {per} it adds " + "; ".join(effects) + "."
        elif d.significant:
            tone = "bad"
            head = f"Send nothing: even the best arm, {best}, lowers {s.decision_metric} ({effects[-1]})."
        else:
            tone = "neutral"
            head = (f"No arm clearly raises {s.decision_metric}: the best, {best}, adds "
                    + "; ".join(effects) + f" {per}, not significant.")
        details = []
        if self.arm_gap is not None:
            g = self.arm_gap
            sig = "a clear" if g.significant else "not a clear"
            details.append(f"{best} against {g.control}: " + self._amount(s.decision_metric, g)
                           + f" {per}, {sig} difference.")
        for a in self.treatment_arms:
            if a == best:
                continue
            e = self.decision_effect(a)
            details.append(f"{a} against {s.control}: " + self._amount(s.decision_metric, e) + f" {per}.")
        if s.covariates:
            plain = self.effect(s.decision_metric, best)
            ratio = d.se / plain.se if plain.se > 0 else float("nan")
            details.append(
                f"CUPED with pre-period {', '.join(s.covariates)} changes the {s.decision_metric} interval "
                f"width by {fmt(ratio - 1, 'pct', 1)}; unadjusted: " + self._amount(s.decision_metric, plain)
                + "."
            )
        if self.uplift is not None:
            details += self.uplift_sentences()[:1]
        srm = self.result.srm
        details.append(
            ("Arm sizes match equal shares" if not srm.mismatch else "WARNING: arm sizes do not match "
             "the intended shares") + f" (sample-ratio test p = {srm.p_value:.2f}); "
            + ("no data-quality issue." if self.result.data_quality.ok
               else "data issues: " + "; ".join(self.result.data_quality.issues))
        )
        numbers = {
            "best_arm": best, "decision_metric": s.decision_metric,
            f"effect_per_{s.per}": round(s.per * d.estimate, 2),
            f"ci_low_per_{s.per}": round(s.per * d.ci_low, 2),
            f"ci_high_per_{s.per}": round(s.per * d.ci_high, 2),
            "p_value_adjusted": d.p_value_adjusted, "srm_p_value": round(srm.p_value, 4),
        }
        return {"headline": head, "details": details, "tone": tone, "numbers": numbers}

    # ------------------------------------------------------------------ the study contract
    def verdict(self) -> Verdict:
        """Which arm to send, on the decision metric, with intervals."""
        parts = self.verdict_parts()
        return Verdict(parts["headline"], parts["tone"], tuple(parts["details"]))

    def figures(self) -> tuple[Figure, ...]:
        """Each treatment arm's effect on each metric per ``per`` recipients (CUPED on the decision one)."""
        s = self.scenario
        out = []
        for a in self.treatment_arms:
            for m in s.metrics:
                e = self.decision_effect(a) if m == s.decision_metric else self.effect(m, a)
                unit = "$" if m == s.decision_metric and self._kind(m) == "continuous" else ""
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
        r = self.result
        checks = [f"{r.n_rows:,} rows; arms: " + ", ".join(f"{a} {n:,}" for a, n in r.arms.items()) + ".",
                  r.srm.summary() + ".", r.data_quality.summary()]
        kinds = ", ".join(f"{m} ({k})" for m, k in r.metrics.items())
        checks.append(f"Metrics recognised from their values: {kinds}; multiple-testing correction: "
                      f"{r.correction} over metrics × arms (segments as a separate family).")
        u = self.uplift
        if u is not None:
            left = f"; {u.n_left_out:,} rows of other arms left out" if u.n_left_out else ""
            s = self.scenario
            checks.append(f"Uplift section: {u.n_rows:,} customers ({u.n_treatment:,} {s.uplift_arm}, "
                          f"{u.n_control:,} {s.control}){left}; outcome {u.outcome} read as "
                          f"{'0/1' if u.binary else 'an amount'}.")
        return checks

    def assumptions(self) -> list[str]:
        """What the analysis assumes."""
        s = self.scenario
        return [
            f"Customers were randomised between the arms of {s.arm!r}; the control is {s.control!r}.",
            "Binary metrics: Wald difference of proportions (statsmodels); spend: Welch's t interval, "
            "which holds for skewed spend at these sample sizes (see the calibration notebook).",
            f"CUPED uses {', '.join(s.covariates) or 'no covariate'} measured before the e-mail, "
            "so it cannot be affected by it; the adjustment is the pooled regression slope.",
            "Segment effects are descriptive: many segments are tested, so a single significant one "
            "can be chance; Cochran's Q tests whether the effect really differs across segments.",
            f"Effects are stated per {s.per:,} recipients assigned, whether they opened the e-mail or not "
            "(intent to treat).",
            *([] if self.uplift is None else [
                f"Uplift models: {', '.join(LEARNER_NAMES[n] for n in UPLIFT_LEARNERS)} on histogram "
                f"gradient boosting of {s.uplift_outcome} from {', '.join(s.uplift_features)}; every "
                f"customer is scored by models fitted on the other {UPLIFT_FOLDS - 1} of {UPLIFT_FOLDS} "
                f"folds (seed {UPLIFT_SEED}), so no ranking is judged on customers its model saw.",
                "Qini coefficient as scikit-uplift 0.5 defines it (0 for a random ranking), with a "
                f"percentile interval from {UPLIFT_RESAMPLES} bootstrap resamples of customers; decile "
                "uplift with Welch intervals. Deciles are descriptive: ten intervals, no correction.",
            ]),
        ]

    # ------------------------------------------------------------------ charts
    def effects_chart(self) -> alt.FacetChart:
        """Every arm's effect on every metric, per recipients, with intervals."""
        s, best = self.scenario, self.best_arm
        d = self.decision_effect(best)
        title = (f"The {best} adds the most {s.decision_metric}: {fmt(s.per * d.estimate, 'money')} per "
                 f"{s.per:,} recipients" if self._kind(s.decision_metric) == "continuous"
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
    def uplift_sentences(self) -> list[str]:
        """Whom the uplift arm moves, in words: the main learner's Qini against random and its deciles."""
        return uplift_sentences(self)

    def uplift_table(self) -> pl.DataFrame:
        """Each uplift learner: Qini coefficient with its bootstrap interval and p-value, uplift at 30%."""
        return uplift_table(self)

    def uplift_decile_table(self) -> pl.DataFrame:
        """Uplift per decile of the main learner's ranking, per ``per`` recipients, with intervals."""
        return uplift_decile_table(self)

    def uplift_qini_chart(self) -> alt.Chart:
        """Qini curves of every learner and of a random ranking."""
        return uplift_qini_chart(self)

    def uplift_decile_chart(self) -> alt.LayerChart | alt.Chart:
        """Uplift per decile of the main learner's ranking."""
        return uplift_decile_chart(self)


def run(scenario: RealExperimentScenario, data: pl.DataFrame | pl.LazyFrame | None = None
        ) -> RealExperimentResult:
    """Analyse the experiment file of ``scenario`` (or ``data`` when given).

    The default file is read with :func:`experiments.datasets.load_hillstrom` (sha256-checked),
    any other with :func:`experiments.datasets.scan_table` (lazy).
    """
    from experiments.datasets import load_hillstrom, scan_table

    s = scenario
    if data is None:
        data = scan_table(s.file) if s.path else load_hillstrom()
    lf = data.lazy()
    common: dict[str, Any] = {"arm": s.arm, "control": s.control, "metrics": list(s.metrics),
                              "alpha": s.alpha, "correction": s.correction}
    result = analyze(lf, covariates=list(s.covariates), **common)
    segs = tuple(analyze(lf, segment=col, **common) for col in s.segments)
    treatments = [a for a in result.arms if a != s.control]
    gap = None
    if len(treatments) >= 2:
        key = {"metric": s.decision_metric}
        decision = [e for e in (result.adjusted_results or result.overall())
                    if e.metric == key["metric"] and e.segment is None]
        ranked = sorted(decision, key=lambda e: e.estimate, reverse=True)
        best, second = ranked[0].arm, ranked[1].arm
        table = gather(lf, arm=s.arm, metrics=[s.decision_metric])
        gap = compare(table, control=second, arms=[best],
                      kinds={s.decision_metric: result.metrics[s.decision_metric]}, alpha=s.alpha)[0]
    uplift = None
    if s.uplift_arm:
        from experiments.models.uplift import compare_learners

        uplift = compare_learners(
            lf, arm=s.arm, treatment=s.uplift_arm, control=s.control, outcome=s.uplift_outcome,
            features=list(s.uplift_features), learners=UPLIFT_LEARNERS, folds=UPLIFT_FOLDS, seed=UPLIFT_SEED,
            n_resamples=UPLIFT_RESAMPLES, alpha=s.alpha)
    return RealExperimentResult(s, result, segs, gap, uplift)
