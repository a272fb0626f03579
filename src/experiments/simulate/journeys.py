"""Omnichannel journeys: customers with latent intent meet channels over weeks; the truth by re-running.

The world
    Customer ``i`` has a base purchase hazard ``h_i`` per day (log-normal across customers, times a
    region effect) and an exponential threshold ``E_i``. Her own site sessions arrive at
    ``sessions_per_purchase * h_i`` per day; each multiplies the hazard by
    ``1 + session_lift * 2**(-age / session_half_life)`` (intent rises down the funnel), and every touch
    of channel ``c`` adds ``lift_c * 2**(-age / half_life_c)`` to the multiplier in the same way. The
    cumulative hazard is in closed form; she buys at the first time it reaches ``E_i`` within the
    window, or never. The base hazard is scaled so that ``base_conversion`` of customers would buy with
    no marketing at all (:func:`base_hazard_scale`). A purchase happens in a store with probability
    ``store_share``: real, but invisible to the online log.
Who meets which channel
    Each channel has an audience: the customers whose score ``tilt * z_i + sqrt(1 - tilt**2) * e_ic``
    (``z`` the standardised intent) falls in the top ``reach`` share. ``push`` channels touch their
    audience on their own calendar (``frequency`` per week); ``retarget`` channels only in the window
    after one of the customer's sessions (so mostly the likely buyers); every channel also *captures*
    a share ``capture`` of its audience's sessions, the purchase session included (the visit arrives
    through a click on it: brand search, a coupon site, typing the address, an e-mail link). A
    purchase session's touches follow from the purchase and carry no effect on it.
Devices
    Two-device customers split their touches between devices; unless their identity is matched, the
    log holds two journeys (ids ``2 * customer`` and ``2 * customer + 1``), and the purchase lands in
    the journey of the device it was made on.
Truth by common random numbers
    Every candidate touch is drawn once, scheduled touches at ``max_budget_multiplier`` times their
    frequency, each with a uniform mark; a plan with budget multiplier ``m`` keeps the scheduled touches
    whose mark is below ``m / max_budget_multiplier`` and the captures whose mark is below
    ``min(1, m * capture)``. Switching a channel off (``m = 0``), changing its budget or reallocating
    budgets re-runs the same world with the same customers, thresholds and touches: differences are due
    to the plan alone.

All randomness comes from block-seeded streams (stream 3, see :mod:`experiments.simulate.blocks`):
customer chunk ``i`` draws from ``chunk_rng(seed, i, 3)``, each channel from its own child stream, so
the world is identical whatever the number of workers; region-level draws (region effects, geo-test
assignment) come from one reserved key of the same stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.scenarios.omnichannel import CHANNELS, OmnichannelScenario
from experiments.simulate.blocks import chunk_bounds, chunk_rng

__all__ = [
    "DEVICES",
    "PURCHASES",
    "SESSION_STEP",
    "STREAM",
    "JourneyWorld",
    "Outcome",
    "base_hazard_scale",
    "budget_response",
    "channel_truth",
    "draw_world",
    "geo_holdout_table",
    "observed_log",
    "play",
    "switched_off",
    "user_holdout_table",
]

#: Random stream number of this simulator (see :mod:`experiments.simulate.blocks`).
STREAM: int = 3
#: Chunk index reserved for the region-level draws of stream 3 (no customer chunk reaches it).
_REGION_KEY: int = 2**31 - 1
#: Device vocabulary; codes 0 and 1.
DEVICES: tuple[str, ...] = ("desktop", "mobile")
#: What a customer really did: nothing, an online purchase (logged), a store purchase (not logged).
PURCHASES: tuple[str, ...] = ("none", "online", "store")
#: Days between the touches logged in one site session (keeps them in channel order).
SESSION_STEP: float = 1e-5
_K = len(CHANNELS)
#: The channel that means "no referrer": logged on a session only when no other channel caught it.
_DIRECT = CHANNELS.index("direct")
_LN2 = math.log(2.0)


#: Mark buckets per lane in the sorted candidate index (lanes x buckets fit 16 bits: a radix sort).
_BUCKETS = 4096


@dataclass(frozen=True)
class _LaneIndex:
    """Candidates sorted by lane and mark bucket, so a plan's kept touches are whole runs plus one
    partly kept bucket per lane (no per-plan sort, no pass over every candidate)."""

    order: np.ndarray
    starts: np.ndarray
    marks: np.ndarray

    @classmethod
    def build(cls, lane: np.ndarray, mark: np.ndarray) -> _LaneIndex:
        """Index of candidates with lane codes ``lane`` (0 to 15) and float32 marks in ``[0, 1)``."""
        bucket = (mark.astype(np.float64) * _BUCKETS).astype(np.uint16)  # exact: a power-of-two scaling
        key = lane.astype(np.uint16) * np.uint16(_BUCKETS) + bucket
        order = np.argsort(key, kind="stable")
        starts = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=2 * _K * _BUCKETS))])
        return cls(order=order, starts=starts, marks=mark[order])

    def kept(self, lane: int, threshold: np.float32) -> tuple[slice, np.ndarray]:
        """The positions kept in ``lane`` (mark below ``threshold``): whole buckets, then the rest."""
        base = lane * _BUCKETS
        full = min(int(float(threshold) * _BUCKETS), _BUCKETS)
        a, b = int(self.starts[base]), int(self.starts[base + full])
        if full >= _BUCKETS:
            return slice(a, b), np.zeros(0, dtype=np.int64)
        c = int(self.starts[base + full + 1])
        return slice(a, b), b + np.flatnonzero(self.marks[b:c] < threshold)


@dataclass(frozen=True, eq=False)
class JourneyWorld:
    """One drawn world: customers, sessions, candidate touches and their marks. Re-run it with :func:`play`.

    Customer arrays have one entry per customer (``customer_id`` is the index). Touch arrays have one
    entry per candidate touch: ``touch_lane`` is the channel code for a scheduled touch and
    ``channel + 8`` for a captured session; a plan keeps a candidate when its mark is below the lane's
    threshold. Purchase-session captures are not candidates: they follow from a purchase
    (``purchase_marks``).
    """

    scenario: OmnichannelScenario
    base_hazard: np.ndarray
    threshold: np.ndarray
    order_value: np.ndarray
    store: np.ndarray
    region: np.ndarray
    primary_device: np.ndarray
    split: np.ndarray
    purchase_device: np.ndarray
    member: np.ndarray
    purchase_marks: np.ndarray
    holdout_draw: np.ndarray
    geo_holdout: np.ndarray
    touch_customer: np.ndarray
    touch_lane: np.ndarray
    touch_time: np.ndarray
    touch_mark: np.ndarray
    touch_device: np.ndarray
    touch_effect: np.ndarray
    touch_session: np.ndarray
    session_customer: np.ndarray
    session_time: np.ndarray
    session_extra: np.ndarray
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_customers(self) -> int:
        """Customers in the world."""
        return int(self.base_hazard.size)

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names; channel codes index this tuple."""
        return CHANNELS

    @property
    def touch_channel(self) -> np.ndarray:
        """Channel code of every candidate touch."""
        if "channel" not in self._cache:
            self._cache["channel"] = (self.touch_lane % _K).astype(np.int8)
        return self._cache["channel"]

    def _index(self) -> _LaneIndex:
        """Candidates sorted by lane and mark bucket (built once), with their customer and effect."""
        if "index" not in self._cache:
            index = _LaneIndex.build(self.touch_lane, self.touch_mark)
            self._cache["index"] = index
            self._cache["sorted_customer"] = self.touch_customer[index.order]
            self._cache["sorted_effect"] = self.touch_effect[index.order]
        return self._cache["index"]

    def effect_lanes(self) -> list[int]:
        """Lanes whose touches change the hazard: scheduled touches of channels with a lift, and the
        captures of session channels with a lift (``direct`` excluded: it is logged only on sessions no
        other channel caught)."""
        s = self.scenario
        lanes = [k for k, c in enumerate(CHANNELS) if s.lift[c] > 0 and s.targeting[c] != "session"]
        lanes += [_K + k for k, c in enumerate(CHANNELS)
                  if s.lift[c] > 0 and s.targeting[c] == "session" and k != _DIRECT]
        return lanes

    def _kept_lane(self, thresholds: np.ndarray, lane: int) -> np.ndarray:
        """Indices of the candidates of one lane that a plan keeps."""
        index = self._index()
        prefix, partial = index.kept(lane, thresholds[lane])
        return np.concatenate([index.order[prefix], index.order[partial]])

    def lane_counts(self, thresholds: np.ndarray) -> np.ndarray:
        """Candidates each lane keeps under ``thresholds``."""
        index = self._index()
        out = np.zeros(2 * _K, dtype=np.int64)
        for lane in range(2 * _K):
            prefix, partial = index.kept(lane, thresholds[lane])
            out[lane] = prefix.stop - prefix.start + partial.size
        return out

    def kept_captures(self, thresholds: np.ndarray) -> np.ndarray:
        """Indices of the captured sessions a plan keeps; ``direct`` only where no other channel caught
        the session."""
        other = np.concatenate([self._kept_lane(thresholds, _K + k) for k in range(_K) if k != _DIRECT])
        direct = self._kept_lane(thresholds, _K + _DIRECT)
        taken = np.zeros(self.session_customer.size, dtype=bool)
        taken[self.touch_session[other]] = True
        return np.concatenate([other, direct[~taken[self.touch_session[direct]]]])

    def kept_touches(self, thresholds: np.ndarray) -> np.ndarray:
        """Indices of the candidate touches (scheduled and captured) a plan keeps, in no set order."""
        return np.concatenate([*(self._kept_lane(thresholds, k) for k in range(_K)),
                               self.kept_captures(thresholds)])

    def multipliers(self, changes: Mapping[str, float] | None = None) -> np.ndarray:
        """Budget multiplier per channel: 1 unless ``changes`` names it (0 switches it off).

        Raises
        ------
        ParameterError
            An unknown channel, or a multiplier outside ``[0, max_budget_multiplier]``.
        """
        m = np.ones(_K)
        top = self.scenario.max_budget_multiplier
        for channel, value in (changes or {}).items():
            if channel not in CHANNELS:
                raise ParameterError("channel", channel, "one of " + ", ".join(CHANNELS))
            x = float(value)
            if not (0.0 <= x <= top + 1e-9):
                raise ParameterError(f"multiplier[{channel}]", value, f"a number in [0, {top:g}]")
            m[CHANNELS.index(channel)] = min(x, top)
        return m

    def thresholds(self, multipliers: np.ndarray) -> np.ndarray:
        """Mark threshold of each lane (scheduled lanes, then capture lanes) under ``multipliers``.

        Marks and thresholds are float32, so a touch is kept by the same comparison everywhere.
        """
        s = self.scenario
        scheduled = np.asarray(multipliers, dtype=float) / s.max_budget_multiplier
        capture = np.minimum(1.0, np.array([s.capture[c] for c in CHANNELS]) * multipliers)
        return np.concatenate([scheduled, capture]).astype(np.float32)


@dataclass(frozen=True)
class Outcome:
    """What one plan (budget multipliers) gives in a world: purchases, touches, spend, profit.

    ``purchased`` and ``online`` are per-customer flags; ``touches`` and ``spend`` are per channel in
    :data:`~experiments.scenarios.omnichannel.CHANNELS` order (touches include purchase-session clicks;
    spend includes the affiliate commission).
    """

    multipliers: np.ndarray
    purchased: np.ndarray
    online: np.ndarray
    touches: np.ndarray
    spend: np.ndarray
    revenue: float
    online_revenue: float
    margin: float

    @property
    def conversions(self) -> int:
        """Purchases, online and in store."""
        return int(self.purchased.sum())

    @property
    def online_conversions(self) -> int:
        """Online purchases (the ones an online log can see)."""
        return int(self.online.sum())

    @property
    def total_spend(self) -> float:
        """Media spend over all channels, dollars."""
        return float(self.spend.sum())

    @property
    def profit(self) -> float:
        """Gross margin on all purchases minus all spend, dollars."""
        return self.margin * self.revenue - self.total_spend


def _decay_integral(lift: np.ndarray | float, half: np.ndarray | float, elapsed: np.ndarray) -> np.ndarray:
    """``lift * integral_0^elapsed 2**(-u / half) du``: the cumulative extra hazard of one touch."""
    return lift * (half / _LN2) * -np.expm1(-_LN2 * np.maximum(elapsed, 0.0) / half)


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
    g = _decay_integral(session_lift, session_half_life, (v + 1) / 2 * days)
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


def _draw_chunk(s: OmnichannelScenario, rng: np.random.Generator, start: int, stop: int,
                scale: float, region_effect: np.ndarray) -> dict[str, Any]:
    n = stop - start
    days, top = s.days, s.max_budget_multiplier
    r_cust, r_dev, r_sess, r_exp, *r_chan = rng.spawn(4 + _K)
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

    members = np.empty((n, _K), dtype=bool)
    purchase_marks = np.empty((n, _K), dtype=np.float32)
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
        scheduled_effect = _decay_integral(s.lift[c], s.half_life[c], days - time)
        # a click on a scheduled channel's touch is the customer's own session: no effect of its own
        caught_lift = s.lift[c] if s.targeting[c] == "session" else 0.0
        caught_effect = _decay_integral(caught_lift, s.half_life[c], days - sess_time[caught])
        owner = np.concatenate([owner, sess_owner[caught]])
        time = np.concatenate([time, sess_time[caught] + k * SESSION_STEP])
        lane = np.concatenate([np.full(owner.size - caught.size, k, dtype=np.int8),
                               np.full(caught.size, k + _K, dtype=np.int8)])
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
        "holdout_draw": r_exp.random((n, _K), dtype=np.float32),
        "session_customer": sess_owner + start,
        "session_time": sess_time,
        "session_extra": np.bincount(
            sess_owner, weights=_decay_integral(s.session_lift, s.session_half_life, days - sess_time),
            minlength=n),
        **{f"touch_{key}": v for key, v in parts.items()},  # lists: concatenated once over all chunks
    }


def draw_world(
    scenario: OmnichannelScenario, *, workers: int = 1, executor: Executor | None = None
) -> JourneyWorld:
    """Draw the customers, their sessions and every candidate touch of ``scenario``'s world.

    Parameters
    ----------
    scenario
        Validated parameters (:class:`~experiments.scenarios.omnichannel.OmnichannelScenario`).
    workers, executor
        Threads (or any :class:`concurrent.futures.Executor`) drawing customer chunks; neither changes
        the world.

    Returns
    -------
    JourneyWorld
        Re-run it with :func:`play`; :func:`observed_log` gives the touchpoint log of a plan.
    """
    s = scenario
    regional = np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(s.seed, spawn_key=(STREAM, _REGION_KEY))))
    region_effect = np.exp(s.geo_sigma * regional.standard_normal(s.n_geos) - s.geo_sigma**2 / 2)
    geo_holdout = np.zeros((s.n_geos, _K), dtype=bool)
    n_hold = max(1, min(s.n_geos - 1, round(s.geo_holdout_share * s.n_geos)))
    for k in range(_K):
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


def _multipliers(world: JourneyWorld, changes: Mapping[str, float] | np.ndarray | None) -> np.ndarray:
    if isinstance(changes, np.ndarray):
        if changes.shape != (_K,):
            raise ParameterError("multipliers", changes.shape, f"an array of {_K} multipliers")
        return world.multipliers(dict(zip(CHANNELS, changes.tolist(), strict=True)))
    return world.multipliers(changes)


def _purchase_clicks(world: JourneyWorld, buyers: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """``(len(buyers), channels)`` flags: the channels the purchase session arrives through."""
    clicks = world.member[buyers] & (world.purchase_marks[buyers] < thr[_K:])
    others = np.delete(clicks, _DIRECT, axis=1).any(axis=1)
    clicks[:, _DIRECT] &= ~others
    return clicks


def _direct_effect(world: JourneyWorld, thr: np.ndarray) -> np.ndarray:
    """Kept ``direct`` captures with an effect (only when direct is given a lift)."""
    if world.scenario.lift["direct"] <= 0 or world.scenario.targeting["direct"] != "session":
        return np.zeros(0, dtype=np.int64)
    captures = world.kept_captures(thr)
    direct = captures[world.touch_channel[captures] == _DIRECT]
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
        drawn = world._cache["drawn_thresholds"] = world.thresholds(np.ones(_K))
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
    return extra


def play(world: JourneyWorld, changes: Mapping[str, float] | np.ndarray | None = None) -> Outcome:
    """Re-run ``world`` under a plan: budget multipliers per channel (1 = as drawn, 0 = switched off).

    Parameters
    ----------
    world
        From :func:`draw_world`.
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
    scheduled = world.lane_counts(thr)[:_K]
    captures = world.kept_captures(thr)
    captured = np.bincount(world.touch_channel[captures], minlength=_K) + clicks.sum(axis=0)
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
    lift = np.concatenate([np.array([s.lift[c] for c in CHANNELS])[channel],
                           np.full(sess.size, s.session_lift)])
    half = np.concatenate([np.array([s.half_life[c] for c in CHANNELS])[channel],
                           np.full(sess.size, s.session_half_life)])
    hazard, target = world.base_hazard[customers], world.threshold[customers]
    lo, hi = np.zeros(customers.size), np.full(customers.size, s.days)
    for _ in range(36):  # the window / 2**36: under a tenth of a millisecond at 28 days
        mid = (lo + hi) / 2
        extra = np.bincount(owner, weights=_decay_integral(lift, half, mid[owner] - start),
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
        From :func:`draw_world`.
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
    time = np.concatenate([world.touch_time[idx], when[p_cust] - (_K - cols) * SESSION_STEP])
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
