"""Response shapes of relationship messages sent at a cadence: diminishing lift, fatigue, unsubscribes.

Used by the loyalty world (its messages lever). A cadence of ``m`` regular messages a month multiplies a
subscriber's purchase rate by

    (1 + lift x (1 - d^m) / (1 - d)) x exp(-penalty x max(m - free, 0))

(each further message adds ``d`` times the previous one's lift; past ``free`` messages a month, fatigue
cuts the rate, so the response first rises, then falls, and turns below 1 for heavy cadences), and each
message makes the subscriber leave the list with probability ``rate x (1 + (m / free)^2)``.
"""

from __future__ import annotations

import math

__all__ = ["message_response", "unsubscribe_chance"]


def message_response(per_month: float, *, lift: float, diminishing: float, free: float,
                     penalty: float) -> float:
    """Purchase-rate multiplier of a subscriber who gets ``per_month`` regular messages a month.

    Parameters
    ----------
    per_month
        Regular messages a month (>= 0; fractional cadences interpolate).
    lift
        Rate lift of the first message of the month.
    diminishing
        Share of the previous message's lift that the next one adds (0 to 1).
    free
        Messages a month tolerated without fatigue.
    penalty
        Log purchase rate lost per message a month above ``free``.
    """
    m = float(per_month)
    gain = lift * m if diminishing >= 1.0 else lift * (1.0 - diminishing ** m) / (1.0 - diminishing)
    return (1.0 + gain) * math.exp(-penalty * max(m - free, 0.0))


def unsubscribe_chance(per_month: float, *, rate: float, free: float) -> float:
    """Chance that one message makes its subscriber unsubscribe: ``rate x (1 + (per_month / free)^2)``."""
    return min(rate * (1.0 + (float(per_month) / free) ** 2), 1.0)
