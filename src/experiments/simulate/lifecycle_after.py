"""After the levers' window: only the worlds that still differ are simulated.

Once the window closes no lever acts, so a world whose state (alive, hazard, learned full-price rate,
stockpile, win-back coupon, referral count) equals world 0's for a customer stays equal to it: the
same uniforms give the same purchases. Each customer is then simulated once in world 0, and once more
in each world where her state differs (a *life*: a world and a customer, all lives in one flat array),
which after a typical window is a third of the work of every world for every customer. At the end the
lives' sums are handed back to the worlds: a world that did not differ takes world 0's.
"""

from __future__ import annotations

import numpy as np

from experiments.simulate.lifecycle_acquire import extra_orders, first_failure, poisson_inverse, week_uniforms
from experiments.simulate.lifecycle_settings import LEVERS
from experiments.simulate.lifecycle_week import WORLDS, Week, WorldState

__all__ = ["AfterWindow"]

_F32 = np.float32


class AfterWindow:
    """The lives still to simulate after the window, stepped week by week, then handed back."""

    def __init__(self, state: WorldState) -> None:
        self.state = st = state
        m = st.m
        # referral worlds: the trajectory worlds, then world 0 with its own referrals
        worlds = st.ref_count.shape[0]
        traj = [min(r, WORLDS - 1) if r < WORLDS else 0 for r in range(worlds)]
        # a customer dead in two worlds has the same (empty) future in both; a coupon that has
        # run out no longer matters
        cw = st.s.coupon_weeks
        running = st.offer_week + cw > st.s.campaign_end
        offer = np.where(running, st.offer_week, -1)
        lift = st.coupon_lift * running
        same = np.ones((WORLDS, m), bool)
        for a in (st.hazard, st.fp, st.stock, offer, lift):
            same &= a == a[:1]
        same |= ~st.alive[:1]  # dead in world 0 and (below) in the other
        same &= st.alive == st.alive[:1]
        owner_w, owner_c = [np.zeros(m, np.int8)], [np.arange(m)]
        self.shared = np.zeros((worlds, m), bool)  # worlds that take world 0's life (from world 1 on)
        for r in range(1, worlds):
            differ = ~same[traj[r]] | (st.ref_count[r] != st.ref_count[0])
            self.shared[r] = ~differ
            idx = np.flatnonzero(differ)
            owner_w.append(np.full(idx.size, r, np.int8))
            owner_c.append(idx)
        self.world = np.concatenate(owner_w)
        self.cust = cust = np.concatenate(owner_c)
        tw = np.asarray(traj)[self.world]
        self.traj = tw
        self.alive = st.alive[tw, cust]
        self.hazard = st.hazard[tw, cust]
        self.fp = st.fp[tw, cust]
        self.stock = st.stock[tw, cust]
        self.offer_week = st.offer_week[tw, cust]
        self.coupon_lift = st.coupon_lift[tw, cust]
        self.ref_count = st.ref_count[self.world, cust]
        c = st.c
        self.rate = st.rate32[cust]
        self.h_buy = st.h_buy[cust]
        self.budget = st.budget32[cust]
        self.acq = c.acq_week[cust]
        self.p_long = np.zeros(cust.size, np.int32)
        self.v_long = np.zeros(cust.size, np.float64)

    def step(self, t: int) -> Week:
        """Advance every life by week ``t`` (after the window); return world 0's purchases."""
        st, s = self.state, self.state.s
        m, cust = st.m, self.cust
        hi = int(st.c.arrivals[t])
        u = np.zeros((5, m), _F32)
        u[:, :hi] = week_uniforms(st.rng, t, hi, 5)
        u_buy, u_value, u_fail, u_ref = u[0], u[1], u[2], u[3]
        new = self.acq == t
        rate = self.rate * self.fp
        rate *= self.alive & (self.acq < t)
        discount = None
        if t < s.campaign_end + s.coupon_weeks:
            ow = self.offer_week
            coupon = (ow >= 0) & (t < ow + s.coupon_weeks)
            if coupon.any():
                rate *= 1 + self.coupon_lift * coupon
                discount = coupon * _F32(s.win_back_discount)
        if st.stocked:
            dip = np.minimum(self.stock, rate * _F32(s.dip_limit))
            rate -= dip
            self.stock -= dip
            self.stock *= self.alive
        k = poisson_inverse(u_buy[cust], rate)
        k[new] = 1
        gross = self._gross(t, k, u_value)
        if discount is None:
            paid = gross
            margin = gross * _F32(s.gross_margin)
        else:
            paid = gross * (1 - discount)
            margin = gross * (_F32(s.gross_margin) - discount)
        bought = k > 0
        failed = k >= first_failure(u_fail, s.failure_rate)[cust]
        repeat = k.astype(_F32)
        repeat -= new
        self.hazard += repeat * self.h_buy + failed * st.h_fail
        self.alive &= self.hazard <= self.budget

        if t + 1 < s.horizon_weeks:
            cand = np.flatnonzero(bought & (u_ref[cust] < s.referral_rate))
            count = self.ref_count[cand]
            ok = count < s.max_referrals
            cand, count = cand[ok], count[ok]
            st.ref_start[self.world[cand], count, cust[cand]] = t + 1
            self.ref_count[cand] = count + 1
            # worlds that share world 0's life share its referrals
            zero = cand < m
            i0, c0 = cand[zero], count[zero]
            w, j = np.nonzero(self.shared[:, i0])
            st.ref_start[w, c0[j], i0[j]] = t + 1

        if t < s.long_end:
            self.p_long += k
            self.v_long += margin
        k0, paid0, margin0 = k[:m], paid[:m], margin[:m]
        st.failures += failed[:m]
        if discount is not None:  # coupons given after the window
            st.spend[LEVERS.index("win_back")] += gross[:m] * discount[:m]
        st.purchases_total += k0
        st.revenue_total += paid0
        st.margin_52 += margin0 * (st.c.acq_week > t - 52)
        buyers = np.flatnonzero(k0)
        return Week(buyers, k0[buyers], paid0[buyers].astype(np.float64), margin0[buyers].astype(np.float64))

    def _gross(self, t: int, k: np.ndarray, u_value: np.ndarray) -> np.ndarray:
        """Each life's revenue at full price: the week's j-th order of a customer has the same value in
        every life of hers."""
        st = self.state
        gross = np.zeros(k.size, _F32)
        b = np.flatnonzero(k)
        if not b.size:
            return gross
        c = self.cust[b]
        spend = st.c.spend[c]
        total = st.values.first(u_value[c]) * spend
        several = k[b] > 1
        if several.any():
            kmax = np.zeros(st.m, np.int64)
            np.maximum.at(kmax, c[several], k[b][several])
            who = np.flatnonzero(kmax > 1)  # customers with extra orders, in order
            extra = kmax[who] - 1
            vals = extra_orders(st.rng, t, st.s.gg_p, int(extra.sum())) * np.repeat(st.c.spend[who], extra)
            cum = np.concatenate([[0.0], np.cumsum(vals)])
            start = np.zeros(st.m, np.int64)
            start[who] = np.concatenate([[0], np.cumsum(extra)[:-1]])
            cs = c[several]
            total[several] += cum[start[cs] + k[b][several] - 1] - cum[start[cs]]
        gross[b] = total
        return gross

    def finish(self) -> None:
        """Hand the lives' sums back to the worlds (a world that did not differ takes world 0's)."""
        st = self.state
        m = st.m
        d_p = np.repeat(self.p_long[None, :m], WORLDS, axis=0)
        d_v = np.repeat(self.v_long[None, :m], WORLDS, axis=0)
        rest = slice(m, None)
        w, c = self.world[rest], self.cust[rest]
        mine = w < WORLDS
        d_p[w[mine], c[mine]] = self.p_long[rest][mine]
        d_v[w[mine], c[mine]] = self.v_long[rest][mine]
        st.p_long += d_p
        st.v_long += d_v
        st.alive[0] = self.alive[:m]
        st.ref_count[self.world, self.cust] = self.ref_count
