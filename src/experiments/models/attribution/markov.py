"""Markov-chain attribution: removal effects computed exactly from the absorbing chain.

The chain's transient states are ``start`` and, at order ``k``, the last ``k`` channels of a path (the
first touches of a path use shorter histories, as in ChannelAttribution); its absorbing states are
``conversion`` and ``null``. Transition probabilities are the observed transition counts, each path
weighted by its journeys (conversions plus nulls), normalised per state; the last touch of a path moves
to ``conversion`` with its conversions and to ``null`` with its nulls.

The probability of conversion from ``start`` is ``x[start]`` where ``(I - Q) x = r`` (``Q`` the
transient-to-transient block, ``r`` the transient-to-conversion column), solved with a sparse LU
(:func:`scipy.sparse.linalg.spsolve`), not by simulating paths. Removing a channel deletes every state
that contains it, so the transitions into those states go nowhere (to ``null``). The removal effect of
channel ``c`` is ``1 - P(conversion without c) / P(conversion)``; its credited conversions are the
conversions times its share of the summed removal effects (value credit likewise with the total value).
Self-transitions (a channel repeated) leave the absorption probabilities unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from experiments.errors import DataError, ParameterError
from experiments.models.attribution.journeys import Journeys

__all__ = ["MAX_ORDER", "MarkovResult", "markov_attribution", "path_states"]

#: Highest chain order accepted.
MAX_ORDER: int = 6


@dataclass(frozen=True)
class MarkovResult:
    """Removal effects and credits of the Markov model of one order."""

    channels: tuple[str, ...]
    order: int
    n_states: int
    conversion_probability: float
    removal_effects: np.ndarray
    credit: np.ndarray
    credit_value: np.ndarray | None = None


def path_states(journeys: Journeys, order: int) -> np.ndarray:
    """The state code of every touch: its last ``order`` channels, ``sum((code + 1) * base**i)``.

    ``base`` is the number of channels plus one; positions before the path's start count as 0, and
    ``start`` itself is state 0.
    """
    base = len(journeys.channels) + 1
    state = np.zeros(journeys.n_touches, dtype=np.int64)
    pos = journeys.position
    for i in range(order):
        shifted = np.zeros(journeys.n_touches, dtype=np.int64)
        shifted[i:] = journeys.codes[: journeys.n_touches - i] + 1
        state += np.where(pos >= i, shifted, 0) * base**i
    return state


def _solve(q: object, r: np.ndarray, keep: np.ndarray | None = None) -> float:
    if keep is not None:
        idx = np.flatnonzero(keep)
        q = q[idx][:, idx]  # type: ignore[index]
        r = r[idx]
    n = r.size
    a = (sp.identity(n, format="csc") - q).tocsc()  # type: ignore[operator]
    if n == 1:
        return float(r[0] / a.toarray()[0, 0])
    x = spsolve(a, r)
    return float(np.atleast_1d(x)[0])


def markov_attribution(journeys: Journeys, order: int = 1) -> MarkovResult:
    """Removal effects and credited conversions of every channel under the Markov model of ``order``.

    Raises
    ------
    ParameterError
        ``order`` not an integer in ``[1, MAX_ORDER]``.
    """
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 1 <= order <= MAX_ORDER:
        raise ParameterError("order", order, f"an integer from 1 to {MAX_ORDER}")
    order = int(order)
    k = len(journeys.channels)
    if (k + 1) ** order >= 2**62:
        raise DataError(f"order {order} with {k} channels has too many possible states")
    weight = journeys.conversions + journeys.nulls
    state = path_states(journeys, order)
    space = (k + 1) ** order
    if space <= 16_000_000:  # a lookup table over every possible state code
        present = np.bincount(state, minlength=space) > 0
        present[0] = True  # start
        states = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        idx = lookup[state]
    else:
        states = np.unique(np.concatenate([[0], state]))  # start (0) is the smallest code
        idx = np.searchsorted(states, state)
    first = journeys.offsets[:-1]
    last = journeys.offsets[1:] - 1
    prev = np.empty(journeys.n_touches, dtype=np.int64)
    prev[1:] = idx[:-1]
    prev[first] = 0  # every path leaves start
    n = states.size
    pair = prev * n + idx
    touch_weight = weight[journeys.path_of_touch]
    if n * n <= 4_000_000:  # small chains: dense counts in one pass
        counts = np.bincount(pair, weights=touch_weight, minlength=n * n)
        keys = np.flatnonzero(counts)
        counts = counts[keys]
    else:
        keys, inverse = np.unique(pair, return_inverse=True)
        counts = np.bincount(inverse, weights=touch_weight)
    q_counts = sp.csr_matrix((counts, (keys // n, keys % n)), shape=(n, n))
    to_conv = np.bincount(idx[last], weights=journeys.conversions, minlength=n)
    to_null = np.bincount(idx[last], weights=journeys.nulls, minlength=n)
    out = np.asarray(q_counts.sum(axis=1)).ravel() + to_conv + to_null
    scale = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = (sp.diags(scale) @ q_counts).tocsr()
    r = to_conv * scale
    total = float(journeys.conversions.sum())
    removal = np.zeros(k)
    p_full = _solve(q, r) if total > 0 else 0.0
    if p_full > 0:
        base = k + 1
        digits = np.stack([(states // base**i) % base for i in range(order)])
        for c in range(k):
            keep = ~(digits == c + 1).any(axis=0)
            removal[c] = 1.0 - _solve(q, r, keep) / p_full
        removal = np.clip(removal, 0.0, 1.0)
    share = removal / removal.sum() if removal.sum() > 0 else np.zeros(k)
    value = None if journeys.value is None else share * float(journeys.value.sum())
    return MarkovResult(
        channels=journeys.channels, order=order, n_states=n, conversion_probability=p_full,
        removal_effects=removal, credit=share * total, credit_value=value,
    )
