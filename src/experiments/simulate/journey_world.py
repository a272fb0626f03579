"""The journey world's data: the drawn customers, sessions and candidate touches, and one plan's outcome.

:class:`JourneyWorld` holds what :func:`~experiments.simulate.journey_draw.draw_world` drew and picks the
candidate touches a plan keeps (by lane and mark, see :mod:`experiments.simulate.journeys`);
:class:`Outcome` is what one plan gives (:func:`~experiments.simulate.journey_play.play`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from experiments.errors import ParameterError
from experiments.worlds import JOURNEY_CHANNELS as CHANNELS
from experiments.worlds import JourneySettings

__all__ = ["DEVICES", "PURCHASES", "SESSION_STEP", "JourneyWorld", "Outcome"]

#: Device vocabulary; codes 0 and 1.
DEVICES: tuple[str, ...] = ("desktop", "mobile")
#: What a customer really did: nothing, an online purchase (logged), a store purchase (not logged).
PURCHASES: tuple[str, ...] = ("none", "online", "store")
#: Days between the touches logged in one site session (keeps them in channel order).
SESSION_STEP: float = 1e-5
N_CHANNELS = len(CHANNELS)
#: The channel that means "no referrer": logged on a session only when no other channel caught it.
DIRECT = CHANNELS.index("direct")
#: The channel whose touches raise the synergy channels' response (``display_synergy``).
DISPLAY = CHANNELS.index("display")
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
        starts = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=2 * N_CHANNELS * _BUCKETS))])
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
    """One drawn world: customers, sessions, candidate touches and their marks. Re-run it with
    :func:`~experiments.simulate.journeys.play`.

    Customer arrays have one entry per customer (``customer_id`` is the index). Touch arrays have one
    entry per candidate touch: ``touch_lane`` is the channel code for a scheduled touch and
    ``channel + 8`` for a captured session; a plan keeps a candidate when its mark is below the lane's
    threshold. Purchase-session captures are not candidates: they follow from a purchase
    (``purchase_marks``).
    """

    scenario: JourneySettings
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
            self._cache["channel"] = (self.touch_lane % N_CHANNELS).astype(np.int8)
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
        lanes += [N_CHANNELS + k for k, c in enumerate(CHANNELS)
                  if s.lift[c] > 0 and s.targeting[c] == "session" and k != DIRECT]
        return lanes

    def synergy_lanes(self) -> list[int]:
        """Effect lanes of the synergy channels (none when ``display_synergy`` is 1: channels add up)."""
        s = self.scenario
        if s.display_synergy == 1.0:
            return []
        codes = {CHANNELS.index(c) for c in s.synergy_channels}
        return [lane for lane in self.effect_lanes() if lane % N_CHANNELS in codes]

    def synergy_marks(self) -> np.ndarray:
        """Per candidate touch of a synergy channel, the smallest mark among the scheduled display
        touches of the same customer in the ``synergy_window_days`` before it (``inf`` when there is none,
        and for every other touch): a plan raises the touch's response exactly when it keeps one of those
        display touches, i.e. when this mark is below the display lane's threshold. Computed once."""
        if "synergy" in self._cache:
            return self._cache["synergy"]
        s = self.scenario
        out = np.full(self.touch_customer.size, np.inf, dtype=np.float32)
        lanes = self.synergy_lanes()
        if lanes:
            span = s.days + s.synergy_window_days + 1.0  # customers' keys never overlap within a window
            disp = np.flatnonzero(self.touch_lane == DISPLAY)
            key_d = self.touch_customer[disp] * span + self.touch_time[disp]
            order = np.argsort(key_d)
            key_d = key_d[order]
            marks = np.append(self.touch_mark[disp][order], np.float32(np.inf))  # a sentinel to index
            target = np.flatnonzero(np.isin(self.touch_lane, lanes))
            key_t = self.touch_customer[target] * span + self.touch_time[target]
            lo = np.searchsorted(key_d, key_t - s.synergy_window_days, side="left")
            hi = np.searchsorted(key_d, key_t, side="left")  # display touches strictly before the touch
            if target.size and key_d.size:
                bounds = np.empty(2 * target.size, dtype=np.int64)
                bounds[0::2], bounds[1::2] = lo, hi
                smallest = np.minimum.reduceat(marks, bounds)[0::2]
                out[target] = np.where(hi > lo, smallest, np.float32(np.inf))
        self._cache["synergy"] = out
        return out

    def boosted(self, touches: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        """Flags: which of ``touches`` (candidate indices) a plan's display touches raise."""
        return self.synergy_marks()[touches] < thresholds[DISPLAY]

    def _kept_lane(self, thresholds: np.ndarray, lane: int) -> np.ndarray:
        """Indices of the candidates of one lane that a plan keeps."""
        index = self._index()
        prefix, partial = index.kept(lane, thresholds[lane])
        return np.concatenate([index.order[prefix], index.order[partial]])

    def lane_counts(self, thresholds: np.ndarray) -> np.ndarray:
        """Candidates each lane keeps under ``thresholds``."""
        index = self._index()
        out = np.zeros(2 * N_CHANNELS, dtype=np.int64)
        for lane in range(2 * N_CHANNELS):
            prefix, partial = index.kept(lane, thresholds[lane])
            out[lane] = prefix.stop - prefix.start + partial.size
        return out

    def kept_captures(self, thresholds: np.ndarray) -> np.ndarray:
        """Indices of the captured sessions a plan keeps; ``direct`` only where no other channel caught
        the session."""
        other = np.concatenate([self._kept_lane(thresholds, N_CHANNELS + k)
                                for k in range(N_CHANNELS) if k != DIRECT])
        direct = self._kept_lane(thresholds, N_CHANNELS + DIRECT)
        taken = np.zeros(self.session_customer.size, dtype=bool)
        taken[self.touch_session[other]] = True
        return np.concatenate([other, direct[~taken[self.touch_session[direct]]]])

    def kept_touches(self, thresholds: np.ndarray) -> np.ndarray:
        """Indices of the candidate touches (scheduled and captured) a plan keeps, in no set order."""
        return np.concatenate([*(self._kept_lane(thresholds, k) for k in range(N_CHANNELS)),
                               self.kept_captures(thresholds)])

    def multipliers(self, changes: Mapping[str, float] | None = None) -> np.ndarray:
        """Budget multiplier per channel: 1 unless ``changes`` names it (0 switches it off).

        Raises
        ------
        ParameterError
            An unknown channel, or a multiplier outside ``[0, max_budget_multiplier]``.
        """
        m = np.ones(N_CHANNELS)
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
    :data:`~experiments.worlds.JOURNEY_CHANNELS` order (touches include purchase-session clicks;
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


def decay_integral(lift: np.ndarray | float, half: np.ndarray | float, elapsed: np.ndarray) -> np.ndarray:
    """``lift * integral_0^elapsed 2**(-u / half) du``: the cumulative extra hazard of one touch."""
    return lift * (half / _LN2) * -np.expm1(-_LN2 * np.maximum(elapsed, 0.0) / half)
