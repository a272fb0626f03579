"""What the omnichannel study computes: attribution credit held against true incrementality.

The world is drawn once (:mod:`experiments.simulate.journeys`); its touchpoint log goes through every
attribution model (:mod:`experiments.models.attribution`); every channel is switched off in the same
world for its true incremental purchases, and tested with a randomised holdout (user-level or geo-level)
through :mod:`experiments.stats`; the factorial channels are also tested together in a factorial user
holdout (:mod:`experiments.studies.omnichannel.synergy`). Each model's credit then sets a budget plan
(more money where its credited cost per conversion is lower), and the world is re-run under each plan for
its true profit (:mod:`experiments.studies.omnichannel.budget`).

:func:`measure` returns plain numbers and frames (:class:`OmnichannelAnalysis`); the words of the report
(verdict, labels, chart titles) are in :mod:`experiments.studies.omnichannel.result`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from experiments.models.attribution import AttributionResult, attribute, journeys_from_touches
from experiments.scenarios.omnichannel import CHANNELS, OmnichannelScenario
from experiments.simulate.journeys import (
    JourneyWorld,
    Outcome,
    budget_response,
    channel_truth,
    draw_world,
    geo_holdout_table,
    observed_log,
    play,
    switched_off,
    user_holdout_table,
)
from experiments.stats import gather, mean_effect, proportion_effect, srm_test
from experiments.studies.omnichannel.budget import (
    cost_per_conversion,
    costs_long,
    marginal_returns,
    plan_profits,
    reallocate,
)
from experiments.studies.omnichannel.synergy import FactorialAnalysis, measure_factorial

__all__ = [
    "EXPERIMENT_PLAN",
    "TRUTH_PLAN",
    "OmnichannelAnalysis",
    "attribute_log",
    "channel_experiments",
    "cost_per_conversion",
    "costs_long",
    "credit_vs_truth",
    "cross_device_break",
    "headline_numbers",
    "marginal_returns",
    "measure",
    "model_errors",
    "plan_profits",
    "reallocate",
    "store_blind_spot",
]

#: Name of the plan that follows the channel experiments' estimates.
EXPERIMENT_PLAN = "channel experiments"
#: Name of the plan that follows the true incremental purchases (known only to the simulation).
TRUTH_PLAN = "true incrementality"


def attribute_log(log: pl.DataFrame, *, half_life: float = 7.0, order: int = 1) -> AttributionResult:
    """Every attribution model on a touchpoint log (``journey_id, time, channel, converted, value``)."""
    journeys = journeys_from_touches(log, journey="journey_id", time="time", channel="channel",
                                     converted="converted", value="value")
    return attribute(journeys, half_life=half_life, order=order)


def _share(values: Mapping[str, float]) -> dict[str, float]:
    total = sum(max(v, 0.0) for v in values.values())
    return {c: (max(v, 0.0) / total if total > 0 else 0.0) for c, v in values.items()}


def credit_vs_truth(result: AttributionResult, truth: pl.DataFrame,
                    experiments: pl.DataFrame | None = None) -> pl.DataFrame:
    """Each model's credit share per channel beside the true incremental share (and the experiments').

    Returns
    -------
    polars.DataFrame
        ``model, channel, credit, credit_share, true_incremental, true_share, gap`` (credit share minus
        true share), plus ``experiment_share`` when ``experiments`` is given; channels in world order.
    """
    true_inc = dict(zip(truth["channel"], truth["incremental_conversions"], strict=True))
    true_share = _share(true_inc)
    exp_share = None
    if experiments is not None:
        est = {c: (v if v is not None and math.isfinite(v) else 0.0)
               for c, v in zip(experiments["channel"], experiments["estimate"], strict=True)}
        exp_share = _share({c: est.get(c, 0.0) for c in CHANNELS})
    rows = []
    for m in result.models:
        shares = result.shares(m)
        for c in CHANNELS:
            row: dict[str, Any] = {"model": m, "channel": c, "credit": result.credits[m].get(c, 0.0),
                                   "credit_share": shares.get(c, 0.0), "true_incremental": true_inc[c],
                                   "true_share": true_share[c]}
            row["gap"] = row["credit_share"] - row["true_share"]
            if exp_share is not None:
                row["experiment_share"] = exp_share[c]
            rows.append(row)
    return pl.DataFrame(rows)


def model_errors(comparison: pl.DataFrame) -> pl.DataFrame:
    """Error of each model against the truth, smallest first.

    Returns
    -------
    polars.DataFrame
        ``model, mean_abs_error`` (mean over channels of ``|credit share - true share|``),
        ``max_abs_error``, ``most_overstated`` (the channel with the largest gap) and ``overstated_by``.
    """
    worst = comparison.sort("gap", descending=True).group_by("model", maintain_order=True).first()
    return (comparison.group_by("model", maintain_order=True)
            .agg(mean_abs_error=pl.col("gap").abs().mean(), max_abs_error=pl.col("gap").abs().max())
            .join(worst.select("model", most_overstated="channel", overstated_by="gap"), on="model")
            .sort("mean_abs_error"))


def channel_experiments(world: JourneyWorld, base: Outcome, off: Mapping[str, Outcome], *,
                        alpha: float = 0.05) -> pl.DataFrame:
    """Each channel's randomised holdout (its scenario design), estimated with :mod:`experiments.stats`.

    User-level: a two-proportion difference (purchases per eligible customer, exposed minus held out)
    times the eligible customers. Geo-level: a Welch difference of purchases per customer across
    regions times the customers. Both estimate the channel's incremental purchases if it runs for
    everyone, the quantity ``channel_truth`` gives.

    Returns
    -------
    polars.DataFrame
        ``channel, design, units, holdout_units, srm_p_value`` (sample-ratio test of a user-level split
        against ``user_holdout_share``; nan for geo tests, whose split is fixed), ``estimate, ci_low,
        ci_high, p_value, truth, covered, revenue_estimate, revenue_ci_low, revenue_ci_high``; nan (and
        ``covered`` null) for channels without a test or with fewer than 2 units in an arm.
    """
    s = world.scenario
    rows = []
    nan = float("nan")
    untested = {"estimate": nan, "ci_low": nan, "ci_high": nan, "p_value": nan, "covered": None,
                "revenue_estimate": nan, "revenue_ci_low": nan, "revenue_ci_high": nan}
    for c in CHANNELS:
        design = s.experiment_design[c]
        truth = float(base.conversions - off[c].conversions)
        row: dict[str, Any] = {"channel": c, "design": design, "units": 0, "holdout_units": 0,
                               "srm_p_value": nan, "truth": truth}
        if design not in ("user", "geo"):
            rows.append({**row, **untested})
            continue
        if design == "user":
            table = user_holdout_table(world, c, full=base, off=off[c])
            metrics, scale = ["purchased", "revenue"], table.height
        else:
            table = geo_holdout_table(world, c, full=base, off=off[c])
            metrics, scale = ["purchases_per_customer", "revenue_per_customer"], world.n_customers
        held = int((table["arm"] == "holdout").sum())
        row.update(units=table.height, holdout_units=held)
        if min(held, table.height - held) < 2:  # an arm too small for a test: no estimate
            rows.append({**row, **untested})
            continue
        stats = gather(table, arm="arm", metrics=metrics)
        if design == "user":
            conv = proportion_effect(stats.stats("exposed", "purchased"), stats.stats("holdout", "purchased"),
                                     alpha=alpha, metric="purchased", arm="exposed", control_label="holdout")
            row["srm_p_value"] = srm_test({"exposed": table.height - held, "holdout": held},
                                          {"exposed": 1 - s.user_holdout_share,
                                           "holdout": s.user_holdout_share}).p_value
        else:
            conv = mean_effect(stats.stats("exposed", metrics[0]), stats.stats("holdout", metrics[0]),
                               alpha=alpha, metric=metrics[0], arm="exposed", control_label="holdout")
        rev = mean_effect(stats.stats("exposed", metrics[1]), stats.stats("holdout", metrics[1]), alpha=alpha,
                          metric=metrics[1], arm="exposed", control_label="holdout")
        row.update(estimate=conv.estimate * scale, ci_low=conv.ci_low * scale, ci_high=conv.ci_high * scale,
                   p_value=conv.p_value, revenue_estimate=rev.estimate * scale,
                   revenue_ci_low=rev.ci_low * scale, revenue_ci_high=rev.ci_high * scale)
        row["covered"] = bool(row["ci_low"] <= truth <= row["ci_high"])
        rows.append(row)
    schema = {"channel": pl.String, "design": pl.String, "units": pl.Int64, "holdout_units": pl.Int64,
              "srm_p_value": pl.Float64, "truth": pl.Float64,
              "estimate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64,
              "covered": pl.Boolean, "revenue_estimate": pl.Float64, "revenue_ci_low": pl.Float64,
              "revenue_ci_high": pl.Float64}
    return pl.DataFrame(rows, schema=schema).select(list(schema))


def store_blind_spot(base: Outcome, truth: pl.DataFrame, result: AttributionResult) -> dict[str, Any]:
    """What an online log cannot see: store purchases, overall and among each channel's true effect.

    Returns
    -------
    dict
        ``purchases``, ``online``, ``store``, ``store_share``; ``incremental``, ``incremental_store``,
        ``incremental_store_share`` (over the channels' summed true effects); ``credited`` (the
        conversions the models share out); and ``by_channel``: a frame ``channel, part, conversions``
        (true incremental purchases online and in store).
    """
    store = base.conversions - base.online_conversions
    inc = float(truth["incremental_conversions"].clip(lower_bound=0).sum())
    inc_store = float(truth["incremental_store"].clip(lower_bound=0).sum())
    by_channel = pl.concat([
        truth.select("channel", pl.lit("online").alias("part"), pl.col("incremental_online")
                     .alias("conversions")),
        truth.select("channel", pl.lit("store (not in the log)").alias("part"), pl.col("incremental_store")
                     .alias("conversions")),
    ])
    return {
        "purchases": base.conversions, "online": base.online_conversions, "store": store,
        "store_share": store / base.conversions if base.conversions else float("nan"),
        "incremental": inc, "incremental_store": inc_store,
        "incremental_store_share": inc_store / inc if inc > 0 else float("nan"),
        "credited": result.n_conversions, "by_channel": by_channel,
    }


def cross_device_break(log: pl.DataFrame, stitched: pl.DataFrame, result: AttributionResult,
                       stitched_result: AttributionResult) -> dict[str, Any]:
    """What unmatched devices do to the log and to the credit.

    Returns
    -------
    dict
        ``journeys`` and ``journeys_stitched``; ``converting_customers_split`` (share of online buyers
        whose touches lie on two journeys), ``touches_lost_share`` (share of the buyers' touches that sit
        on a journey that does not show the purchase), ``mean_touches_converting`` and
        ``mean_touches_converting_stitched``; ``shift`` (frame ``model, channel, credit_share,
        stitched_share, change``) and ``mean_abs_shift`` per model; ``by_channel``: a frame ``channel,
        part, touches`` of the online buyers' touches on the journey that shows the purchase and on an
        unmatched device's journey that does not (channels in world order).
    """
    buyers = log.filter(pl.col("purchase") == "online")
    by_channel = (
        buyers.group_by("channel", "converted").agg(pl.len().cast(pl.Int64).alias("touches"))
        .with_columns(part=pl.when(pl.col("converted") == 1).then(pl.lit("on the buying journey"))
                      .otherwise(pl.lit("on an unmatched device")))
        .sort("channel", "converted", descending=[False, True])
        .select(pl.col("channel").cast(pl.String), "part", "touches")
    )
    per = buyers.group_by("customer_id").agg(pl.col("journey_id").n_unique().alias("n"),
                                             (pl.col("converted") == 0).sum().alias("lost"),
                                             pl.len().alias("touches"))
    conv = log.filter(pl.col("converted") == 1)
    conv_st = stitched.filter(pl.col("converted") == 1)
    rows = []
    for m in result.models:
        a, b = result.shares(m), stitched_result.shares(m)
        rows.extend({"model": m, "channel": c, "credit_share": a.get(c, 0.0), "stitched_share": b.get(c, 0.0),
                     "change": a.get(c, 0.0) - b.get(c, 0.0)} for c in CHANNELS)
    shift = pl.DataFrame(rows)
    return {
        "journeys": log["journey_id"].n_unique(),
        "journeys_stitched": stitched["journey_id"].n_unique(),
        "converting_customers_split": float((per["n"] > 1).mean()) if per.height else float("nan"),
        "touches_lost_share": float(per["lost"].sum() / per["touches"].sum()) if per.height else float("nan"),
        "mean_touches_converting": conv.height / max(conv["journey_id"].n_unique(), 1),
        "mean_touches_converting_stitched": conv_st.height / max(conv_st["journey_id"].n_unique(), 1),
        "shift": shift,
        "by_channel": by_channel,
        "mean_abs_shift": dict(shift.group_by("model", maintain_order=True)
                               .agg(pl.col("change").abs().mean()).iter_rows()),
    }


@dataclass(frozen=True)
class OmnichannelAnalysis:
    """Everything the omnichannel study reports, as plain numbers and frames."""

    scenario: OmnichannelScenario
    attribution: AttributionResult
    stitched_attribution: AttributionResult
    truth: pl.DataFrame
    experiments: pl.DataFrame
    comparison: pl.DataFrame
    errors: pl.DataFrame
    costs: pl.DataFrame
    budget: pl.DataFrame
    plans: pl.DataFrame
    blind_spot: dict[str, Any]
    cross_device: dict[str, Any]
    base_profit: float
    base_spend: float
    log_rows: int
    factorial: FactorialAnalysis | None = None

    def plan(self, name: str) -> dict[str, Any]:
        """The row of one plan."""
        rows = self.plans.filter(pl.col("plan") == name)
        if rows.height == 0:
            raise KeyError(name)
        return rows.row(0, named=True)

    def share(self, model: str, channel: str) -> tuple[float, float]:
        """``(credit share, true share)`` of ``channel`` under ``model``."""
        row = self.comparison.filter((pl.col("model") == model) & (pl.col("channel") == channel)).row(
            0, named=True)
        return row["credit_share"], row["true_share"]


def measure(scenario: OmnichannelScenario, *, world: JourneyWorld | None = None,
            workers: int = 1) -> OmnichannelAnalysis:
    """Draw the world, attribute its log, measure the truth and the experiments, re-run every plan.

    Re-runs: one per channel switched off (truth and experiments), two per budget channel (+-change),
    one per plan (each model, the experiments, the truth).
    """
    s = scenario
    world = world if world is not None else draw_world(s, workers=workers)
    base = play(world)
    off = switched_off(world)
    truth = channel_truth(world, base, off)
    log = observed_log(world, outcome=base)
    stitched = observed_log(world, outcome=base, stitched=True)
    result = attribute_log(log)
    stitched_result = attribute_log(stitched)
    experiments = channel_experiments(world, base, off)
    comparison = credit_vs_truth(result, truth, experiments)
    credits: dict[str, Mapping[str, float]] = {m: result.credits[m] for m in result.models}
    credits[EXPERIMENT_PLAN] = {c: max(v, 0.0) if math.isfinite(v) else 0.0
                                for c, v in zip(experiments["channel"], experiments["estimate"], strict=True)}
    credits[TRUTH_PLAN] = dict(zip(truth["channel"], truth["incremental_conversions"], strict=True))
    factorial = (measure_factorial(world, base, channels=s.factorial_channels,
                                   share=s.factorial_holdout_share, experiments=experiments,
                                   attribution=result, off=off)
                 if s.factorial_holdout_share > 0 and s.factorial_channels else None)
    return OmnichannelAnalysis(
        scenario=s, attribution=result, stitched_attribution=stitched_result, truth=truth,
        experiments=experiments, comparison=comparison, errors=model_errors(comparison),
        costs=cost_per_conversion(truth, result, experiments), budget=budget_response(world, base=base),
        plans=plan_profits(world, base, credits), blind_spot=store_blind_spot(base, truth, result),
        cross_device=cross_device_break(log, stitched, result, stitched_result), base_profit=base.profit,
        base_spend=base.total_spend, log_rows=log.height, factorial=factorial,
    )


def headline_numbers(a: OmnichannelAnalysis, *, model: str = "last_touch",
                     channels: Sequence[str] = ("display", "search_brand")) -> dict[str, Any]:
    """The numbers a verdict quotes: ``model``'s credit and true shares of ``channels``, plan profits,
    the best and worst model, the store and cross-device figures."""
    out: dict[str, Any] = {}
    for c in channels:
        credit, true = a.share(model, c)
        out[f"{c}_credit_share"], out[f"{c}_true_share"] = credit, true
    out["model"] = model
    out["model_plan_profit_change"] = a.plan(model)["profit_change"]
    out["experiment_plan_profit_change"] = a.plan(EXPERIMENT_PLAN)["profit_change"]
    out["truth_plan_profit_change"] = a.plan(TRUTH_PLAN)["profit_change"]
    out["best_model"] = a.errors["model"][0]
    out["best_model_error"] = a.errors["mean_abs_error"][0]
    out["worst_model"] = a.errors["model"][-1]
    out["worst_model_error"] = a.errors["mean_abs_error"][-1]
    out["store_share"] = a.blind_spot["store_share"]
    out["incremental_store_share"] = a.blind_spot["incremental_store_share"]
    out["converting_customers_split"] = a.cross_device["converting_customers_split"]
    out["experiments_covered"] = int(a.experiments["covered"].fill_null(False).sum())
    out["experiments_run"] = int(a.experiments["covered"].is_not_null().sum())
    return out
