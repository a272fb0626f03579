"""What the real-experiment study computes: the whole battery on an experiment file.

:func:`measure` runs :func:`experiments.stats.row_analysis.analyze` once on the whole table (with CUPED on the
pre-period covariate) and once per segment column, compares the best treatment arm with the runner-up,
and, when an uplift arm is set, cross-fits uplift learners
(:func:`experiments.models.uplift.compare_learners`) that score every customer out of fold.
:class:`RealExperimentNumbers` holds the results and the frames the report reads; the words are in
:mod:`experiments.studies.real_experiment.words`, the tables and charts in
:mod:`experiments.studies.real_experiment.result`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from experiments.datasets import load_hillstrom, scan_table
from experiments.models.uplift.analysis import compare_learners
from experiments.models.uplift.results import LearnerComparison
from experiments.stats.effects import compare
from experiments.stats.results import Effect
from experiments.stats.row_analysis import AnalysisResult, analyze
from experiments.stats.sufficient import gather
from experiments.studies.real_experiment.scenario import RealExperimentScenario

__all__ = ["UPLIFT_FOLDS", "UPLIFT_LEARNERS", "UPLIFT_RESAMPLES", "UPLIFT_SEED", "RealExperimentNumbers",
           "measure"]

#: Learners of the uplift section (the first one's deciles are shown), on histogram gradient boosting.
UPLIFT_LEARNERS: tuple[str, ...] = ("x", "t")
#: Cross-fitting folds, seed (of the folds, the models and the bootstrap) and bootstrap resamples.
UPLIFT_FOLDS, UPLIFT_SEED, UPLIFT_RESAMPLES = 3, 2008, 200

N = TypeVar("N", bound="RealExperimentNumbers")


@dataclass(frozen=True)
class RealExperimentNumbers:
    """The analysis of an experiment file: overall and per segment, the best arms' gap, the uplift
    learners' comparison, and the frames read from them."""

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

    def kind(self, metric: str) -> str:
        """``binary`` or ``continuous``: how ``metric`` was read from its values."""
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


def measure(scenario: RealExperimentScenario, into: type[N], data: pl.DataFrame | pl.LazyFrame | None = None
            ) -> N:
    """Analyse the experiment file of ``scenario`` (or ``data`` when given), as ``into`` (the numbers, or
    the result class that adds the report's tables and charts to them).

    The default file is read with :func:`experiments.datasets.load_hillstrom` (sha256-checked),
    any other with :func:`experiments.datasets.scan_table` (lazy).
    """
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
        uplift = compare_learners(
            lf, arm=s.arm, treatment=s.uplift_arm, control=s.control, outcome=s.uplift_outcome,
            features=list(s.uplift_features), learners=UPLIFT_LEARNERS, folds=UPLIFT_FOLDS, seed=UPLIFT_SEED,
            n_resamples=UPLIFT_RESAMPLES, alpha=s.alpha)
    return into(s, result, segs, gap, uplift)
