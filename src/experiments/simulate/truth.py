"""Ground truth of a simulated remarketing table, from its potential-outcome columns.

Nothing here estimates: every number is computed from the outcomes each customer would have had
under each arm, so reports can put the estimate next to the true value.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from experiments.scenarios.remarketing import RemarketingScenario
from experiments.simulate.funnel import LIST_AUDIENCES, STAGES
from experiments.simulate.remarketing import simulate_remarketing

__all__ = ["frequency_curve", "funnel_summary", "true_effects"]

_ATE = ("converted", "revenue", "margin", "returned", "unsubscribed")


def _diff(name: str, arm: str, control: str) -> pl.Expr:
    return pl.col(f"{name}__{arm}").cast(pl.Float64) - pl.col(f"{name}__{control}").cast(pl.Float64)


def true_effects(frame: pl.DataFrame, arms: Sequence[str], control: str = "holdout") -> pl.DataFrame:
    """True effects of each treatment arm against ``control``.

    Parameters
    ----------
    frame
        A simulated table with ``<outcome>__<arm>`` columns for every arm in ``arms``.
    arms
        Arms of the experiment; rows are given for every arm other than ``control``.
    control
        The comparison arm (the holdout).

    Returns
    -------
    polars.DataFrame
        One row per treatment arm: ``ate_*`` are population means of potential-outcome differences
        over all customers; ``incremental_*``, ``cost`` and ``incremental_profit`` are sums over the
        customers assigned to the arm; ``iroas`` is incremental revenue per dollar of media cost;
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
            _diff("converted", arm, control).filter(mine_exposed).mean()
            .alias("att_converted_exposed"),
        ]
        rows.append(frame.select(pl.lit(arm).alias("arm"), *assigned, *ate))
    out = pl.concat(rows)
    return out.with_columns(
        (pl.col("incremental_margin") - pl.col("cost")).alias("incremental_profit"),
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
        "ate_unsubscribed", "incremental_conversions", "incremental_revenue", "incremental_margin",
        "cost", "incremental_profit", "cost_per_incremental_conversion", "iroas",
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


def frequency_curve(
    scenario: RemarketingScenario,
    caps: Sequence[int],
    *,
    n_customers: int | None = None,
) -> pl.DataFrame:
    """True incremental profit per 1,000 customers at each frequency cap, per treatment arm.

    Re-simulates the scenario at each cap with the same seed (common random numbers), so the curve
    is smooth and shows where more exposures stop paying (annoyance past the threshold).

    Returns
    -------
    polars.DataFrame
        Columns ``frequency_cap``, ``arm``, ``incremental_profit_per_1000``,
        ``incremental_conversions_per_1000``, ``cost_per_1000``, ``unsubscribe_rate``,
        ``mean_exposures`` (among reachable customers).
    """
    base = scenario.to_params()
    if n_customers is not None:
        base["n_customers"] = n_customers
    rows = []
    for cap in caps:
        s = RemarketingScenario.from_params({**base, "frequency_cap": cap})
        frame = simulate_remarketing(s)
        for arm in s.treatment_arms:
            rows.append(frame.select(
                pl.lit(int(cap), dtype=pl.Int64).alias("frequency_cap"),
                pl.lit(arm).alias("arm"),
                (1000 * (_diff("margin", arm, "holdout") - pl.col(f"cost__{arm}")).mean())
                .alias("incremental_profit_per_1000"),
                (1000 * _diff("converted", arm, "holdout").mean())
                .alias("incremental_conversions_per_1000"),
                (1000 * pl.col(f"cost__{arm}").mean()).alias("cost_per_1000"),
                pl.col(f"unsubscribed__{arm}").cast(pl.Float64).mean().alias("unsubscribe_rate"),
                pl.col(f"exposures__{arm}").filter(pl.col("reachable")).cast(pl.Float64).mean()
                .alias("mean_exposures"),
            ))
    return pl.concat(rows)
