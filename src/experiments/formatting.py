"""Number formatting shared by results, verdicts and reports (no dependencies)."""

from __future__ import annotations

import math

__all__ = ["money"]


def money(x: float, digits: int = 2) -> str:
    """Dollars with the sign in front: ``-$1,234.50``; ``n/a`` for nan, ``unbounded`` for infinity."""
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "unbounded" if x > 0 else "-unbounded"
    return f"{'-' if x < 0 else ''}${abs(x):,.{digits}f}"
