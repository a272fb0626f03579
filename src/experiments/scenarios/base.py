"""What every study scenario shares: defaults merged with overrides, round-trip and validated copies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Self

from experiments.validation import reject_unknown

__all__ = ["Scenario"]


class Scenario:
    """Base of the frozen scenario dataclasses.

    A subclass sets ``defaults`` (its parameter names and default values, unannotated so it is not a
    field) and implements ``from_params``, starting from :meth:`merged`.
    """

    defaults: Mapping[str, Any] = {}

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None = None) -> Self:  # pragma: no cover
        """Validate ``params`` and build the scenario (each study implements it)."""
        raise NotImplementedError

    @classmethod
    def merged(cls, params: Mapping[str, object] | None) -> dict[str, Any]:
        """``params`` over the defaults, after rejecting names that are not parameters."""
        params = dict(params or {})
        reject_unknown(params, cls.defaults)
        return {**cls.defaults, **params}

    def to_params(self) -> dict[str, Any]:
        """Plain literals that :meth:`from_params` turns back into ``self``."""
        return asdict(self)  # type: ignore[call-overload]

    def replace(self, **changes: object) -> Self:
        """A validated copy with some parameters changed."""
        return type(self).from_params({**self.to_params(), **changes})
