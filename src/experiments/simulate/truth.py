"""Ground truth of a simulated remarketing table, from its potential-outcome columns.

Nothing here estimates: every number is computed from the outcomes each customer would have had
under each arm, so reports can put the estimate next to the true value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.funnel import LIST_AUDIENCES, STAGES
from experiments.simulate.remarketing import STREAM, arm_outcomes, draw_world
from experiments.worlds import CampaignWorld

__all__ = [
    "CURVE_COLUMNS",
    "WORLD_PARAMETERS",
    "delivery_curve",
    "first_touch_curve",
    "frequency_curve",
    "funnel_summary",
    "true_effects",
]

#: Parameters that shape the customers themselves (who they are, their baseline, their arm): a
#: delivery curve cannot vary them, since it evaluates one set of customers under many settings.
WORLD_PARAMETERS: frozenset[str] = frozenset({
    "n_customers", "seed", "audience", "arm_shares", "days", "cookie_match_rate", "email_opt_in_rate",
    "sms_opt_in_rate", "social_account_rate", "mean_order_value", "order_value_sigma", "peak_season",
    "peak_conversion_multiplier", "post_days",
})
#: Columns of a delivery curve after the varied parameter and ``arm``.
CURVE_COLUMNS: tuple[str, ...] = (
    "incremental_profit_per_1000", "incremental_conversions_per_1000", "cost_per_1000",
    "unsubscribe_rate", "mean_exposures", "expected_profit_per_1000",
    "expected_conversions_per_1000", "subscriber_loss_per_1000", "wasted_cost_per_1000",
    "addon_margin_per_1000", "post_conversions_per_1000",
)
_SUMS = ("profit", "conversions", "cost", "unsubscribed", "exposures_reachable", "reachable",
         "expected_profit", "expected_conversions", "wasted", "addon", "post")

_ATE = ("converted", "revenue", "margin", "returned", "unsubscribed", "addon_margin", "converted_post")


def _diff(name: str, arm: str, control: str) -> pl.Expr:
    return pl.col(f"{name}__{arm}").cast(pl.Float64) - pl.col(f"{name}__{control}").cast(pl.Float64)


def true_effects(frame: pl.DataFrame, arms: Sequence[str], control: str = "holdout", *,
                 subscriber_value: float = 0.0) -> pl.DataFrame:
    """True effects of each treatment arm against ``control``.

    Parameters
    ----------
    frame
        A simulated table with ``<outcome>__<arm>`` columns for every arm in ``arms``.
    arms
        Arms of the experiment; rows are given for every arm other than ``control``.
    control
        The comparison arm (the holdout).
    subscriber_value
        Dollars of future margin lost with each unsubscribe, charged in ``incremental_profit``
        (``subscriber_loss`` is the incremental unsubscribes times it).

    Returns
    -------
    polars.DataFrame
        One row per treatment arm: ``ate_*`` are population means of potential-outcome differences
        over all customers; ``incremental_*``, ``cost``, ``subscriber_loss`` and ``incremental_profit``
        (margin less media cost and subscriber loss) are sums over the customers assigned to the arm;
        ``iroas`` is incremental revenue per dollar of media cost;
        ``att_converted_exposed`` is the mean conversion difference among exposed assigned customers.
    """
    rows = []
    for arm in arms:
        if arm == control:
            continue
        ate = [_diff(name, arm, control).mean().alias(f"ate_{name}") for name in _ATE]
        mine = pl.col("arm") == arm
        mine_exposed = mine & pl.col("exposed")
        assigned = [
            mine.sum().cast(pl.Int64).alias("n_arm"),
            _diff("converted", arm, control).filter(mine).sum().alias("incremental_conversions"),
            _diff("revenue", arm, control).filter(mine).sum().alias("incremental_revenue"),
            _diff("margin", arm, control).filter(mine).sum().alias("incremental_margin"),
            pl.col("cost").filter(mine).sum().alias("cost"),
            (subscriber_value * _diff("unsubscribed", arm, control).filter(mine).sum())
            .alias("subscriber_loss"),
            _diff("converted", arm, control).filter(mine_exposed).mean()
            .alias("att_converted_exposed"),
        ]
        rows.append(frame.select(pl.lit(arm).alias("arm"), *assigned, *ate))
    out = pl.concat(rows)
    return out.with_columns(
        (pl.col("incremental_margin") - pl.col("cost") - pl.col("subscriber_loss"))
        .alias("incremental_profit"),
        pl.when(pl.col("incremental_conversions") > 0)
        .then(pl.col("cost") / pl.col("incremental_conversions"))
        .otherwise(None)
        .alias("cost_per_incremental_conversion"),
        pl.when(pl.col("cost") > 0)
        .then(pl.col("incremental_revenue") / pl.col("cost"))
        .otherwise(None)
        .alias("iroas"),
    ).select(
        "arm", "n_arm", "ate_converted", "ate_revenue", "ate_margin", "ate_returned",
        "ate_unsubscribed", "ate_addon_margin", "ate_converted_post", "incremental_conversions",
        "incremental_revenue", "incremental_margin", "cost", "subscriber_loss", "incremental_profit",
        "cost_per_incremental_conversion", "iroas",
        "att_converted_exposed",
    )


def funnel_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Customers per audience who reached at least each funnel stage in their last session.

    Returns one row per (audience, stage) with ``customers`` and ``share`` (of the audience), plus
    rows with audience ``"all"`` for the whole table: at most 30 rows, ready for a chart.
    """
    stage_codes = pl.col("funnel_stage").to_physical()
    parts = []
    for k, stage in enumerate(STAGES):
        parts.append(
            frame.group_by("audience")
            .agg((stage_codes >= k).sum().cast(pl.Int64).alias("customers"),
                 pl.len().cast(pl.Int64).alias("audience_size"))
            .with_columns(pl.col("audience").cast(pl.String), pl.lit(stage).alias("stage"))
        )
        parts.append(
            frame.select((stage_codes >= k).sum().cast(pl.Int64).alias("customers"),
                         pl.len().cast(pl.Int64).alias("audience_size"))
            .with_columns(pl.lit("all").alias("audience"), pl.lit(stage).alias("stage"))
        )
    order = {a: i for i, a in enumerate((*LIST_AUDIENCES, "all"))}
    out = pl.concat([p.select("audience", "stage", "customers", "audience_size") for p in parts])
    out = out.with_columns(
        (pl.col("customers") / pl.col("audience_size")).alias("share"),
        pl.col("audience").replace_strict(order, return_dtype=pl.Int32).alias("_a"),
        pl.col("stage").replace_strict({s: i for i, s in enumerate(STAGES)},
                                       return_dtype=pl.Int32).alias("_s"),
    )
    return out.sort("_a", "_s").drop("_a", "_s")


def delivery_curve(
    scenario: CampaignWorld,
    name: str,
    values: Sequence[object],
    *,
    n_customers: int | None = None,
    block_size: int = 1_048_576,
    workers: int = 1,
) -> pl.DataFrame:
    """True effect of treating every customer with each treatment arm, at each value of one setting.

    One simulation (common random numbers): the customers, their baseline and their outcome draws are
    drawn once, and only delivery and response are recomputed per value, so differences between
    values are due to the setting alone and no customer is simulated twice.

    Parameters
    ----------
    scenario
        The study's scenario; every other parameter keeps its value.
    name
        A delivery or response parameter (``frequency_cap``, ``first_touch_hours``,
        ``message_spacing_hours``, ``email_messages``, ``channels``, a cost, ...), not one of
        :data:`WORLD_PARAMETERS`.
    values
        The values to evaluate, each validated as the scenario would.
    n_customers
        Customers simulated (default: the scenario's).

    Returns
    -------
    polars.DataFrame
        One row per value and treatment arm: ``name``, ``arm``, then per 1,000 customers the realised
        incremental profit (margin minus media cost minus ``subscriber_value`` per unsubscribe) and
        conversions from the potential outcomes, the media cost, the unsubscribe rate, the mean
        exposures among reachable customers, the expected profit and conversions (from the true
        per-customer effects, without the noise of the purchase and unsubscribe draws), and
        per 1,000 the subscriber loss, the media cost of impressions bought after a purchase (zero with
        the burn pixel), the cross-sell and upgrade margin and the change in purchases after the window.
    """
    if name in WORLD_PARAMETERS:
        raise ParameterError("name", name, "a delivery or response parameter, not one of "
                             + ", ".join(sorted(WORLD_PARAMETERS)))
    if not values:
        raise ParameterError(name, values, "at least one value")
    base = scenario if n_customers is None else scenario.replace(n_customers=n_customers)
    variants = [base.replace(**{name: v}) for v in values]
    arms = base.treatment_arms
    k = len(_SUMS)

    def chunk(rng: np.random.Generator, start: int, stop: int) -> pl.DataFrame:
        world = draw_world(base, rng, stop - start)
        sums = np.zeros((len(variants), len(arms), k))
        for v, variant in enumerate(variants):
            delivery, out = arm_outcomes(world, variant)
            control = out["holdout"]
            reach = delivery.reachable
            for a, arm in enumerate(arms):
                o = out[arm]
                unsubscribed = o.unsubscribed.sum(dtype=np.int64)
                loss = variant.subscriber_value * unsubscribed
                sums[v, a] = (
                    (o.margin - control.margin - o.cost).sum() - loss,
                    (o.converted.astype(np.int64) - control.converted).sum(),
                    o.cost.sum(),
                    unsubscribed,
                    o.exposures[reach].sum(dtype=np.int64),
                    reach.sum(dtype=np.int64),
                    (o.expected_margin - o.expected_cost - control.expected_margin).sum()
                    - variant.subscriber_value * o.p_unsubscribed.sum(),
                    (o.p_converted - control.p_converted).sum(),
                    o.wasted_cost.sum(),
                    (o.addon_margin - control.addon_margin).sum(),
                    (o.converted_post.astype(np.int64) - control.converted_post).sum(),
                )
        return pl.DataFrame(sums.reshape(1, -1), schema=[f"s{j}" for j in range(sums.size)],
                            orient="row")

    parts = simulate_in_blocks(chunk, n=base.n_customers, seed=base.seed, stream=STREAM,
                               block_size=block_size, workers=workers)
    # Chunks stay in order whatever the blocks, so the totals are identical too.
    totals = parts.to_numpy().sum(axis=0).reshape(len(variants), len(arms), k)
    n = base.n_customers
    rows = []
    for v, variant in enumerate(variants):
        for a, arm in enumerate(arms):
            t = dict(zip(_SUMS, totals[v, a], strict=True))
            rows.append({
                name: getattr(variant, name) if name != "channels" else ",".join(variant.channels),
                "arm": arm,
                "incremental_profit_per_1000": 1000 * t["profit"] / n,
                "incremental_conversions_per_1000": 1000 * t["conversions"] / n,
                "cost_per_1000": 1000 * t["cost"] / n,
                "unsubscribe_rate": t["unsubscribed"] / n,
                "mean_exposures": t["exposures_reachable"] / t["reachable"] if t["reachable"] else 0.0,
                "expected_profit_per_1000": 1000 * t["expected_profit"] / n,
                "expected_conversions_per_1000": 1000 * t["expected_conversions"] / n,
                "subscriber_loss_per_1000": 1000 * variant.subscriber_value * t["unsubscribed"] / n,
                "wasted_cost_per_1000": 1000 * t["wasted"] / n,
                "addon_margin_per_1000": 1000 * t["addon"] / n,
                "post_conversions_per_1000": 1000 * t["post"] / n,
            })
    return pl.DataFrame(rows)


def frequency_curve(
    scenario: CampaignWorld,
    caps: Sequence[int],
    *,
    n_customers: int | None = None,
) -> pl.DataFrame:
    """True incremental profit per 1,000 customers at each frequency cap, per treatment arm.

    The same customers and draws at every cap (common random numbers, one simulation of
    ``n_customers``, by default the scenario's), so the curve is smooth and shows where more
    exposures stop paying (annoyance past the threshold). See :func:`delivery_curve` for the columns;
    the first is ``frequency_cap`` (Int64).
    """
    curve = delivery_curve(scenario, "frequency_cap", [int(c) for c in caps], n_customers=n_customers)
    return curve.with_columns(pl.col("frequency_cap").cast(pl.Int64))


def first_touch_curve(
    scenario: CampaignWorld,
    hours: Sequence[float],
    *,
    n_customers: int | None = None,
) -> pl.DataFrame:
    """True incremental profit per 1,000 customers at each delay from the visit to the first touch.

    Common random numbers as in :func:`frequency_curve`. The reminder fades with time since the visit
    (``reminder_decay``; Sahni, Narayanan & Kalyanam 2019), so later first touches earn less. See
    :func:`delivery_curve` for the columns; the first is ``first_touch_hours`` (Float64).
    """
    curve = delivery_curve(scenario, "first_touch_hours", [float(h) for h in hours],
                           n_customers=n_customers)
    return curve.with_columns(pl.col("first_touch_hours").cast(pl.Float64))
