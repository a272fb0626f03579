"""What every study scenario shares: parameters declared once, validated once, round-tripped."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, ClassVar, Self

from experiments.errors import ParameterError
from experiments.resources import MEMORY_SHARE, gib, memory_budget, physical_memory
from experiments.scenarios.params import Param
from experiments.validation import reject_unknown

__all__ = ["Scenario"]


class Scenario:
    """Base of the frozen scenario dataclasses.

    A subclass lists its :class:`~experiments.scenarios.params.Param` declarations in ``parameters``
    (one per dataclass field, same names, same order) and may override :meth:`check` for rules that
    involve several parameters. :meth:`from_params` is the one validation of a run.
    """

    parameters: ClassVar[tuple[Param, ...]] = ()
    #: ``{name: default}`` of every parameter (derived from ``parameters``).
    defaults: ClassVar[Mapping[str, Any]] = {}
    #: The size parameters of an in-memory run and the bytes its peak needs per unit of their product
    #: (measured, with a margin), e.g. ``(("n_customers",), 600)``; None for runs that stay small.
    memory: ClassVar[tuple[tuple[str, ...], int] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.defaults = {p.name: p.default for p in cls.parameters}

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None = None) -> Self:
        """Validate ``params`` (missing names take their defaults) and build the scenario.

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is allowed.
        """
        merged = cls.merged(params)
        typed = {p.name: p.parse(merged[p.name]) for p in cls.parameters}
        return cls(**cls.check(typed))  # type: ignore[call-arg]

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """Rules across parameters on the typed values; returns them (possibly normalised)."""
        return typed

    @classmethod
    def merged(cls, params: Mapping[str, object] | None) -> dict[str, Any]:
        """``params`` over the defaults, after rejecting names that are not parameters."""
        params = dict(params or {})
        reject_unknown(params, cls.defaults)
        return {**cls.defaults, **params}

    @classmethod
    def param(cls, name: str) -> Param:
        """The declaration of parameter ``name``."""
        for p in cls.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Self:
        """Build from a notebook's globals: the values of this scenario's parameters found there.

        A notebook runs the study in memory, so its sizes are checked against this machine's memory
        too (:meth:`check_memory`).
        """
        scenario = cls.from_params({name: namespace[name] for name in cls.defaults if name in namespace})
        return scenario.check_memory()

    def check_memory(self) -> Self:
        """``self`` if an in-memory run of it fits this machine's memory budget.

        Raises
        ------
        ParameterError
            The first size parameter of :attr:`memory`, its value and the most this machine allows
            (given the other sizes), with the memory it was judged by.
        """
        budget = memory_budget()
        if self.memory is None or budget is None:
            return self
        names, per_unit = self.memory
        others = math.prod(int(getattr(self, n)) for n in names[1:])
        value = int(getattr(self, names[0]))
        if value * others * per_unit <= budget:
            return self
        most = budget // (per_unit * others)
        given = "".join(f" with {n} {getattr(self, n):,}" for n in names[1:])
        total = physical_memory() or budget
        raise ParameterError(names[0], value, f"at most {most:,}{given} for a run in memory on this machine "
                             f"(about {per_unit:,} bytes each; {MEMORY_SHARE:.0%} of its {gib(total)})")

    def to_params(self) -> dict[str, Any]:
        """Plain literals that :meth:`from_params` turns back into ``self``."""
        names = {f.name for f in fields(self)}  # type: ignore[arg-type]
        return {p.name: p.render(getattr(self, p.name)) for p in self.parameters if p.name in names}

    def changed(self) -> dict[str, Any]:
        """The parameters whose value differs from the default, as plain literals."""
        base = type(self).from_params({}).to_params()
        return {k: v for k, v in self.to_params().items() if v != base.get(k)}

    def replace(self, **changes: object) -> Self:
        """A validated copy with some parameters changed."""
        return type(self).from_params({**self.to_params(), **changes})
