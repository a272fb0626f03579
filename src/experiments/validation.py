"""Checks shared by every scenario and command: each rejects with one line naming what is wrong."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from experiments.errors import ParameterError

__all__ = [
    "as_bool",
    "as_choice",
    "as_choices",
    "as_float",
    "as_int",
    "as_probability",
    "as_shares",
    "choice_count",
    "float_rule",
    "int_rule",
    "pick",
    "reject_unknown",
]


def reject_unknown(params: Mapping[str, Any], known: Iterable[str]) -> None:
    """Raise if ``params`` holds a name not in ``known``."""
    known = sorted(known)
    for name in params:
        if name not in known:
            raise ParameterError(name, params[name], "a known parameter name: " + ", ".join(known))


def int_rule(low: int | None = None, high: int | None = None) -> str:
    """The words for an integer within ``[low, high]``."""
    def show(x: int) -> str:
        return f"{x:_}" if abs(x) >= 10_000 else str(x)

    lo = "" if low is None else f" >= {show(low)}"
    hi = "" if high is None else f" <= {show(high)}"
    return "an integer" + lo + (" and" if lo and hi else "") + hi


def float_rule(low: float | None = None, high: float | None = None, low_open: bool = False,
               high_open: bool = False) -> str:
    """The words for a finite number within the given bounds (closed unless ``*_open``)."""
    lo = "" if low is None else (f" > {low:g}" if low_open else f" >= {low:g}")
    hi = "" if high is None else (f" < {high:g}" if high_open else f" <= {high:g}")
    return "a number" + lo + (" and" if lo and hi else "") + hi


def as_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An integer within ``[low, high]``; floats like ``3.0`` and strings like ``"3"`` are accepted."""
    rule = int_rule(low, high)
    if isinstance(value, bool):
        raise ParameterError(name, value, rule)
    if isinstance(value, str):
        try:
            value = float(value.replace("_", "")) if value.strip() else value
        except ValueError:
            raise ParameterError(name, value, rule) from None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ParameterError(name, value, rule)
        value = int(value)
    if not isinstance(value, int):
        raise ParameterError(name, value, rule)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(name, value, rule)
    return value


def as_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number within the given bounds (closed unless ``*_open``)."""
    rule = float_rule(low, high, low_open, high_open)
    if isinstance(value, bool):
        raise ParameterError(name, value, rule)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, rule) from None
    if not math.isfinite(x):
        raise ParameterError(name, value, rule.replace("a number", "a finite number", 1))
    if low is not None and (x < low or (low_open and x == low)):
        raise ParameterError(name, value, rule)
    if high is not None and (x > high or (high_open and x == high)):
        raise ParameterError(name, value, rule)
    return x


def as_probability(name: str, value: Any) -> float:
    """A number in ``[0, 1]``."""
    return as_float(name, value, low=0.0, high=1.0)


def as_bool(name: str, value: Any) -> bool:
    """``True``/``False`` or a common spelling of them (yes/no, 1/0, true/false)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "y", "1", "on"}:
        return True
    if text in {"false", "no", "n", "0", "off"}:
        return False
    raise ParameterError(name, value, "true or false")


def as_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    """One of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ParameterError(name, value, "one of " + ", ".join(allowed))
    return value


def choice_count(min_count: int) -> str:
    """How many of a list of choices a value must name: ``any``, ``at least one``, ``at least 2``..."""
    return "any" if min_count <= 0 else "at least one" if min_count == 1 else f"at least {min_count}"


def as_choices(name: str, value: Any, allowed: Sequence[str], *, min_count: int = 1) -> tuple[str, ...]:
    """A list (or comma-separated string) of distinct values from ``allowed``."""
    items = _split(value)
    rule = f"{choice_count(min_count)} of " + ", ".join(allowed) + " (comma-separated)"
    if items is None or len(items) < min_count or len(set(items)) != len(items):
        raise ParameterError(name, value, rule)
    for item in items:
        if item not in allowed:
            raise ParameterError(name, item, "one of " + ", ".join(allowed))
    return tuple(items)


def as_shares(
    name: str, value: Any, *, allowed: Sequence[str] | None = None, tolerance: float = 1e-6
) -> dict[str, float]:
    """Named shares such as ``"holdout:0.2,generic:0.8"`` (or a mapping) that are >= 0 and sum to 1."""
    rule = "label:share pairs, each share in [0, 1], summing to 1 (e.g. holdout:0.5,campaign:0.5)"
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        items = _split(value)
        if not items:
            raise ParameterError(name, value, rule)
        pairs = []
        for item in items:
            label, sep, share = item.rpartition(":")
            if not sep or not label.strip():
                raise ParameterError(name, value, rule)
            pairs.append((label.strip(), share))
    shares: dict[str, float] = {}
    for label, share in pairs:
        if allowed is not None and label not in allowed:
            raise ParameterError(name, label, "arm names from " + ", ".join(allowed))
        if label in shares:
            raise ParameterError(name, value, rule + "; each label once")
        try:
            x = float(share)
        except (TypeError, ValueError):
            raise ParameterError(name, value, rule) from None
        if not math.isfinite(x) or x < 0 or x > 1:
            raise ParameterError(name, value, rule)
        shares[label] = x
    if abs(sum(shares.values()) - 1.0) > tolerance:
        raise ParameterError(name, value, rule + f" (they sum to {sum(shares.values()):g})")
    return shares


def _split(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, Sequence):
        return [str(p).strip() for p in value]
    return None


def pick(namespace: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The values of ``names`` found in ``namespace`` (e.g. a notebook's ``globals()``).

    Lets a notebook hand its parameters cell to ``Scenario.from_params`` without repeating each name.
    """
    return {name: namespace[name] for name in names if name in namespace}
