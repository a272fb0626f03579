"""Customer-lifetime simulator for loyalty-programme experiments (buy till you die, with the truth kept).

Every customer made a first purchase at time 0. While alive, she buys at her own Poisson rate
``lambda ~ Gamma(r, alpha)``; after each repeat purchase she stops being a customer with her own
probability ``p ~ Beta(a, b)`` (the BG/NBD process, Fader, Hardie & Lee 2005); each order is worth
``Gamma(p_gg, nu)`` with ``nu ~ Gamma(q, v)`` (the Gamma-Gamma model). So BG/NBD and Gamma-Gamma are
the right models of the simulated purchases.

A random share of customers is *offered* the programme (arm ``offer``; the others are ``control``),
and the offered customers are split at random into a 2 x 2 factorial of its two levers (``cell``:
``neither``, ``rewards``, ``messages``, ``both``). Offered customers join with a probability that grows
with their loyalty (high rate, low dropout), whatever their cell, which is what makes the naive member vs
non-member comparison biased. Members of every cell bring referred customers (``referral_rate`` per
purchase), who are simulated: each is a new customer of the same population who arrives with a first
purchase, then buys and drops out on her own, with lower dropout (``referred_dropout``) and larger
orders (``referred_spend``) than a comparable customer (Schmitt, Skiera & Van den Bulte 2011); the
margin on what she buys within the horizon is part of the programme's value.

- Rewards: members buy at a higher rate (``purchase_lift``, tiers) and drop out less
  (``dropout_reduction``), both scaled down for heavy buyers (Liu 2007); they earn rewards on what they
  spend (cost = earned x redemption rate). How much the rewards move behaviour depends on how generous
  they are, with diminishing returns: the lifts are their most times ``1 - exp(-reward_rate /
  reward_scale)`` (:func:`~experiments.simulate.rewards.reward_response`), so the net value over the
  reward rate has an interior optimum.
- Relationship messages: ``messages_per_month`` regular messages multiply a subscribed member's rate by
  :func:`~experiments.simulate.messages.message_response` (diminishing, then fatigue: below 1 for heavy
  cadences); a birthday message once a year and an after-sale message after each purchase add a lift for
  ``trigger_weeks``; each message may make the member unsubscribe (:func:`~experiments.simulate.messages.
  unsubscribe_chance`), after which she gets no more messages and her lost subscription costs
  ``unsubscribe_cost``. Messages cost ``message_cost`` each.

All worlds are simulated with common random numbers: the events of a programme world are the arrivals
without it plus extra arrivals (superposition of Poisson processes), birthday-window and after-sale
arrivals, each kept by a shared uniform mark; the dropout draw and the order values are shared. The
table keeps each customer's purchases, revenue and costs with and without the full programme
(``*_with`` / ``*_without``; *with* means "if offered both levers": a customer who would not join has the
same outcome in both) and her net contribution in every cell's world (``net_neither`` ...
``net_both``) beside the world without any programme (``net_without``).

The simulation is vectorised over purchase events, with no loop over periods: a customer's arrivals
over the horizon are a Poisson count placed uniformly in time (the Poisson process given its count),
she buys at each until her dropout, and each order has its own Gamma value. The programme's tier
(set by a member's spend up to the end of the previous period) changes the rate of extra arrivals;
since it can only rise, three passes over the events give its exact path (:class:`_Programme`). An
after-sale message's purchase brings no after-sale message of its own (one generation; an assumption).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit, logit, polygamma, psi

from experiments.net_value import net_contribution
from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.messages import message_response, unsubscribe_chance
from experiments.simulate.rewards import reward_response
from experiments.worlds import LoyaltyWorld

__all__ = ["CELLS", "STREAM", "LoyaltySimulation", "referred_revenue", "simulate_loyalty"]

#: Random stream of this simulator (see experiments.simulate.blocks for the allocation).
STREAM: int = 2
_NEVER = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class LoyaltySimulation:
    """Simulated customers (one row each) and their purchases per period (observed world only).

    ``customers`` columns: ``customer_id``, ``arm`` (control/offer), ``cell`` (control or the factorial
    cell: neither/rewards/messages/both), ``offered``, ``member``, ``would_join``; observed
    ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_cal``, ``purchases_holdout``, ``purchases``,
    ``revenue``, ``rewards_cost``, ``message_cost`` (messages sent and the lost subscription),
    ``messages_sent``, ``unsubscribed``, ``referrals``, ``referred_revenue`` (what her referred customers
    bought within the horizon), ``tier``, ``last_purchase``, ``lapsed``, ``duration``; truth
    ``true_rate``, ``true_dropout``, ``true_order_value``, ``purchases_with/without``,
    ``revenue_with/without``, ``rewards_cost_with``, ``referrals_with``, ``alive_with/without`` (alive at
    the horizon), ``net_without`` and ``net_<cell>`` (net contribution in each world).

    ``purchases`` columns: ``customer_id``, ``period`` (0-based), ``purchases``, ``revenue``,
    ``rewards_cost``, ``referrals``, ``referred_revenue`` for every customer-period with a purchase (a
    referred customer's revenue is booked in the period she is referred).
    """

    customers: pl.DataFrame
    purchases: pl.DataFrame
    scenario: LoyaltyWorld

    def programme(self) -> LoyaltySimulation:
        """The full programme against none: the control and the customers offered both levers only."""
        keep = self.customers.filter(pl.col("cell").is_in(["control", "both"]))
        purchases = self.purchases.join(keep.select("customer_id"), on="customer_id", how="semi")
        return LoyaltySimulation(customers=keep, purchases=purchases, scenario=self.scenario)

    def truth(self) -> dict[str, float]:
        """True effects per customer (means over the simulated population; the factorial's over the offered).

        ``itt_*``: the full programme (rewards and messages) against none; ``rewards_effect``,
        ``messages_effect``: each lever's main effect on the net value (its effect averaged over the other
        lever's two levels), ``lever_interaction``: both minus each alone (plus neither).
        """
        c = self.customers
        d_rev = pl.col("revenue_with") - pl.col("revenue_without")
        d_pur = pl.col("purchases_with") - pl.col("purchases_without")
        n0, nr, nm, nb = (pl.col(f"net_{name}") for name in CELLS)
        out = c.select(
            itt_revenue=d_rev.mean(),
            itt_purchases=d_pur.mean(),
            itt_net_margin=(nb - pl.col("net_without")).mean(),
            itt_retained=(pl.col("alive_with").cast(pl.Float64) - pl.col("alive_without")).mean(),
            join_share=pl.col("would_join").mean(),
        ).row(0, named=True)
        offered = c.filter(pl.col("offered"))
        lever = offered.select(
            rewards_effect=((nr - n0 + nb - nm) / 2).mean(),
            messages_effect=((nm - n0 + nb - nr) / 2).mean(),
            lever_interaction=(nb - nr - nm + n0).mean(),
        ).row(0, named=True) if offered.height else dict.fromkeys(
            ("rewards_effect", "messages_effect", "lever_interaction"), float("nan"))
        out.update(lever)
        joiners = c.filter(pl.col("would_join"))
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


#: The offered customers' cells of the factorial design, and the levers each one pulls.
CELLS: tuple[str, ...] = ("neither", "rewards", "messages", "both")
_LEVERS = {"neither": (False, False), "rewards": (True, False), "messages": (False, True),
           "both": (True, True)}
_OWN, _EXTRA, _BIRTHDAY, _CHECKIN = 0, 1, 2, 3


class _Events:
    """Every purchase opportunity of would-be members in any programme world, shared by the worlds.

    Kinds: their own arrivals (the world without the programme's), extra arrivals at the highest rate any
    world reaches (kept by a uniform mark, thinning), arrivals in the weeks after a birthday message and
    the arrival an after-sale message may bring after each of the others (``parent``). Each world keeps
    its own subset (:meth:`_Programme.keep`), so the worlds share their random numbers.
    """

    def __init__(self, rng: np.random.Generator, s: LoyaltyWorld, lam: np.ndarray, nu: np.ndarray,
                 top: np.ndarray, own_owner: np.ndarray, own_t: np.ndarray, own_value: np.ndarray) -> None:
        n, horizon = lam.size, s.horizon
        x_owner, x_t = _arrivals(rng, rng.poisson(lam * np.maximum(top - 1.0, 0.0) * horizon), horizon)
        # birthday messages: one a year at a random time of the year, a lift for ``trigger_weeks``
        per_year = 52.0 / s.weeks_per_period
        window = s.trigger_weeks / s.weeks_per_period
        first = rng.random(n) * per_year
        count = np.maximum(np.ceil((horizon - first) / per_year), 0).astype(np.int64)
        bd_owner = np.repeat(np.arange(n), count)
        bd_at = first[bd_owner] + (np.arange(bd_owner.size) - _group_starts(bd_owner, n)[bd_owner]) * per_year
        k = rng.poisson(lam[bd_owner] * s.birthday_lift * window)
        g_owner, g_at = np.repeat(bd_owner, k), np.repeat(bd_at, k)
        g_t = g_at + rng.random(g_owner.size) * window
        inside = g_t < horizon
        g_owner, g_t, g_at = g_owner[inside], g_t[inside], g_at[inside]
        owner = np.concatenate([own_owner, x_owner, g_owner])
        t = np.concatenate([own_t, x_t, g_t])
        kind = np.concatenate([np.full(own_owner.size, _OWN), np.full(x_owner.size, _EXTRA),
                               np.full(g_owner.size, _BIRTHDAY)]).astype(np.int8)
        sent = np.concatenate([own_t, x_t, g_at])  # when the message behind the event went out
        # after-sale check-in: the purchase it brings, within ``trigger_weeks`` of its parent
        p_child = -np.expm1(-lam[owner] * s.checkin_lift * window)
        has = rng.random(owner.size) < p_child
        c_parent = np.flatnonzero(has)
        c_t = t[c_parent] + rng.random(c_parent.size) * window
        inside = c_t < horizon
        c_parent, c_t = c_parent[inside], c_t[inside]
        owner = np.concatenate([owner, owner[c_parent]])
        t = np.concatenate([t, c_t])
        kind = np.concatenate([kind, np.full(c_parent.size, _CHECKIN, np.int8)])
        sent = np.concatenate([sent, t[c_parent]])
        parent = np.concatenate([np.full(t.size - c_parent.size, -1), c_parent])
        value = np.concatenate([own_value, rng.gamma(s.gg_p, 1.0 / nu[owner[own_owner.size:]])])
        mark = rng.random(owner.size)
        refs = rng.poisson(s.referral_rate, owner.size)
        order = np.argsort(owner * float(horizon) + t, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        self.owner, self.t, self.kind, self.sent = owner[order], t[order], kind[order], sent[order]
        self.value, self.mark, self.refs = value[order], mark[order], refs[order]
        par = parent[order]
        self.parent = np.where(par >= 0, rank[np.maximum(par, 0)], -1)
        self.period = np.minimum(self.t.astype(np.int64), horizon - 1)
        self.start = _group_starts(self.owner, n)
        self.top, self.first_birthday, self.n = top, first, n


class _Programme:
    """One programme world for would-be members: which shared events it keeps and buys, and its tiers.

    An own arrival is kept while the world's rate multiplier is at least 1 (fatigue can push it below,
    then it is kept with that probability); an extra one with probability ``(multiplier - 1) / (top - 1)``
    by its mark, so the kept arrivals at a lower tier are a subset of those at a higher one. Birthday and
    after-sale events need the messages lever and a message sent before the customer unsubscribed (an
    after-sale one, its parent kept too). The tier in a period follows the member's spend up to the end of
    the period before; spend never falls, so the tier changes at most twice, and three passes (no tier,
    then up to each change) give the exact path.
    """

    def __init__(self, ev: _Events, s: LoyaltyWorld, base_mult: np.ndarray, tier_lift: float,
                 d_with: np.ndarray, message_mult: float, until: np.ndarray | None) -> None:
        n, horizon = ev.n, s.horizon
        self.ev, self.s, self.n = ev, s, n
        self.owner, self.t, self.period, self.value = ev.owner, ev.t, ev.period, ev.value
        self.start, self.d_with, self.tier_lift = ev.start, d_with, tier_lift
        subscribed = np.zeros(ev.owner.size, bool) if until is None else ev.sent < until[ev.owner]
        self.own = ev.kind == _OWN
        self.by_message = (ev.kind == _BIRTHDAY) | (ev.kind == _CHECKIN)
        # the rate multiplier before tiers, and 1 / (top - 1) for thinning extra arrivals (an owner with
        # top = 1 has none)
        self.base = base_mult[ev.owner] * np.where(subscribed & ~self.by_message, message_mult, 1.0)
        top = ev.top[ev.owner]
        self.inv_room = np.divide(1.0, top - 1.0, out=np.zeros_like(top), where=top > 1.0)
        self.triggered = subscribed & self.by_message
        self.child = np.flatnonzero(ev.kind == _CHECKIN)
        if tier_lift == 0:  # tiers change nothing in this world: one pass
            self.tier = np.zeros(ev.owner.size, np.int64)
            self._pass(self.tier)
            return
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

    def keep(self, tier: np.ndarray) -> np.ndarray:
        """Which events happen in this world when each event's period has tier ``tier``."""
        ev = self.ev
        mult = self.base * (1.0 + self.tier_lift * tier) if self.tier_lift else self.base
        threshold = np.where(self.own, np.minimum(mult, 1.0), (mult - 1.0) * self.inv_room)
        kept = np.where(self.by_message, self.triggered, ev.mark < threshold)
        kept[self.child] &= kept[ev.parent[self.child]]
        return kept

    def _pass(self, tier: np.ndarray) -> None:
        kept = self.keep(tier)
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


def referred_revenue(rng: np.random.Generator, s: LoyaltyWorld, arrival: np.ndarray, *,
                     dropout_factor: float | None = None, spend_factor: float | None = None) -> np.ndarray:
    """Revenue, up to the horizon, of customers referred at periods ``arrival`` (one each).

    A referred customer is a new BG/NBD customer of the same population who arrives with a first purchase,
    then buys at her own rate and drops out after each repeat purchase with her own probability, times
    ``referred_dropout`` (higher retention), with orders ``referred_spend`` times larger: referred
    customers are more valuable and stay longer (Schmitt, Skiera & Van den Bulte 2011). ``dropout_factor``
    and ``spend_factor`` override the two (1 and 1 give a comparable customer who was not referred).
    """
    df = s.referred_dropout if dropout_factor is None else dropout_factor
    sf = s.referred_spend if spend_factor is None else spend_factor
    m = arrival.size
    lam = rng.gamma(s.bgnbd_r, 1.0 / s.alpha_per_period, m)
    drop = np.clip(rng.beta(s.bgnbd_a, s.bgnbd_b, m) * df, 0.0, 1.0)
    nu = rng.gamma(s.gg_q, 1.0 / s.gg_v, m)
    repeats = np.minimum(rng.poisson(lam * np.maximum(s.horizon - arrival, 0.0)),
                         _geometric_count(rng.random(m), drop))
    # the sum of k + 1 Gamma(p, 1/nu) orders is Gamma((k + 1) p, 1/nu)
    return rng.gamma(s.gg_p * (1.0 + repeats), 1.0 / nu) * sf


def _chunk(s: LoyaltyWorld):
    p_gg = s.gg_p
    days = 7.0 * s.weeks_per_period
    horizon = s.horizon
    cal = s.calibration_periods
    response = reward_response(s.reward_rate, s.reward_scale)  # share of the most lift the rewards buy
    purchase_lift = s.purchase_lift * response
    dropout_reduction = s.dropout_reduction * response
    tier_lift = s.tier_lift * response
    per_month = s.messages_per_month
    message_mult = message_response(per_month, lift=s.message_lift, diminishing=s.message_diminishing,
                                    free=s.fatigue_free, penalty=s.fatigue_penalty)
    regular_per_period = per_month * 12.0 / 52.0 * s.weeks_per_period
    unsub_hazard = regular_per_period * unsubscribe_chance(per_month, rate=s.unsubscribe_rate,
                                                           free=s.fatigue_free)

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
        cell = np.minimum((rng.random(n) * len(CELLS)).astype(np.int64), len(CELLS) - 1)
        # unsubscribing: an exponential time at the cadence's hazard (never without messages)
        with np.errstate(divide="ignore"):
            until = np.where(unsub_hazard > 0, -np.log(rng.random(n)) / max(unsub_hazard, 1e-300), np.inf)
        weight = 1.0 / (1.0 + lam_week / s.heavy_rate)  # Liu (2007): heavy buyers do not respond
        drop_with = drop * (1.0 - dropout_reduction * weight)
        d_without = _geometric_count(u_death, drop)
        d_with = _geometric_count(u_death, drop_with)
        base_mult = 1.0 + purchase_lift * weight
        member = offered & would_join

        # world without the programme: Poisson arrivals over the horizon, buying until the dropout
        arrivals = rng.poisson(lam * horizon)
        b_owner, b_t = _arrivals(rng, arrivals, horizon)
        b_value = rng.gamma(p_gg, 1.0 / nu[b_owner])
        b_rank = np.arange(b_owner.size) - _group_starts(b_owner, n)[b_owner]
        b_bought = b_rank < d_without[b_owner]
        cum_b = np.minimum(arrivals, d_without)
        rev_b = np.bincount(b_owner, np.where(b_bought, b_value, 0.0), minlength=n)
        alive_without = arrivals < d_without

        # the programme worlds, for would-be members (shared events, each world keeps its own)
        joins = np.flatnonzero(would_join)
        nj = joins.size
        local = np.cumsum(would_join) - 1
        mine = would_join[b_owner]
        top = base_mult[joins] * (1.0 + 2.0 * tier_lift) * max(message_mult, 1.0)
        ev = _Events(rng, s, lam[joins], nu[joins], top, local[b_owner[mine]], b_t[mine], b_value[mine])
        ref_rev_all = np.zeros(ev.owner.size)
        has_ref = np.flatnonzero(ev.refs)
        ref_rev = referred_revenue(rng, s, np.repeat(ev.t[has_ref], ev.refs[has_ref]))
        ref_rev_all[has_ref] = np.add.reduceat(ref_rev, np.cumsum(ev.refs[has_ref]) - ev.refs[has_ref]) \
            if has_ref.size else 0.0
        p_owner = joins[ev.owner]
        margin = s.margin
        worlds: dict[str, dict[str, np.ndarray]] = {}
        for name in CELLS:
            rewards, messages = _LEVERS[name]
            prog = _Programme(ev, s, base_mult[joins] if rewards else np.ones(nj),
                              tier_lift if rewards else 0.0,
                              d_with[joins] if rewards else d_without[joins],
                              message_mult if messages else 1.0, until[joins] if messages else None)
            bought = prog.bought
            rate = (s.redemption_rate * s.reward_rate * (1.0 + s.tier_reward_boost * prog.tier)
                    if rewards else 0.0)
            on = bought if messages else np.zeros_like(bought)
            checkins = np.bincount(ev.owner[on & (ev.t < until[joins][ev.owner])], minlength=nj)
            birthdays = np.zeros(nj)
            if messages:  # birthday messages sent while subscribed, within the horizon
                span = np.minimum(until[joins], horizon) - ev.first_birthday
                birthdays = np.maximum(np.ceil(span / (52.0 / s.weeks_per_period)), 0.0)
            lost = until[joins] < horizon if messages else np.zeros(nj, bool)
            sent = (regular_per_period * np.minimum(until[joins], horizon) + birthdays + checkins
                    if messages else np.zeros(nj))
            w = {
                "bought": bought,
                "event_rcost": rate * ev.value,
                "purchases": np.bincount(ev.owner[bought], minlength=nj),
                "revenue": np.bincount(ev.owner[bought], ev.value[bought], minlength=nj),
                "rewards_cost": np.bincount(ev.owner[bought], (rate * ev.value)[bought], minlength=nj)
                if rewards else np.zeros(nj),
                "referrals": np.bincount(ev.owner[bought], ev.refs[bought], minlength=nj).astype(np.int64),
                "referred_revenue": np.bincount(ev.owner[bought], ref_rev_all[bought], minlength=nj),
                "messages_sent": sent,
                "unsubscribed": lost,
                "message_cost": sent * s.message_cost + lost * s.unsubscribe_cost,
                "alive": np.bincount(ev.owner[prog.kept], minlength=nj) < prog.d_with,
            }
            w["tier"] = ((w["revenue"] >= s.silver_threshold).astype(np.int64)
                         + (w["revenue"] >= s.gold_threshold)) * rewards
            w["net"] = net_contribution(w["revenue"], w["rewards_cost"], w["message_cost"], w["referrals"],
                                        w["referred_revenue"], margin=margin, referral_bonus=s.referral_bonus)
            worlds[name] = w

        def full(name: str, key: str, default: np.ndarray | float) -> np.ndarray:
            out = np.array(np.broadcast_to(default, (n,)), dtype=np.result_type(worlds[name][key], default))
            out[joins] = worlds[name][key]
            return out

        net_without = rev_b * margin
        # observed world: members live in their cell's world, everyone else without the programme
        ev_cell = cell[p_owner]
        from_p = np.zeros(ev.owner.size, bool)
        rcost_all = np.zeros(ev.owner.size)
        for i, name in enumerate(CELLS):
            here = member[p_owner] & (ev_cell == i)
            from_p |= here & worlds[name]["bought"]
            rcost_all = np.where(here, worlds[name]["event_rcost"], rcost_all)
        from_b = b_bought & ~member[b_owner]
        owner = np.concatenate([b_owner[from_b], p_owner[from_p]])
        t = np.concatenate([b_t[from_b], ev.t[from_p]])
        order = np.argsort(owner * float(horizon) + t, kind="stable")
        owner, t = owner[order], t[order]
        nb = int(from_b.sum())
        value = np.concatenate([b_value[from_b], ev.value[from_p]])[order]
        rcost = np.concatenate([np.zeros(nb), rcost_all[from_p]])[order]
        refs = np.concatenate([np.zeros(nb, np.int64), ev.refs[from_p]])[order]
        rrev = np.concatenate([np.zeros(nb), ref_rev_all[from_p]])[order]
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
        cellp = np.flatnonzero(np.diff(owner * horizon + period, prepend=-1) != 0)
        nonempty = cellp.size > 0
        purchases = pl.DataFrame(
            {
                "customer_id": owner[cellp].astype(np.int64) + start,
                "period": period[cellp].astype(np.int32),
                "purchases": np.diff(np.append(cellp, owner.size)).astype(np.int32),
                "revenue": np.add.reduceat(value, cellp) if nonempty else np.zeros(0),
                "rewards_cost": np.add.reduceat(rcost, cellp) if nonempty else np.zeros(0),
                "referrals": (np.add.reduceat(refs, cellp) if nonempty else np.zeros(0)).astype(np.int32),
                "referred_revenue": np.add.reduceat(rrev, cellp) if nonempty else np.zeros(0),
            }
        )

        rows = np.arange(n)

        def observed(key: str, default: float | np.ndarray = 0.0) -> np.ndarray:
            """The member's own cell's world; everyone else's value without the programme."""
            per_cell = np.stack([full(name, key, default) for name in CELLS])
            return np.where(member, per_cell[cell, rows], default)

        revenue = np.bincount(owner, value, minlength=n)
        lapsed = (horizon - last_t) >= s.lapse_periods
        customers = pl.DataFrame(
            {
                "customer_id": np.arange(start, stop, dtype=np.int64),
                "arm": pl.select(pl.when(pl.Series(offered)).then(pl.lit("offer"))
                                 .otherwise(pl.lit("control"))).to_series(),
                "cell": pl.Series(np.where(offered, np.asarray(CELLS)[cell], "control")),
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
                "rewards_cost": observed("rewards_cost"),
                "message_cost": observed("message_cost"),
                "messages_sent": observed("messages_sent"),
                "unsubscribed": observed("unsubscribed", False).astype(bool),
                "referrals": np.bincount(owner, refs, minlength=n).astype(np.int64),
                "referred_revenue": np.bincount(owner, rrev, minlength=n),
                "tier": observed("tier", 0).astype(np.int64),
                "last_purchase": last_t,
                "lapsed": lapsed,
                # whole days, as a real transaction log would record them
                "duration": np.where(lapsed, np.ceil(last_t * days) / days, float(horizon)),
                "true_rate": lam,
                "true_dropout": drop,
                "true_order_value": s.gg_p * 1.0 / nu,
                "purchases_without": cum_b.astype(np.int64),
                "purchases_with": full("both", "purchases", cum_b).astype(np.int64),
                "revenue_without": rev_b,
                "revenue_with": full("both", "revenue", rev_b),
                "rewards_cost_with": full("both", "rewards_cost", 0.0),
                "referrals_with": full("both", "referrals", 0),
                "alive_without": alive_without,
                "alive_with": full("both", "alive", alive_without).astype(bool),
                "net_without": net_without,
                **{f"net_{name}": full(name, "net", net_without) for name in CELLS},
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
