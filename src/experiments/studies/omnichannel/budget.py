"""Budgets in the omnichannel study: cost per conversion, plans set by credit, and marginal returns.

Each model's credit (or the experiments' estimates, or the truth) sets a budget plan by
:func:`reallocate` (more money where the credited cost per conversion is lower); :func:`plan_profits`
re-runs the journey world under each plan for its true profit, and :func:`marginal_returns` sets a
channel's marginal cost beside its average cost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from experiments.models.attribution import AttributionResult
from experiments.simulate.journeys import JourneyWorld, Outcome, play
from experiments.studies.omnichannel.scenario import CHANNELS

__all__ = ["cost_per_conversion", "costs_long", "marginal_returns", "plan_profits", "reallocate"]


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
