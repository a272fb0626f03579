"""Rule-based attribution: each path's conversions split among its touches by a fixed rule.

Every rule gives each touch a weight, the weights of a path sum to 1, and a channel's credit is the sum
over its touches of ``weight * conversions of the path`` (or ``* value`` for value credit), so the
credits of a model sum to the number of conversions. All rules are vectorised over touches.

- ``first_touch``, ``last_touch``: all to the first (last) touch.
- ``last_non_direct``: all to the last touch that is not ``direct`` (any spelling case); a path of
  direct touches only credits its last one.
- ``linear``: equal shares of the path's touches (a channel touched twice gets two shares).
- ``time_decay``: weight ``2**(-(t_last - t) / half_life)``, normalised within the path; the reference is
  the path's last touch (the log has no conversion time). The default half-life, 7 days, is that of
  Google Analytics' time-decay model.
- ``position_based``: 40% to the first touch, 40% to the last, 20% shared by the touches between; a
  one-touch path gives 100% to it and a two-touch path 50% to each.
"""

from __future__ import annotations

import numpy as np

from experiments.errors import DataError, ParameterError
from experiments.models.attribution.journeys import Journeys

__all__ = [
    "DEFAULT_HALF_LIFE",
    "HEURISTICS",
    "ONE_TOUCH",
    "credit_from_weights",
    "credited_touch",
    "heuristic_credit",
    "touch_weights",
]

#: Rule-based models, in report order.
HEURISTICS: tuple[str, ...] = (
    "first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based",
)
#: Rules that give a path's whole credit to one touch.
ONE_TOUCH: tuple[str, ...] = ("first_touch", "last_touch", "last_non_direct")
#: Days for a touch's weight to halve in the time-decay model.
DEFAULT_HALF_LIFE: float = 7.0


def _direct_codes(journeys: Journeys, direct: str) -> np.ndarray:
    wanted = direct.strip().lower()
    return np.array([i for i, name in enumerate(journeys.channels) if name.lower() == wanted], dtype=np.int32)


def touch_weights(
    journeys: Journeys, model: str, *, half_life: float = DEFAULT_HALF_LIFE, direct: str = "direct"
) -> np.ndarray:
    """Weight of every touch under ``model``; the weights of each path sum to 1.

    Raises
    ------
    ParameterError
        An unknown model, or a half-life that is not a positive number.
    DataError
        ``time_decay`` on journeys without touch times.
    """
    n = journeys.n_touches
    if model in ONE_TOUCH:
        w = np.zeros(n)
        w[credited_touch(journeys, model, direct=direct)] = 1.0
        return w
    pos, path = journeys.position, journeys.path_of_touch
    length = journeys.touch_length
    if model == "linear":
        return 1.0 / length
    if model == "position_based":
        middle = np.where(length > 2, 0.2 / np.maximum(length - 2, 1), 0.0)
        ends = np.where(length == 1, 1.0, np.where(length == 2, 0.5, 0.4))
        return np.where((pos == 0) | (pos == length - 1), ends, middle)
    if model == "time_decay":
        if not (isinstance(half_life, int | float) and np.isfinite(half_life) and half_life > 0):
            raise ParameterError("half_life", half_life, "a number of days > 0")
        if journeys.times is None:
            raise DataError("time_decay needs touch times; aggregated paths have none")
        last_time = journeys.times[journeys.offsets[1:] - 1][path]
        w = np.exp2(-(last_time - journeys.times) / half_life)
        total = np.add.reduceat(w, journeys.offsets[:-1])
        return w / total[path]
    raise ParameterError("model", model, "one of " + ", ".join(HEURISTICS))


def credited_touch(journeys: Journeys, model: str, *, direct: str = "direct") -> np.ndarray:
    """For the one-touch rules (first, last, last non-direct), the index of each path's credited touch."""
    first, last = journeys.offsets[:-1], journeys.offsets[1:] - 1
    if model == "first_touch":
        return first
    if model == "last_touch":
        return last
    if model == "last_non_direct":
        codes = _direct_codes(journeys, direct)
        if not codes.size:
            return last
        candidate = np.where(np.isin(journeys.codes, codes), -1, np.arange(journeys.n_touches))
        found = np.maximum.reduceat(candidate, first)
        return np.where(found >= 0, found, last)
    raise ParameterError("model", model, "one of " + ", ".join(ONE_TOUCH))


def heuristic_credit(
    journeys: Journeys,
    model: str,
    *,
    half_life: float = DEFAULT_HALF_LIFE,
    direct: str = "direct",
    value: bool = False,
) -> np.ndarray:
    """Credited conversions (or value, with ``value=True``) per channel under a rule-based model.

    Returns
    -------
    numpy.ndarray
        One number per channel of ``journeys.channels``; they sum to the conversions (the value).
    """
    if model in ONE_TOUCH:  # one credited touch per path: no pass over every touch
        per_path = journeys.value if value else journeys.conversions
        if per_path is None:
            raise DataError("no conversion value was given")
        return np.bincount(journeys.codes[credited_touch(journeys, model, direct=direct)], weights=per_path,
                           minlength=len(journeys.channels))
    return credit_from_weights(journeys, touch_weights(journeys, model, half_life=half_life, direct=direct),
                               value=value)


def credit_from_weights(journeys: Journeys, weights: np.ndarray, *, value: bool = False) -> np.ndarray:
    """Per channel, the sum over touches of ``weight * conversions`` (or ``* value``) of their path."""
    per_touch = journeys.touch_value if value else journeys.touch_conversions
    if per_touch is None:
        raise DataError("no conversion value was given")
    return np.bincount(journeys.codes, weights=weights * per_touch, minlength=len(journeys.channels))
