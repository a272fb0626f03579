"""Acquisition in the lifecycle world: who arrives, when, from which source, at what cost, and with
which buying traits; and the lifetimes of referred customers.

A chunk's customers are drawn from its generator in a fixed order of draws (sources, weeks, traits,
arms), so two settings that differ only in a lever's strength share every customer. Traits follow the
CDNOW fits (Fader, Hardie & Lee 2005) scaled by the source's multipliers. Referred customers are drawn
from the CDNOW population with their own retention and spend advantage (Schmitt, Skiera & Van den Bulte
2011); they are not in the experiment, so their lifetime, counted from the week they arrive, is the same
whichever lever brought them: it is simulated once per referred customer, in weeks since arrival.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import (
    gammaincinv,  # here: importing the package stays free of scipy
    logit,
    polygamma,
    psi,
)

from experiments.simulate.lifecycle_settings import LEVERS, LifecycleSettings

__all__ = [
    "Cohort",
    "OrderValues",
    "Referred",
    "child_rng",
    "draw_cohort",
    "extra_orders",
    "failure_hazard",
    "first_failure",
    "poisson_inverse",
    "simulate_referred",
    "week_uniforms",
]

# Child streams of a chunk's generator (keys under the chunk's own spawn key).
_KEY_CUSTOMERS, _KEY_WEEKS, _KEY_EXTRA, _KEY_REFERRED = 0, 1, 2, 3
_QUANTILES = 4096


def child_rng(rng: np.random.Generator, *key: int) -> np.random.Generator:
    """Generator of the child ``key`` of ``rng``'s seed sequence (the same for any block layout)."""
    root = rng.bit_generator.seed_seq
    seq = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *key), pool_size=root.pool_size)
    return np.random.Generator(np.random.PCG64(seq))


class OrderValues:
    """Order values ``Gamma(p, 1) * scale`` from a uniform, by interpolating ``Gamma(p, 1)``'s quantiles
    (scipy's ``gammaincinv``) on a grid of 4,096 points: one uniform per customer-week gives the first
    order of the week the same value in every world (common random numbers) and in every run that
    shares the seed. Further orders of a week are drawn from a child stream."""

    def __init__(self, p: float) -> None:
        grid = (np.arange(_QUANTILES + 1) / _QUANTILES).clip(0.25 / _QUANTILES, 1 - 0.25 / _QUANTILES)
        self.grid = np.arange(_QUANTILES + 1) / _QUANTILES
        self.table = gammaincinv(p, grid)
        self.p = p

    def first(self, u: np.ndarray) -> np.ndarray:
        """``Gamma(p, 1)`` values of the uniforms ``u``."""
        return np.interp(u, self.grid, self.table)


def poisson_inverse(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Poisson counts of mean ``rate`` (any shape) by inversion of the uniforms ``u`` (broadcast to
    it): the same uniform gives a count that never falls when the rate rises (common random numbers).
    Equal to scipy's ``poisson.ppf(u, rate)`` but where float32 rounding puts ``u`` on a step of the
    distribution function (then off by one; tested)."""
    rate = np.asarray(rate)
    u = np.broadcast_to(u, rate.shape)
    p = np.exp(-rate.astype(np.float32, copy=False))
    k = (u > p).astype(np.int16)
    idx = np.flatnonzero(k)
    if idx.size:
        flat = k.reshape(-1)
        lam = rate.reshape(-1)[idx].astype(np.float64)
        uu = u.reshape(-1)[idx]
        pj = np.exp(-lam)
        cdf = pj.copy()
        j = 1
        while idx.size and j < 200:
            pj = pj * lam / j
            cdf += pj
            more = uu > cdf
            idx, lam, uu, pj, cdf = idx[more], lam[more], uu[more], pj[more], cdf[more]
            flat[idx] += 1
            j += 1
    return k


def failure_hazard(chance: float) -> float:
    """Hazard that makes a customer leave with ``chance``: ``-log(1 - chance)``, capped at 50 (an Exp(1)
    budget above it has chance e^-50), so a certain exit stays a finite number."""
    return min(float(-np.log1p(-min(chance, float(np.nextafter(1.0, 0.0))))), 50.0)


def first_failure(u: np.ndarray, failure_rate: float) -> np.ndarray:
    """Fewest purchases in a week that make it fail, by the customer's uniform ``u``: a week with ``k``
    purchases fails (at least one of them, each with ``failure_rate``) when ``u < 1 - (1 - f) ** k``,
    that is when ``k >= first_failure(u, f)``; one comparison then serves every world."""
    if failure_rate <= 0:
        return np.full(u.shape, np.iinfo(np.int16).max, np.int16)
    if failure_rate >= 1:
        return np.ones(u.shape, np.int16)
    with np.errstate(divide="ignore"):
        ratio = np.log1p(-u.astype(np.float32)) / np.float32(np.log1p(-failure_rate))
    return (np.floor(np.minimum(ratio, 32000)) + 1).astype(np.int16)


@dataclass(frozen=True)
class Cohort:
    """The acquired customers of a chunk, in the order of their acquisition week (``order[j]`` is the
    chunk-local index of the ``j``-th to arrive; every other array is in that arrival order)."""

    order: np.ndarray
    source: np.ndarray  # uint8 codes into settings.sources
    acq_week: np.ndarray  # int16
    acq_cost: np.ndarray
    rate: np.ndarray  # weekly purchase rate while alive
    dropout: np.ndarray  # chance of leaving after each repeat purchase
    spend: np.ndarray  # scale of order values: an order is Gamma(p, 1) * spend
    deal: np.ndarray  # deal proneness (mean 1 times the source's multiplier)
    birthday: np.ndarray  # week of the year of the birthday message (int16)
    budget: np.ndarray  # Exp(1) hazard the customer can take before dropping out
    would_join: np.ndarray  # would enrol in the loyalty programme if offered
    revive: np.ndarray  # uniform deciding a win-back revival
    arms: dict[str, np.ndarray]  # lever -> on (bool)
    arrivals: np.ndarray  # customers acquired by the end of each week (searchsorted bounds)


def _loyalty_z(rate: np.ndarray, dropout: np.ndarray, s: LifecycleSettings) -> np.ndarray:
    """Standardised loyalty (high rate, low dropout) by the traits' theoretical moments."""
    z_rate = (np.log(np.maximum(rate, 1e-300)) - (psi(s.bgnbd_r) - np.log(s.bgnbd_alpha))) / np.sqrt(
        polygamma(1, s.bgnbd_r))
    z_drop = (logit(np.clip(dropout, 1e-12, 1 - 1e-12)) - (psi(s.bgnbd_a) - psi(s.bgnbd_b))) / np.sqrt(
        polygamma(1, s.bgnbd_a) + polygamma(1, s.bgnbd_b))
    return (z_rate - z_drop) / np.sqrt(2.0)


def draw_cohort(s: LifecycleSettings, rng: np.random.Generator, n: int) -> Cohort:
    """Draw a chunk's ``n`` acquired customers from the chunk's generator ``rng``."""
    r = child_rng(rng, _KEY_CUSTOMERS)
    shares = np.array([x.share for x in s.sources])
    cum = np.cumsum(shares) / shares.sum()
    source = np.minimum(np.searchsorted(cum, r.random(n), side="right"), len(shares) - 1).astype(np.uint8)
    acq_week = r.integers(0, s.acquisition_weeks, n).astype(np.int16)
    g_rate = r.standard_gamma(s.bgnbd_r, n)
    dropout = r.beta(s.bgnbd_a, s.bgnbd_b, n)
    nu = r.standard_gamma(s.gg_q, n) * s.gg_gamma ** -1.0
    deal = r.standard_gamma(s.deal_shape, n) / s.deal_shape
    birthday = r.integers(0, 52, n).astype(np.int16)
    budget = r.standard_exponential(n)
    u_join = r.random(n)
    revive = r.random(n)
    u_arms = r.random((len(LEVERS), n))

    rate_mult = np.array([x.rate for x in s.sources])[source]
    drop_mult = np.array([x.dropout for x in s.sources])[source]
    spend_mult = np.array([x.spend for x in s.sources])[source]
    deal_mult = np.array([x.deal for x in s.sources])[source]
    base_rate = g_rate / s.bgnbd_alpha
    rate = base_rate * rate_mult
    drop = np.clip(dropout * drop_mult, 0.0, 1.0 - 1e-9)
    z = _loyalty_z(rate, drop, s)
    with np.errstate(divide="ignore"):
        join_logit = np.log(s.join_rate) - np.log1p(-s.join_rate) + s.join_selection * z
    would_join = u_join < 1.0 / (1.0 + np.exp(-join_logit))
    arms = {lever: u_arms[k] < s.shares()[lever] for k, lever in enumerate(LEVERS)}

    order = np.argsort(acq_week, kind="stable")
    weeks = acq_week[order]
    return Cohort(
        order=order,
        source=source[order],
        acq_week=weeks,
        acq_cost=np.array([x.cost for x in s.sources])[source][order],
        rate=rate[order],
        dropout=drop[order],
        spend=(spend_mult / nu)[order],
        deal=(deal * deal_mult)[order],
        birthday=birthday[order],
        budget=budget[order],
        would_join=would_join[order],
        revive=revive[order],
        arms={lever: a[order] for lever, a in arms.items()},
        arrivals=np.searchsorted(weeks, np.arange(s.horizon_weeks), side="right"),
    )


def week_uniforms(rng: np.random.Generator, week: int, n: int, k: int) -> np.ndarray:
    """``k`` rows of ``n`` uniforms for ``week``, the same whatever was drawn in other weeks."""
    return child_rng(rng, _KEY_WEEKS, week).random((k, n), dtype=np.float32)


def extra_orders(rng: np.random.Generator, week: int, p: float, count: int) -> np.ndarray:
    """``Gamma(p, 1)`` values of the week's second and later orders."""
    return child_rng(rng, _KEY_EXTRA, week).standard_gamma(p, count)


@dataclass(frozen=True)
class Referred:
    """Lifetimes of referred customers in weeks since arrival (one column per referred customer).

    ``purchases[r, j]`` and ``revenue[r, j]`` are customer ``j``'s purchases and revenue ``r`` weeks
    after arrival (the first purchase at ``r = 0``); ``cum_margin[j, r]`` the margin before week ``r``.
    """

    rate: np.ndarray
    dropout: np.ndarray
    spend: np.ndarray
    purchases: np.ndarray
    revenue: np.ndarray
    cum_margin: np.ndarray


def simulate_referred(s: LifecycleSettings, rng: np.random.Generator, n: int, weeks: int,
                      values: OrderValues) -> Referred:
    """Simulate ``n`` referred customers for ``weeks`` weeks after their arrival.

    They buy as BG/NBD customers of the CDNOW population, with dropout times ``referred_dropout`` and
    order values raised by ``referred_spend``, halving every ``referred_spend_half_life`` weeks; their
    purchases fail as anyone's (no recovery: they are not in the experiment).
    """
    r = child_rng(rng, _KEY_REFERRED)
    rate = r.standard_gamma(s.bgnbd_r, n) / s.bgnbd_alpha
    dropout = np.clip(r.beta(s.bgnbd_a, s.bgnbd_b, n) * s.referred_dropout, 0.0, 1.0 - 1e-9)
    spend = 1.0 / (r.standard_gamma(s.gg_q, n) / s.gg_gamma)
    budget = r.standard_exponential(n)
    weeks = max(int(weeks), 1)
    purchases = np.zeros((weeks, n), np.int16)
    revenue = np.zeros((weeks, n), np.float64)
    hazard = np.zeros(n)
    alive = np.ones(n, bool)
    h_buy = -np.log1p(-dropout)
    h_fail = failure_hazard(s.failure_dropout)
    for w in range(weeks):
        u = r.random((3, n))
        k = np.ones(n, np.int16) if w == 0 else poisson_inverse(u[0], np.where(alive, rate, 0.0))
        buyers = np.flatnonzero(k)
        premium = 1.0 + s.referred_spend * 0.5 ** (w / s.referred_spend_half_life)
        value = values.first(u[1][buyers])
        many = k[buyers] > 1
        if many.any():
            extra = k[buyers][many] - 1
            more = r.standard_gamma(s.gg_p, int(extra.sum()))
            value[many] += np.add.reduceat(more, np.concatenate([[0], np.cumsum(extra)[:-1]]))
        purchases[w, buyers] = k[buyers]
        revenue[w, buyers] = value * spend[buyers] * premium
        failed = (k > 0) & (u[2] < 1.0 - (1.0 - s.failure_rate) ** k)
        repeat = k - (1 if w == 0 else 0)
        hazard += repeat * h_buy + failed * h_fail
        alive &= hazard <= budget
    margin = revenue * s.gross_margin
    cum = np.zeros((n, weeks + 1))
    cum[:, 1:] = np.cumsum(margin, axis=0).T
    return Referred(rate=rate, dropout=dropout, spend=spend * s.gg_p, purchases=purchases, revenue=revenue,
                    cum_margin=cum)
