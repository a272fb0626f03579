"""Input checks, collapsing of identical customer summaries, the shared optimiser and fit results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl
from scipy import optimize  # imported on first fit: simulators and reports that never fit skip it

from experiments.errors import DataError, FitError

__all__ = ["BOUND", "BoundaryOptimum", "FittedModel", "as_arrays", "collapse_summary", "minimise"]

#: Range of every log-parameter searched by :func:`minimise`: ``exp(±12)`` is about ``6e-6`` and ``1.6e5``.
BOUND = 12.0
#: A log-parameter this close to ``±BOUND`` has run to the edge (a flat ridge may stop the search short).
EDGE = 0.05


class BoundaryOptimum(FitError):
    """The likelihood is largest at the edge of the parameter space: some parameters ran to ``0`` or ``inf``.

    ``lower`` and ``upper`` name the parameters that ran to 0 and to infinity; ``estimates`` holds the
    parameters where the optimiser stopped and ``log_likelihood`` the mean log-likelihood there.
    """

    def __init__(self, model: str, names: tuple[str, ...], theta: np.ndarray, mean_ll: float) -> None:
        self.model = model
        self.lower = tuple(n for n, t in zip(names, theta, strict=True) if t <= -BOUND + EDGE)
        self.upper = tuple(n for n, t in zip(names, theta, strict=True) if t >= BOUND - EDGE)
        self.estimates = np.exp(theta)
        self.mean_log_likelihood = mean_ll
        edges = [f"{n} -> 0" for n in self.lower] + [f"{n} -> inf" for n in self.upper]
        super().__init__(
            f"{model} fit did not converge (maximum at the edge of the parameter space: {', '.join(edges)}); "
            "no estimates reported"
        )


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
    names: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, float, int]:
    """Minimise ``fun`` over log-parameters in ``[-BOUND, BOUND]``; return the parameters, the
    maximised mean log-likelihood and the iterations.

    Raises :class:`BoundaryOptimum` (a :class:`FitError`) when the optimiser converged to the edge of
    that range and ``names`` are given, and :class:`FitError` for any other failure.
    """
    bounds = [(-BOUND, BOUND)] * len(start)

    res = optimize.minimize(
        fun,
        start,
        jac=jac,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-7},
    )
    if not res.success and np.all(np.isfinite(res.x)):
        # a line search that failed far from the optimum: restart once with a fresh curvature estimate
        res = optimize.minimize(fun, res.x, jac=jac, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-7})
    if not res.success and np.all(np.isfinite(res.x)):
        # a flat ridge (often towards an edge) where the gradient's line search keeps failing: Powell's
        # derivative-free search, then L-BFGS-B again from where it stopped to polish
        value = (lambda th: fun(th)[0]) if jac else fun
        powell = optimize.minimize(value, res.x, method="Powell", bounds=bounds,
                                   options={"maxiter": 20_000, "xtol": 1e-10, "ftol": 1e-14})
        if powell.success and np.all(np.isfinite(powell.x)):
            res = optimize.minimize(fun, powell.x, jac=jac, method="L-BFGS-B", bounds=bounds,
                                    options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-7})
            if not res.success and powell.fun <= res.fun:
                res = powell
                res.nit = int(getattr(powell, "nit", 0))
    at_bound = np.any(np.abs(np.abs(res.x) - BOUND) < EDGE)
    if at_bound and names is not None and np.all(np.isfinite(res.x)) and np.isfinite(res.fun):
        raise BoundaryOptimum(model, names, res.x, -float(res.fun))
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
