"""Number formatting shared by results, verdicts, tables and reports (no dependencies).

One place for how numbers read: money with the sign in front (``-$1,234.50``), percentages, percentage
points, counts, p-values, and ``n/a`` / ``unbounded`` for what is not a finite number.
"""

from __future__ import annotations

import math

__all__ = ["chance", "currency_amount", "fmt", "money", "money_or_na", "number", "p_phrase", "p_value", "pct",
           "points", "signed_money", "spec_or_na", "unit_value", "unit_value_or_na"]


def _bad(x: float | int | None) -> str | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "unbounded" if x > 0 else "-unbounded"
    return None


def money(x: float | None, digits: int = 2) -> str:
    """Dollars with the sign in front: ``-$1,234.50``; ``n/a`` for nan, ``unbounded`` for infinity."""
    bad = _bad(x)
    if bad is not None:
        return bad
    assert x is not None
    text = f"{abs(x):,.{digits}f}"
    return f"{'-' if x < 0 and text.strip('0.,') else ''}${text}"


def number(x: float | int | None, spec: str = ",.4g") -> str:
    """Any number with a format spec; ``n/a`` for what is not finite."""
    bad = _bad(x)
    return bad if bad is not None else format(x, spec)


def p_value(p: float | None) -> str:
    """A p-value: ``<0.001`` below a thousandth, else three decimals."""
    bad = _bad(p)
    if bad is not None:
        return "n/a"
    assert p is not None
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt(x: float | int | None, kind: str = "number", digits: int = 1) -> str:
    """Format a number for prose.

    ``kind`` is ``number`` (thousands separators, ``digits`` decimals), ``int``, ``pct`` (a fraction shown
    as %), ``pp`` (a difference of fractions in percentage points, signed) or ``money`` (cents below
    $100, whole dollars above).
    """
    bad = _bad(x)
    if bad is not None:
        return bad
    assert x is not None
    if kind == "int":
        return f"{round(x):,}"
    if kind == "pct":
        return f"{100 * x:.{digits}f}%"
    if kind == "pp":
        return f"{100 * x:+.{digits}f} pp"
    if kind == "money":
        return money(x, max(digits, 2) if abs(x) < 100 else 0)
    return f"{x:,.{digits}f}"


def unit_value(x: float, unit: str) -> str:
    """A value in its unit: ``pp`` (2 decimals), ``$``, ``orders`` (whole), ``x`` (ratio), else a number."""
    if unit == "pp":
        return fmt(x, "pp", 2)
    if unit == "$":
        return fmt(x, "money")
    if unit == "orders":
        return fmt(x, "int")
    if unit == "%":
        return fmt(x, "pct")
    return fmt(x, "number", 2)


def spec_or_na(x: float | None, spec: str) -> str:
    """``x`` with a format spec; ``n/a`` for None and for a number that is not finite."""
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def p_phrase(p: float | None) -> str:
    """A p-value to follow "p": ``< 0.001`` below a thousandth, else ``= 0.123``; ``n/a`` for None."""
    return "n/a" if p is None else ("< 0.001" if p < 0.001 else f"= {p:.3f}")


def signed_money(x: float) -> str:
    """Whole dollars with the sign always shown: ``+$1,234``, ``-$56``."""
    return ("+" if x >= 0 else "") + money(x, 0)


def points(x: float) -> str:
    """A difference of shares in percentage points, one decimal, no unit: ``0.031`` -> ``3.1``."""
    return f"{100 * x:.1f}"


def pct(x: float, digits: int = 0) -> str:
    """A share as a percentage, whole by default (``0.25`` -> ``25%``)."""
    return fmt(x, "pct", digits)


def money_or_na(x: float | None, digits: int = 2) -> str:
    """Dollars, ``n/a`` for None and for what is not finite; ``digits=0`` means cents below $100 and whole
    dollars above (:func:`fmt`'s money)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return fmt(x, "money") if digits == 0 else money(x, digits)


def unit_value_or_na(x: object, unit: str) -> str:
    """:func:`unit_value`, or ``n/a`` for what is not a finite number."""
    if not isinstance(x, int | float) or not math.isfinite(x):
        return "n/a"
    return unit_value(float(x), unit)


def currency_amount(x: float, currency: str) -> str:
    """An amount in ``currency`` with cents, ``under $0.01`` below half a cent."""
    return f"{currency}{x:,.2f}" if x >= 0.005 else f"under {currency}0.01"


def chance(c: float) -> str:
    """A probability as a percentage with one decimal, ``>99.9%`` and ``<0.1%`` at the ends."""
    return ">99.9%" if c > 0.999 else "<0.1%" if c < 0.001 else f"{c:.1%}"
