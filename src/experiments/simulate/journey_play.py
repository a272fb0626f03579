"""Playing a plan in the journey world: who buys, what it costs, and the touchpoint log it leaves.

:func:`play` re-runs a drawn world under budget multipliers (common random numbers: the same customers,
thresholds and candidate touches, see :mod:`experiments.simulate.journeys`); :func:`observed_log` is
the touch log an analytics tool would record under that plan.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.simulate.journey_world import (
    DEVICES,
    DIRECT,
    N_CHANNELS,
    PURCHASES,
    SESSION_STEP,
    JourneyWorld,
    Outcome,
    decay_integral,
)
from experiments.worlds import JOURNEY_CHANNELS as CHANNELS

__all__ = ["observed_log", "play"]


def _multipliers(world: JourneyWorld, changes: Mapping[str, float] | np.ndarray | None) -> np.ndarray:
    if isinstance(changes, np.ndarray):
        if changes.shape != (N_CHANNELS,):
            raise ParameterError("multipliers", changes.shape, f"an array of {N_CHANNELS} multipliers")
        return world.multipliers(dict(zip(CHANNELS, changes.tolist(), strict=True)))
    return world.multipliers(changes)


def _purchase_clicks(world: JourneyWorld, buyers: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """``(len(buyers), channels)`` flags: the channels the purchase session arrives through."""
    clicks = world.member[buyers] & (world.purchase_marks[buyers] < thr[N_CHANNELS:])
    others = np.delete(clicks, DIRECT, axis=1).any(axis=1)
    clicks[:, DIRECT] &= ~others
    return clicks


def _direct_effect(world: JourneyWorld, thr: np.ndarray) -> np.ndarray:
    """Kept ``direct`` captures with an effect (only when direct is given a lift)."""
    if world.scenario.lift["direct"] <= 0 or world.scenario.targeting["direct"] != "session":
        return np.zeros(0, dtype=np.int64)
    captures = world.kept_captures(thr)
    direct = captures[world.touch_channel[captures] == DIRECT]
    return direct[world.touch_effect[direct] > 0]


def _effective_kept(world: JourneyWorld, thr: np.ndarray) -> np.ndarray:
    """Indices of the kept candidates that carry an effect."""
    kept = [world._kept_lane(thr, lane) for lane in world.effect_lanes()]
    return np.concatenate([*kept, _direct_effect(world, thr)])


def _lane_extra(world: JourneyWorld, lane: int, threshold: np.float32) -> list[np.ndarray]:
    """Per customer, the extra hazard of the touches one lane keeps under ``threshold``: one array for the
    whole mark buckets, one for the partly kept bucket. Those of the plan as drawn are computed once and
    kept (most re-runs change one channel and leave every other lane at its drawn threshold)."""
    drawn = world._cache.get("drawn_thresholds")
    if drawn is None:
        drawn = world._cache["drawn_thresholds"] = world.thresholds(np.ones(N_CHANNELS))
    key = f"lane_extra:{lane}"
    if threshold == drawn[lane] and key in world._cache:
        return world._cache[key]
    index = world._index()
    cust, effect = world._cache["sorted_customer"], world._cache["sorted_effect"]
    parts = [np.bincount(cust[part], weights=effect[part], minlength=world.n_customers)
             for part in index.kept(lane, threshold)]
    if threshold == drawn[lane]:
        world._cache[key] = parts
    return parts


def _touch_extra(world: JourneyWorld, thr: np.ndarray) -> np.ndarray:
    """Each customer's cumulative extra hazard over the window from the touches a plan keeps (lane by
    lane, in the same order of additions whether a lane's arrays are new or kept)."""
    extra = np.zeros(world.n_customers)
    for lane in world.effect_lanes():
        for part in _lane_extra(world, lane, thr[lane]):
            extra += part
    direct = _direct_effect(world, thr)
    if direct.size:
        extra += np.bincount(world.touch_customer[direct], weights=world.touch_effect[direct],
                             minlength=world.n_customers)
    return extra + _synergy_extra(world, thr)


def _synergy_extra(world: JourneyWorld, thr: np.ndarray) -> np.ndarray | float:
    """Each customer's extra hazard from the display synergy: ``display_synergy - 1`` times the effect of
    every kept synergy-channel touch that a kept display touch preceded within the window."""
    lanes = world.synergy_lanes()
    if not lanes:
        return 0.0
    kept = np.concatenate([world._kept_lane(thr, lane) for lane in lanes])
    raised = kept[world.boosted(kept, thr)]
    return (world.scenario.display_synergy - 1.0) * np.bincount(
        world.touch_customer[raised], weights=world.touch_effect[raised], minlength=world.n_customers)


def play(world: JourneyWorld, changes: Mapping[str, float] | np.ndarray | None = None) -> Outcome:
    """Re-run ``world`` under a plan: budget multipliers per channel (1 = as drawn, 0 = switched off).

    Parameters
    ----------
    world
        From :func:`~experiments.simulate.journeys.draw_world`.
    changes
        ``{channel: multiplier}`` (channels not named stay at 1), or a full multiplier array in
        channel order.

    Returns
    -------
    Outcome
        Purchases (online and in store), touches, spend and profit of the plan.
    """
    s = world.scenario
    m = _multipliers(world, changes)
    thr = world.thresholds(m)
    extra = world.session_extra + _touch_extra(world, thr)
    purchased = world.base_hazard * (s.days + extra) >= world.threshold
    online = purchased & ~world.store
    buyers = np.flatnonzero(online)
    clicks = _purchase_clicks(world, buyers, thr)
    scheduled = world.lane_counts(thr)[:N_CHANNELS]
    captures = world.kept_captures(thr)
    captured = np.bincount(world.touch_channel[captures], minlength=N_CHANNELS) + clicks.sum(axis=0)
    session_only = np.array([s.targeting[c] == "session" for c in CHANNELS])
    cost = np.array([s.unit_cost[c] for c in CHANNELS])
    spend = np.where(session_only, captured, scheduled) * cost
    a = CHANNELS.index("affiliate")
    spend[a] += s.affiliate_commission * float(world.order_value[buyers[clicks[:, a]]].sum())
    return Outcome(
        multipliers=m, purchased=purchased, online=online, touches=scheduled + captured, spend=spend,
        revenue=float(world.order_value[purchased].sum()),
        online_revenue=float(world.order_value[online].sum()), margin=s.margin,
    )


def _purchase_times(world: JourneyWorld, outcome: Outcome, customers: np.ndarray) -> np.ndarray:
    """Purchase time (days) of each of ``customers`` (who buy under ``outcome``), by bisection."""
    s = world.scenario
    thr = world.thresholds(outcome.multipliers)
    local = np.full(world.n_customers, -1, dtype=np.int64)
    local[customers] = np.arange(customers.size)
    kept = _effective_kept(world, thr)
    idx = kept[local[world.touch_customer[kept]] >= 0]
    sess = np.flatnonzero(local[world.session_customer] >= 0)
    channel = world.touch_channel[idx]
    owner = np.concatenate([local[world.touch_customer[idx]], local[world.session_customer[sess]]])
    start = np.concatenate([world.touch_time[idx], world.session_time[sess]])
    gain = np.where(world.boosted(idx, thr), s.display_synergy, 1.0) if world.synergy_lanes() else 1.0
    lift = np.concatenate([np.array([s.lift[c] for c in CHANNELS])[channel] * gain,
                           np.full(sess.size, s.session_lift)])
    half = np.concatenate([np.array([s.half_life[c] for c in CHANNELS])[channel],
                           np.full(sess.size, s.session_half_life)])
    hazard, target = world.base_hazard[customers], world.threshold[customers]
    lo, hi = np.zeros(customers.size), np.full(customers.size, s.days)
    for _ in range(36):  # the window / 2**36: under a tenth of a millisecond at 28 days
        mid = (lo + hi) / 2
        extra = np.bincount(owner, weights=decay_integral(lift, half, mid[owner] - start),
                            minlength=customers.size)
        reached = hazard * (mid + extra) >= target
        hi = np.where(reached, mid, hi)
        lo = np.where(reached, lo, mid)
    return hi


def observed_log(
    world: JourneyWorld,
    changes: Mapping[str, float] | None = None,
    *,
    stitched: bool = False,
    outcome: Outcome | None = None,
) -> pl.DataFrame:
    """The touchpoint log an analytics tool would record under a plan, with two truth columns.

    Parameters
    ----------
    world
        From :func:`~experiments.simulate.journeys.draw_world`.
    changes
        Budget multipliers (see :func:`play`); default the plan as drawn.
    stitched
        Give every customer one journey, as if every device were matched (the cross-device break
        undone).
    outcome
        The :func:`play` result of the same plan, when already computed.

    Returns
    -------
    polars.DataFrame
        One row per touch, sorted by journey and time: ``journey_id``, ``time`` (days since the start),
        ``channel``, ``device``, ``converted`` (0/1, constant within a journey: an online purchase at
        the journey's end), ``value`` (its order value, else 0); and the truth no tracker sees:
        ``customer_id`` and ``purchase`` (none, online or store). Touches after an online purchase are
        not logged; a store buyer's journey runs to the end of the window, unconverted.
    """
    out = outcome if outcome is not None else play(world, changes)
    t = _logged_touches(world, out)
    cust, time, chan, device = t["customer"], t["time"], t["channel"], t["device"]
    if stitched:
        slot = np.zeros(cust.size, dtype=np.int64)
        purchase_slot = np.zeros(world.n_customers, dtype=np.int64)
    else:
        slot = (world.split[cust] & (device != world.primary_device[cust])).astype(np.int64)
        purchase_slot = (world.split & (world.purchase_device != world.primary_device)).astype(np.int64)
    journey = 2 * cust + slot
    if not stitched:  # touches are in customer and time order: a stable sort by journey keeps time order
        order = np.argsort(journey, kind="stable")
        cust, journey, time, chan, device = (cust[order], journey[order], time[order], chan[order],
                                             device[order])
    converted = out.online[cust] & (journey - 2 * cust == purchase_slot[cust])
    kind = np.where(out.online, 1, np.where(out.purchased, 2, 0)).astype(np.uint32)
    return pl.DataFrame({
        "journey_id": journey,
        "time": time,
        "channel": pl.Series(chan.astype(np.uint32)).cat.to(pl.Enum(CHANNELS)),
        "device": pl.Series(device.astype(np.uint32)).cat.to(pl.Enum(DEVICES)),
        "converted": converted.astype(np.int8),
        "value": np.where(converted, world.order_value[cust], 0.0),
        "customer_id": cust,
        "purchase": pl.Series(kind[cust]).cat.to(pl.Enum(PURCHASES)),
    })


def _logged_touches(world: JourneyWorld, out: Outcome) -> dict[str, np.ndarray]:
    """The touches a plan logs (up to an online purchase, with the purchase-session clicks), sorted by
    customer and time; computed once per plan and shared by its plain and stitched logs."""
    key = "log:" + out.multipliers.tobytes().hex()
    if key in world._cache:
        return world._cache[key]
    thr = world.thresholds(out.multipliers)
    buyers = np.flatnonzero(out.online)
    when = np.full(world.n_customers, np.inf)
    when[buyers] = _purchase_times(world, out, buyers)
    idx = world.kept_touches(thr)
    idx = idx[world.touch_time[idx] < when[world.touch_customer[idx]]]
    # purchase-session clicks, just before the purchase, in channel order
    rows, cols = np.nonzero(_purchase_clicks(world, buyers, thr))
    p_cust = buyers[rows]
    cust = np.concatenate([world.touch_customer[idx], p_cust])
    time = np.concatenate([world.touch_time[idx], when[p_cust] - (N_CHANNELS - cols) * SESSION_STEP])
    # customer then time in one float key: times lie in [0, days) and no two touches of a customer share
    # a time (touches of one session are SESSION_STEP apart), so the keys are distinct and any sort
    # algorithm gives the same order
    order = np.argsort(cust * (world.scenario.days + 1.0) + time)
    out_arrays = {
        "customer": cust[order], "time": time[order],
        "channel": np.concatenate([world.touch_channel[idx], cols.astype(np.int8)])[order],
        "device": np.concatenate([world.touch_device[idx], world.purchase_device[p_cust]])[order],
        "when": when,
    }
    world._cache[key] = out_arrays
    return out_arrays
