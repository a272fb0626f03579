"""Customer-lifetime simulator for loyalty-programme experiments (buy till you die, with the truth kept).

Every customer made a first purchase at time 0. While alive, she buys at her own Poisson rate
``lambda ~ Gamma(r, alpha)``; after each repeat purchase she stops being a customer with her own
probability ``p ~ Beta(a, b)`` (the BG/NBD process, Fader, Hardie & Lee 2005); each order is worth
``Gamma(p_gg, nu)`` with ``nu ~ Gamma(q, v)`` (the Gamma-Gamma model). So BG/NBD and Gamma-Gamma are
the right models of the simulated purchases.

A random share of customers is *offered* the programme (arm ``offer``; the others are ``control``).
Offered customers join with a probability that grows with their loyalty (high rate, low dropout),
which is what makes the naive member vs non-member comparison biased. Members buy at a higher rate
(``purchase_lift``, relationship messages, tiers) and drop out less (``dropout_reduction``), both
scaled down for heavy buyers (Liu 2007); they earn rewards on what they spend (cost = earned x
redemption rate) and bring referred customers.

Both worlds are simulated with common random numbers: arrivals with the programme are the arrivals
without it plus extra arrivals (superposition of Poisson processes), the dropout draw is shared, and
order values are shared for the purchases both worlds make. The table keeps each customer's purchases,
revenue and costs with and without the programme (``*_with`` / ``*_without``; *with* means "if
offered": a customer who would not join has the same outcome in both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit, logit, polygamma, psi

from experiments.scenarios.loyalty import LoyaltyScenario
from experiments.simulate.blocks import simulate_in_blocks

__all__ = ["STREAM", "LoyaltySimulation", "simulate_loyalty"]

#: Random stream of this simulator (see experiments.simulate.blocks for the allocation).
STREAM: int = 2
_NEVER = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class LoyaltySimulation:
    """Simulated customers (one row each) and their purchases per period (observed world only).

    ``customers`` columns: ``customer_id``, ``arm`` (control/offer), ``offered``, ``member``,
    ``would_join``; observed ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_cal``,
    ``purchases_holdout``, ``purchases``, ``revenue``, ``rewards_cost``, ``message_cost``, ``referrals``,
    ``tier``, ``last_purchase``, ``lapsed``, ``duration``; truth ``true_rate``, ``true_dropout``,
    ``true_order_value``, ``purchases_with/without``, ``revenue_with/without``,
    ``rewards_cost_with``, ``referrals_with``, ``alive_with/without`` (alive at the horizon).

    ``purchases`` columns: ``customer_id``, ``period`` (0-based), ``purchases``, ``revenue``,
    ``rewards_cost``, ``referrals`` for every customer-period with a purchase.
    """

    customers: pl.DataFrame
    purchases: pl.DataFrame
    scenario: LoyaltyScenario

    def truth(self) -> dict[str, float]:
        """True effects per customer (means over the simulated population)."""
        c = self.customers
        s = self.scenario
        joiners = c.filter(pl.col("would_join"))
        d_rev = pl.col("revenue_with") - pl.col("revenue_without")
        d_pur = pl.col("purchases_with") - pl.col("purchases_without")
        msg = s.message_cost * s.weeks_per_period * s.horizon
        cost = (
            pl.col("rewards_cost_with")
            + pl.col("would_join").cast(pl.Float64) * msg
            + pl.col("referrals_with") * s.referral_bonus
        )
        ref_value = pl.col("referrals_with") * s.acquisition_cost
        out = c.select(
            itt_revenue=d_rev.mean(),
            itt_purchases=d_pur.mean(),
            itt_cost=cost.mean(),
            itt_net_margin=(d_rev * s.margin - cost + ref_value).mean(),
            itt_retained=(pl.col("alive_with").cast(pl.Float64) - pl.col("alive_without")).mean(),
            join_share=pl.col("would_join").mean(),
        ).row(0, named=True)
        out["member_revenue_effect"] = float(
            joiners.select(d_rev.mean()).item() if joiners.height else float("nan")
        )
        return {k: float(v) for k, v in out.items()}


def _loyalty_z(lam_week, drop, s: LoyaltyScenario) -> np.ndarray:
    """Standardised loyalty score: high purchase rate and low dropout, each by its theoretical moments."""
    z_rate = (np.log(lam_week) - (psi(s.bgnbd_r) - np.log(s.bgnbd_alpha))) / np.sqrt(polygamma(1, s.bgnbd_r))
    drop = np.clip(drop, 1e-12, 1 - 1e-12)
    z_drop = (logit(drop) - (psi(s.bgnbd_a) - psi(s.bgnbd_b))) / np.sqrt(
        polygamma(1, s.bgnbd_a) + polygamma(1, s.bgnbd_b)
    )
    return (z_rate - z_drop) / np.sqrt(2.0)


def _geometric_count(u, p) -> np.ndarray:
    """Repeat purchase after which the customer drops out (>= 1), by inversion of a shared uniform."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(np.log(u) / np.log1p(-p))
    k = np.where(p <= 0, _NEVER, k)
    return np.clip(np.nan_to_num(k, nan=_NEVER, posinf=_NEVER), 1, _NEVER).astype(np.int64)


def _chunk(s: LoyaltyScenario, events: dict[int, pl.DataFrame]):
    p_gg = s.gg_p
    msg_per_period = s.message_cost * s.weeks_per_period
    days = 7.0 * s.weeks_per_period
    tier_levels = np.array([0.0, 1.0, 2.0])

    def simulate_chunk(rng: np.random.Generator, start: int, stop: int) -> pl.DataFrame:
        n = stop - start
        lam = rng.gamma(s.bgnbd_r, 1.0 / s.alpha_per_period, n)  # purchases per period
        lam_week = lam / s.weeks_per_period
        drop = rng.beta(s.bgnbd_a, s.bgnbd_b, n)
        nu = rng.gamma(s.gg_q, 1.0 / s.gg_v, n)
        offered = rng.random(n) < s.offer_share
        z = _loyalty_z(np.maximum(lam_week, 1e-300), drop, s)
        would_join = rng.random(n) < expit(logit(s.join_rate) + s.join_selection * z)
        u_death = rng.random(n)
        weight = 1.0 / (1.0 + lam_week / s.heavy_rate)  # Liu (2007): heavy buyers do not respond
        drop_with = drop * (1.0 - s.dropout_reduction * weight)
        d_without = _geometric_count(u_death, drop)
        d_with = _geometric_count(u_death, drop_with)
        base_mult = (1.0 + s.purchase_lift * weight) * (1.0 + s.message_lift)
        member = offered & would_join

        cum_b = np.zeros(n, np.int64)
        cum_p = np.zeros(n, np.int64)
        rev_b = np.zeros(n)
        rev_p = np.zeros(n)
        rew_p = np.zeros(n)
        ref_p = np.zeros(n, np.int64)
        spend_p = np.zeros(n)
        tier = np.zeros(n, np.int64)
        cum_obs = np.zeros(n, np.int64)
        n_cal = np.zeros(n, np.int64)
        rev_cal = np.zeros(n)
        last_t = np.zeros(n)
        last_t_cal = np.zeros(n)
        ev: list[tuple[np.ndarray, ...]] = []

        for j in range(s.horizon):
            alive_b = cum_b < d_without
            alive_p = would_join & (cum_p < d_with)
            live = np.flatnonzero(alive_b | alive_p)
            if live.size == 0:
                break
            k = rng.poisson(lam[live])
            mb = np.where(alive_b[live], np.minimum(k, d_without[live] - cum_b[live]), 0)
            rb = np.zeros(live.size)
            pos = mb > 0
            rb[pos] = rng.gamma(p_gg * mb[pos], 1.0 / nu[live[pos]])
            # world with the programme, for would-be members
            jsel = np.flatnonzero(would_join[live])
            jl = live[jsel]
            mult = base_mult[jl] * (1.0 + s.tier_lift * tier_levels[tier[jl]])
            kp = k[jsel] + rng.poisson(lam[jl] * (mult - 1.0))
            mp = np.where(alive_p[jl], np.minimum(kp, d_with[jl] - cum_p[jl]), 0)
            mbj = mb[jsel]
            rbj = rb[jsel]
            rp = rbj.copy()
            more = mp > mbj
            rp[more] += rng.gamma(p_gg * (mp[more] - mbj[more]), 1.0 / nu[jl[more]])
            fewer = mp < mbj
            share = np.zeros(int(fewer.sum()))
            some = mp[fewer] > 0
            share[some] = rng.beta(p_gg * mp[fewer][some], p_gg * (mbj[fewer][some] - mp[fewer][some]))
            rp[fewer] = rbj[fewer] * share
            reward = s.reward_rate * (1.0 + s.tier_reward_boost * tier_levels[tier[jl]]) * rp
            rcost = s.redemption_rate * reward
            refs = rng.poisson(s.referral_rate * mp)
            # book-keeping, both worlds
            cum_b[live] += mb
            rev_b[live] += rb
            cum_p[jl] += mp
            rev_p[jl] += rp
            rew_p[jl] += rcost
            ref_p[jl] += refs
            spend_p[jl] += rp
            tier[jl] = (spend_p[jl] >= s.silver_threshold).astype(np.int64) + (
                spend_p[jl] >= s.gold_threshold
            )
            # observed world: members live in the programme world
            obs_m = mb.copy()
            obs_k = k.copy()
            obs_r = rb.copy()
            obs_c = np.zeros(live.size)
            obs_f = np.zeros(live.size, np.int64)
            is_mem = member[jl]
            js = jsel[is_mem]
            obs_m[js] = mp[is_mem]
            obs_k[js] = kp[is_mem]
            obs_r[js] = rp[is_mem]
            obs_c[js] = rcost[is_mem]
            obs_f[js] = refs[is_mem]
            bought = obs_m > 0
            ids = live[bought]
            t_last = j + rng.beta(obs_m[bought], obs_k[bought] - obs_m[bought] + 1)
            last_t[ids] = t_last
            cum_obs[ids] += obs_m[bought]
            if j < s.calibration_periods:
                n_cal[ids] += obs_m[bought]
                rev_cal[ids] += obs_r[bought]
                last_t_cal[ids] = t_last
            ev.append(
                (
                    ids,
                    np.full(ids.size, j, np.int32),
                    obs_m[bought],
                    obs_r[bought],
                    obs_c[bought],
                    obs_f[bought],
                )
            )

        if ev:
            cols = [np.concatenate(parts) for parts in zip(*ev, strict=True)]
        else:
            cols = [
                np.zeros(0, np.int64),
                np.zeros(0, np.int32),
                np.zeros(0, np.int64),
                *[np.zeros(0)] * 2,
                np.zeros(0, np.int64),
            ]
        events[start] = pl.DataFrame(
            {
                "customer_id": cols[0].astype(np.int64) + start,
                "period": cols[1].astype(np.int32),
                "purchases": cols[2].astype(np.int32),
                "revenue": cols[3],
                "rewards_cost": cols[4],
                "referrals": cols[5].astype(np.int32),
            }
        ).sort("customer_id", "period")

        rev_with = np.where(would_join, rev_p, rev_b)
        pur_with = np.where(would_join, cum_p, cum_b)
        alive_with = np.where(would_join, cum_p < d_with, cum_b < d_without)
        revenue = np.where(member, rev_p, rev_b)
        lapsed = (s.horizon - last_t) >= s.lapse_periods
        return pl.DataFrame(
            {
                "customer_id": np.arange(start, stop, dtype=np.int64),
                "arm": np.where(offered, "offer", "control"),
                "offered": offered,
                "member": member,
                "would_join": would_join,
                "frequency_cal": n_cal,
                "recency_cal": last_t_cal,
                "T_cal": np.full(n, float(s.calibration_periods)),
                "monetary_cal": np.where(n_cal > 0, rev_cal / np.maximum(n_cal, 1), 0.0),
                "purchases_holdout": cum_obs - n_cal,
                "purchases": cum_obs,
                "revenue": revenue,
                "rewards_cost": np.where(member, rew_p, 0.0),
                "message_cost": np.where(member, msg_per_period * s.horizon, 0.0),
                "referrals": np.where(member, ref_p, 0),
                "tier": np.where(member, tier, 0),
                "last_purchase": last_t,
                "lapsed": lapsed,
                # whole days, as a real transaction log would record them
                "duration": np.where(lapsed, np.ceil(last_t * days) / days, float(s.horizon)),
                "true_rate": lam,
                "true_dropout": drop,
                "true_order_value": s.gg_p * 1.0 / nu,
                "purchases_without": cum_b,
                "purchases_with": pur_with,
                "revenue_without": rev_b,
                "revenue_with": rev_with,
                "rewards_cost_with": np.where(would_join, rew_p, 0.0),
                "referrals_with": np.where(would_join, ref_p, 0),
                "alive_without": cum_b < d_without,
                "alive_with": alive_with,
            }
        )

    return simulate_chunk


def simulate_loyalty(
    scenario: LoyaltyScenario, *, block_size: int = 1_048_576, workers: int = 1
) -> LoyaltySimulation:
    """Simulate the loyalty experiment of ``scenario``; identical output for any block size or workers.

    Parameters
    ----------
    scenario
        Validated parameters (:meth:`LoyaltyScenario.from_params`).
    block_size, workers
        Customers per unit of work and threads; they change speed, never the result.
    """
    events: dict[int, pl.DataFrame] = {}
    customers = simulate_in_blocks(
        _chunk(scenario, events),
        n=scenario.n_customers,
        seed=scenario.seed,
        stream=STREAM,
        block_size=block_size,
        workers=workers,
    )
    purchases = pl.concat([events[k] for k in sorted(events)], rechunk=True)
    return LoyaltySimulation(customers=customers, purchases=purchases, scenario=scenario)
