"""Parameter declarations: each study parameter is declared once, with its default, rule, help and source.

A :class:`Param` knows how to turn a plain literal (what a notebook's ``parameters`` cell or ``-p NAME
VALUE`` gives) into a typed value, rejecting bad values with one line naming the parameter, the value and
what is allowed, and how to turn the typed value back into the literal. The notebook's parameters cell,
``experiments studies`` and the validation all read the same declaration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from experiments.errors import ParameterError
from experiments.validation import (
    as_bool,
    as_choice,
    as_choices,
    as_float,
    as_int,
    as_shares,
    choice_count,
    float_rule,
    int_rule,
)

__all__ = [
    "Param",
    "as_text",
    "boolean",
    "choice",
    "choices",
    "integer",
    "mapping",
    "number",
    "probability",
    "shares",
    "text",
]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Param:
    """One parameter of a study.

    Attributes
    ----------
    name, default, help
        The name, the plain-literal default and one line of help (shown in the notebook's parameters
        cell, ``papermill --help-notebook`` and ``experiments studies``).
    allowed
        What values are allowed, in words (the text of the one-line error).
    kind
        The Python type of the literal: ``int``, ``float``, ``str`` or ``bool``.
    source
        Where the default comes from: a citation, or ``assumption``.
    parse, render
        Literal → typed value (raises :class:`~experiments.errors.ParameterError`), and back.
    """

    name: str
    default: Any
    help: str
    allowed: str
    kind: str
    source: str = ""
    parse: Callable[[Any], Any] = field(default=_same, repr=False, compare=False)
    render: Callable[[Any], Any] = field(default=_same, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """``{name, default, allowed, help}`` (plus ``type`` and ``source``), JSON-ready."""
        return {"name": self.name, "default": self.default, "allowed": self.allowed, "help": self.help,
                "type": self.kind, "source": self.source}

    def cell_line(self) -> str:
        """The line of a notebook's parameters cell: ``name: type = default  # help``."""
        return f"{self.name}: {self.kind} = {self.default!r}  # {self.help}"


def integer(name: str, default: int, help: str, *, low: int | None = None, high: int | None = None,
            source: str = "") -> Param:
    """An integer parameter within ``[low, high]``."""
    return Param(name, default, help, int_rule(low, high), "int", source,
                 parse=lambda v: as_int(name, v, low=low, high=high))


def number(name: str, default: float, help: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, source: str = "") -> Param:
    """A finite number parameter within the given bounds (closed unless ``*_open``)."""
    return Param(name, float(default), help, float_rule(low, high, low_open, high_open), "float", source,
                 parse=lambda v: as_float(name, v, low=low, high=high, low_open=low_open,
                                          high_open=high_open))


def probability(name: str, default: float, help: str, *, source: str = "") -> Param:
    """A number in ``[0, 1]``."""
    return number(name, default, help, low=0.0, high=1.0, source=source)


def boolean(name: str, default: bool, help: str, *, source: str = "") -> Param:
    """True or false."""
    return Param(name, default, help, "true or false", "bool", source, parse=lambda v: as_bool(name, v))


def choice(name: str, default: str, help: str, options: Sequence[str], *, source: str = "") -> Param:
    """One of ``options``."""
    opts = tuple(options)

    def parse(value: Any) -> str:
        got = as_text(value)  # an option that reads as a number may arrive as one (plain papermill)
        return as_choice(name, value if got is None else got, opts)

    return Param(name, default, help, "one of " + ", ".join(opts), "str", source, parse=parse)


def choices(name: str, default: str, help: str, options: Sequence[str], *, min_count: int = 1,
            ordered: bool = True, source: str = "") -> Param:
    """Distinct values from ``options``, comma-separated; typed as a tuple (in ``options`` order)."""
    opts = tuple(options)

    def parse(value: Any) -> tuple[str, ...]:
        got = as_text(value) if not isinstance(value, list | tuple) else None
        picked = as_choices(name, value if got is None else got, opts, min_count=min_count)
        return tuple(o for o in opts if o in picked) if ordered else picked

    rule = f"{choice_count(min_count)} of " + ", ".join(opts) + " (comma-separated)"
    return Param(name, default, help, rule, "str", source, parse=parse, render=lambda v: ",".join(v))


def shares(name: str, default: str, help: str, options: Sequence[str], *, source: str = "") -> Param:
    """``label:share`` pairs from ``options`` summing to 1; typed as a tuple of pairs in ``options`` order."""
    opts = tuple(options)

    def parse(value: Any) -> tuple[tuple[str, float], ...]:
        got = as_shares(name, value, allowed=opts)
        return tuple((o, float(got[o])) for o in opts if o in got)

    rule = "label:share pairs summing to 1, labels from " + ", ".join(opts)
    return Param(name, default, help, rule, "str", source, parse=parse,
                 render=lambda v: ",".join(f"{a}:{s!r}" for a, s in v))


def _number_text(x: float) -> str:
    """A number as its shortest literal, a whole number without ``.0`` (``1.0`` -> ``"1"``)."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def mapping(name: str, default: str, help: str, options: Sequence[str], *, low: float = 0.0,
            low_open: bool = False, source: str = "") -> Param:
    """``label:number`` pairs over ``options`` (e.g. ``"display:1,email:1.5"``; ``label=number`` is read
    too); typed as a tuple of ``(label, number)`` pairs, one per option in ``options`` order.

    Written with ``:`` as :func:`shares` is: papermill skips a parameters-cell line holding two ``=``.

    ``default`` names every option; a value may name only some, which then override the default's
    numbers for those labels alone. Each number is finite and at least ``low`` (more than ``low`` when
    ``low_open``).
    """
    opts = tuple(options)
    bound = f"more than {low:g}" if low_open else f"{low:g} or more"
    rule = (f"label:number pairs, comma-separated, labels from {', '.join(opts)} (each at most once; "
            f"labels not named keep their default), each number finite and {bound}")

    def items(value: Any) -> list[tuple[Any, Any, Any]]:
        if isinstance(value, Mapping):
            return [(f"{k}:{v}", k, v) for k, v in value.items()]
        got = as_text(value)
        if got is None:
            raise ParameterError(name, value, rule)
        out = []
        for item in (part.strip() for part in got.split(",")):
            label, sep, number = item.replace("=", ":", 1).partition(":")
            if not sep:
                raise ParameterError(name, item, rule)
            out.append((item, label.strip(), number.strip()))
        return out

    def read(value: Any) -> dict[str, float]:
        got: dict[str, float] = {}
        for item, label, number in items(value):
            if label not in opts:
                raise ParameterError(name, item, rule)
            if label in got:
                raise ParameterError(name, item, rule + f" ({label} named twice)")
            try:
                x = float(number)
            except (TypeError, ValueError):
                raise ParameterError(name, item, rule) from None
            if not math.isfinite(x) or x < low or (low_open and x == low):
                raise ParameterError(name, item, rule)
            got[label] = x
        return got

    base = read(default)
    if set(base) != set(opts):
        raise ValueError(f"{name}: the default must name every one of {', '.join(opts)}")

    def parse(value: Any) -> tuple[tuple[str, float], ...]:
        got = {**base, **read(value)}
        return tuple((o, got[o]) for o in opts)

    return Param(name, default, help, rule, "str", source, parse=parse,
                 render=lambda v: ",".join(f"{a}:{_number_text(float(x))}" for a, x in v))


def as_text(value: Any) -> str | None:
    """``value`` as the text it was written as: a string stripped, a number (not a boolean) as its literal
    (``0.35`` -> ``"0.35"``, ``123456`` -> ``"123456"``); None for anything else.

    A text parameter may hold what reads as a number (a share, an experiment id, an arm label): plain
    papermill (``-p policy_share 0.35``) and a float literal typed into the parameters cell hand it over
    as a number, ``experiments run -p`` as text; all three mean the same value.
    """
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return repr(value)


def text(name: str, default: str, help: str, *, allowed: str = "any text", source: str = "",
         check: Callable[[str], str] | None = None) -> Param:
    """A text parameter, stripped (a number is taken as its literal, see :func:`as_text`); ``check`` may
    reject or normalise it."""
    def parse(value: Any) -> str:
        got = as_text(value)
        if got is None:
            raise ParameterError(name, value, allowed)
        return check(got) if check is not None else got

    return Param(name, default, help, allowed, "str", source, parse=parse)
