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
from scipy.optimize import brentq
from scipy.special import ndtr

from experiments.errors import ParameterError

__all__ = [
    "BLOCK_REPLICATIONS",
    "HeavySpendModel",
    "SpendModel",
    "heavy_spend_blocks",
    "simulate_cookie_loss",
    "simulate_covariate_spend",
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


@dataclass(frozen=True)
class HeavySpendModel:
    """Heavy-tailed spend per customer: zero, or a lognormal order (Lewis & Rao 2015's retail shape).

    A control customer buys with probability ``buy`` and then spends ``LogNormal(mu, sigma)``; a treated
    one buys with probability ``buy * (1 + buy_lift)`` and spends ``(1 + amount_lift)`` times as much.
    The defaults give a coefficient of variation near 10 (Lewis & Rao 2015: about 10 for retail revenue
    per person). Means, capped means and the pooled percentile at which a cap falls are known in closed
    form (:meth:`truth`), so capping's bias is measured against the exact uncapped difference.
    """

    buy: float = 0.05
    mu: float = 3.5
    sigma: float = 1.27
    buy_lift: float = 0.1
    amount_lift: float = 0.05

    def _arms(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """``(buy, mu)`` of the control and of the treatment."""
        return (self.buy, self.mu), (self.buy * (1 + self.buy_lift), self.mu + math.log1p(self.amount_lift))

    @property
    def cv(self) -> float:
        """Coefficient of variation of an untreated customer's spend."""
        return math.sqrt(math.exp(self.sigma**2) / self.buy - 1)

    def draw(self, rng: np.random.Generator, shape: tuple[int, int], treated: bool) -> np.ndarray:
        """Spend of an array of customers."""
        buy, mu = self._arms()[int(treated)]
        return (rng.random(shape) < buy) * rng.lognormal(mu, self.sigma, shape)

    def _cdf(self, c: float) -> float:
        """Share of the pooled population (half treated) spending at most ``c > 0``."""
        return sum(0.5 * (1 - b + b * float(ndtr((math.log(c) - m) / self.sigma))) for b, m in self._arms())

    def _capped_mean(self, arm: int, c: float) -> float:
        """``E[min(Y, c)] = buy (E[X; X < c] + c P(X >= c))`` for one arm."""
        b, m = self._arms()[arm]
        z = (math.log(c) - m) / self.sigma
        return b * (math.exp(m + self.sigma**2 / 2) * float(ndtr(z - self.sigma)) + c * float(ndtr(-z)))

    def truth(self, cap_percentile: float) -> dict[str, float]:
        """The population's pooled ``cap_percentile`` (the cap), and the true differences of means,
        uncapped (``mean_diff``) and capped there (``capped_diff``)."""
        if not (100 * (1 - self._arms()[0][0]) < cap_percentile < 100):
            raise ParameterError("cap_percentile", cap_percentile, "a percentile above the share of zeros, "
                                 "below 100")
        cap = float(brentq(lambda c: self._cdf(c) - cap_percentile / 100, 1e-9, 1e12, xtol=1e-12,
                           rtol=1e-14))
        means = [b * math.exp(m + self.sigma**2 / 2) for b, m in self._arms()]
        return {"cap": cap, "mean_diff": means[1] - means[0],
                "capped_diff": self._capped_mean(1, cap) - self._capped_mean(0, cap)}


def heavy_spend_blocks(*, replications: int, n_per_arm: int, seed: int = 0,
                       model: HeavySpendModel | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Heavy-tailed spend of many experiments, :data:`BLOCK_REPLICATIONS` at a time.

    Yields ``(control, treatment)``: arrays of shape ``(block, n_per_arm)``, one experiment per row.
    """
    _check_sizes(replications, n_per_arm)
    model = model or HeavySpendModel()
    for rng, r in _streams(seed, replications):
        yield model.draw(rng, (r, n_per_arm), False), model.draw(rng, (r, n_per_arm), True)


def _stack(blocks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}


def simulate_covariate_spend(*, replications: int, units: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Spend with three pre-period covariates whose effect differs by customer (so that regression on all
    three, interacted with the arm, has something to gain over CUPED on one).

    ``history ~ LogNormal(5, 1)``, ``recency ~ U{1..12}``, ``frequency ~ 1 + Poisson(2)``; half the
    customers treated at random; each customer's effect is ``2 + 0.004 (history - e^5.5) + 1.5
    (frequency - 3) - 0.2 (recency - 6.5)`` (2 per customer in the population).

    Returns
    -------
    dict of arrays, shape ``(replications, units)``
        ``history``, ``recency``, ``frequency``, ``treated`` (bool), ``spend`` and ``effect`` (each
        customer's true effect: its mean over a row is that experiment's true average effect).
    """
    _check_sizes(replications, units)
    blocks = []
    for rng, r in _streams(seed, replications):
        shape = (r, units)
        history = rng.lognormal(5.0, 1.0, shape)
        recency = rng.integers(1, 13, shape).astype(float)
        frequency = 1.0 + rng.poisson(2.0, shape)
        treated = rng.random(shape) < 0.5
        y0 = (0.04 * history + 4.0 * frequency - 0.8 * recency
              + rng.gamma(2.0, 3.0, shape) * (1 + frequency / 3))
        effect = (2.0 + 0.004 * (history - math.exp(5.5)) + 1.5 * (frequency - 3.0)
                  - 0.2 * (recency - 6.5))
        blocks.append({"history": history, "recency": recency, "frequency": frequency, "treated": treated,
                       "spend": y0 + treated * effect, "effect": effect})
    return _stack(blocks)


def simulate_cookie_loss(*, replications: int, units: int, reach_active: float = 0.8,
                         reach_inactive: float = 0.4, seed: int = 0) -> tuple[dict[str, np.ndarray], float]:
    """Experiments in which part of the treatment arm is never reached (lost cookies, no consent).

    Half the customers are active; an active customer can be reached with probability ``reach_active``,
    an inactive one with ``reach_inactive`` (defaults: 60 % reached, so 40 % of the treatment arm never
    exposed, and fewer of the inactive). Half are assigned to treatment; only the reached treated are
    exposed. The campaign adds ``2`` (active) or ``1`` (inactive) plus normal noise to the exposed;
    reachable customers spend more anyway, so the exposed are not comparable with the unexposed.

    Returns
    -------
    (arrays, truth)
        ``treated``, ``exposed`` (bool) and ``spend``, shape ``(replications, units)``; and the true
        effect on the exposed (the compliers' mean effect): ``(0.5 reach_active 2 + 0.5 reach_inactive)
        / (0.5 reach_active + 0.5 reach_inactive)``.
    """
    _check_sizes(replications, units)
    _check_rate("reach_active", reach_active)
    _check_rate("reach_inactive", reach_inactive)
    if reach_active + reach_inactive == 0:
        raise ParameterError("reach_active", reach_active, "a reach above 0 in at least one group")
    blocks = []
    for rng, r in _streams(seed, replications):
        shape = (r, units)
        active = rng.random(shape) < 0.5
        reachable = rng.random(shape) < np.where(active, reach_active, reach_inactive)
        treated = rng.random(shape) < 0.5
        exposed = treated & reachable
        y0 = 5.0 + 3.0 * active + 2.0 * reachable + rng.gamma(2.0, 2.0, shape)
        effect = np.where(active, 2.0, 1.0) + rng.normal(0.0, 1.0, shape)
        blocks.append({"treated": treated, "exposed": exposed, "spend": y0 + exposed * effect})
    truth = (2.0 * reach_active + reach_inactive) / (reach_active + reach_inactive)
    return _stack(blocks), truth


def _check_sizes(replications: int, n: int) -> None:
    if not (isinstance(replications, int | np.integer) and replications >= 1):
        raise ParameterError("replications", replications, "an integer >= 1")
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ParameterError("n_per_arm", n, "an integer >= 2")


def _check_rate(name: str, p: float) -> None:
    if not (0 <= p <= 1):
        raise ParameterError(name, p, "a probability in [0, 1]")
