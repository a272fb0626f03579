"""The weekly step of the lifecycle world: every lever's mechanism, in every world at once.

A chunk is simulated in several *worlds* stacked on the first axis of every state array: world 0 is
the observed one (each lever as assigned), world ``1 + k`` flips lever ``k`` of :data:`TRAJECTORY_LEVERS`
for every customer. Before the levers' window all worlds are the same, so one is simulated and it is
copied when the window opens. All worlds draw on the same uniforms (common random numbers), so the
difference between a customer's worlds is the lever's doing alone. The referral reward does not change
how its referrer buys, only how many customers she brings: its flipped world shares world 0's purchases
and differs in referrals (a seventh *referral world*).

Mechanisms, each week, for each customer alive in a world:

- Buying: purchases ~ Poisson(rate) by inversion of the week's uniform, at ``rate`` = the customer's
  BG/NBD rate times the levers' multipliers; after each repeat purchase the customer takes the hazard
  ``-log(1 - dropout)`` and drops out once her hazard passes her Exp(1) budget (so a constant dropout
  gives BG/NBD's geometric number of repeat purchases).
- Discount: in promotion weeks the rate rises by ``promo_lift * depth * deal proneness``; a share
  ``forward_share`` of the extra purchases is a stockpile that later weeks' rates pay back (at most
  ``dip_limit`` of a week's rate), and each promotion week lowers the log full-price rate of
  established customers by ``deal_learning * depth * deal`` (times tenure / (tenure + tenure_half)),
  while new customers who buy on promotion gain ``new_customer_gain * depth`` (times the rest).
  Promotion purchases are sold at ``1 - depth``: margin is lost on those that would have happened.
- Win-back: a customer with no purchase for ``lapse_weeks`` is sent an offer once; an alive (dormant)
  customer's rate rises while the coupon lasts, a customer who left after a service failure comes back
  with some chance, one who silently dropped out never does; both fall with the time since the lapse.
- Messages: the cadence's regular messages lift the week's rate with diminishing returns; after-sale
  check-ins and birthday or anniversary messages add a lift that fades; fatigue (decayed messages)
  above ``fatigue_free`` cuts the rate, and every message may make the customer unsubscribe, more so
  when fatigued. An unsubscribed customer gets no more messages.
- Loyalty: members (offered and willing) buy more and drop out less, by ``1 - exp(-reward_rate /
  reward_scale)`` of the most, less so for heavy buyers, and faster as their points near a reward;
  rewards cost their redeemed value.
- Service failure: each purchase fails with ``failure_rate``; a failure adds the hazard of leaving with
  ``failure_dropout``, less ``recovery_effect`` of it when recovered (at ``recovery_cost``).
- Referral: a week with a purchase brings a referred customer with ``referral_rate``, raised by the
  reward; the referred customer arrives the next week.
"""

from __future__ import annotations

import numpy as np

from experiments.simulate.lifecycle_acquire import (
    Cohort,
    OrderValues,
    extra_orders,
    poisson_inverse,
    week_uniforms,
)
from experiments.simulate.lifecycle_settings import LEVERS, LifecycleSettings

__all__ = ["TRAJECTORY_LEVERS", "WORLDS", "Week", "WorldState", "flip_world"]

#: Levers that change how their customers buy or leave, each flipped in its own world.
TRAJECTORY_LEVERS: tuple[str, ...] = ("discount", "win_back", "messages", "loyalty", "recovery")
#: Worlds simulated in the window: the observed one and one per trajectory lever.
WORLDS: int = 1 + len(TRAJECTORY_LEVERS)
_REFERRAL_WORLDS = WORLDS + 1
_F32 = np.float32


def flip_world(lever: str) -> int:
    """Index of the world where ``lever`` is flipped (the referral lever's is a referral world)."""
    return WORLDS if lever == "referral" else 1 + TRAJECTORY_LEVERS.index(lever)


class Week:
    """What the weekly step hands back about world 0 (the observed purchases of the week)."""

    __slots__ = ("buyers", "margin", "purchases", "revenue")

    def __init__(self, buyers: np.ndarray, purchases: np.ndarray, revenue: np.ndarray,
                 margin: np.ndarray) -> None:
        self.buyers, self.purchases, self.revenue, self.margin = buyers, purchases, revenue, margin


class WorldState:
    """State and accumulators of a chunk's customers in every world, stepped week by week."""

    def __init__(self, s: LifecycleSettings, c: Cohort, rng: np.random.Generator,
                 values: OrderValues) -> None:
        self.s, self.c, self.rng, self.values = s, c, rng, values
        m = c.order.size
        self.m = m
        self.W = 1
        self.alive = np.ones((1, m), bool)
        self.hazard = np.zeros((1, m), _F32)
        self.failed_exit = np.zeros((1, m), bool)
        self.last_buy = np.broadcast_to(c.acq_week, (1, m)).astype(np.int16)
        self.log_fp = np.zeros((1, m), _F32)
        self.stock = np.zeros((1, m), _F32)
        self.subscribed = np.ones((1, m), bool)
        self.fatigue = np.zeros((1, m), _F32)
        self.trigger = np.zeros((1, m), _F32)
        self.points = np.zeros((1, m), _F32)
        self.offer_week = np.full((1, m), -1, np.int16)
        self.coupon_lift = np.zeros((1, m), _F32)
        self.ref_count = np.zeros((1, m), np.int8)
        # accumulators from the window's first week (per world; referral costs per referral world)
        self.p_short = np.zeros((1, m), np.int32)
        self.p_long = np.zeros((1, m), np.int32)
        self.p_promo = np.zeros((1, m), np.int32)
        self.v_short = np.zeros((1, m), np.float64)
        self.v_long = np.zeros((1, m), np.float64)
        self.rc_short = np.zeros((1, m), np.float64)
        self.rc_long = np.zeros((1, m), np.float64)
        # referred customers' start week: (referral world, slot, customer); -1 when none
        self.ref_start = np.full((1, s.max_referrals, m), -1, np.int16)
        # observed world only
        self.lapse_reason = np.zeros(m, np.int8)  # 0 never offered, 1 alive, 2 dropped out, 3 left after failure
        self.failures = np.zeros(m, np.int32)
        self.margin_52 = np.zeros(m, np.float64)
        self.cost_total = np.zeros(m, np.float64)
        self.purchases_total = np.zeros(m, np.int32)
        self.revenue_total = np.zeros(m, np.float64)
        # lever on in each world: (world, customer), filled when the window opens
        self.on: dict[str, np.ndarray] = {lv: c.arms[lv][None, :] for lv in LEVERS}
        # per-customer constants of the levers
        self.loyal_w = (1.0 / (1.0 + c.rate / s.heavy_rate)).astype(_F32)
        g = 1.0 - np.exp(-s.reward_rate / s.reward_scale)
        self.loyal_rate = (1.0 + s.loyalty_rate_lift * g * self.loyal_w).astype(_F32)
        self.loyal_drop = (1.0 - s.loyalty_dropout_cut * g * self.loyal_w).astype(_F32)
        self.h_buy = (-np.log1p(-c.dropout)).astype(_F32)
        self.promo = set(s.campaign_start + w for w in s.promo_weeks)
        self.cadence = s.messages_per_month * 12.0 / 52.0

    # -- the window opens: copy the one world into all of them -----------------------------------
    def open_window(self) -> None:
        """Copy the single pre-window world into every world and set each world's levers."""
        W = WORLDS
        for name in ("alive", "hazard", "failed_exit", "last_buy", "log_fp", "stock", "subscribed",
                     "fatigue", "trigger", "points", "offer_week", "coupon_lift", "p_short", "p_long",
                     "p_promo", "v_short", "v_long"):
            setattr(self, name, np.repeat(getattr(self, name), W, axis=0))
        for name in ("ref_count", "rc_short", "rc_long", "ref_start"):
            setattr(self, name, np.repeat(getattr(self, name), _REFERRAL_WORLDS, axis=0))
        self.W = W
        for lever in LEVERS:
            arm = self.c.arms[lever]
            worlds = _REFERRAL_WORLDS if lever == "referral" else W
            on = np.repeat(arm[None, :], worlds, axis=0)
            on[flip_world(lever)] = ~arm
            self.on[lever] = on

    # -- one week --------------------------------------------------------------------------------
    def step(self, t: int) -> Week:
        """Advance every world by week ``t``; return world 0's purchases of the week."""
        s, c = self.s, self.c
        hi = int(c.arrivals[t])
        lo = int(c.arrivals[t - 1]) if t > 0 else 0
        if hi == 0:
            return Week(np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0), np.zeros(0))
        window = s.campaign_start <= t < s.campaign_end
        counted = s.campaign_start <= t < s.long_end
        sl = slice(0, hi)
        u = week_uniforms(self.rng, t, hi, 5)
        u_buy, u_value, u_fail, u_ref, u_unsub = u
        alive = self.alive[:, sl]
        acq = c.acq_week[sl]
        tenure = (t - acq).astype(_F32)
        rate = np.broadcast_to(c.rate[sl].astype(_F32), alive.shape) * np.exp(self.log_fp[:, sl])
        cost = np.zeros(alive.shape, _F32)
        discount = np.zeros(alive.shape, _F32)
        drop_mult = None

        promo_week = window and t in self.promo
        if promo_week:
            on_d = self.on["discount"][:, sl]
            gain = (s.promo_lift * s.discount_depth * c.deal[sl]).astype(_F32)
            extra = np.where(on_d, rate * gain, _F32(0))
            self.stock[:, sl] += extra * _F32(s.forward_share)
            rate = rate + extra
            discount = np.where(on_d, _F32(s.discount_depth), discount)

        if window:
            # win-back: offer once, at the start of the week, to customers lapsed lapse_weeks
            on_w = self.on["win_back"][:, sl]
            lapse = t - self.last_buy[:, sl]
            offer = on_w & (self.offer_week[:, sl] < 0) & (lapse >= s.lapse_weeks) & (acq < t)
            if offer.any():
                fade = np.exp(-(lapse - s.lapse_weeks) / s.win_back_decay).astype(_F32)
                self.offer_week[:, sl] = np.where(offer, t, self.offer_week[:, sl])
                self.coupon_lift[:, sl] = np.where(offer, _F32(s.win_back_lift) * fade, self.coupon_lift[:, sl])
                cost += offer * _F32(s.win_back_cost)
                revived = offer & ~alive & self.failed_exit[:, sl] & (c.revive[sl] < s.win_back_revival * fade)
                o0 = offer[0]
                self.lapse_reason[sl][o0] = np.where(alive[0, o0], 1, np.where(self.failed_exit[0, sl][o0], 3, 2))
                if revived.any():
                    self.alive[:, sl] |= revived
                    self.hazard[:, sl] = np.where(revived, _F32(0), self.hazard[:, sl])
                    self.failed_exit[:, sl] &= ~revived
                    alive = self.alive[:, sl]

            # messages: regular cadence, check-ins, birthdays and anniversaries
            on_m = self.on["messages"][:, sl] & self.subscribed[:, sl]
            regular = int(np.floor((t - s.campaign_start + 1) * self.cadence)
                          - np.floor((t - s.campaign_start) * self.cadence))
            checkin = self.last_buy[:, sl] == t - 1
            special = (c.birthday[sl] == t % 52) | ((tenure > 0) & (tenure % 52 == 0))
            sent = on_m * (regular + checkin + special[None, :]).astype(_F32)
            if s.message_diminishing < 1:
                gain_reg = s.message_lift * (1 - s.message_diminishing ** regular) / (1 - s.message_diminishing)
            else:
                gain_reg = s.message_lift * regular
            trig = self.trigger[:, sl] * _F32(s.trigger_decay) + (
                checkin * _F32(s.checkin_lift) + special * _F32(s.birthday_lift))
            self.trigger[:, sl] = np.where(on_m, trig, self.trigger[:, sl])
            fat = self.fatigue[:, sl] * _F32(s.fatigue_decay) + sent
            self.fatigue[:, sl] = fat
            over = np.maximum(fat - _F32(s.fatigue_free), _F32(0))
            mult = (1 + _F32(gain_reg) + trig) * np.exp(-_F32(s.fatigue_penalty) * over)
            rate = np.where(on_m, rate * mult, rate)
            cost += sent * _F32(s.message_cost)
            p_unsub = np.minimum(_F32(s.unsubscribe_rate) * (1 + (fat / _F32(s.fatigue_free)) ** 2), _F32(1))
            unsub = on_m & (u_unsub[sl] < 1 - (1 - p_unsub) ** sent)
            self.subscribed[:, sl] &= ~unsub

            # loyalty: members buy more, faster near a reward, and drop out less
            member = self.on["loyalty"][:, sl] & c.would_join[sl]
            near = (self.points[:, sl] / _F32(s.reward_threshold)) ** 3
            rate = np.where(member, rate * self.loyal_rate[sl] * (1 + _F32(s.goal_lift) * near), rate)
            drop_mult = np.where(member, self.loyal_drop[sl], _F32(1))

        # a win-back coupon, while it lasts (it may run past the window)
        ow = self.offer_week[:, sl]
        coupon = (ow >= 0) & (t < ow + s.coupon_weeks)
        if coupon.any():
            rate = np.where(coupon, rate * (1 + self.coupon_lift[:, sl]), rate)
            discount = 1 - (1 - discount) * np.where(coupon, _F32(1 - s.win_back_discount), _F32(1))

        # the stockpile of earlier promotions pays back out of this week's rate
        if not promo_week:
            stock = self.stock[:, sl]
            if stock.any():
                dip = np.minimum(stock, rate * _F32(s.dip_limit))
                rate = rate - dip
                self.stock[:, sl] = np.where(alive, stock - dip, _F32(0))

        # purchases: new customers make their first one, the others buy at their rate while alive
        rate = np.where(alive, rate, _F32(0))
        rate[:, lo:hi] = 0
        k = poisson_inverse(u_buy[sl], rate)
        k[:, lo:hi] = 1
        gross = self._gross(t, k, u_value[sl])
        paid = gross * (1 - discount)
        margin = gross * (_F32(s.gross_margin) - discount)
        full_price = (discount == 0) & (k > 0)

        if window:
            member = self.on["loyalty"][:, sl] & c.would_join[sl]
            if member.any():
                pts = self.points[:, sl] + np.where(member, paid * _F32(s.reward_rate), _F32(0))
                rewards = np.floor(pts / _F32(s.reward_threshold))
                self.points[:, sl] = pts - rewards * _F32(s.reward_threshold)
                cost += rewards * _F32(s.reward_threshold * s.redemption_rate)

        # service failures, recovery and dropout
        failed = (k > 0) & (u_fail[sl] < 1 - (1 - s.failure_rate) ** k)
        h_fail = _F32(-np.log1p(-s.failure_dropout)) if s.failure_dropout < 1 else _F32(np.inf)
        fail_hazard = failed * h_fail
        if window:
            recovered = failed & self.on["recovery"][:, sl]
            cost += recovered * _F32(s.recovery_cost)
            if s.recovery_effect > 0:
                h_rec = (_F32(-np.log1p(-s.failure_dropout * (1 - s.recovery_effect)))
                         if s.failure_dropout * (1 - s.recovery_effect) < 1 else _F32(np.inf))
                fail_hazard = np.where(recovered, h_rec, fail_hazard)
        repeat = k.astype(_F32)
        repeat[:, lo:hi] -= 1
        h = self.h_buy[sl] if drop_mult is None else (-np.log1p(-c.dropout[sl] * drop_mult)).astype(_F32)
        hazard = self.hazard[:, sl] + repeat * h + fail_hazard
        self.hazard[:, sl] = hazard
        died = alive & (hazard > c.budget[sl])
        self.alive[:, sl] = alive & ~died
        self.failed_exit[:, sl] = np.where(died, failed, self.failed_exit[:, sl])
        self.last_buy[:, sl] = np.where(k > 0, np.int16(t), self.last_buy[:, sl])

        # what promotions teach: established customers wait for deals, new ones form a habit
        if promo_week:
            on_d = self.on["discount"][:, sl]
            est = tenure / (tenure + _F32(s.tenure_half))
            depth = _F32(s.discount_depth)
            learn = _F32(s.deal_learning) * depth * c.deal[sl].astype(_F32) * est
            habit = _F32(s.new_customer_gain) * depth * (1 - est)
            self.log_fp[:, sl] += np.where(on_d, -learn + habit * (k > 0), _F32(0))

        ref_cost = self._referrals(t, k, u_ref[sl], window)

        if counted:
            value = margin.astype(np.float64) - cost
            if t < s.campaign_end:
                self.p_short[:, sl] += k
                self.v_short[:, sl] += value
                self.rc_short[:, sl] += ref_cost
            self.p_long[:, sl] += k
            self.v_long[:, sl] += value
            self.rc_long[:, sl] += ref_cost
            if promo_week:
                self.p_promo[:, sl] += k
        self.failures[sl] += failed[0]
        self.cost_total[sl] += cost[0] + ref_cost[0]
        self.purchases_total[sl] += k[0]
        self.revenue_total[sl] += paid[0]
        first_year = tenure < 52
        self.margin_52[sl] += np.where(first_year, margin[0], 0)
        buyers = np.flatnonzero(k[0])
        del full_price
        return Week(buyers, k[0][buyers], paid[0][buyers].astype(np.float64),
                    margin[0][buyers].astype(np.float64))

    def _gross(self, t: int, k: np.ndarray, u_value: np.ndarray) -> np.ndarray:
        """Each world's revenue at full price: the week's j-th order has the same value in every world."""
        kmax = k.max(axis=0)
        b = np.flatnonzero(kmax)
        gross = np.zeros(k.shape, _F32)
        if not b.size:
            return gross
        spend = self.c.spend[b]
        first = self.values.first(u_value[b]) * spend
        kb = k[:, b]
        total = np.where(kb > 0, first, 0.0)
        many = kmax[b] > 1
        if many.any():
            extra = (kmax[b][many] - 1).astype(np.int64)
            vals = extra_orders(self.rng, t, self.s.gg_p, int(extra.sum())) * np.repeat(spend[many], extra)
            cum = np.concatenate([[0.0], np.cumsum(vals)])
            start = np.concatenate([[0], np.cumsum(extra)[:-1]])
            used = np.clip(kb[:, many].astype(np.int64) - 1, 0, extra)  # extra orders each world makes
            total[:, many] += cum[start + used] - cum[start]
        gross[:, b] = total
        return gross

    def _referrals(self, t: int, k: np.ndarray, u_ref: np.ndarray, window: bool) -> np.ndarray:
        """Referrals of the week in every referral world; returns the rewards paid (per referral world)."""
        s = self.s
        hi = k.shape[1]
        if self.W > 1:
            k = np.concatenate([k, k[:1]], axis=0)  # the referral world shares world 0's purchases
        on = self.on["referral"][:, :hi]
        q = np.full(k.shape, s.referral_rate, _F32)
        if window:
            boost = 1 + s.referral_response * s.referral_reward / (s.referral_reward + s.referral_half)
            q = np.where(on, _F32(min(s.referral_rate * boost, 1.0)), q)
        refer = (k > 0) & (u_ref < q)
        cost = np.zeros(k.shape, np.float64)
        if not refer.any() or t + 1 >= s.horizon_weeks:
            return cost
        count = self.ref_count[:, :hi]
        slot_ok = refer & (count < s.max_referrals)
        w, i = np.nonzero(slot_ok)
        self.ref_start[w, count[w, i], i] = t + 1
        self.ref_count[:, :hi] = count + slot_ok
        if window:
            cost = np.where(slot_ok & on, s.referral_reward, 0.0)
        return cost
