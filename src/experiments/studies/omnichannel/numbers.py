"""What the omnichannel study computes: attribution credit held against true incrementality.

The world is drawn once (:mod:`experiments.simulate.journeys`); its touchpoint log goes through every
attribution model (:mod:`experiments.models.attribution`); every channel is switched off in the same
world for its true incremental purchases, and tested with a randomised holdout (user-level or geo-level)
through :mod:`experiments.stats`; the factorial channels are also tested together in a factorial user
holdout (:func:`measure_factorial`). Each model's credit then sets a budget plan (more money where its
credited cost per conversion is lower), and the world is re-run under each plan for its true profit
(:func:`reallocate`, :func:`plan_profits`; :func:`marginal_returns` sets a channel's marginal cost beside
its average cost).

:func:`measure` returns plain numbers and frames (:class:`OmnichannelAnalysis`); the words of the report
(verdict, labels, chart titles) are in :mod:`experiments.studies.omnichannel.result`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import polars as pl

from experiments.models.attribution import AttributionResult, attribute, journeys_from_touches
from experiments.simulate.journeys import (
    JourneyWorld,
    Outcome,
    budget_response,
    channel_truth,
    draw_world,
    factorial_holdout_table,
    geo_holdout_table,
    interaction_truth,
    observed_log,
    play,
    subsets_off,
    switched_off,
    user_holdout_table,
)
from experiments.stats.effects import mean_effect, proportion_effect
from experiments.stats.factorial import FactorialCells, FactorialContrast, cell_statistics, weighted_contrast
from experiments.stats.special import ndtri
from experiments.stats.srm import srm_test
from experiments.stats.sufficient import gather
from experiments.studies.omnichannel.scenario import (
    CHANNELS,
    EXPERIMENT_PLAN,
    TRUTH_PLAN,
    OmnichannelScenario,
)

__all__ = [
    "EXPERIMENT_PLAN",
    "TRUTH_PLAN",
    "FactorialAnalysis",
    "OmnichannelAnalysis",
    "attribute_log",
    "channel_experiments",
    "coordination",
    "cost_per_conversion",
    "costs_long",
    "credit_vs_truth",
    "cross_device_break",
    "headline_numbers",
    "holdout_contrasts",
    "marginal_returns",
    "measure",
    "measure_factorial",
    "model_errors",
    "plan_profits",
    "reallocate",
    "simulate",
    "store_blind_spot",
]



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


# ---------------------------------------------------------------- channels that work together
# Channels that work together: the coordinated plan against one channel at a time.
#
# Display raises the response of search and e-mail within a window (``display_synergy``, see
# :mod:`experiments.simulate.journeys`), so a channel's worth depends on which others run. Three readings
# of the same plan are held against the truth (the world re-run with every subset of the factorial
# channels switched off, :func:`~experiments.simulate.journeys.subsets_off`):
#
# - the one-channel holdouts (the study's channel experiments) summed: each measures its channel with the
#   others on, so a pair that helps each other is counted in both;
# - every attribution model's credit, in purchases and in profit (margin on credited revenue less the
#   channel's spend);
# - a factorial user holdout (each customer held out of each channel independently), read with
#   :func:`experiments.stats.factorial.weighted_contrast`: each channel's effect and each
#   pair's interaction with intervals, and the whole plan's total.
#
# Profit of a channel (or the plan) is the margin on its extra revenue less the spend it saves when off;
# the spend is the advertiser's own bill (known, not estimated), so a profit interval is the revenue
# interval times the margin, shifted by the spend.


@dataclass(frozen=True)
class FactorialAnalysis:
    """The factorial holdout and the one-channel readings of the factorial channels, beside the truth.

    ``terms``: one row per channel, pair and the total: ``term, kind``, the estimates
    ``conversions, conversions_low, conversions_high, profit, profit_low, profit_high`` and the truth
    ``true_conversions, true_profit``, with ``covered`` (the conversions interval holds the truth) and
    ``profit_covered``. ``holdouts``: the one-channel holdouts of the same channels (``channel,
    conversions, conversions_low, conversions_high, profit, profit_low, profit_high, true_conversions,
    true_profit``). ``credits``: ``model, channel, conversions, profit`` (what each model credits).
    ``units``: customers per cell (the channels held out, ``none`` for none).
    """

    channels: tuple[str, ...]
    share: float
    terms: pl.DataFrame
    holdouts: pl.DataFrame
    credits: pl.DataFrame
    units: dict[str, int]

    def term(self, name: str) -> dict[str, Any]:
        """The row of one term (a channel, ``"a x b"`` or ``"total"``)."""
        rows = self.terms.filter(pl.col("term") == name)
        if rows.height == 0:
            raise KeyError(name)
        return rows.row(0, named=True)

    def one_at_a_time(self) -> dict[str, float]:
        """The one-channel holdouts summed (independent tests: variances add), with the truth."""
        h = self.holdouts
        z = float(ndtri(0.975))
        out: dict[str, float] = {}
        for col in ("conversions", "profit"):
            se = math.sqrt(float((((h[f"{col}_high"] - h[f"{col}_low"]) / (2 * z)) ** 2).sum()))
            est = float(h[col].sum())
            out |= {col: est, f"{col}_low": est - z * se, f"{col}_high": est + z * se,
                    f"true_{col}": float(h[f"true_{col}"].sum())}
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers."""
        return {"channels": list(self.channels), "share": self.share, "terms": self.terms.to_dicts(),
                "holdouts": self.holdouts.to_dicts(), "one_at_a_time": self.one_at_a_time(),
                "credits": self.credits.to_dicts(), "units": self.units}


def _spend_saved(truth: pl.DataFrame, margin: float) -> dict[str, float]:
    """Spend each term saves (its true ``margin * revenue - profit``), the advertiser's own bill."""
    return {t: margin * r - p for t, r, p in truth.select("term", "revenue", "profit").iter_rows()}


def holdout_contrasts(cells: FactorialCells, channels: tuple[str, ...], metric: str, *, alpha: float,
                       scale: float) -> list[FactorialContrast]:
    """Each channel's effect with the other channels on, each pair's interaction with the others on and
    the whole plan (every channel on against none), in that order: contrasts of the cells (keyed by the
    channels on)."""
    every = frozenset(channels)

    def contrast(term: str, kind: str, weights: dict[frozenset[str], float]) -> FactorialContrast:
        return weighted_contrast(cells, weights, metric=metric, term=term, kind=kind, alpha=alpha,
                                 scale=scale)

    out = [contrast(c, "factor", {every: 1.0, every - {c}: -1.0}) for c in channels]
    out += [contrast(f"{a} x {b}", "pair", {every: 1.0, every - {a}: -1.0, every - {b}: -1.0,
                                             every - {a, b}: 1.0}) for a, b in combinations(channels, 2)]
    if len(channels) > 1:
        out.append(contrast("total", "total", {every: 1.0, frozenset(): -1.0}))
    return out


def measure_factorial(
    world: JourneyWorld, base: Outcome, *, channels: Sequence[str], share: float,
    experiments: pl.DataFrame, attribution: AttributionResult, off: Mapping[str, Outcome] | None = None,
    alpha: float = 0.05,
) -> FactorialAnalysis | None:
    """Run the factorial user holdout of ``channels`` and hold every reading against the truth; ``None``
    when a cell of the design holds fewer than 2 customers (no variance to estimate).

    ``experiments`` are the study's one-channel holdouts (``channel_experiments`` of
    :mod:`experiments.studies.omnichannel.numbers`); ``off`` the world re-run with each channel off
    (re-used for the truth).
    """
    s = world.scenario
    channels = tuple(channels)
    known = {frozenset(): base} | {frozenset((c,)): off[c] for c in channels if off and c in off}
    outcomes = subsets_off(world, channels, known)
    truth = interaction_truth(outcomes, channels)
    saved = _spend_saved(truth, s.margin)
    table = factorial_holdout_table(world, channels, share, outcomes)
    cells = cell_statistics(table, factors={c: f"exposed_{c}" for c in channels},
                            metrics=["purchased", "revenue"])
    counts = cells.counts()
    if len(counts) < 2 ** len(channels) or min(counts.values()) < 2:
        return None  # a cell too small for a variance: no estimate (a tiny world)
    n = world.n_customers
    conv = holdout_contrasts(cells, channels, "purchased", alpha=alpha, scale=n)
    rev = holdout_contrasts(cells, channels, "revenue", alpha=alpha, scale=n)
    true = {r["term"]: r for r in truth.iter_rows(named=True)}
    rows = []
    for c, r in zip(conv, rev, strict=True):
        spend = saved[c.term]
        t = true[c.term]
        rows.append({"term": c.term, "kind": c.kind, "conversions": c.estimate, "conversions_low": c.ci_low,
                     "conversions_high": c.ci_high, "profit": s.margin * r.estimate - spend,
                     "profit_low": s.margin * r.ci_low - spend, "profit_high": s.margin * r.ci_high - spend,
                     "true_conversions": t["conversions"], "true_profit": t["profit"]})
    terms = pl.DataFrame(rows).with_columns(
        covered=pl.col("true_conversions").is_between("conversions_low", "conversions_high"),
        profit_covered=pl.col("true_profit").is_between("profit_low", "profit_high"))
    exp = {r["channel"]: r for r in experiments.iter_rows(named=True)}
    holdouts = pl.DataFrame([{
        "channel": c, "conversions": exp[c]["estimate"], "conversions_low": exp[c]["ci_low"],
        "conversions_high": exp[c]["ci_high"],
        "profit": s.margin * exp[c]["revenue_estimate"] - saved[c],
        "profit_low": s.margin * exp[c]["revenue_ci_low"] - saved[c],
        "profit_high": s.margin * exp[c]["revenue_ci_high"] - saved[c],
        "true_conversions": true[c]["conversions"], "true_profit": true[c]["profit"],
    } for c in channels], schema_overrides={k: pl.Float64 for k in ("conversions", "conversions_low",
                                                                   "conversions_high")})
    values = attribution.credits_value or {}
    codes = {c: k for k, c in enumerate(world.channels)}
    credits = pl.DataFrame([{
        "model": m, "channel": c, "conversions": float(attribution.credits[m].get(c, 0.0)),
        "profit": s.margin * float(values.get(m, {}).get(c, 0.0)) - float(base.spend[codes[c]]),
    } for m in attribution.models for c in channels])
    units = dict(sorted(("+".join(c for c in channels if c not in on) or "none", k)
                        for on, k in counts.items()))
    return FactorialAnalysis(channels=channels, share=share, terms=terms, holdouts=holdouts, credits=credits,
                             units=units)


def coordination(f: FactorialAnalysis) -> pl.DataFrame:
    """The whole plan read four ways, beside the truth: the factorial's total (the coordinated plan), the
    one-channel holdouts summed, the factorial's channel effects summed, and each model's credit summed.

    Returns
    -------
    polars.DataFrame
        ``reading, conversions, conversions_low, conversions_high, profit, profit_low, profit_high,
        true_conversions, true_profit`` (intervals null where a reading has none).
    """
    total = f.term("total") if len(f.channels) > 1 else f.term(f.channels[0])
    one = f.one_at_a_time()
    cols = ("conversions", "conversions_low", "conversions_high", "profit", "profit_low", "profit_high")
    rows = [
        {"reading": "factorial holdout: the coordinated plan", **{k: total[k] for k in cols},
         "true_conversions": total["true_conversions"], "true_profit": total["true_profit"]},
        {"reading": "one-channel holdouts, summed", **{k: one[k] for k in cols},
         "true_conversions": one["true_conversions"], "true_profit": one["true_profit"]},
    ]
    for (m,), part in f.credits.group_by("model", maintain_order=True):
        rows.append({"reading": f"{m} credit, summed", "conversions": float(part["conversions"].sum()),
                     "conversions_low": None, "conversions_high": None, "profit": float(part["profit"].sum()),
                     "profit_low": None, "profit_high": None, "true_conversions": total["true_conversions"],
                     "true_profit": total["true_profit"]})
    return pl.DataFrame(rows, schema={k: (pl.String if k == "reading" else pl.Float64) for k in
                                      ("reading", *cols, "true_conversions", "true_profit")})


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


# ---------------------------------------------------------------- budgets set by credit, re-played

def cost_per_conversion(truth: pl.DataFrame, result: AttributionResult,
                        experiments: pl.DataFrame | None = None) -> pl.DataFrame:
    """Spend per true incremental purchase of every paid channel, beside each model's credited cost.

    Returns
    -------
    polars.DataFrame
        ``channel, spend, true_cost`` (spend per true incremental purchase; nan when it causes none),
        ``experiment_cost`` (per estimated incremental purchase) and one ``<model>_cost`` column per
        model (spend per credited conversion); only channels with spend.
    """
    est = {} if experiments is None else dict(zip(experiments["channel"], experiments["estimate"],
                                                  strict=True))
    rows = []
    for spend, c, inc in zip(truth["spend"], truth["channel"], truth["incremental_conversions"], strict=True):
        if spend <= 0:
            continue
        row: dict[str, Any] = {"channel": c, "spend": spend,
                               "true_cost": spend / inc if inc > 0 else float("nan")}
        e = est.get(c)
        row["experiment_cost"] = spend / e if e is not None and math.isfinite(e) and e > 0 else float("nan")
        for m in result.models:
            credit = result.credits[m].get(c, 0.0)
            row[f"{m}_cost"] = spend / credit if credit > 0 else float("nan")
        rows.append(row)
    return pl.DataFrame(rows)


def costs_long(costs: pl.DataFrame, models: Sequence[str] = ("last_touch", "markov")) -> pl.DataFrame:
    """:func:`cost_per_conversion` as a long frame for a chart: ``channel, measure, cost``.

    Measures: ``true incremental``, ``channel experiments`` and ``<model> credit`` for each of ``models``;
    costs that are not finite numbers are left out.
    """
    columns = {"true_cost": "true incremental", "experiment_cost": "channel experiments",
               **{f"{m}_cost": f"{m.replace('_', ' ')} credit" for m in models}}
    parts = [costs.select("channel", pl.lit(name).alias("measure"), pl.col(col).alias("cost"))
             for col, name in columns.items() if col in costs.columns]
    return pl.concat(parts).filter(pl.col("cost").is_finite())


def reallocate(spend: Mapping[str, float], credit: Mapping[str, float], channels: Sequence[str], *,
               strength: float = 1.0, top: float = 2.0) -> dict[str, float]:
    """Budget multipliers that move money toward channels with a lower credited cost per conversion.

    Over ``channels`` with spend, the new budget of channel ``c`` is proportional to
    ``spend_c * (credit_c / spend_c) ** strength`` (``strength = 1``: budgets in proportion to credited
    conversions; 0: unchanged), the total kept equal to the current total, each multiplier within
    ``[0, top]``; money a capped channel cannot take goes to the others (water filling), and what no
    channel can take is not spent. Channels outside ``channels`` keep multiplier 1.

    Returns
    -------
    dict
        ``{channel: multiplier}`` for every channel of ``spend``.
    """
    out = {c: 1.0 for c in spend}
    pool = [c for c in channels if spend.get(c, 0.0) > 0]
    if not pool:
        return out
    budget = sum(spend[c] for c in pool)
    rate = {c: (max(credit.get(c, 0.0), 0.0) / spend[c]) ** strength if strength > 0 else 1.0 for c in pool}
    if sum(rate[c] * spend[c] for c in pool) <= 0:
        return out
    fixed: dict[str, float] = {}
    for _ in range(len(pool) + 1):
        free = [c for c in pool if c not in fixed]
        left = budget - sum(fixed[c] * spend[c] for c in fixed)
        weight = sum(rate[c] * spend[c] for c in free)
        if not free or weight <= 0 or left <= 0:
            break
        scale = left / weight
        over = [c for c in free if rate[c] * scale > top]
        if not over:
            for c in free:
                fixed[c] = rate[c] * scale
            break
        for c in over:
            fixed[c] = top
    for c in pool:
        out[c] = float(min(max(fixed.get(c, 0.0), 0.0), top))
    return out


def plan_profits(world: JourneyWorld, base: Outcome,
                 credits: Mapping[str, Mapping[str, float]]) -> pl.DataFrame:
    """Re-simulate the world under each plan: budgets set by :func:`reallocate` from each credit.

    Parameters
    ----------
    credits
        ``{plan name: {channel: credited (or estimated, or true) incremental conversions}}``.

    Returns
    -------
    polars.DataFrame
        One row per plan, the current plan first: ``plan``, one ``m_<channel>`` multiplier per plan
        channel, ``planned_spend`` (current spend times the multipliers), ``spend``, ``conversions``,
        ``revenue``, ``profit`` (all re-simulated) and ``profit_change`` against the current plan.
    """
    s = world.scenario
    spend = {c: float(v) for c, v in zip(CHANNELS, base.spend, strict=True)}
    rows = []
    plans: dict[str, dict[str, float]] = {"current plan": {c: 1.0 for c in CHANNELS}}
    for name, credit in credits.items():
        plans[name] = reallocate(spend, credit, s.plan_channels, strength=s.reallocation_strength,
                                 top=s.max_budget_multiplier)
    for name, mult in plans.items():
        o = base if name == "current plan" else play(world, mult)
        row: dict[str, Any] = {"plan": name}
        row.update({f"m_{c}": mult[c] for c in s.plan_channels})
        row.update(planned_spend=sum(spend[c] * mult[c] for c in CHANNELS), spend=o.total_spend,
                   conversions=o.conversions, revenue=o.revenue, profit=o.profit,
                   profit_change=o.profit - base.profit)
        rows.append(row)
    return pl.DataFrame(rows)


def marginal_returns(budget: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Each re-run channel's marginal return (budget cut and raised) beside its average return.

    Parameters
    ----------
    budget
        From :func:`~experiments.simulate.journeys.budget_response`.
    truth
        From :func:`~experiments.simulate.journeys.channel_truth`.

    Returns
    -------
    polars.DataFrame
        One row per channel: ``spend`` (as planned), ``spend_change`` and ``extra_conversions`` (raise
        minus cut), ``marginal_cost`` (spend per extra purchase between the cut and the raise; nan when
        the raise adds none), ``average_cost`` (spend per true incremental purchase of the whole
        channel), ``profit_change_up`` and ``profit_change_down`` (whole world, raise and cut against
        the plan as drawn).
    """
    rows = []
    average = dict(zip(truth["channel"], truth["cost_per_incremental_conversion"], strict=True))
    for (channel,), part in budget.group_by("channel", maintain_order=True):
        part = part.sort("multiplier")
        low, mid, high = part.row(0, named=True), part.row(1, named=True), part.row(2, named=True)
        rows.append({
            "channel": channel, "spend": mid["spend"], "spend_change": high["spend"] - low["spend"],
            "extra_conversions": float(high["conversions"] - low["conversions"]),
            "marginal_cost": mid["cost_per_extra_conversion"], "average_cost": average[channel],
            "profit_change_up": high["profit"] - mid["profit"],
            "profit_change_down": low["profit"] - mid["profit"],
        })
    schema = {"channel": pl.String, "spend": pl.Float64, "spend_change": pl.Float64,
              "extra_conversions": pl.Float64, "marginal_cost": pl.Float64, "average_cost": pl.Float64,
              "profit_change_up": pl.Float64, "profit_change_down": pl.Float64}
    return pl.DataFrame(rows, schema=schema)

def simulate(scenario: OmnichannelScenario, *, block_size: int | None = None, workers: int = 1,
             **_: Any) -> pl.DataFrame:
    """The observed touchpoint log of the world as drawn (``experiments simulate omnichannel``).

    One row per touch: ``journey_id, time, channel, device, converted, value`` and the truth no tracker
    sees, ``customer_id`` and ``purchase`` (see :func:`experiments.simulate.journeys.observed_log`).
    ``block_size`` is accepted for the command's sake; the world's chunks are fixed, so neither it nor
    ``workers`` changes the log.
    """
    return observed_log(draw_world(scenario, workers=workers))
