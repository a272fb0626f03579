"""The journey world's truth: channels switched off, budgets moved, and randomised holdouts.

Every function re-runs the same drawn world (:func:`~experiments.simulate.journey_play.play`), so each
difference is due to the plan alone: the true incremental purchases of a channel, its marginal return,
every subset of channels switched off (each pair's interaction), and the tables of a user-level,
geo-level or factorial holdout experiment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import numpy as np
import polars as pl

from experiments.simulate.journey_play import play
from experiments.simulate.journey_world import JourneyWorld, Outcome
from experiments.worlds import JOURNEY_CHANNELS as CHANNELS

__all__ = [
    "budget_response",
    "channel_truth",
    "factorial_holdout_table",
    "geo_holdout_table",
    "interaction_truth",
    "subsets_off",
    "switched_off",
    "user_holdout_table",
]


def switched_off(world: JourneyWorld) -> dict[str, Outcome]:
    """The world re-run once per channel with that channel switched off."""
    return {c: play(world, {c: 0.0}) for c in CHANNELS}


def channel_truth(world: JourneyWorld, base: Outcome | None = None,
                  off: Mapping[str, Outcome] | None = None) -> pl.DataFrame:
    """True incremental purchases, revenue and profit of every channel: the world re-run without it.

    ``base`` (the plan as drawn) and ``off`` (from :func:`switched_off`) are computed when not given.

    Returns
    -------
    polars.DataFrame
        One row per channel: ``touches``, ``spend``, ``incremental_conversions`` (online and store),
        ``incremental_online``, ``incremental_store``, ``incremental_revenue``, ``incremental_profit``
        (all channels on minus this one off), ``true_share`` (its share of the channels' summed
        incremental purchases, negatives counted as 0) and ``cost_per_incremental_conversion`` (nan when
        the channel causes none).
    """
    full = base if base is not None else play(world)
    rows = []
    off = off if off is not None else switched_off(world)
    for k, c in enumerate(CHANNELS):
        without = off[c]
        inc = full.conversions - without.conversions
        inc_online = full.online_conversions - without.online_conversions
        rows.append({
            "channel": c,
            "touches": int(full.touches[k]),
            "spend": float(full.spend[k]),
            "incremental_conversions": float(inc),
            "incremental_online": float(inc_online),
            "incremental_store": float(inc - inc_online),
            "incremental_revenue": full.revenue - without.revenue,
            "incremental_profit": full.profit - without.profit,
        })
    frame = pl.DataFrame(rows)
    total = float(frame["incremental_conversions"].clip(lower_bound=0).sum())
    positive = pl.col("incremental_conversions").clip(lower_bound=0)
    return frame.with_columns(
        true_share=positive / total if total > 0 else pl.lit(0.0),
        cost_per_incremental_conversion=pl.when(pl.col("incremental_conversions") > 0)
        .then(pl.col("spend") / pl.col("incremental_conversions")).otherwise(float("nan")),
    )


def budget_response(
    world: JourneyWorld, channels: Iterable[str] | None = None, change: float | None = None,
    base: Outcome | None = None,
) -> pl.DataFrame:
    """The world re-run with each channel's budget cut and raised by ``change`` (default the scenario's).

    Returns
    -------
    polars.DataFrame
        One row per channel and multiplier (``1 - change``, 1, ``1 + change``): ``spend`` (the
        channel's), ``conversions``, ``revenue`` and ``profit`` (whole world), and the marginal
        ``cost_per_extra_conversion`` between the cut and the raise (nan when the raise adds none).
    """
    s = world.scenario
    change = s.budget_change if change is None else float(change)
    full = base if base is not None else play(world)
    rows = []
    for c in (s.budget_channels if channels is None else tuple(channels)):
        k = CHANNELS.index(c)
        low, high = play(world, {c: 1.0 - change}), play(world, {c: 1.0 + change})
        extra = high.conversions - low.conversions
        marginal = (high.spend[k] - low.spend[k]) / extra if extra > 0 else float("nan")
        for mult, o in ((1.0 - change, low), (1.0, full), (1.0 + change, high)):
            rows.append({"channel": c, "multiplier": mult, "spend": float(o.spend[k]),
                         "conversions": o.conversions, "revenue": o.revenue, "profit": o.profit,
                         "cost_per_extra_conversion": marginal})
    schema = {"channel": pl.String, "multiplier": pl.Float64, "spend": pl.Float64,
              "conversions": pl.Int64, "revenue": pl.Float64, "profit": pl.Float64,
              "cost_per_extra_conversion": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def user_holdout_table(world: JourneyWorld, channel: str, *, full: Outcome | None = None,
                       off: Outcome | None = None) -> pl.DataFrame:
    """A user-level randomised holdout of ``channel``: one row per customer it would have touched.

    Customers whose ``holdout_draw`` falls below ``user_holdout_share`` see nothing of the channel;
    everyone else sees the plan as drawn. Eligibility (a scheduled or captured touch of the channel
    before the end of the window, whatever the arm, like a ghost-ad flag) does not depend on the arm.
    Outcomes count online and store purchases (customers known by their account or loyalty card).

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``arm`` (``holdout`` or ``exposed``), ``purchased`` (0/1), ``revenue``.
    """
    s, k = world.scenario, CHANNELS.index(channel)
    full = full if full is not None else play(world)
    off = off if off is not None else play(world, {channel: 0.0})
    thr = world.thresholds(full.multipliers)
    kept = world.kept_touches(thr)
    eligible = np.zeros(world.n_customers, dtype=bool)
    eligible[world.touch_customer[kept[world.touch_channel[kept] == k]]] = True
    ids = np.flatnonzero(eligible)
    hold = world.holdout_draw[ids, k] < s.user_holdout_share
    bought = np.where(hold, off.purchased[ids], full.purchased[ids])
    return pl.DataFrame({
        "customer_id": ids,
        "arm": pl.Series(hold.astype(np.uint32)).cat.to(pl.Enum(["exposed", "holdout"])),
        "purchased": bought.astype(np.int8),
        "revenue": np.where(bought, world.order_value[ids], 0.0),
    })


def geo_holdout_table(world: JourneyWorld, channel: str, *, full: Outcome | None = None,
                      off: Outcome | None = None) -> pl.DataFrame:
    """A geo-level randomised holdout of ``channel``: one row per region.

    The channel is off in the held-out regions (``geo_holdout_share`` of them, drawn once per channel)
    and as planned elsewhere. Outcomes count online and store purchases (regional sales).

    Returns
    -------
    polars.DataFrame
        ``region``, ``arm`` (``holdout`` or ``exposed``), ``customers``, ``purchases``, ``revenue``,
        ``purchases_per_customer``, ``revenue_per_customer``; regions with no customer are left out.
    """
    k = CHANNELS.index(channel)
    full = full if full is not None else play(world)
    off = off if off is not None else play(world, {channel: 0.0})
    hold_region = world.geo_holdout[:, k]
    bought = np.where(hold_region[world.region], off.purchased, full.purchased)
    n_geos = hold_region.size
    customers = np.bincount(world.region, minlength=n_geos)
    purchases = np.bincount(world.region, weights=bought, minlength=n_geos)
    revenue = np.bincount(world.region, weights=np.where(bought, world.order_value, 0.0), minlength=n_geos)
    safe = np.maximum(customers, 1)
    return pl.DataFrame({
        "region": np.arange(n_geos, dtype=np.int32),
        "arm": pl.Series(hold_region.astype(np.uint32)).cat.to(pl.Enum(["exposed", "holdout"])),
        "customers": customers.astype(np.int64),
        "purchases": purchases,
        "revenue": revenue,
        "purchases_per_customer": purchases / safe,
        "revenue_per_customer": revenue / safe,
    }).filter(pl.col("customers") > 0)


def subsets_off(world: JourneyWorld, channels: Sequence[str],
                known: Mapping[frozenset[str], Outcome] | None = None) -> dict[frozenset[str], Outcome]:
    """The world re-run with every subset of ``channels`` switched off (``2**len(channels)`` plans; the
    empty subset is the plan as drawn). Plans already in ``known`` (keyed by the subset off) are kept,
    not re-run."""
    known = known or {}
    out: dict[frozenset[str], Outcome] = {}
    for size in range(len(channels) + 1):
        for subset in combinations(channels, size):
            key = frozenset(subset)
            out[key] = known[key] if key in known else play(world, dict.fromkeys(subset, 0.0))
    return out


def interaction_truth(outcomes: Mapping[frozenset[str], Outcome], channels: Sequence[str]) -> pl.DataFrame:
    """True effects of the channels of a factorial holdout, from :func:`subsets_off`.

    With ``Y(S off)`` the world's purchases (or revenue, or profit) when the channels in ``S`` are off:
    a channel's effect is ``Y(none off) - Y(c off)``; a pair's interaction is the extra the pair gives
    together, ``Y(none off) - Y(a off) - Y(b off) + Y(a and b off)`` (positive: the channels help each
    other); ``total`` is ``Y(none off) - Y(all off)`` (the coordinated plan); ``one_at_a_time`` is the sum
    of the channels' effects (what one-channel holdouts add up to).

    Returns
    -------
    polars.DataFrame
        ``term, kind`` (``channel``, ``pair``, ``total``, ``one_at_a_time``), ``conversions``,
        ``revenue``, ``profit``; channels and pairs in ``channels`` order.
    """
    def y(subset: Iterable[str]) -> np.ndarray:
        o = outcomes[frozenset(subset)]
        return np.array([o.conversions, o.revenue, o.profit], dtype=float)

    rows: list[tuple[str, str, np.ndarray]] = []
    full = y(())
    mains = [(c, "channel", full - y((c,))) for c in channels]
    rows += mains
    rows += [(f"{a} x {b}", "pair", full - y((a,)) - y((b,)) + y((a, b)))
             for a, b in combinations(channels, 2)]
    rows.append(("total", "total", full - y(channels)))
    rows.append(("one at a time", "one_at_a_time", sum((v for _, _, v in mains), np.zeros(3))))
    return pl.DataFrame({"term": [r[0] for r in rows], "kind": [r[1] for r in rows],
                         "conversions": [float(r[2][0]) for r in rows],
                         "revenue": [float(r[2][1]) for r in rows], "profit": [float(r[2][2]) for r in rows]})


def factorial_holdout_table(world: JourneyWorld, channels: Sequence[str], share: float,
                            outcomes: Mapping[frozenset[str], Outcome]) -> pl.DataFrame:
    """A factorial user holdout: each customer held out of each of ``channels`` independently.

    Customer ``i`` is held out of channel ``c`` when her ``holdout_draw`` for ``c`` falls below
    ``share``; she then lives the world with the channels she is held out of switched off (from
    :func:`subsets_off`; her purchase depends on her own touches only). Every customer takes part
    (intent to treat): outcomes count online and store purchases (customers known by their account).

    Returns
    -------
    polars.DataFrame
        ``customer_id``, one 0/1 column ``exposed_<channel>`` per channel, ``cell`` (the channels held
        out, ``+``-joined, ``none`` when none), ``purchased`` (0/1) and ``revenue``.
    """
    codes = [CHANNELS.index(c) for c in channels]
    held = world.holdout_draw[:, codes] < share
    cell = held.astype(np.int64) @ (1 << np.arange(len(channels), dtype=np.int64))
    bought = np.zeros(world.n_customers, dtype=bool)
    names = []
    for code in range(1 << len(channels)):
        subset = [c for j, c in enumerate(channels) if code >> j & 1]
        names.append("+".join(subset) or "none")
        mine = cell == code
        bought[mine] = outcomes[frozenset(subset)].purchased[mine]
    return pl.DataFrame({
        "customer_id": np.arange(world.n_customers, dtype=np.int64),
        **{f"exposed_{c}": (~held[:, j]).astype(np.int8) for j, c in enumerate(channels)},
        "cell": pl.Series(cell.astype(np.uint32)).cat.to(pl.Enum(names)),
        "purchased": bought.astype(np.int8),
        "revenue": np.where(bought, world.order_value, 0.0),
    })
