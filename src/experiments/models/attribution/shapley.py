"""Shapley-value attribution over channel sets, exact (every coalition), up to 15 channels.

Coalition value: ``v(S)`` is the number of conversions (or the conversion value) of the journeys whose
set of channels is a subset of ``S``: what the channels of ``S`` would have converted on their own. The
values of all ``2**k`` coalitions come from the conversions per distinct channel set (one ``bincount``
over bit masks) and a subset-sum transform; channel ``c`` then gets

    phi_c = sum over S not containing c of |S|! (k - |S| - 1)! / k! * (v(S + c) - v(S)),

and the ``phi`` sum to ``v(all channels)``, the total conversions. For this coalition value the Shapley
value equals splitting each journey's conversions equally among its distinct channels (the "simplified"
Shapley value of Zhao et al. 2018, since ``v`` is a sum of unanimity games); the tests use that identity
as an independent check. Cost: ``k * 2**k`` operations, whatever the number of journeys.
"""

from __future__ import annotations

import math

import numpy as np

from experiments.errors import DataError
from experiments.models.attribution.journeys import Journeys

__all__ = ["MAX_SHAPLEY_CHANNELS", "TooManyChannelsError", "channel_sets", "coalition_values",
           "shapley_attribution", "shapley_from_coalitions"]

#: Most channels for which the exact Shapley value is computed (2**15 coalitions).
MAX_SHAPLEY_CHANNELS: int = 15


class TooManyChannelsError(DataError):
    """More channels than the exact Shapley computation takes."""


def channel_sets(journeys: Journeys) -> np.ndarray:
    """Bit mask of the distinct channels of every path (bit ``c`` set when channel ``c`` is in it)."""
    bits = np.left_shift(np.int64(1), journeys.codes.astype(np.int64))
    return np.bitwise_or.reduceat(bits, journeys.offsets[:-1])


def coalition_values(masks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """``v[S]`` for every coalition bit mask ``S``: the summed ``weights`` of paths with mask within ``S``."""
    v = np.bincount(masks, weights=weights, minlength=2**k).astype(float)
    for i in range(k):  # subset-sum (zeta) transform, one bit at a time
        view = v.reshape(-1, 2, 2**i)
        view[:, 1, :] += view[:, 0, :]
    return v


def shapley_from_coalitions(v: np.ndarray, k: int) -> np.ndarray:
    """Exact Shapley values of the ``k`` players of the game with coalition values ``v`` (``v[0] = 0``)."""
    masks = np.arange(2**k, dtype=np.int64)
    size = np.bitwise_count(masks).astype(np.int64)
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) if s < k else 0.0
                       for s in range(k + 1)])
    phi = np.empty(k)
    for c in range(k):
        without = masks[(masks >> c) & 1 == 0]
        phi[c] = float(weight[size[without]] @ (v[without | (1 << c)] - v[without]))
    return phi


def shapley_attribution(journeys: Journeys, *, value: bool = False) -> np.ndarray:
    """Shapley credit (conversions, or value with ``value=True``) of every channel.

    Raises
    ------
    TooManyChannelsError
        More than :data:`MAX_SHAPLEY_CHANNELS` channels.
    """
    k = len(journeys.channels)
    if k > MAX_SHAPLEY_CHANNELS:
        raise TooManyChannelsError(
            f"shapley: {k} channels; the exact Shapley value takes at most {MAX_SHAPLEY_CHANNELS}")
    weights = journeys.value if value else journeys.conversions
    if weights is None:
        raise DataError("no conversion value was given")
    v = coalition_values(channel_sets(journeys), weights, k)
    return shapley_from_coalitions(v, k)
