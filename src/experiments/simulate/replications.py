"""Many small simulated experiments at once, for calibration: conversions, spend with a pre-period
covariate, and conversions look by look, each with a known true difference.

Replications are drawn in blocks of :data:`BLOCK_REPLICATIONS`, each block from its own stream spawned
from one ``SeedSequence``: the same seed gives the same numbers, whatever else changes. Spend is reduced
to per-replication sufficient statistics (``n``, sums, squares, cross-products) block by block, so memory
stays bounded. Nothing here tests anything: the estimators live in :mod:`experiments.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from experiments.errors import ParameterError

__all__ = [
    "BLOCK_REPLICATIONS",
    "SpendModel",
    "simulate_looks",
    "simulate_proportions",
    "simulate_spend",
    "spend_rows",
]

#: Replications drawn per block (each block has its own spawned stream): fixed so results do not
#: depend on memory settings.
BLOCK_REPLICATIONS = 100

@dataclass(frozen=True)
class SpendModel:
    """How simulated customers spend: a latent value drives both pre-period and in-test spend.

    ``value ~ Gamma(value_shape, 1)``; pre-period spend ``history = history_scale * value *
    LogNormal(0, noise_sigma)``; in-test ``spend = buys * spend_scale * value * LogNormal(0,
    noise_sigma)`` with ``buys ~ Bernoulli(buy_rate)``; treated spend is multiplied by ``1 + lift``,
    so the true difference in spend per customer is ``lift * mean_spend`` exactly.
    """

    value_shape: float = 0.6
    history_scale: float = 200.0
    spend_scale: float = 80.0
    buy_rate: float = 0.6
    noise_sigma: float = 0.4

    @property
    def mean_spend(self) -> float:
        """Expected in-test spend of an untreated customer (dollars)."""
        return self.buy_rate * self.spend_scale * self.value_shape * math.exp(self.noise_sigma**2 / 2)

    def draw(self, rng: np.random.Generator, shape: tuple[int, int], lift: float
             ) -> tuple[np.ndarray, np.ndarray]:
        """Pre-period spend and in-test spend for an array of customers."""
        value = rng.gamma(self.value_shape, 1.0, shape)
        history = self.history_scale * value * rng.lognormal(0.0, self.noise_sigma, shape)
        buys = rng.random(shape) < self.buy_rate
        spend = np.where(buys, (1 + lift) * self.spend_scale * value
                         * rng.lognormal(0.0, self.noise_sigma, shape), 0.0)
        return history, spend


def _streams(seed: int, replications: int) -> Iterator[tuple[np.random.Generator, int]]:
    """One generator per block of :data:`BLOCK_REPLICATIONS` replications, spawned from ``seed``."""
    blocks = -(-replications // BLOCK_REPLICATIONS)
    for b, child in enumerate(np.random.SeedSequence(seed).spawn(blocks)):
        yield np.random.default_rng(child), min(BLOCK_REPLICATIONS, replications - b * BLOCK_REPLICATIONS)


def simulate_proportions(
    *, replications: int, n_per_arm: int, base_rate: float, diff: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Conversions in treatment and control for many experiments (binomial counts).

    Returns ``(c1, c0)``: arrays of conversions out of ``n_per_arm`` each, the treatment at
    ``base_rate + diff`` and the control at ``base_rate``.
    """
    _check_sizes(replications, n_per_arm)
    _check_rate("base_rate", base_rate)
    _check_rate("base_rate + diff", base_rate + diff)
    c1, c0 = [], []
    for rng, r in _streams(seed, replications):
        c0.append(rng.binomial(n_per_arm, base_rate, r))
        c1.append(rng.binomial(n_per_arm, base_rate + diff, r))
    return np.concatenate(c1), np.concatenate(c0)


def _spend_blocks(replications: int, n_per_arm: int, lift: float, seed: int, model: SpendModel
                  ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    for rng, r in _streams(seed, replications):
        x0, y0 = model.draw(rng, (r, n_per_arm), 0.0)
        x1, y1 = model.draw(rng, (r, n_per_arm), lift)
        yield x1, y1, x0, y0


def simulate_spend(
    *, replications: int, n_per_arm: int, lift: float = 0.0, seed: int = 0,
    model: SpendModel | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Sufficient statistics of spend and pre-period spend for many experiments.

    Customer rows are drawn block by block (:data:`BLOCK_REPLICATIONS` experiments at a time) and
    reduced to counts, sums, squares and cross-products at once, so memory stays bounded.

    Returns
    -------
    (treatment, control)
        Dicts of arrays with one value per replication: ``n``, ``y`` (sum of spend), ``yy`` (sum of
        squares), ``x`` (sum of pre-period spend), ``xx`` and ``xy``.
    """
    _check_sizes(replications, n_per_arm)
    model = model or SpendModel()
    sums: list[list[np.ndarray]] = [[] for _ in range(10)]
    for x1, y1, x0, y0 in _spend_blocks(replications, n_per_arm, lift, seed, model):
        for j, (x, y) in enumerate(((x1, y1), (x0, y0))):
            for k, v in enumerate((y.sum(1), (y * y).sum(1), x.sum(1), (x * x).sum(1), (x * y).sum(1))):
                sums[5 * j + k].append(v)
    arrays = [np.concatenate(s) for s in sums]
    n = np.full(replications, float(n_per_arm))
    keys = ("y", "yy", "x", "xx", "xy")
    return ({"n": n, **dict(zip(keys, arrays[:5], strict=True))},
            {"n": n.copy(), **dict(zip(keys, arrays[5:], strict=True))})


def spend_rows(
    *, replications: int, n_per_arm: int, lift: float = 0.0, seed: int = 0,
    model: SpendModel | None = None,
) -> pl.DataFrame:
    """The customer rows behind :func:`simulate_spend` (for checks on small sizes).

    Columns: ``replication``, ``arm`` (``treatment`` / ``control``), ``history``, ``spend``.
    """
    _check_sizes(replications, n_per_arm)
    model = model or SpendModel()
    frames = []
    start = 0
    for x1, y1, x0, y0 in _spend_blocks(replications, n_per_arm, lift, seed, model):
        r = x1.shape[0]
        rep = np.repeat(np.arange(start, start + r), n_per_arm)
        for label, x, y in (("treatment", x1, y1), ("control", x0, y0)):
            frames.append(pl.DataFrame({"replication": rep, "arm": label, "history": x.ravel(),
                                        "spend": y.ravel()}))
        start += r
    return pl.concat(frames)


def simulate_looks(
    *, replications: int, looks: int, n_per_look: int, base_rate: float, diff: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative conversions at each look of experiments monitored every day.

    Each look adds ``n_per_look`` customers to each arm. Returns ``(c1, c0, n)``: conversions in
    treatment and control, shape ``(replications, looks)``, and customers per arm at each look.
    """
    _check_sizes(replications, n_per_look)
    if not (isinstance(looks, int) and looks >= 1):
        raise ParameterError("looks", looks, "an integer >= 1")
    _check_rate("base_rate", base_rate)
    _check_rate("base_rate + diff", base_rate + diff)
    c1, c0 = [], []
    for rng, r in _streams(seed, replications):
        c0.append(rng.binomial(n_per_look, base_rate, (r, looks)).cumsum(axis=1))
        c1.append(rng.binomial(n_per_look, base_rate + diff, (r, looks)).cumsum(axis=1))
    n = n_per_look * np.arange(1, looks + 1)
    return np.concatenate(c1), np.concatenate(c0), n


def _check_sizes(replications: int, n: int) -> None:
    if not (isinstance(replications, int | np.integer) and replications >= 1):
        raise ParameterError("replications", replications, "an integer >= 1")
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ParameterError("n_per_arm", n, "an integer >= 2")


def _check_rate(name: str, p: float) -> None:
    if not (0 <= p <= 1):
        raise ParameterError(name, p, "a probability in [0, 1]")
