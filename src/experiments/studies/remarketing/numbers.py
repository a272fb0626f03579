"""The remarketing analysis of any experiment table: intent-to-treat and exposed effects, economics, truth.

One pass of per-arm sufficient statistics gives every effect; :class:`RemarketingAnalysis` holds them and
says what they mean (the verdict sentences live here, in ``studies``, not in ``stats``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from experiments.errors import DataError
from experiments.formatting import fmt
from experiments.simulate.remarketing import simulate_remarketing
from experiments.stats import (
    ArmStatistics,
    CampaignEconomics,
    Effect,
    SRMResult,
    campaign_economics,
    compare,
    effects_frame,
    gather,
    mean_effect,
    proportion_effect,
    srm_test,
)
from experiments.stats.rates import arm_means
from experiments.studies.remarketing.scenario import RemarketingScenario

if TYPE_CHECKING:  # charts (altair) are imported where they are drawn, not by the simulator's users
    import altair as alt

__all__ = ["INCENTIVE_SUFFIX", "METRICS", "IncentiveComparison", "RemarketingAnalysis", "measure", "simulate"]

#: Arms named ``<base>_incentive`` are compared with ``<base>`` to price the incentive.
INCENTIVE_SUFFIX = "_incentive"

#: Outcome columns of the remarketing table and their kind.
METRICS: dict[str, str] = {
    "converted": "binary",
    "revenue": "continuous",
    "margin": "continuous",
    "returned": "binary",
    "unsubscribed": "binary",
}


@dataclass(frozen=True)
class IncentiveComparison:
    """What adding the incentive to an arm changes, per 1,000 assigned customers (incentive − base arm)."""

    base: str
    incentive: str
    conversions_per_1000: Effect
    profit_per_1000: float
    profit_per_1000_low: float
    profit_per_1000_high: float
    true_profit_per_1000: float | None = None


@dataclass(frozen=True)
class RemarketingAnalysis:
    """Everything the remarketing report states, estimated from the table and checked against truth."""

    control: str
    arms: tuple[str, ...]
    alpha: float
    srm: SRMResult
    itt: tuple[Effect, ...]
    exposed: tuple[Effect, ...]
    exposed_share: dict[str, float]
    economics: tuple[CampaignEconomics, ...]
    rates: pl.DataFrame
    truth: pl.DataFrame | None = None
    incentives: tuple[IncentiveComparison, ...] = ()

    @property
    def treatment_arms(self) -> tuple[str, ...]:
        """Arms other than the control."""
        return tuple(a for a in self.arms if a != self.control)

    def effect(self, metric: str, arm: str, *, exposed: bool = False) -> Effect:
        """The intent-to-treat (or exposed-only) effect of ``arm`` on ``metric``."""
        for e in self.exposed if exposed else self.itt:
            if e.metric == metric and e.arm == arm:
                return e
        raise DataError(f"no effect for metric {metric!r} and arm {arm!r}")

    def economics_of(self, arm: str) -> CampaignEconomics:
        """Campaign economics of ``arm``."""
        return next(e for e in self.economics if e.arm == arm)

    @property
    def best_arm(self) -> str:
        """Treatment arm with the highest estimated incremental profit."""
        return max(self.economics, key=lambda e: e.incremental_profit).arm

    def effects_frame(self) -> pl.DataFrame:
        """Intent-to-treat and exposed effects, one row each, with a ``population`` column."""
        return pl.concat(
            [
                effects_frame(self.itt).with_columns(population=pl.lit("assigned (ITT)")),
                effects_frame(self.exposed).with_columns(population=pl.lit("exposed vs ghost-exposed")),
            ]
        )

    def estimate_vs_truth(self) -> pl.DataFrame:
        """Each headline estimate beside the value the simulation knows, and whether the interval covers it.

        Columns ``arm, measure, unit, estimate, low, high, truth, covered``.
        """
        if self.truth is None:
            raise DataError("this analysis has no truth (a real experiment)")
        truth = {r["arm"]: r for r in self.truth.iter_rows(named=True)}
        rows = []
        for arm in self.treatment_arms:
            t, eco = truth[arm], self.economics_of(arm)
            conv, rev = self.effect("converted", arm), self.effect("revenue", arm)
            items = [
                ("conversion effect per customer", "pp", conv.estimate, conv.ci_low, conv.ci_high,
                 t["ate_converted"]),
                ("revenue effect per customer", "$", rev.estimate, rev.ci_low, rev.ci_high, t["ate_revenue"]),
                ("incremental conversions", "orders", eco.incremental_conversions,
                 eco.incremental_conversions_low, eco.incremental_conversions_high,
                 t["incremental_conversions"]),
                ("incremental profit", "$", eco.incremental_profit, eco.incremental_profit_low,
                 eco.incremental_profit_high, t["incremental_profit"]),
                ("cost per incremental conversion", "$", eco.cost_per_incremental_conversion,
                 eco.cost_per_incremental_conversion_low, eco.cost_per_incremental_conversion_high,
                 t["cost_per_incremental_conversion"]),
                ("incremental ROAS", "x", eco.iroas, eco.iroas_low, eco.iroas_high, t["iroas"]),
            ]
            for measure, unit, est, low, high, true in items:
                rows.append({"arm": arm, "measure": measure, "unit": unit, "estimate": float(est),
                             "low": float(low), "high": float(high), "truth": float(true),
                             "covered": bool(low <= true <= high)})
        return pl.DataFrame(rows)

    # ----- what the report says -------------------------------------------------------------------
    def headline(self) -> tuple[str, list[str], str]:
        """``(headline, details, tone)`` of the verdict, in plain words with intervals."""
        level = f"{round(100 * (1 - self.alpha))}%"
        best = self.best_arm
        eco = self.economics_of(best)
        conv = self.effect("converted", best)
        n_low, n_high = eco.incremental_conversions_low, eco.incremental_conversions_high
        each = fmt(eco.cost_per_incremental_conversion, "money")
        if eco.verdict == "pays back":
            tone, call = "good", "it pays back"
        elif eco.verdict == "does not pay back":
            tone, call = "bad", "it does not pay back"
        else:
            tone, call = "neutral", "whether it pays back is not yet clear"
        if conv.ci_low > 0:
            head = (
                f"The {best} campaign added {fmt(eco.incremental_conversions, 'int')} purchases "
                f"({level} interval {fmt(n_low, 'int')} to {fmt(n_high, 'int')}) "
                f"at {each} of media each; "
                f"at the assumed margin {call}: incremental profit {fmt(eco.incremental_profit, 'money')} "
                f"({fmt(eco.incremental_profit_low, 'money')} to "
                f"{fmt(eco.incremental_profit_high, 'money')})."
            )
        else:
            head = (
                f"No arm added purchases we can tell from zero: the best, {best}, shows "
                f"{fmt(eco.incremental_conversions, 'int')} extra purchases ({level} interval "
                f"{fmt(n_low, 'int')} to {fmt(n_high, 'int')}); incremental profit "
                f"{fmt(eco.incremental_profit, 'money')} ({fmt(eco.incremental_profit_low, 'money')} to "
                f"{fmt(eco.incremental_profit_high, 'money')})."
            )
            tone = "bad" if eco.verdict == "does not pay back" else "neutral"
        details = []
        for arm in self.treatment_arms:
            e, c = self.economics_of(arm), self.effect("converted", arm)
            details.append(
                f"{arm}: conversion {fmt(c.mean_control, 'pct', 2)} → {fmt(c.mean_arm, 'pct', 2)} "
                f"({fmt(c.estimate, 'pp', 2)}, {level} CI {fmt(c.ci_low, 'pp', 2)} to "
                f"{fmt(c.ci_high, 'pp', 2)}; "
                f"relative lift {fmt(c.rel_lift, 'pct')}); spend {fmt(e.cost, 'money')}, "
                f"iROAS {fmt(e.iroas, 'number', 2)} ({fmt(e.iroas_low, 'number', 2)} to "
                f"{fmt(e.iroas_high, 'number', 2)}); {e.verdict}."
            )
        for c in self.incentives:
            truth = (f"; true value {fmt(c.true_profit_per_1000, 'money')}"
                     if c.true_profit_per_1000 is not None else "")
            conv = c.conversions_per_1000
            details.append(
                f"Adding the incentive to {c.base}: {fmt(1000 * conv.estimate, 'number')} more purchases "
                f"per 1,000 customers ({level} CI {fmt(1000 * conv.ci_low, 'number')} to "
                f"{fmt(1000 * conv.ci_high, 'number')}), profit {fmt(c.profit_per_1000, 'money')} per 1,000 "
                f"({fmt(c.profit_per_1000_low, 'money')} to {fmt(c.profit_per_1000_high, 'money')}{truth})"
                + (": the incentive is also paid on orders that would have happened anyway."
                   if c.profit_per_1000_high < 0 else ".")
            )
        if self.truth is not None:
            cmp = self.estimate_vs_truth()
            covered = int(cmp["covered"].sum())
            details.append(
                f"Check against the simulation's truth: {covered} of {cmp.height} intervals contain the "
                "true value."
            )
        if self.srm.mismatch:
            details.append(f"Warning: arm sizes do not match the intended shares ({self.srm.summary()}).")
        return head, details, tone

    def headline_numbers(self) -> dict[str, float | str]:
        """Key figures of the verdict, for the report index."""
        eco = self.economics_of(self.best_arm)
        return {"best_arm": self.best_arm, "incremental_conversions": round(eco.incremental_conversions, 1),
                "incremental_profit": round(eco.incremental_profit, 2), "verdict": eco.verdict}

    # ----- charts ----------------------------------------------------------------------------------
    def conversion_chart(self) -> alt.Chart:
        """Conversion rate by arm with intervals; the title states the finding."""
        from experiments.charts import remarketing as rc

        best = self.best_arm
        conv = self.effect("converted", best)
        title = (
            f"Conversion {fmt(conv.mean_control, 'pct', 2)} in the holdout vs "
            f"{fmt(conv.mean_arm, 'pct', 2)} with {best} ({fmt(conv.rel_lift, 'pct')} relative)"
        )
        return rc.conversion_by_arm(self.rates, title=title, control=self.control)

    def truth_chart(self) -> alt.Chart:
        """Incremental conversions estimated (with interval) against the truth, per arm."""
        from experiments.charts import remarketing as rc

        cmp = self.estimate_vs_truth().filter(pl.col("measure") == "incremental conversions")
        n_cov = int(cmp["covered"].sum())
        return rc.estimate_vs_truth(
            cmp,
            title=f"Incremental purchases: the interval holds the true value in {n_cov} of {cmp.height} arms",
        )


def measure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    arms: Sequence[str],
    shares: Mapping[str, float],
    control: str = "holdout",
    alpha: float = 0.05,
    truth: pl.DataFrame | None = None,
) -> RemarketingAnalysis:
    """Analyse a remarketing experiment table in one pass of per-arm sufficient statistics.

    Parameters
    ----------
    frame
        One row per customer with ``arm``, ``exposed`` (received, or for the holdout would have
        received, the campaign), ``cost`` and the outcome columns of :data:`METRICS`.
    arms, shares
        Arm labels (control first) and their intended shares, for the sample-ratio check.
    control
        The holdout arm.
    truth
        Optional true effects from the simulator (:func:`experiments.simulate.truth.true_effects`).
    """
    metrics = [*METRICS, "cost"]
    lf = frame.lazy().with_columns(pl.col("exposed").cast(pl.String).alias("_exposed"))
    table = gather(lf, arm="arm", metrics=metrics, segment="_exposed")
    counts = table.counts()
    for arm in arms:
        if counts.get(arm, 0) == 0:
            raise DataError(f"arm {arm!r} has no customers; arms present: {sorted(counts)}")
    kinds = {m: k for m, k in METRICS.items()}
    treatments = [a for a in arms if a != control]
    itt = compare(table, control=control, kinds=kinds, alpha=alpha, arms=treatments)  # type: ignore[arg-type]
    exposed = compare(table, control=control, kinds=kinds, alpha=alpha, arms=treatments,  # type: ignore[arg-type]
                      segment="true")
    economics = []
    for arm in treatments:
        cost = table.stats(arm, "cost").sum
        by = {e.metric: e for e in itt if e.arm == arm}
        economics.append(campaign_economics(by["converted"], by["revenue"], by["margin"], cost=cost))
    exposed_share = {}
    for arm in arms:
        n_exp = table.stats(arm, "cost", "true").n if "true" in table.segments() else 0
        exposed_share[arm] = n_exp / counts[arm]
    rates = arm_means(table, "converted", binary=True, alpha=alpha)
    order = {a: i for i, a in enumerate(arms)}
    rates = rates.sort(pl.col("arm").replace_strict(order, default=len(order)))
    srm = srm_test({a: counts[a] for a in arms}, shares)
    return RemarketingAnalysis(
        control=control, arms=tuple(arms), alpha=alpha, srm=srm, itt=tuple(itt), exposed=tuple(exposed),
        exposed_share=exposed_share, economics=tuple(economics), rates=rates, truth=truth,
        incentives=_incentive_comparisons(table, treatments, alpha, truth),
    )


def _incentive_comparisons(
    table: ArmStatistics, treatments: Sequence[str], alpha: float, truth: pl.DataFrame | None
) -> tuple[IncentiveComparison, ...]:
    """Each ``X_incentive`` arm against its ``X`` arm, when both ran.

    Profit per customer is margin minus media cost; the margin difference gets a Welch interval and
    the (known) difference in media cost per customer shifts it.
    """
    true_rows = {} if truth is None else {r["arm"]: r for r in truth.iter_rows(named=True)}
    out = []
    for arm in treatments:
        base = arm.removesuffix(INCENTIVE_SUFFIX)
        if base == arm or base not in treatments:
            continue
        conv = proportion_effect(table.stats(arm, "converted"), table.stats(base, "converted"), alpha=alpha,
                                 metric="converted", arm=arm, control_label=base)
        margin = mean_effect(table.stats(arm, "margin"), table.stats(base, "margin"), alpha=alpha,
                             metric="margin", arm=arm, control_label=base)
        cost_i, cost_b = table.stats(arm, "cost"), table.stats(base, "cost")
        dcost = cost_i.mean - cost_b.mean
        true_value = None
        if arm in true_rows and base in true_rows:
            t_i, t_b = true_rows[arm], true_rows[base]
            true_value = 1000 * (t_i["ate_margin"] - t_b["ate_margin"]
                                 - (t_i["cost"] / t_i["n_arm"] - t_b["cost"] / t_b["n_arm"]))
        out.append(IncentiveComparison(
            base=base, incentive=arm, conversions_per_1000=conv,
            profit_per_1000=1000 * (margin.estimate - dcost),
            profit_per_1000_low=1000 * (margin.ci_low - dcost),
            profit_per_1000_high=1000 * (margin.ci_high - dcost), true_profit_per_1000=true_value,
        ))
    return tuple(out)


def simulate(scenario: RemarketingScenario, **options: object) -> pl.DataFrame:
    """The scenario's campaign table, with its truth (``options``: ``block_size``, ``workers``, ...)."""
    return simulate_remarketing(scenario, **options)  # type: ignore[arg-type]
