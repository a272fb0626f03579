"""The one exception family of the package."""

from __future__ import annotations

__all__ = ["DataError", "ExperimentsError", "FitError", "ParameterError", "one_line", "printable", "shown"]

#: Longest value a message quotes in full; longer ones keep their start and end.
VALUE_LIMIT = 200
#: Longest message printed; a longer one keeps its start and end.
LINE_LIMIT = 2000


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    tail = limit // 3
    return f"{text[:limit - tail - 3]}...{text[-tail:]}"


def printable(text: str, keep: str = "") -> str:
    """``text`` with control and other invisible characters (terminal escapes, line separators, a
    file's stray bytes) written as visible escapes (``\\n``, ``\\x1b``, ``\\u2028``); characters in
    ``keep`` (e.g. ``"\\n"``) stay as they are."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " " or ch in keep:
            out.append(ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
    return "".join(out)


def one_line(text: object, limit: int = LINE_LIMIT) -> str:
    """``text`` as one printable line: line breaks, control and other invisible characters written as
    escapes (``\\n``, ``\\x1b``, ``\\u2028``), and the middle of an over-long text cut out."""
    return _cut(printable(str(text)), limit)


def shown(value: object, limit: int = VALUE_LIMIT) -> str:
    """``repr(value)`` for a message, with the middle of a long one cut out."""
    return _cut(repr(value), limit)


class ExperimentsError(ValueError):
    """Base class of every error the package raises on purpose.

    The CLI prints the message on one line and exits with status 2.
    """


class ParameterError(ExperimentsError):
    """A parameter has a value outside what is allowed."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"parameter {name!r}: got {shown(value)}; allowed: {allowed}")


class DataError(ExperimentsError):
    """An input file, column or value is unusable."""


class FitError(ExperimentsError):
    """A model fit did not converge; no numbers are reported."""
