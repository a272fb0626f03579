"""The one exception family of the package."""

from __future__ import annotations

__all__ = ["DataError", "ExperimentsError", "FitError", "ParameterError"]


class ExperimentsError(ValueError):
    """Base class of every error the package raises on purpose.

    The CLI prints the message on one line and exits with status 2.
    """


class ParameterError(ExperimentsError):
    """A parameter has a value outside what is allowed."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"parameter {name!r}: got {value!r}; allowed: {allowed}")


class DataError(ExperimentsError):
    """An input file, column or value is unusable."""


class FitError(ExperimentsError):
    """A model fit did not converge; no numbers are reported."""
