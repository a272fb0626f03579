"""Input checks, collapsing of identical customer summaries, the shared optimiser and fit results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl

from experiments.errors import DataError, FitError

__all__ = ["FittedModel", "as_arrays", "collapse_summary", "minimise"]


def as_arrays(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    t = np.asarray(T, dtype=float)
    if not (x.shape == tx.shape == t.shape) or x.ndim != 1:
        raise DataError("frequency, recency and T must be 1-d arrays of the same length")
    if x.size == 0:
        raise DataError("no customers to fit")
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(t).all()):
        raise DataError("frequency, recency and T must be finite numbers")
    if (x < 0).any() or (np.floor(x) != x).any():
        raise DataError("frequency must hold whole numbers >= 0")
    if (tx < 0).any() or (tx > t + 1e-9).any():
        raise DataError("recency must lie in [0, T]")
    if (t < 0).any():
        raise DataError("T must be >= 0 for every customer (first purchase on or before calibration end)")
    return x, tx, t


def collapse_summary(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(frequency, recency, T)`` rows and how many customers share each."""
    x, tx, t = as_arrays(frequency, recency, T)
    order = np.lexsort((t, tx, x))
    x, tx, t = x[order], tx[order], t[order]
    new = np.ones(x.size, dtype=bool)
    new[1:] = (np.diff(x) != 0) | (np.diff(tx) != 0) | (np.diff(t) != 0)
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, x.size)).astype(float)
    return x[starts], tx[starts], t[starts], counts


def minimise(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray] | float],
    start: np.ndarray,
    *,
    jac: bool,
    model: str,
) -> tuple[np.ndarray, float, int]:
    bounds = [(-12.0, 12.0)] * len(start)
    from scipy import optimize  # imported on first fit: simulators and reports that never fit skip it

    res = optimize.minimize(
        fun,
        start,
        jac=jac,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-7},
    )
    at_bound = np.any(np.abs(np.abs(res.x) - 12.0) < 1e-6)
    if not res.success or not np.all(np.isfinite(res.x)) or at_bound:
        why = "a parameter ran off to its bound" if at_bound else str(res.message)
        raise FitError(f"{model} fit did not converge ({why}); no estimates reported")
    value = res.fun if np.isscalar(res.fun) else float(res.fun)
    return np.exp(res.x), -float(value), int(res.nit)


class FittedModel:
    """Base of the frozen fit dataclasses: the model's parameters are the fields named in :attr:`NAMES`."""

    #: The model's parameters, in the order of :attr:`params` and of the optimiser's estimates.
    NAMES: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_estimates(cls, estimates: np.ndarray, **rest: Any) -> Self:
        """The fit whose parameters are ``estimates`` (in :attr:`NAMES` order) and other fields ``rest``."""
        return cls(**{name: float(x) for name, x in zip(cls.NAMES, estimates, strict=True)}, **rest)

    @property
    def params(self) -> tuple[float, ...]:
        """The parameters, in :attr:`NAMES` order."""
        return tuple(getattr(self, name) for name in self.NAMES)

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain dict of every field."""
        return asdict(self)  # type: ignore[call-overload]

    def to_frame(self) -> pl.DataFrame:
        """One row per parameter: ``parameter, estimate``."""
        return pl.DataFrame({"parameter": list(self.NAMES), "estimate": list(self.params)})
