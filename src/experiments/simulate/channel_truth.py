"""The true effect of each channel, and of each pair of channels together, from the mechanism.

With channel holdouts on (a factorial design: each customer independently held out of each channel),
a customer's outcome depends on which channels reached it. For every customer of a treatment arm the
truth of channel ``c`` is the expected purchase (and expected profit: margin net of the incentive and
of media cost) with ``c`` on minus with ``c`` off, every other channel as it was: the delivery is
recomputed with ``c`` switched (the frequency cap then refills from the other channels), from the same
impression draws. A pair's interaction is ``p(1, 1) - p(1, 0) - p(0, 1) + p(0, 0)`` over the two
channels' states. Customers of the holdout arm, and customers ``c`` cannot reach, see no change: 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any, TypeVar

import numpy as np

from experiments.simulate.campaign import deliver_from, expected_value, response_factors

__all__ = [
    "PAIR_SEPARATOR",
    "Impressions",
    "assigned_value",
    "channel_columns",
    "channel_effects",
    "held_out_column",
    "pair_contrasts",
    "pairs",
]

#: Joins the two channels of a pair in its label: ``"display×email"``.
PAIR_SEPARATOR = "×"
#: What :func:`~experiments.simulate.campaign.draw_impressions` draws: exposures per channel before the
#: cap and any holdout, and who is reachable.
Impressions = tuple[dict[str, np.ndarray], np.ndarray]
_T = TypeVar("_T")


def held_out_column(channel: str) -> str:
    """Column flagging the customers held out of ``channel``: ``"held_out_display"``."""
    return f"held_out_{channel}"


def channel_columns(channel: str) -> tuple[str, str]:
    """Columns of the true effect of ``channel`` on purchases and on profit (dollars)."""
    return f"cate_channel_converted__{channel}", f"cate_channel_profit__{channel}"


def pairs(channels: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair of ``channels``, in their order."""
    return list(combinations(channels, 2))


class _Rows:
    """Some rows of a dataclass of per-customer arrays, each field sliced when first read (the response
    reads a few of a population's many fields)."""

    def __init__(self, obj: object, rows: np.ndarray) -> None:
        self._obj, self._rows = obj, rows

    def __getattr__(self, name: str) -> np.ndarray:
        value = getattr(self._obj, name)[self._rows]
        setattr(self, name, value)
        return value


def _take(obj: _T, rows: np.ndarray) -> _T:
    """``obj`` (a dataclass of per-customer arrays) limited to ``rows``."""
    return _Rows(obj, rows)  # type: ignore[return-value]


def assigned_value(world: Any, scenario: Any, off: Mapping[str, np.ndarray] | None, impressions: Impressions,
                   rows: np.ndarray | None = None,
                   factors: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Purchase probability and expected profit of each customer under its own arm, with holdouts ``off``.

    ``world`` is a :class:`~experiments.simulate.remarketing.World`; ``impressions`` what
    :func:`~experiments.simulate.campaign.draw_impressions` drew for it; ``rows`` (indices) limits the
    work to those customers (the values are then theirs, in that order); ``factors`` are the
    :func:`~experiments.simulate.campaign.response_factors` of all of ``world``'s customers, when already
    computed. Holdout-arm customers get 0.
    """
    uncapped, reachable = impressions
    funnel, pop, base, arm = world.funnel, world.pop, world.base, world.arm
    if rows is not None:
        uncapped = {c: v[rows] for c, v in uncapped.items()}
        reachable, arm = reachable[rows], arm[rows]
        funnel, pop, base = _take(funnel, rows), _take(pop, rows), _take(base, rows)
        off = None if off is None else {c: v[rows] for c, v in off.items()}
        factors = None if factors is None else {name: v[rows] for name, v in factors.items()}
    delivery = deliver_from(uncapped, reachable, world.delivery_seed, funnel, scenario,
                            None if off is None else dict(off), full=False)
    return expected_value(arm, scenario.arms, pop, funnel, delivery, base, scenario,
                          None if factors is None else dict(factors))


def _switched(off: Mapping[str, np.ndarray], channels: Sequence[str]) -> dict[str, np.ndarray]:
    return {c: ~held if c in channels else held for c, held in off.items()}


def _affected(world: Any, impressions: Impressions, channels: Sequence[str]) -> np.ndarray:
    """Customers of a treatment arm whom any of ``channels`` would reach (the only ones a switch moves)."""
    uncapped = impressions[0]
    some = np.zeros(world.arm.shape[0], dtype=bool)
    for c in channels:
        some |= uncapped[c] > 0
    return np.flatnonzero(some & (world.arm != 0))


def channel_effects(world: Any, scenario: Any, impressions: Impressions,
                    observed: tuple[np.ndarray, np.ndarray],
                    factors: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per customer, the true effect of each of the campaign's channels on purchases and profit.

    ``observed`` is :func:`assigned_value` under the customers' own holdouts; ``factors`` the
    customers' :func:`~experiments.simulate.campaign.response_factors` for the treatment arms (computed
    here when not given). Returns float32 columns named by :func:`channel_columns`.
    """
    off = world.off
    n = world.arm.shape[0]
    if factors is None:
        treated = [a for a in scenario.arms if a != "holdout"]
        factors = response_factors(treated, world.pop, world.funnel, world.base, scenario)
    out: dict[str, np.ndarray] = {}
    for c in scenario.channels:
        rows = _affected(world, impressions, (c,))
        pf, vf = assigned_value(world, scenario, _switched(off, (c,)), impressions, rows, factors)
        sign = np.where(off[c][rows], -1.0, 1.0)
        conv, profit = channel_columns(c)
        out[conv], out[profit] = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
        out[conv][rows] = sign * (observed[0][rows] - pf)
        out[profit][rows] = sign * (observed[1][rows] - vf)
    return out


def pair_contrasts(world: Any, scenario: Any, impressions: Impressions,
                   ) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """Per customer of a treatment arm, each pair's interaction on purchases and on profit:
    ``p(1, 1) - p(1, 0) - p(0, 1) + p(0, 0)``, the other channels as they were (0 elsewhere)."""
    off = world.off
    n = world.arm.shape[0]
    observed = assigned_value(world, scenario, off, impressions)
    out = {}
    for a, b in pairs(scenario.channels):
        rows = _affected(world, impressions, (a, b))
        va = assigned_value(world, scenario, _switched(off, (a,)), impressions, rows)
        vb = assigned_value(world, scenario, _switched(off, (b,)), impressions, rows)
        both = assigned_value(world, scenario, _switched(off, (a, b)), impressions, rows)
        sign = np.where(off[a][rows], -1.0, 1.0) * np.where(off[b][rows], -1.0, 1.0)
        values = []
        for j in (0, 1):
            v = np.zeros(n)
            v[rows] = sign * (observed[j][rows] - va[j] - vb[j] + both[j])
            values.append(v)
        out[(a, b)] = (values[0], values[1])
    return out
