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
redemption rate) and bring referred customers. How much the rewards move behaviour depends on how
generous they are, with diminishing returns: the purchase lift, the dropout cut and the tier lift are
their most times ``1 - exp(-reward_rate / reward_scale)`` (:func:`~experiments.simulate.rewards.
reward_response`, the shape of the lifecycle world), so a programme that rewards nothing changes nothing
but what its messages do, and the net value over the reward rate has an interior optimum.

Both worlds are simulated with common random numbers: arrivals with the programme are the arrivals
without it plus extra arrivals (superposition of Poisson processes), the dropout draw is shared, and
order values are shared for the purchases both worlds make. The table keeps each customer's purchases,
revenue and costs with and without the programme (``*_with`` / ``*_without``; *with* means "if
offered": a customer who would not join has the same outcome in both).

The simulation is vectorised over purchase events, with no loop over periods: a customer's arrivals
over the horizon are a Poisson count placed uniformly in time (the Poisson process given its count),
she buys at each until her dropout, and each order has its own Gamma value. The programme's tier
(set by a member's spend up to the end of the previous period) changes the rate of extra arrivals;
since it can only rise, three passes over the events give its exact path (:class:`_Programme`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit, logit, polygamma, psi

from experiments.net_value import net_contribution
from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.rewards import reward_response
from experiments.worlds import LoyaltyWorld

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
    scenario: LoyaltyWorld

    def truth(self) -> dict[str, float]:
        """True effects per customer (means over the simulated population)."""
        c = self.customers
        s = self.scenario
        joiners = c.filter(pl.col("would_join"))
        d_rev = pl.col("revenue_with") - pl.col("revenue_without")
        d_pur = pl.col("purchases_with") - pl.col("purchases_without")
        msg = pl.col("would_join").cast(pl.Float64) * (s.message_cost * s.weeks_per_period * s.horizon)
        cost = pl.col("rewards_cost_with") + msg + pl.col("referrals_with") * s.referral_bonus
        terms = {"margin": s.margin, "acquisition_cost": s.acquisition_cost,
                 "referral_bonus": s.referral_bonus}
        net_with = net_contribution(pl.col("revenue_with"), pl.col("rewards_cost_with"), msg,
                                    pl.col("referrals_with"), **terms)
        net_without = net_contribution(pl.col("revenue_without"), 0.0, 0.0, 0.0, **terms)
        out = c.select(
            itt_revenue=d_rev.mean(),
            itt_purchases=d_pur.mean(),
            itt_cost=cost.mean(),
            itt_net_margin=(net_with - net_without).mean(),
            itt_retained=(pl.col("alive_with").cast(pl.Float64) - pl.col("alive_without")).mean(),
            join_share=pl.col("would_join").mean(),
        ).row(0, named=True)
        out["member_revenue_effect"] = float(
            joiners.select(d_rev.mean()).item() if joiners.height else float("nan")
        )
        return {k: float(v) for k, v in out.items()}


def _loyalty_z(lam_week, drop, s: LoyaltyWorld) -> np.ndarray:
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


def _arrivals(rng: np.random.Generator, counts: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """``counts[i]`` arrival times of owner ``i``, uniform on ``[0, horizon)``: owners and times, sorted
    by owner then time (the arrivals of a Poisson process given their number)."""
    owner = np.repeat(np.arange(counts.size), counts)
    base = owner * float(horizon)
    key = base + rng.random(owner.size) * horizon
    key.sort()  # owner-major, since each owner's keys lie in [owner * horizon, (owner + 1) * horizon)
    return owner, key - base


def _first_per_owner(owner: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Index of the first event of each owner (events sorted by owner) where ``mask`` holds; -1 if none."""
    first = np.full(n, -1, np.int64)
    hits = np.flatnonzero(mask)
    lead = hits[np.diff(owner[hits], prepend=-1) != 0]
    first[owner[lead]] = lead
    return first


def _last_per_owner(owner: np.ndarray) -> np.ndarray:
    """Index of the last event of each owner present in an owner-sorted array."""
    return np.flatnonzero(np.diff(owner, append=-1) != 0)


def _group_starts(owner: np.ndarray, n: int) -> np.ndarray:
    """Position of each owner's first event in an owner-sorted array (its event count after)."""
    return np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))[:-1]])


class _Programme:
    """The world with the programme for would-be members: their own arrivals plus extra ones.

    Extra arrivals come at the highest rate (gold tier) and each is kept with the probability that
    makes its rate right for the customer's tier in its period (thinning, by a uniform mark), so the
    kept arrivals at a lower tier are a subset of those at a higher one. The tier in a period follows
    the member's spend up to the end of the period before; spend never falls, so the tier changes at
    most twice, and three passes (no tier, then up to each change) give the exact path.
    """

    def __init__(self, rng: np.random.Generator, s: LoyaltyWorld, lam: np.ndarray, nu: np.ndarray,
                 base_mult: np.ndarray, d_with: np.ndarray, own_owner: np.ndarray, own_t: np.ndarray,
                 own_value: np.ndarray) -> None:
        n = lam.size
        horizon = s.horizon
        tier_lift = s.tier_lift * reward_response(s.reward_rate, s.reward_scale)
        top = base_mult * (1.0 + 2.0 * tier_lift)
        extra = rng.poisson(lam * (top - 1.0) * horizon)
        x_owner, x_t = _arrivals(rng, extra, horizon)
        x_mark = rng.random(x_owner.size)
        x_value = rng.gamma(s.gg_p, 1.0 / nu[x_owner])
        owner = np.concatenate([own_owner, x_owner])
        t = np.concatenate([own_t, x_t])
        order = np.argsort(owner * float(horizon) + t, kind="stable")
        self.n, self.s = n, s
        self.owner, self.t = owner[order], t[order]
        self.value = np.concatenate([own_value, x_value])[order]
        # baseline arrivals always happen; an extra one happens at tier k if mark < keep[owner, k]
        mark = np.concatenate([np.full(own_owner.size, -1.0), x_mark])[order]
        with np.errstate(divide="ignore", invalid="ignore"):
            keep = (base_mult[:, None] * (1.0 + tier_lift * np.arange(3.0)) - 1.0) / (top - 1.0)[:, None]
        self.keep_at = np.nan_to_num(keep, nan=0.0)
        self.mark = mark
        self.period = np.minimum(self.t.astype(np.int64), horizon - 1)
        self.start = _group_starts(self.owner, n)
        self.d_with = d_with
        never = np.full(n, horizon, np.int64)
        silver_from, level_1, gold_from = never.copy(), np.zeros(n, np.int64), never.copy()
        for _ in range(4):  # at most two tier changes, so the third pass finds none
            tier = _tier(self.period, self.owner, silver_from, level_1, gold_from)
            self._pass(tier)
            # the first period whose spend lifts the level above the tier assumed for the next one
            nxt = _tier(self.period + 1, self.owner, silver_from, level_1, gold_from)
            first = _first_per_owner(self.owner, (self.level > nxt) & (self.period < horizon - 1), n)
            hit = first >= 0
            if not hit.any():
                break
            at = self.period[first[hit]]
            # level at the end of that period: the level of the owner's last event in it
            last = np.searchsorted(self.owner * float(horizon) + self.t, np.flatnonzero(hit) * float(horizon)
                                   + at + 1.0) - 1
            lvl = self.level[last]
            was_zero = silver_from[hit] >= horizon
            sf, l1, gf = silver_from[hit], level_1[hit], gold_from[hit]
            sf = np.where(was_zero, at, sf)
            l1 = np.where(was_zero, lvl, l1)
            gf = np.where(lvl >= 2, np.minimum(gf, at), gf)
            silver_from[hit], level_1[hit], gold_from[hit] = sf, l1, gf
        else:
            raise AssertionError("tier path did not settle")
        self.tier = tier

    def _pass(self, tier: np.ndarray) -> None:
        kept = self.mark < self.keep_at[self.owner, tier]
        rank = np.cumsum(kept) - np.concatenate([[0], np.cumsum(kept)])[self.start][self.owner]
        self.kept = kept
        self.bought = kept & (rank <= self.d_with[self.owner])
        spend = np.cumsum(np.where(self.bought, self.value, 0.0))
        spend -= np.concatenate([[0.0], spend])[self.start][self.owner]
        s = self.s
        self.level = (spend >= s.silver_threshold).astype(np.int64) + (spend >= s.gold_threshold)


def _tier(period: np.ndarray, owner: np.ndarray, silver_from: np.ndarray, level_1: np.ndarray,
          gold_from: np.ndarray) -> np.ndarray:
    """Tier in ``period`` on a path that holds ``level_1`` after ``silver_from`` and 2 after ``gold_from``."""
    return np.where(period > gold_from[owner], 2, np.where(period > silver_from[owner], level_1[owner], 0))


def _chunk(s: LoyaltyWorld):
    p_gg = s.gg_p
    msg_per_period = s.message_cost * s.weeks_per_period
    days = 7.0 * s.weeks_per_period
    horizon = s.horizon
    cal = s.calibration_periods
    response = reward_response(s.reward_rate, s.reward_scale)  # share of the most lift the rewards buy
    purchase_lift = s.purchase_lift * response
    dropout_reduction = s.dropout_reduction * response

    def simulate_chunk(rng: np.random.Generator, start: int, stop: int) -> dict[str, pl.DataFrame]:
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
        drop_with = drop * (1.0 - dropout_reduction * weight)
        d_without = _geometric_count(u_death, drop)
        d_with = _geometric_count(u_death, drop_with)
        base_mult = (1.0 + purchase_lift * weight) * (1.0 + s.message_lift)
        member = offered & would_join

        # world without the programme: Poisson arrivals over the horizon, buying until the dropout
        arrivals = rng.poisson(lam * horizon)
        b_owner, b_t = _arrivals(rng, arrivals, horizon)
        b_value = rng.gamma(p_gg, 1.0 / nu[b_owner])
        b_rank = np.arange(b_owner.size) - _group_starts(b_owner, n)[b_owner]
        b_bought = b_rank < d_without[b_owner]
        cum_b = np.minimum(arrivals, d_without)
        rev_b = np.bincount(b_owner, np.where(b_bought, b_value, 0.0), minlength=n)

        # world with the programme, for would-be members (their own arrivals are shared)
        joins = np.flatnonzero(would_join)
        local = np.cumsum(would_join) - 1
        mine = would_join[b_owner]
        prog = _Programme(rng, s, lam[joins], nu[joins], base_mult[joins], d_with[joins],
                          local[b_owner[mine]], b_t[mine], b_value[mine])
        p_owner = joins[prog.owner]
        refs_all = rng.poisson(s.referral_rate, prog.owner.size)
        reward_rate = s.redemption_rate * s.reward_rate * (1.0 + s.tier_reward_boost * prog.tier)
        rcost_all = reward_rate * prog.value  # rewards redeemed, at the tier of the purchase's period
        bought = prog.bought
        cum_p = np.zeros(n, np.int64)
        cum_p[joins] = np.bincount(prog.owner[bought], minlength=joins.size)
        rev_p = np.bincount(p_owner[bought], prog.value[bought], minlength=n)
        rew_p = np.bincount(p_owner[bought], rcost_all[bought], minlength=n)
        ref_p = np.bincount(p_owner[bought], refs_all[bought], minlength=n).astype(np.int64)
        kept_p = np.zeros(n, np.int64)
        kept_p[joins] = np.bincount(prog.owner[prog.kept], minlength=joins.size)
        tier = (rev_p >= s.silver_threshold).astype(np.int64) + (rev_p >= s.gold_threshold)

        # observed world: members live in the programme world, everyone else without it
        from_b = b_bought & ~member[b_owner]
        from_p = bought & member[p_owner]
        owner = np.concatenate([b_owner[from_b], p_owner[from_p]])
        t = np.concatenate([b_t[from_b], prog.t[from_p]])
        order = np.argsort(owner * float(horizon) + t, kind="stable")
        owner, t = owner[order], t[order]
        value = np.concatenate([b_value[from_b], prog.value[from_p]])[order]
        rcost = np.concatenate([np.zeros(int(from_b.sum())), rcost_all[from_p]])[order]
        refs = np.concatenate([np.zeros(int(from_b.sum()), np.int64), refs_all[from_p]])[order]
        period = np.minimum(t.astype(np.int64), horizon - 1)

        cum_obs = np.bincount(owner, minlength=n)
        in_cal = period < cal
        n_cal = np.bincount(owner[in_cal], minlength=n)
        rev_cal = np.bincount(owner[in_cal], value[in_cal], minlength=n)
        last_t = np.zeros(n)
        ends = _last_per_owner(owner)
        last_t[owner[ends]] = t[ends]
        last_t_cal = np.zeros(n)
        ends = _last_per_owner(owner[in_cal])
        last_t_cal[owner[in_cal][ends]] = t[in_cal][ends]

        # one row per customer-period with a purchase (events are sorted by customer, then period)
        cell = np.flatnonzero(np.diff(owner * horizon + period, prepend=-1) != 0)
        purchases = pl.DataFrame(
            {
                "customer_id": owner[cell].astype(np.int64) + start,
                "period": period[cell].astype(np.int32),
                "purchases": np.diff(np.append(cell, owner.size)).astype(np.int32),
                "revenue": np.add.reduceat(value, cell) if cell.size else np.zeros(0),
                "rewards_cost": np.add.reduceat(rcost, cell) if cell.size else np.zeros(0),
                "referrals": (np.add.reduceat(refs, cell) if cell.size else np.zeros(0)).astype(np.int32),
            }
        )

        rev_with = np.where(would_join, rev_p, rev_b)
        pur_with = np.where(would_join, cum_p, cum_b)
        alive_without = arrivals < d_without
        alive_with = np.where(would_join, kept_p < d_with, alive_without)
        revenue = np.bincount(owner, value, minlength=n)
        lapsed = (horizon - last_t) >= s.lapse_periods
        customers = pl.DataFrame(
            {
                "customer_id": np.arange(start, stop, dtype=np.int64),
                "arm": pl.select(pl.when(pl.Series(offered)).then(pl.lit("offer"))
                                 .otherwise(pl.lit("control"))).to_series(),
                "offered": offered,
                "member": member,
                "would_join": would_join,
                "frequency_cal": n_cal.astype(np.int64),
                "recency_cal": last_t_cal,
                "T_cal": np.full(n, float(cal)),
                "monetary_cal": np.where(n_cal > 0, rev_cal / np.maximum(n_cal, 1), 0.0),
                "purchases_holdout": (cum_obs - n_cal).astype(np.int64),
                "purchases": cum_obs.astype(np.int64),
                "revenue": revenue,
                "rewards_cost": np.where(member, rew_p, 0.0),
                "message_cost": np.where(member, msg_per_period * horizon, 0.0),
                "referrals": np.where(member, ref_p, 0),
                "tier": np.where(member, tier, 0),
                "last_purchase": last_t,
                "lapsed": lapsed,
                # whole days, as a real transaction log would record them
                "duration": np.where(lapsed, np.ceil(last_t * days) / days, float(horizon)),
                "true_rate": lam,
                "true_dropout": drop,
                "true_order_value": s.gg_p * 1.0 / nu,
                "purchases_without": cum_b.astype(np.int64),
                "purchases_with": pur_with.astype(np.int64),
                "revenue_without": rev_b,
                "revenue_with": rev_with,
                "rewards_cost_with": np.where(would_join, rew_p, 0.0),
                "referrals_with": np.where(would_join, ref_p, 0),
                "alive_without": alive_without,
                "alive_with": alive_with,
            }
        )
        return {"customers": customers, "purchases": purchases}

    return simulate_chunk


def simulate_loyalty(
    scenario: LoyaltyWorld, *, block_size: int = 1_048_576, workers: int = 1
) -> LoyaltySimulation:
    """Simulate the loyalty experiment of ``scenario``; identical output for any block size or workers.

    Parameters
    ----------
    scenario
        The world's settings (:class:`~experiments.worlds.LoyaltyWorld`).
    block_size, workers
        Customers per unit of work and threads; they change speed, never the result.
    """
    tables = simulate_in_blocks(
        _chunk(scenario),
        n=scenario.n_customers,
        seed=scenario.seed,
        stream=STREAM,
        block_size=block_size,
        workers=workers,
    )
    return LoyaltySimulation(customers=tables["customers"], purchases=tables["purchases"], scenario=scenario)
