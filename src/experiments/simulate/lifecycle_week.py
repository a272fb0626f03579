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
    failure_hazard,
    first_failure,
    poisson_inverse,
    week_uniforms,
)
from experiments.simulate.lifecycle_settings import LEVERS, LifecycleSettings
from experiments.simulate.rewards import reward_response

__all__ = ["TRAJECTORY_LEVERS", "WORLDS", "Week", "WorldState", "flip_world"]

#: Levers that change how their customers buy or leave, each flipped in its own world.
TRAJECTORY_LEVERS: tuple[str, ...] = ("discount", "win_back", "messages", "loyalty", "recovery")
#: Worlds simulated in the window: the observed one and one per trajectory lever.
WORLDS: int = 1 + len(TRAJECTORY_LEVERS)
_REFERRAL_WORLDS = WORLDS + 1
_DISCOUNT, _WIN_BACK, _MESSAGES, _LOYALTY, _RECOVERY, _REFERRAL = (LEVERS.index(x) for x in (
    "discount", "win_back", "messages", "loyalty", "recovery", "referral"))
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
        self.fp = np.ones((1, m), _F32)  # full-price rate multiplier learned from promotions
        self.stocked = False
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
        # 0 never offered, 1 alive (dormant), 2 dropped out, 3 left after a failure
        self.lapse_reason = np.zeros(m, np.int8)
        self.failures = np.zeros(m, np.int32)
        self.offer_lapse = np.full(m, -1, np.int16)  # weeks since the last purchase at the offer
        self.margin_52 = np.zeros(m, np.float64)
        self.cost_total = np.zeros(m, np.float64)
        # what each lever spent on the customer (LEVERS order): discounts and coupons given, offers,
        # messages, rewards, recovery and referral rewards
        self.spend = np.zeros((len(LEVERS), m), np.float64)
        self.purchases_total = np.zeros(m, np.int32)
        self.revenue_total = np.zeros(m, np.float64)
        # lever on in each world: (world, customer), filled when the window opens
        self.on: dict[str, np.ndarray] = {lv: c.arms[lv][None, :] for lv in LEVERS}
        # per-customer constants of the levers
        self.loyal_w = (1.0 / (1.0 + c.rate / s.heavy_rate)).astype(_F32)
        g = reward_response(s.reward_rate, s.reward_scale)
        self.loyal_rate = (1.0 + s.loyalty_rate_lift * g * self.loyal_w).astype(_F32)
        self.loyal_drop = (1.0 - s.loyalty_dropout_cut * g * self.loyal_w).astype(_F32)
        self.h_buy = (-np.log1p(-c.dropout)).astype(_F32)
        self.rate32 = c.rate.astype(_F32)
        self.joiners = np.flatnonzero(c.would_join)  # positions that would join if offered
        # a member's extra (negative) hazard per purchase, her dropout cut by loyal_drop
        self.h_member_gap = (-np.log1p(-c.dropout * self.loyal_drop)).astype(_F32) - self.h_buy
        self.deal32 = c.deal.astype(_F32)
        self.budget32 = c.budget.astype(_F32)
        self.promo_gain = (s.promo_lift * s.discount_depth * c.deal).astype(_F32)
        # hazard of a failure (capped at 50: an Exp(1) budget above it has chance e^-50)
        self.h_fail = _F32(failure_hazard(s.failure_dropout))
        self.h_recovered = _F32(failure_hazard(s.failure_dropout * (1 - s.recovery_effect)))
        self.promo = set(s.campaign_start + w for w in s.promo_weeks)
        self.cadence = s.messages_per_month * 12.0 / 52.0

    # -- the window opens: copy the one world into all of them -----------------------------------
    def open_window(self) -> None:
        """Copy the single pre-window world into every world and set each world's levers."""
        W = WORLDS
        for name in ("alive", "hazard", "failed_exit", "last_buy", "fp", "stock", "subscribed",
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
        u_buy, u_value, u_fail, u_ref, u_unsub = week_uniforms(self.rng, t, hi, 5)
        alive = self.alive[:, sl]
        rate = self.rate32[sl] * self.fp[:, sl]
        cost = np.zeros(alive.shape, _F32) if window else None
        discount = None
        coupon_cut = None

        promo_week = window and t in self.promo
        if promo_week:
            on_d = self.on["discount"][:, sl]
            extra = rate * self.promo_gain[sl]
            extra *= on_d
            self.stock[:, sl] += extra * _F32(s.forward_share)
            rate += extra
            discount = on_d * _F32(s.discount_depth)

        if window:
            tenure = t - c.acq_week[sl]
            # win-back: offer once, at the start of the week, to customers lapsed lapse_weeks
            on_w = self.on["win_back"][:, sl]
            lapse = t - self.last_buy[:, sl]
            offer = on_w & (self.offer_week[:, sl] < 0) & (lapse >= s.lapse_weeks) & (tenure > 0)
            w, i = np.nonzero(offer)
            if w.size:
                lap = lapse[w, i]
                fade = np.exp((lap - s.lapse_weeks).astype(_F32) * _F32(-1 / s.win_back_decay))
                self.offer_week[w, i] = t
                self.coupon_lift[w, i] = _F32(s.win_back_lift) * fade
                cost[w, i] += _F32(s.win_back_cost)
                self.spend[_WIN_BACK, i[w == 0]] += s.win_back_cost
                was_alive, left_failed = alive[w, i], self.failed_exit[w, i]
                zero = w == 0
                self.lapse_reason[i[zero]] = np.where(was_alive[zero], 1, np.where(left_failed[zero], 3, 2))
                self.offer_lapse[i[zero]] = lap[zero]
                back = ~was_alive & left_failed & (c.revive[i] < s.win_back_revival * fade)
                w, i = w[back], i[back]
                alive[w, i] = True
                self.hazard[w, i] = 0
                self.failed_exit[w, i] = False

            # messages: regular cadence, check-ins, birthdays and anniversaries
            on_m = self.on["messages"][:, sl] & self.subscribed[:, sl]
            regular = int(np.floor((t - s.campaign_start + 1) * self.cadence)
                          - np.floor((t - s.campaign_start) * self.cadence))
            checkin = self.last_buy[:, sl] == t - 1
            special = (c.birthday[sl] == t % 52) | ((tenure > 0) & (tenure % 52 == 0))
            sent = (checkin + (special + regular).astype(_F32)) * on_m
            if s.message_diminishing < 1:
                d = s.message_diminishing
                gain_reg = s.message_lift * (1 - d ** regular) / (1 - d)
            else:
                gain_reg = s.message_lift * regular
            trig = self.trigger[:, sl]
            trig *= _F32(s.trigger_decay)
            trig += (checkin * _F32(s.checkin_lift) + special * _F32(s.birthday_lift)) * on_m
            fat = self.fatigue[:, sl]
            fat *= _F32(s.fatigue_decay)
            fat += sent
            over = np.maximum(fat - _F32(s.fatigue_free), _F32(0))
            mult = (_F32(1 + gain_reg) + trig) * np.exp(-_F32(s.fatigue_penalty) * over)
            rate *= 1 + on_m * (mult - 1)
            cost += sent * _F32(s.message_cost)
            self.spend[_MESSAGES, sl] += sent[0] * _F32(s.message_cost)
            tired = fat / _F32(s.fatigue_free)
            unsub = on_m & (u_unsub[sl] < _F32(s.unsubscribe_rate) * (1 + tired * tired) * sent)
            self.subscribed[:, sl] &= ~unsub

            # loyalty: members (offered and willing) buy more, faster near a reward, and drop out less
            jn = self.joiners[: np.searchsorted(self.joiners, hi)]
            member = self.on["loyalty"][:, jn]
            near = self.points[:, jn] * _F32(1 / s.reward_threshold)
            near = near * near * near
            rate[:, jn] *= 1 + member * (self.loyal_rate[jn] * (1 + _F32(s.goal_lift) * near) - 1)

        # a win-back coupon, while it lasts (it may run past the window)
        if s.campaign_start <= t < s.campaign_end + s.coupon_weeks:
            ow = self.offer_week[:, sl]
            coupon = (ow >= 0) & (t < ow + s.coupon_weeks)
            if coupon.any():
                rate *= 1 + self.coupon_lift[:, sl] * coupon
                coupon_cut = coupon * _F32(s.win_back_discount)
                discount = coupon_cut if discount is None else 1 - (1 - discount) * (1 - coupon_cut)

        # the stockpile of earlier promotions pays back out of this week's rate
        if not promo_week and self.stocked:
            stock = self.stock[:, sl]
            dip = np.minimum(stock, rate * _F32(s.dip_limit))
            rate -= dip
            stock -= dip
            stock *= alive

        # purchases: new customers make their first one, the others buy at their rate while alive
        rate *= alive
        rate[:, lo:hi] = 0
        k = poisson_inverse(u_buy[sl], rate)
        k[:, lo:hi] = 1
        bought = k > 0
        gross = self._gross(t, k, u_value[sl])
        if discount is None:
            paid = gross
            margin = gross * _F32(s.gross_margin)
        else:
            paid = gross * (1 - discount)
            margin = gross * (_F32(s.gross_margin) - discount)

        if window:
            pts = self.points[:, jn] + paid[:, jn] * member * _F32(s.reward_rate)
            rewards = np.floor(pts / _F32(s.reward_threshold))
            self.points[:, jn] = pts - rewards * _F32(s.reward_threshold)
            redeemed = rewards * _F32(s.reward_threshold * s.redemption_rate)
            cost[:, jn] += redeemed
            self.spend[_LOYALTY, jn] += redeemed[0]

        # service failures, recovery and dropout
        failed = k >= first_failure(u_fail[sl], s.failure_rate)
        fail_hazard = failed * self.h_fail
        if window:
            recovered = failed & self.on["recovery"][:, sl]
            cost += recovered * _F32(s.recovery_cost)
            self.spend[_RECOVERY, sl] += recovered[0] * _F32(s.recovery_cost)
            fail_hazard -= recovered * (self.h_fail - self.h_recovered)
        repeat = k.astype(_F32)
        repeat[:, lo:hi] -= 1
        hazard = self.hazard[:, sl]
        hazard += repeat * self.h_buy[sl]
        if window:  # members drop out less
            hazard[:, jn] += repeat[:, jn] * member * self.h_member_gap[jn]
        hazard += fail_hazard
        died = alive & (hazard > self.budget32[sl])
        alive &= ~died
        exit_ = self.failed_exit[:, sl]
        exit_ &= ~died
        exit_ |= died & failed
        np.maximum(self.last_buy[:, sl], bought * np.int16(t), out=self.last_buy[:, sl])

        # what promotions teach: established customers wait for deals, new ones form a habit
        if promo_week:
            tenure32 = tenure.astype(_F32)
            est = tenure32 / (tenure32 + _F32(s.tenure_half))
            depth = _F32(s.discount_depth)
            learn = _F32(s.deal_learning) * depth * self.deal32[sl] * est
            habit = _F32(s.new_customer_gain) * depth * (1 - est)
            self.fp[:, sl] *= np.exp((habit * bought - learn) * on_d)
            self.stocked = True

        ref_cost = self._referrals(t, bought, u_ref[sl], window)

        if counted:
            if t < s.campaign_end:
                self.p_short[:, sl] += k
                self.v_short[:, sl] += margin
                self.v_short[:, sl] -= cost
                if ref_cost is not None:
                    self.rc_short[:, sl] += ref_cost
            self.p_long[:, sl] += k
            self.v_long[:, sl] += margin
            if cost is not None:
                self.v_long[:, sl] -= cost
            if ref_cost is not None:
                self.rc_long[:, sl] += ref_cost
            if promo_week:
                self.p_promo[:, sl] += k
        k0, paid0, margin0 = k[0], paid[0], margin[0]
        self.failures[sl] += failed[0]
        if cost is not None:
            self.cost_total[sl] += cost[0]
        if ref_cost is not None:
            self.cost_total[sl] += ref_cost[0]
            self.spend[_REFERRAL, sl] += ref_cost[0]
        promo_cut = on_d[0] * _F32(s.discount_depth) if promo_week else 0
        if promo_week:
            self.spend[_DISCOUNT, sl] += gross[0] * promo_cut
        if coupon_cut is not None:
            self.spend[_WIN_BACK, sl] += gross[0] * (1 - promo_cut) * coupon_cut[0]
        self.purchases_total[sl] += k0
        self.revenue_total[sl] += paid0
        self.margin_52[sl] += margin0 * (c.acq_week[sl] > t - 52)
        buyers = np.flatnonzero(k0)
        return Week(buyers, k0[buyers], paid0[buyers].astype(np.float64), margin0[buyers].astype(np.float64))

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

    def _referrals(self, t: int, bought: np.ndarray, u_ref: np.ndarray, window: bool) -> np.ndarray:
        """Referrals of the week in every referral world; returns the rewards paid (per referral world,
        ``None`` outside the window, when none are paid)."""
        s = self.s
        hi = bought.shape[1]
        rewarded = s.referral_rate
        if window:
            boost = 1 + s.referral_response * s.referral_reward / (s.referral_reward + s.referral_half)
            rewarded = min(s.referral_rate * boost, 1.0)
        cost = np.zeros((self.ref_count.shape[0], hi), np.float64) if window else None
        if t + 1 >= s.horizon_weeks:
            return cost
        cand = np.flatnonzero((u_ref < max(rewarded, s.referral_rate)) & bought.any(axis=0))
        if not cand.size:
            return cost
        b = bought[:, cand]
        if self.W > 1:  # the referral world: world 0's purchases, the referral lever flipped
            b = np.concatenate([b, b[:1]], axis=0)
        on = self.on["referral"][:, cand]
        u = u_ref[cand]
        refer = b & np.where(on & window, u < rewarded, u < s.referral_rate)
        w, j = np.nonzero(refer)
        i = cand[j]
        count = self.ref_count[w, i]
        ok = count < s.max_referrals
        w, i, count = w[ok], i[ok], count[ok]
        self.ref_start[w, count, i] = t + 1
        self.ref_count[w, i] = count + 1
        if window:
            cost[w, i] = np.where(self.on["referral"][w, i], s.referral_reward, 0.0)
        return cost
