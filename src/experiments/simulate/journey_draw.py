"""Drawing the journey world: customers, their sessions and every candidate touch, block-seeded.

The model is described in :mod:`experiments.simulate.journeys`. Customer chunk ``i`` draws from
``chunk_rng(seed, i, STREAM)``, each channel from its own child stream, so the world is identical
whatever the number of workers; region-level draws come from one reserved key of the same stream.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor, ThreadPoolExecutor
from statistics import NormalDist
from typing import Any

import numpy as np

from experiments.simulate.blocks import chunk_bounds, chunk_rng
from experiments.simulate.journey_world import N_CHANNELS, SESSION_STEP, JourneyWorld, decay_integral
from experiments.worlds import JOURNEY_CHANNELS as CHANNELS
from experiments.worlds import JourneySettings

__all__ = ["STREAM", "base_hazard_scale", "draw_world"]

#: Random stream number of this simulator (see :mod:`experiments.simulate.blocks`).
STREAM: int = 3
#: Chunk index reserved for the region-level draws of stream 3 (no customer chunk reaches it).
_REGION_KEY: int = 2**31 - 1


def base_hazard_scale(
    base_conversion: float, sigma: float, days: float, *, sessions_per_purchase: float = 0.0,
    session_lift: float = 0.0, session_half_life: float = 1.0,
) -> float:
    """Mean daily hazard ``a`` that makes ``base_conversion`` the share who buy with no marketing.

    A customer's base hazard is ``h = a * exp(sigma z - sigma^2 / 2)`` with ``z ~ N(0, 1)``; her
    sessions arrive uniformly over the window, ``sessions_per_purchase`` per unit of hazard, each adding
    ``session_lift * 2**(-age / session_half_life)`` to the hazard multiplier. Given ``z``, the chance of
    no purchase is ``exp(-h T) * exp(-mu (1 - E_v[exp(-h g(v))]))`` (the generating function of the
    Poisson number of sessions, ``mu = sessions_per_purchase * h * T``, ``g`` one session's cumulative
    extra hazard), integrated by Gauss-Hermite quadrature over ``z`` (80 nodes) and Gauss-Legendre over
    the session time (40 nodes); ``a`` by bisection on ``log a``. Region effects are left out (their
    mean is 1).
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()
    shape = np.exp(sigma * nodes - sigma**2 / 2)
    v, wv = np.polynomial.legendre.leggauss(40)
    g = decay_integral(session_lift, session_half_life, (v + 1) / 2 * days)
    wv = wv / 2

    def bought(a: float) -> float:
        h = a * shape
        spread = np.exp(-np.outer(h, g)) @ wv
        return float(weights @ -np.expm1(-h * days - sessions_per_purchase * h * days * (1 - spread)))

    lo, hi = -30.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if bought(math.exp(mid)) < base_conversion else (lo, mid)
    return math.exp((lo + hi) / 2)


def _draw_chunk(s: JourneySettings, rng: np.random.Generator, start: int, stop: int,
                scale: float, region_effect: np.ndarray) -> dict[str, Any]:
    n = stop - start
    days, top = s.days, s.max_budget_multiplier
    r_cust, r_dev, r_sess, r_exp, *r_chan = rng.spawn(4 + N_CHANNELS)
    z = r_cust.standard_normal(n)
    region = r_cust.integers(0, s.n_geos, n).astype(np.int32)
    hazard = scale * np.exp(s.intent_sigma * z - s.intent_sigma**2 / 2) * region_effect[region]
    threshold = r_cust.standard_exponential(n)
    value = s.mean_order_value * np.exp(s.order_value_sigma * r_cust.standard_normal(n)
                                        - s.order_value_sigma**2 / 2)
    store = r_cust.random(n) < s.store_share
    multi = r_dev.random(n) < s.multi_device_share
    primary = (r_dev.random(n) < s.mobile_share).astype(np.int8)
    matched = r_dev.random(n) < s.identity_match_rate
    purchase_device = np.where(multi & (r_dev.random(n) < s.secondary_device_share), 1 - primary, primary)

    def devices(r: np.random.Generator, owner: np.ndarray) -> np.ndarray:
        second = multi[owner] & (r.random(owner.size) < s.secondary_device_share)
        return np.where(second, 1 - primary[owner], primary[owner]).astype(np.int8)

    # the customer's own site sessions, sorted by customer then time
    n_sess = r_sess.poisson(s.sessions_per_purchase * hazard * days)
    sess_owner = np.repeat(np.arange(n, dtype=np.int64), n_sess)
    sess_time = r_sess.random(sess_owner.size) * days
    order = np.lexsort((sess_time, sess_owner))
    sess_owner, sess_time = sess_owner[order], sess_time[order]
    sess_device = devices(r_sess, sess_owner)
    same_next = np.zeros(sess_owner.size, dtype=bool)
    same_next[:-1] = sess_owner[1:] == sess_owner[:-1]
    next_time = np.where(same_next, np.roll(sess_time, -1), np.inf)

    members = np.empty((n, N_CHANNELS), dtype=bool)
    purchase_marks = np.empty((n, N_CHANNELS), dtype=np.float32)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("customer", "lane", "time", "mark", "device",
                                                          "effect", "session")}
    for k, c in enumerate(CHANNELS):
        r = r_chan[k]
        tilt = s.audience_tilt[c]
        score = tilt * z + math.sqrt(max(0.0, 1 - tilt * tilt)) * r.standard_normal(n)
        reach = s.reach[c]
        cut = math.inf if reach <= 0 else (-math.inf if reach >= 1 else NormalDist().inv_cdf(1 - reach))
        member = score > cut
        members[:, k] = member
        purchase_marks[:, k] = r.random(n, dtype=np.float32)
        if s.targeting[c] == "push":
            counts = r.poisson(s.frequency[c] / 7 * top * days, n) * member
            owner = np.repeat(np.arange(n, dtype=np.int64), counts)
            time = r.random(owner.size) * days
            device = devices(r, owner)
        elif s.targeting[c] == "retarget":
            window = np.minimum(np.minimum(s.retarget_window_days, next_time - sess_time), days - sess_time)
            counts = r.poisson(s.frequency[c] / 7 * top * window) * member[sess_owner]
            source = np.repeat(np.arange(sess_owner.size), counts)
            owner = sess_owner[source]
            time = sess_time[source] + r.random(source.size) * window[source]
            device = sess_device[source]
        else:  # session: no scheduled touches
            owner = np.zeros(0, dtype=np.int64)
            time = np.zeros(0)
            device = np.zeros(0, dtype=np.int8)
        caught = np.flatnonzero(member[sess_owner]) if s.capture[c] > 0 else np.zeros(0, dtype=np.int64)
        scheduled_effect = decay_integral(s.lift[c], s.half_life[c], days - time)
        # a click on a scheduled channel's touch is the customer's own session: no effect of its own
        caught_lift = s.lift[c] if s.targeting[c] == "session" else 0.0
        caught_effect = decay_integral(caught_lift, s.half_life[c], days - sess_time[caught])
        owner = np.concatenate([owner, sess_owner[caught]])
        time = np.concatenate([time, sess_time[caught] + k * SESSION_STEP])
        lane = np.concatenate([np.full(owner.size - caught.size, k, dtype=np.int8),
                               np.full(caught.size, k + N_CHANNELS, dtype=np.int8)])
        parts["customer"].append(owner + start)
        parts["lane"].append(lane)
        parts["time"].append(time)
        parts["mark"].append(r.random(owner.size, dtype=np.float32))
        parts["device"].append(np.concatenate([device, sess_device[caught]]))
        parts["effect"].append(np.concatenate([scheduled_effect, caught_effect]))
        parts["session"].append(np.concatenate([np.full(owner.size - caught.size, -1, dtype=np.int64),
                                                caught]))
    return {
        "base_hazard": hazard,
        "threshold": threshold,
        "order_value": value,
        "store": store,
        "region": region,
        "primary_device": primary,
        "split": multi & ~matched,
        "purchase_device": purchase_device.astype(np.int8),
        "member": members,
        "purchase_marks": purchase_marks,
        "holdout_draw": r_exp.random((n, N_CHANNELS), dtype=np.float32),
        "session_customer": sess_owner + start,
        "session_time": sess_time,
        "session_extra": np.bincount(
            sess_owner, weights=decay_integral(s.session_lift, s.session_half_life, days - sess_time),
            minlength=n),
        **{f"touch_{key}": v for key, v in parts.items()},  # lists: concatenated once over all chunks
    }


def draw_world(
    scenario: JourneySettings, *, workers: int = 1, executor: Executor | None = None
) -> JourneyWorld:
    """Draw the customers, their sessions and every candidate touch of ``scenario``'s world.

    Parameters
    ----------
    scenario
        The world's settings (:class:`~experiments.worlds.JourneySettings`).
    workers, executor
        Threads (or any :class:`concurrent.futures.Executor`) drawing customer chunks; neither changes
        the world.

    Returns
    -------
    JourneyWorld
        Re-run it with :func:`~experiments.simulate.journeys.play`;
        :func:`~experiments.simulate.journeys.observed_log` gives the touchpoint log of a plan.
    """
    s = scenario
    regional = np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(s.seed, spawn_key=(STREAM, _REGION_KEY))))
    region_effect = np.exp(s.geo_sigma * regional.standard_normal(s.n_geos) - s.geo_sigma**2 / 2)
    geo_holdout = np.zeros((s.n_geos, N_CHANNELS), dtype=bool)
    n_hold = max(1, min(s.n_geos - 1, round(s.geo_holdout_share * s.n_geos)))
    for k in range(N_CHANNELS):
        geo_holdout[regional.permutation(s.n_geos)[:n_hold], k] = True
    scale = base_hazard_scale(s.base_conversion, s.intent_sigma, s.days,
                              sessions_per_purchase=s.sessions_per_purchase, session_lift=s.session_lift,
                              session_half_life=s.session_half_life)

    def run(chunk: tuple[int, int, int]) -> dict[str, Any]:
        i, a, b = chunk
        return _draw_chunk(s, chunk_rng(s.seed, i, STREAM), a, b, scale, region_effect)

    chunks = chunk_bounds(s.n_customers)
    if executor is not None:
        parts = list(executor.map(run, chunks))
    elif workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(run, chunks))
    else:
        parts = [run(c) for c in chunks]
    offset = 0
    for p in parts:  # chunk-local session numbers to global ones
        p["touch_session"] = [np.where(x >= 0, x + offset, -1) for x in p["touch_session"]]
        offset += p["session_customer"].size
    arrays = {key: np.concatenate([x for p in parts for x in (p[key] if isinstance(p[key], list)
                                                               else [p[key]])])
              for key in parts[0]}
    return JourneyWorld(scenario=s, geo_holdout=geo_holdout, **arrays)
