"""Bootstrap for metrics without a closed form, and a fast exact bootstrap of a difference of means.

:func:`bootstrap_mean_diff` draws exactly the same distribution as resampling every row with
replacement (``rng.choice(x, n)``), but never builds the resample:

- few distinct values (binary, counts of orders): the resample is a multinomial draw of how often each
  distinct value is picked (``rng.multinomial`` over ``np.unique``), its mean is ``counts @ values / n``;
- many distinct values (zero-inflated revenue): the number of rows that differ from the most common
  value (usually 0) is ``Binomial(n, share)``; only those are resampled, from the non-modal rows.

Resamples run in fixed blocks, each with its own stream spawned from ``seed`` (``SeedSequence``), on
a thread pool; numbers are identical whatever the number of threads. Intervals are percentile
intervals; the p-value is the two-sided percentile-inversion one, ``2 min(P*(d <= 0), P*(d >= 0))``.
:func:`bootstrap_effects` runs it for every metric and treatment arm of a table of rows (what
``experiments analyze --bootstrap N`` reports). With many distinct values the cost is one random pick
per row and resample; picks are made in runs of bounded size, so memory does not grow with them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.plain import plain

__all__ = [
    "BootstrapEffect",
    "BootstrapResult",
    "bootstrap",
    "bootstrap_effects",
    "bootstrap_mean_diff",
    "resample_means",
]

_BLOCK = 250
_FEW_VALUES = 4096
_DRAWS = 1 << 22  # most values picked at once by one sampler


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap estimate, standard error and percentile interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_resamples: int
    alpha: float
    method: str

    def conf_int(self) -> tuple[float, float]:
        """Percentile interval."""
        return self.ci_low, self.ci_high

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {k: plain(getattr(self, k)) for k in self.__dataclass_fields__}

    def to_frame(self) -> pl.DataFrame:
        """One-row frame."""
        return pl.DataFrame([self.to_dict()])

    def summary(self) -> str:
        """One readable line."""
        level = round(100 * (1 - self.alpha))
        return (f"{self.estimate:+.4g} (bootstrap se {self.se:.3g}, {level}% CI {self.ci_low:+.4g} to "
                f"{self.ci_high:+.4g}, p = {self.p_value:.3g}; {self.n_resamples} resamples, {self.method})")


def _check(n_resamples: int, alpha: float) -> None:
    if not (isinstance(n_resamples, int) and n_resamples >= 10):
        raise ParameterError("n_resamples", n_resamples, "an integer >= 10")
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")


def _as_sample(name: str, x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=float).ravel()
    if a.size < 2:
        raise DataError(f"bootstrap sample {name!r} needs at least two values, got {a.size}")
    if not np.isfinite(a).all():
        raise DataError(f"bootstrap sample {name!r} has missing or non-finite values; drop them first")
    return a


class _MeanSampler:
    """Draws bootstrap means of one sample without materialising resamples."""

    def __init__(self, x: np.ndarray) -> None:
        self.n = x.size
        values, counts = np.unique(x, return_counts=True)
        self.few = values.size <= _FEW_VALUES
        if self.few:
            self.values, self.probs = values, counts / self.n
        else:
            mode = values[np.argmax(counts)]
            self.mode = float(mode)
            self.rest = x[x != mode]
            self.q = self.rest.size / self.n

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.few:
            counts = rng.multinomial(self.n, self.probs, size=size)
            return counts @ self.values / self.n
        m = rng.binomial(self.n, self.q, size=size)
        sums = np.zeros(size)
        # resamples in runs of at most _DRAWS picks (one run when they fit): memory stays bounded
        ends = np.cumsum(m)
        start = 0
        while start < size:
            base = ends[start - 1] if start else 0
            stop = max(int(np.searchsorted(ends, base + _DRAWS, side="right")), start + 1)
            part = m[start:stop]
            idx = rng.integers(0, self.rest.size, size=int(part.sum()))
            picked = np.append(self.rest[idx], 0.0)  # a closing 0 keeps every slice start in range
            heads = np.concatenate(([0], np.cumsum(part)[:-1]))
            # reduceat returns the element itself for an empty slice: those resamples picked nothing
            sums[start:stop] = np.where(part > 0, np.add.reduceat(picked, heads), 0.0)
            start = stop
        return (sums + (self.n - m) * self.mode) / self.n


def resample_means(
    x: np.ndarray, *, n_resamples: int = 2000, seed: int | np.random.SeedSequence | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """``n_resamples`` bootstrap means of ``x`` (exact in distribution, see the module docstring)."""
    return _run([_MeanSampler(_as_sample("x", x))], n_resamples, seed, workers)[0]


def _run(samplers: Sequence[_MeanSampler], n_resamples: int, seed: Any, workers: int | None
         ) -> list[np.ndarray]:
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    blocks = [(i, min(_BLOCK, n_resamples - i)) for i in range(0, n_resamples, _BLOCK)]
    streams = ss.spawn(len(blocks))
    out = [np.empty(n_resamples) for _ in samplers]

    def work(j: int) -> None:
        start, size = blocks[j]
        rng = np.random.default_rng(streams[j])
        for k, s in enumerate(samplers):
            out[k][start:start + size] = s.draw(rng, size)

    workers = workers or min(len(blocks), os.cpu_count() or 1)
    if workers <= 1:
        for j in range(len(blocks)):
            work(j)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, range(len(blocks))))
    return out


def _result(estimate: float, draws: np.ndarray, alpha: float, method: str) -> BootstrapResult:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        raise DataError("every bootstrap resample gave a non-finite statistic")
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    p = min(1.0, 2 * min(float(np.mean(draws <= 0)), float(np.mean(draws >= 0))))
    return BootstrapResult(
        estimate=float(estimate), se=float(np.std(draws, ddof=1)), ci_low=float(low), ci_high=float(high),
        p_value=p, n_resamples=int(draws.size), alpha=float(alpha), method=method,
    )


def bootstrap_mean_diff(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_resamples: int = 2000,
    alpha: float = 0.05,
    seed: int | np.random.SeedSequence | None = None,
    workers: int | None = None,
) -> BootstrapResult:
    """Bootstrap of ``mean(x) - mean(y)`` (treatment minus control), each sample resampled separately.

    Parameters
    ----------
    x, y
        Treatment and control values (finite).
    n_resamples
        Number of bootstrap resamples.
    alpha
        1 - level of the percentile interval.
    seed
        Seed (or ``SeedSequence``) for reproducible numbers.
    workers
        Threads (default: one per core, at most one per block of 250 resamples).
    """
    _check(n_resamples, alpha)
    xa, ya = _as_sample("x", x), _as_sample("y", y)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    mx, my = _run([_MeanSampler(xa), _MeanSampler(ya)], n_resamples, ss, workers)
    return _result(xa.mean() - ya.mean(), mx - my, alpha, "percentile bootstrap (exact fast resampling)")


def bootstrap(
    statistic: Callable[..., float],
    *samples: np.ndarray,
    n_resamples: int = 2000,
    alpha: float = 0.05,
    seed: int | np.random.SeedSequence | None = None,
) -> BootstrapResult:
    """Percentile bootstrap of any ``statistic(*samples)``; every sample is resampled (rows) separately.

    Use for metrics without a closed form (medians, quantiles, trimmed means, ratios of medians...).
    Samples may be 1-d or 2-d (rows resampled together, e.g. ``(numerator, denominator)`` columns).
    """
    _check(n_resamples, alpha)
    if not samples:
        raise ParameterError("samples", samples, "at least one sample")
    arrays = [np.asarray(s, dtype=float) for s in samples]
    for i, a in enumerate(arrays):
        if a.shape[0] < 2:
            raise DataError(f"bootstrap sample {i} needs at least two rows, got {a.shape[0]}")
    rng = np.random.default_rng(seed)
    estimate = float(statistic(*arrays))
    draws = np.empty(n_resamples)
    for b in range(n_resamples):
        draws[b] = statistic(*(a[rng.integers(0, a.shape[0], a.shape[0])] for a in arrays))
    if not math.isfinite(estimate):
        raise DataError("the statistic is not finite on the data")
    return _result(estimate, draws, alpha, "percentile bootstrap")


@dataclass(frozen=True)
class BootstrapEffect:
    """Bootstrap interval of the difference of means of one metric between one arm and the control."""

    metric: str
    arm: str
    control: str
    n_arm: int
    n_control: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    method: str
    n_resamples: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready: non-finite numbers become ``None``)."""
        return {k: plain(getattr(self, k)) for k in self.__dataclass_fields__}

    def summary(self) -> str:
        """One readable line."""
        level = round(100 * (1 - self.alpha))
        return (f"{self.metric}: {self.arm} vs {self.control}: diff {self.estimate:+.4g} (bootstrap "
                f"{level}% CI {self.ci_low:+.4g} to {self.ci_high:+.4g}; {self.n_resamples} resamples)")


def bootstrap_effects(
    values: Mapping[str, Mapping[str, np.ndarray]],
    *,
    control: str,
    arms: Sequence[str],
    n_resamples: int = 2000,
    alpha: float = 0.05,
    seed: int | np.random.SeedSequence | None = 0,
    workers: int | None = None,
) -> list[BootstrapEffect]:
    """Percentile-bootstrap intervals of the difference of means of every metric × treatment arm.

    Each resample redraws every arm's rows with replacement (each arm apart, as
    :func:`bootstrap_mean_diff` does, with the same fast exact draws); every treatment arm is compared
    with the same control resample, as when the whole experiment is resampled.

    Parameters
    ----------
    values
        ``values[metric][arm]``: the finite values of ``metric`` in ``arm`` (missing ones left out).
    control
        Control label.
    arms
        Treatment arms, in report order.
    n_resamples, alpha, workers
        As in :func:`bootstrap_mean_diff`.
    seed
        One seed for the whole set; each metric gets its own stream spawned from it in order, so the
        same seed gives the same intervals.
    """
    _check(n_resamples, alpha)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    method = "percentile bootstrap (exact fast resampling)"
    out = []
    for m, child in zip(values, ss.spawn(len(values)), strict=True):
        labels = [control, *arms]
        for a in labels:
            if np.size(values[m][a]) < 2:
                raise DataError(f"bootstrap of {m!r} needs at least two values in arm {a!r}")
        samples = [_as_sample(f"{m} in {a}", values[m][a]) for a in labels]
        means = _run([_MeanSampler(x) for x in samples], n_resamples, child, workers)
        for a, x, draws in zip(arms, samples[1:], means[1:], strict=True):
            r = _result(x.mean() - samples[0].mean(), draws - means[0], alpha, method)
            out.append(BootstrapEffect(
                metric=m, arm=a, control=control, n_arm=x.size, n_control=samples[0].size,
                estimate=r.estimate, se=r.se, ci_low=r.ci_low, ci_high=r.ci_high, p_value=r.p_value,
                alpha=r.alpha, method=r.method, n_resamples=r.n_resamples,
            ))
    return out
