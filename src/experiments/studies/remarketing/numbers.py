"""The remarketing analysis of any experiment table: intent-to-treat and exposed effects, economics, truth.

One pass of per-arm sufficient statistics gives every effect; :class:`RemarketingAnalysis` holds them and
says what they mean (the verdict sentences live here, in ``studies``, not in ``stats``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from experiments.charts import remarketing as rc
from experiments.errors import DataError
from experiments.formatting import fmt
from experiments.plain import plain
from experiments.simulate.remarketing import simulate_remarketing
from experiments.stats.economics import CampaignEconomics, campaign_economics
from experiments.stats.effects import compare, mean_effect, proportion_effect
from experiments.stats.heterogeneity import HeterogeneityResult, heterogeneity_test
from experiments.stats.rates import arm_means
from experiments.stats.results import Effect, SRMResult, effects_frame
from experiments.stats.srm import srm_test
from experiments.stats.sufficient import ArmStatistics, gather
from experiments.studies.remarketing.scenario import RemarketingScenario

if TYPE_CHECKING:  # charts (altair) are imported where they are drawn, not by the simulator's users
    import altair as alt

__all__ = ["INCENTIVE_SUFFIX", "METRICS", "GroupEffect", "IncentiveComparison", "LeverAnalysis",
           "RemarketingAnalysis", "measure", "measure_levers", "simulate"]

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
                # a ratio's truth is None where its denominator is not positive (no true extra buyers)
                rows.append({"arm": arm, "measure": measure, "unit": unit, "estimate": _float(est),
                             "low": _float(low), "high": _float(high), "truth": _float(true),
                             "covered": None if true is None else bool(low <= true <= high)})
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
        best = self.best_arm
        conv = self.effect("converted", best)
        title = (
            f"Conversion {fmt(conv.mean_control, 'pct', 2)} in the holdout vs "
            f"{fmt(conv.mean_arm, 'pct', 2)} with {best} ({fmt(conv.rel_lift, 'pct')} relative)"
        )
        return rc.conversion_by_arm(self.rates, title=title, control=self.control)

    def truth_chart(self) -> alt.Chart:
        """Incremental conversions estimated (with interval) against the truth, per arm."""
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
    subscriber_value: float = 0.0,
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
    subscriber_value
        Dollars of future margin lost with each unsubscribe: the profit counts it (margin less
        ``subscriber_value`` per unsubscribe, less media cost).
    """
    metrics = [*METRICS, "cost", "_net_margin"]
    lf = frame.lazy().with_columns(
        pl.col("exposed").cast(pl.String).alias("_exposed"),
        (pl.col("margin") - subscriber_value * pl.col("unsubscribed").cast(pl.Float64)).alias("_net_margin"))
    table = gather(lf, arm="arm", metrics=metrics, segment="_exposed")
    counts = table.counts()
    for arm in arms:
        if counts.get(arm, 0) == 0:
            raise DataError(f"arm {arm!r} has no customers; arms present: {sorted(counts)}")
    kinds = {**METRICS, "_net_margin": "continuous"}
    treatments = [a for a in arms if a != control]
    itt = compare(table, control=control, kinds=kinds, alpha=alpha, arms=treatments)  # type: ignore[arg-type]
    for arm in arms:
        reached = table.stats(arm, "cost", "true").n if "true" in table.segments() else 0
        if reached < 2:
            raise DataError(f"arm {arm!r} has {reached} customers who could be reached on the campaign's "
                            "channels; need at least 2: choose other channels or raise their reach (cookie "
                            "match, social account and opt-in rates)")
    exposed = compare(table, control=control, kinds=kinds, alpha=alpha, arms=treatments,  # type: ignore[arg-type]
                      segment="true")
    economics = []
    for arm in treatments:
        cost = table.stats(arm, "cost").sum
        by = {e.metric: e for e in itt if e.arm == arm}
        economics.append(campaign_economics(by["converted"], by["revenue"], by["_net_margin"], cost=cost))
    itt = [e for e in itt if e.metric in METRICS]
    exposed = [e for e in exposed if e.metric in METRICS]
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


# ----- the levers read from one run ---------------------------------------------------------------------
# Effects by audience (conversion and profit per 1,000 targeted: margin, less media cost, less
# ``subscriber_value`` per unsubscribe; Welch intervals; Cochran's Q across audiences), the cross-sell and
# upgrade margin per 1,000 past purchasers, the subscriber loss, the media bought after a purchase (the burn
# pixel's waste, known from the ad server: no interval), and purchases after the window (the limited-time
# offer's dip) and in and after it. Each beside its truth: the mean over the group's customers of the
# difference of their potential outcomes under the arm and under the holdout.

_PAST = "past_purchasers"
# Outcome columns derived per customer: their name, expression (observed) and kind.
_LEVER_METRICS = {"converted": "binary", "profit": "continuous", "addon_margin": "continuous",
            "subscriber_loss": "continuous", "converted_post": "binary", "purchases_total": "continuous"}


@dataclass(frozen=True)
class GroupEffect:
    """One effect of one arm within one group (an audience, or every customer), per 1,000 targeted.

    ``estimate``, ``ci_low`` and ``ci_high`` are 1,000 times the per-customer Welch (or Wald)
    difference; ``truth`` is 1,000 times the mean difference of the group's potential outcomes.
    """

    measure: str
    arm: str
    group: str
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    truth: float | None
    unit: str
    effect: Effect

    @property
    def covered(self) -> bool | None:
        """Whether the interval holds the truth (None without truth)."""
        return None if self.truth is None else bool(self.ci_low <= self.truth <= self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready), without the underlying :class:`Effect`."""
        d = {k: plain(v) for k, v in asdict(self).items() if k != "effect"}
        d["covered"] = self.covered
        return d


@dataclass(frozen=True)
class LeverAnalysis:
    """What the levers did in one run, every estimate beside its truth."""

    subscriber_value: float
    burn_pixel: bool
    audience_profit: tuple[GroupEffect, ...]
    audience_conversions: tuple[GroupEffect, ...]
    heterogeneity: tuple[HeterogeneityResult, ...]
    cross_sell: tuple[GroupEffect, ...]
    subscriber_loss: tuple[GroupEffect, ...]
    post_window: tuple[GroupEffect, ...]
    purchases_total: tuple[GroupEffect, ...]
    wasted_cost_per_1000: dict[str, float]

    def estimates(self) -> tuple[GroupEffect, ...]:
        """Every estimate with an interval."""
        return (*self.audience_profit, *self.audience_conversions, *self.cross_sell, *self.subscriber_loss,
                *self.post_window, *self.purchases_total)

    def audiences_of(self, arm: str) -> tuple[GroupEffect, ...]:
        """Profit per 1,000 targeted of ``arm`` in each audience, best first."""
        rows = [g for g in self.audience_profit if g.arm == arm]
        return tuple(sorted(rows, key=lambda g: -g.estimate))

    def heterogeneity_of(self, arm: str) -> HeterogeneityResult | None:
        """Cochran's Q across audiences of ``arm``'s profit effect, when there are several audiences."""
        return next((h for h in self.heterogeneity if h.arm == arm), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready): every estimate, the heterogeneity tests and the media bought after a
        purchase per 1,000 targeted, by arm."""
        return {"subscriber_value": self.subscriber_value, "burn_pixel": self.burn_pixel,
                "estimates": [g.to_dict() for g in self.estimates()],
                "heterogeneity": [h.to_dict() for h in self.heterogeneity],
                "wasted_cost_per_1000": dict(self.wasted_cost_per_1000)}

    def to_frame(self) -> pl.DataFrame:
        """One row per estimate: ``measure, arm, group, n, estimate, ci_low, ci_high, truth, unit,
        covered``."""
        return pl.DataFrame([g.to_dict() for g in self.estimates()],
                            schema_overrides={"truth": pl.Float64})


def _observed(subscriber_value: float) -> dict[str, pl.Expr]:
    unsub = pl.col("unsubscribed").cast(pl.Float64)
    return {
        "converted": pl.col("converted").cast(pl.Int8),
        "profit": pl.col("margin") - subscriber_value * unsub - pl.col("cost"),
        "addon_margin": pl.col("addon_margin"),
        "subscriber_loss": subscriber_value * unsub,
        "converted_post": pl.col("converted_post").cast(pl.Int8),
        "purchases_total": (pl.col("converted") + pl.col("converted_post")).cast(pl.Float64),
    }


def _potential(name: str, arm: str, subscriber_value: float) -> pl.Expr:
    """The per-customer difference of outcome ``name`` between ``arm`` and the holdout.

    The subscriber loss is the expected one (each customer's unsubscribe probability): the holdout gets no
    messages, so it says nothing about the realised draws of the arm's customers, and the realised mean
    over every customer would be a target the difference in means estimates with a conservative
    interval (no finite-population correction).
    """
    if name == "subscriber_loss":
        return subscriber_value * pl.col(f"cate_unsubscribed__{arm}").cast(pl.Float64)

    def value(a: str) -> pl.Expr:
        unsub = pl.col(f"unsubscribed__{a}").cast(pl.Float64)
        if name == "profit":
            return pl.col(f"margin__{a}") - subscriber_value * unsub - pl.col(f"cost__{a}")
        if name == "purchases_total":
            return (pl.col(f"converted__{a}") + pl.col(f"converted_post__{a}")).cast(pl.Float64)
        return pl.col(f"{name}__{a}").cast(pl.Float64)

    return value(arm) - value("holdout")


def _truths(frame: pl.DataFrame, arms: Sequence[str], names: Sequence[str], subscriber_value: float,
            by: str | None) -> dict[tuple[str, str, str], float]:
    """``{(name, arm, group): 1,000 x mean difference}`` from the potential outcomes (group "all" if no
    ``by``)."""
    if f"margin__{arms[0]}" not in frame.columns:
        return {}
    exprs = [(1000 * _potential(n, a, subscriber_value).mean()).alias(f"{n}|{a}")
             for n in names for a in arms]
    if by is None:
        rows = frame.select(exprs).with_columns(pl.lit("all").alias("_g"))
    else:
        rows = frame.group_by(by).agg(exprs).with_columns(pl.col(by).cast(pl.String).alias("_g"))
    out = {}
    for r in rows.iter_rows(named=True):
        for key, v in r.items():
            if "|" in key:
                n, a = key.split("|")
                out[(n, a, r["_g"])] = float(v)
    return out


def _group_effects(effects: Sequence[Effect], name: str, unit: str, scale: float,
                   truths: dict[tuple[str, str, str], float],
                   group: str | None = None) -> list[GroupEffect]:
    out = []
    for e in effects:
        if e.metric != name:
            continue
        g = group or (e.segment if e.segment is not None else "all")
        t = truths.get((name, e.arm, g))
        out.append(GroupEffect(measure=name, arm=e.arm, group=g, n=e.n_arm + e.n_control,
                               estimate=scale * e.estimate, ci_low=scale * e.ci_low,
                               ci_high=scale * e.ci_high, truth=None if t is None else scale / 1000 * t,
                               unit=unit, effect=e))
    return out


def measure_levers(frame: pl.DataFrame, *, arms: Sequence[str], control: str = "holdout",
                   subscriber_value: float = 0.0, burn_pixel: bool = True,
                   alpha: float = 0.05) -> LeverAnalysis:
    """Effects by audience, cross-sell, subscriber loss, waste and the dip after the window, with truth.

    Parameters
    ----------
    frame
        A remarketing table (:func:`experiments.simulate.remarketing.simulate_remarketing`): ``arm``,
        ``audience``, ``converted``, ``margin``, ``cost``, ``unsubscribed``, ``addon_margin``,
        ``converted_post``, ``wasted_cost``; the ``<outcome>__<arm>`` columns give the truth.
    arms
        Arm labels, control first.
    subscriber_value
        Dollars lost with each unsubscribe, charged in the profit.
    """
    treatments = [a for a in arms if a != control]
    values = _observed(subscriber_value)
    lf = frame.lazy().with_columns(**values, audience=pl.col("audience").cast(pl.String))
    metrics = list(values)
    pooled = gather(lf, arm="arm", metrics=metrics)
    by_audience = gather(lf, arm="arm", metrics=["converted", "profit"], segment="audience")
    past = gather(lf.filter(pl.col("audience") == _PAST), arm="arm", metrics=["addon_margin"])
    kinds = {m: _LEVER_METRICS[m] for m in metrics}
    all_effects = compare(pooled, control=control, kinds=kinds, alpha=alpha, arms=treatments)  # type: ignore[arg-type]
    truth_all = _truths(frame, treatments, metrics, subscriber_value, None)
    truth_aud = _truths(frame, treatments, ["converted", "profit"], subscriber_value, "audience")
    audiences = [s for s in by_audience.segments()]
    aud_effects: list[Effect] = []
    for seg in audiences:
        aud_effects += compare(by_audience, control=control,
                               kinds={"converted": "binary", "profit": "continuous"},
                               alpha=alpha, arms=treatments, segment=seg)
    heterogeneity = []
    for arm in treatments:
        mine = [e for e in aud_effects if e.arm == arm and e.metric == "profit" and e.se > 0]
        if len(mine) >= 2:
            heterogeneity.append(heterogeneity_test(mine))
    cross: list[GroupEffect] = []
    if past.counts().get(control, 0) and all(past.counts().get(a, 0) for a in treatments):
        truth_past = _truths(frame.filter(pl.col("audience") == _PAST), treatments, ["addon_margin"],
                             subscriber_value, None)
        cross = _group_effects(compare(past, control=control, kinds={"addon_margin": "continuous"},
                                       alpha=alpha, arms=treatments),
                               "addon_margin", "$", 1000.0, {(n, a, _PAST): v for (n, a, _), v in
                                                              truth_past.items()}, group=_PAST)
    wasted = (frame.lazy().group_by(pl.col("arm").cast(pl.String))
              .agg((1000 * pl.col("wasted_cost").mean()).alias("w")).collect())
    return LeverAnalysis(
        subscriber_value=subscriber_value, burn_pixel=burn_pixel,
        audience_profit=tuple(_group_effects(aud_effects, "profit", "$", 1000.0, truth_aud)),
        audience_conversions=tuple(_group_effects(aud_effects, "converted", "orders", 1000.0, truth_aud)),
        heterogeneity=tuple(heterogeneity),
        cross_sell=tuple(cross),
        subscriber_loss=tuple(_group_effects(all_effects, "subscriber_loss", "$", 1000.0, truth_all)),
        post_window=tuple(_group_effects(all_effects, "converted_post", "orders", 1000.0, truth_all)),
        purchases_total=tuple(_group_effects(all_effects, "purchases_total", "orders", 1000.0, truth_all)),
        wasted_cost_per_1000={r["arm"]: float(r["w"]) for r in wasted.iter_rows(named=True)},
    )


def _float(x: float | None) -> float:
    """A number for a table column, NaN for a missing one."""
    return math.nan if x is None else float(x)
