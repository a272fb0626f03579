"""The loyalty simulator: reproducibility, the BTYD truth, potential outcomes, self-selection."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.special import expit, logit

from experiments.errors import ParameterError
from experiments.models.clv import fit_bgnbd
from experiments.simulate import loyalty
from experiments.simulate.blocks import CHUNK_SIZE, simulate_in_blocks
from experiments.simulate.loyalty import simulate_loyalty
from experiments.simulate.rewards import reward_response
from experiments.studies.loyalty.scenario import DEFAULTS, LoyaltyScenario

#: Levers that move nobody: rewards without lifts, messages without lifts or fatigue.
NO_MESSAGES = {"message_lift": 0.0, "birthday_lift": 0.0, "checkin_lift": 0.0}
NO_EFFECT = {"purchase_lift": 0, "dropout_reduction": 0, "tier_lift": 0, **NO_MESSAGES}


@pytest.fixture(scope="module")
def sim():
    return simulate_loyalty(LoyaltyScenario.from_params({"n_customers": 40_000, "seed": 3}))


def test_identical_whatever_the_block_size():
    s = LoyaltyScenario.from_params({"n_customers": 2 * CHUNK_SIZE + 500, "seed": 9})  # 3 chunks
    a = simulate_loyalty(s)
    b = simulate_loyalty(s, block_size=1, workers=2)
    assert a.customers.equals(b.customers) and a.purchases.equals(b.purchases)
    c = simulate_loyalty(s.replace(seed=10))
    assert not a.customers.equals(c.customers)


def test_potential_outcomes_are_consistent(sim):
    everyone = sim.customers
    # the observed net contribution is the potential one of the customer's own world
    net = everyone.select(
        pl.when(pl.col("member")).then(
            pl.when(pl.col("cell") == "neither").then(pl.col("net_neither"))
            .when(pl.col("cell") == "rewards").then(pl.col("net_rewards"))
            .when(pl.col("cell") == "messages").then(pl.col("net_messages"))
            .otherwise(pl.col("net_both"))
        ).otherwise(pl.col("net_without"))
        - ((pl.col("revenue") + pl.col("referred_revenue")) * sim.scenario.margin - pl.col("rewards_cost")
           - pl.col("message_cost") - pl.col("referrals") * sim.scenario.referral_bonus)
    )
    assert np.abs(net.to_numpy()).max() < 1e-9
    assert everyone.filter(~pl.col("member"))["message_cost"].max() == 0
    assert everyone.filter(pl.col("cell").is_in(["neither", "messages"]))["rewards_cost"].max() == 0
    assert everyone.filter(pl.col("cell").is_in(["neither", "rewards"]))["messages_sent"].max() == 0
    c = sim.programme().customers
    assert (c["purchases_with"] >= c["purchases_without"]).all()
    same = c.filter(~pl.col("would_join"))
    assert (same["revenue_with"] == same["revenue_without"]).all()
    obs = c.select(
        pl.when(pl.col("member")).then(pl.col("revenue_with")).otherwise(pl.col("revenue_without"))
        - pl.col("revenue")
    )
    assert np.abs(obs.to_numpy()).max() < 1e-9
    assert not c.filter(pl.col("arm") == "control")["member"].any()
    # the purchase log adds up to the customer table
    per = sim.purchases.group_by("customer_id").agg(pl.col("purchases", "revenue", "referred_revenue").sum())
    joined = everyone.join(per, on="customer_id", how="left", suffix="_log").fill_null(0)
    assert (joined["purchases"] == joined["purchases_log"]).all()
    np.testing.assert_allclose(joined["revenue"], joined["revenue_log"], atol=1e-6)
    np.testing.assert_allclose(joined["referred_revenue"], joined["referred_revenue_log"], atol=1e-6)
    assert (c["frequency_cal"] + c["purchases_holdout"] == c["purchases"]).all()
    assert (c["recency_cal"] <= c["T_cal"]).all()


def test_selection_makes_members_look_better_than_the_effect(sim):
    c, truth = sim.programme().customers, sim.truth()
    off = c.filter(pl.col("offered"))
    gap = off.filter(pl.col("member"))["revenue"].mean() - off.filter(~pl.col("member"))["revenue"].mean()
    assert gap > 3 * truth["member_revenue_effect"] > 0
    assert 0.25 < truth["join_share"] < 0.6


def test_control_arm_is_bgnbd_with_the_scenario_parameters():
    s = LoyaltyScenario.from_params({"n_customers": 60_000, "seed": 5, "offer_share": 0.01})
    c = simulate_loyalty(s).customers.filter(pl.col("arm") == "control")
    fit = fit_bgnbd(c["frequency_cal"], c["recency_cal"], c["T_cal"])
    assert fit.r == pytest.approx(s.bgnbd_r, rel=0.1)
    assert fit.alpha == pytest.approx(s.bgnbd_alpha, rel=0.1)
    assert fit.a == pytest.approx(s.bgnbd_a, rel=0.2)
    assert fit.b == pytest.approx(s.bgnbd_b, rel=0.2)


def test_no_effect_means_no_difference():
    s = LoyaltyScenario.from_params(
        {"n_customers": 5_000, **NO_EFFECT}
    )
    c = simulate_loyalty(s).customers
    assert (c["revenue_with"] == c["revenue_without"]).all()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n_customers", -5),
        ("period", "month"),
        ("calibration_periods", 52),
        ("join_rate", 1.0),
        ("gold_threshold", 50.0),
        ("margin", 1.5),
        ("offer_share", 0),
    ],
)
def test_bad_parameters(name, value):
    with pytest.raises(ParameterError, match=name):
        LoyaltyScenario.from_params({name: value})
    with pytest.raises(ParameterError, match=r"unknown_name|known parameter"):
        LoyaltyScenario.from_params({"unknown_name": 1})


def test_defaults_round_trip():
    s = LoyaltyScenario.from_params({})
    assert s.to_params() == {**DEFAULTS, **s.to_params()} and s.replace(seed=1).seed == 1
    assert LoyaltyScenario.from_params({"period": "day"}).alpha_per_period == pytest.approx(4.414 * 7)


def _reference_chunk(s: LoyaltyScenario):
    """The simulator period by period (its earlier form): Poisson purchases per period while alive,
    extra programme purchases at the tier of the period, order values split by Beta when the programme
    world makes fewer purchases. Customers draw the same traits as in the simulator."""

    def chunk(rng: np.random.Generator, start: int, stop: int) -> pl.DataFrame:
        n = stop - start
        lam = rng.gamma(s.bgnbd_r, 1.0 / s.alpha_per_period, n)
        lam_week = lam / s.weeks_per_period
        drop = rng.beta(s.bgnbd_a, s.bgnbd_b, n)
        nu = rng.gamma(s.gg_q, 1.0 / s.gg_v, n)
        offered = rng.random(n) < s.offer_share
        z = loyalty._loyalty_z(np.maximum(lam_week, 1e-300), drop, s)
        would_join = rng.random(n) < expit(logit(s.join_rate) + s.join_selection * z)
        u_death = rng.random(n)
        weight = 1.0 / (1.0 + lam_week / s.heavy_rate)
        d_without = loyalty._geometric_count(u_death, drop)
        g = 1.0 - np.exp(-s.reward_rate / s.reward_scale)  # share of the most lift the rewards buy
        d_with = loyalty._geometric_count(u_death, drop * (1.0 - g * s.dropout_reduction * weight))
        base_mult = 1.0 + g * s.purchase_lift * weight  # messages move nobody here (NO_MESSAGES)
        member = offered & would_join
        cum_b, cum_p, cum_obs, n_cal, cells = (np.zeros(n, np.int64) for _ in range(5))
        rev_b, rev_p, rew_p, last_t = (np.zeros(n) for _ in range(4))
        ref_p, tier = np.zeros(n, np.int64), np.zeros(n, np.int64)
        for j in range(s.horizon):
            k = rng.poisson(lam)
            alive_b, alive_p = cum_b < d_without, would_join & (cum_p < d_with)
            mb = np.where(alive_b, np.minimum(k, d_without - cum_b), 0)
            rb = np.zeros(n)
            rb[mb > 0] = rng.gamma(s.gg_p * mb[mb > 0], 1.0 / nu[mb > 0])
            kp = k + rng.poisson(lam * (base_mult * (1.0 + g * s.tier_lift * tier) - 1.0))
            mp = np.where(alive_p, np.minimum(kp, d_with - cum_p), 0)
            rp = rb.copy()
            more, fewer = mp > mb, (mp < mb) & (mp > 0)
            rp[more] += rng.gamma(s.gg_p * (mp[more] - mb[more]), 1.0 / nu[more])
            rp[fewer] *= rng.beta(s.gg_p * mp[fewer], s.gg_p * (mb[fewer] - mp[fewer]))
            rp[mp == 0] = 0.0
            rp[~would_join], mp[~would_join] = 0.0, 0
            rew_p += s.redemption_rate * s.reward_rate * (1.0 + s.tier_reward_boost * tier) * rp
            ref_p += rng.poisson(s.referral_rate * mp)
            cum_b += mb
            rev_b += rb
            cum_p += mp
            rev_p += rp
            tier = (rev_p >= s.silver_threshold).astype(np.int64) + (rev_p >= s.gold_threshold)
            m, kk = np.where(member, mp, mb), np.where(member, kp, k)
            bought = m > 0
            last_t[bought] = j + rng.beta(m[bought], kk[bought] - m[bought] + 1)
            cum_obs += m
            cells += bought
            if j < s.calibration_periods:
                n_cal += m
        return pl.DataFrame({
            "purchases_without": cum_b, "purchases_with": np.where(would_join, cum_p, cum_b),
            "revenue_without": rev_b, "revenue_with": np.where(would_join, rev_p, rev_b),
            "rewards_cost_with": np.where(would_join, rew_p, 0.0),
            "referrals_with": np.where(would_join, ref_p, 0),
            "alive_without": cum_b < d_without,
            "alive_with": np.where(would_join, cum_p < d_with, cum_b < d_without),
            "tier_with": np.where(would_join, tier, 0), "purchases": cum_obs, "frequency_cal": n_cal,
            "last_purchase": last_t, "purchase_periods": cells,
        })

    return chunk


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"tier_lift": 1.5, "silver_threshold": 30.0, "gold_threshold": 90.0, "tier_reward_boost": 1.0},
        {"period": "day", "horizon": 90, "calibration_periods": 45, "lapse_periods": 30},
    ],
)
def test_same_distribution_as_the_period_by_period_simulation(params):
    """Customers share their traits in both simulations, so per-customer differences are only due to
    the purchase process: their mean must be zero within sampling error (|z| < 4.5). The reference
    knows one programme, so messages move nobody here and observed outcomes are compared where the
    customer is no member or a member offered both levers."""
    s = LoyaltyScenario.from_params({"n_customers": 80_000, "seed": 21, **NO_MESSAGES, **params})
    sim = simulate_loyalty(s)
    new = sim.customers.with_columns(
        tier_with=pl.when(pl.col("would_join")).then(
            (pl.col("revenue_with") >= s.silver_threshold).cast(pl.Int64)
            + (pl.col("revenue_with") >= s.gold_threshold)
        ).otherwise(0),
    )
    per = sim.purchases.group_by("customer_id").agg(purchase_periods=pl.len())
    new = new.join(per, on="customer_id", how="left").with_columns(pl.col("purchase_periods").fill_null(0))
    ref = simulate_in_blocks(_reference_chunk(s), n=s.n_customers, seed=s.seed, stream=loyalty.STREAM)
    same_world = (~new["member"] | (new["cell"] == "both")).to_numpy()
    for name in ref.columns:
        d = new[name].cast(pl.Float64).to_numpy() - ref[name].cast(pl.Float64).to_numpy()
        if name in ("purchases", "frequency_cal", "last_purchase", "purchase_periods"):
            d = d[same_world]
        z = d.mean() / (d.std() / np.sqrt(d.size))
        assert abs(z) < 4.5, (name, new[name].cast(pl.Float64).mean(), ref[name].cast(pl.Float64).mean())


def test_tier_path_is_the_sequential_one():
    """Three vectorised passes give exactly what a customer-by-customer walk through time gives."""
    s = LoyaltyScenario.from_params({"n_customers": 100, "tier_lift": 2.0, "silver_threshold": 40.0,
                                     "gold_threshold": 120.0, "purchase_lift": 0.5})
    rng = np.random.default_rng(8)
    n = 3000
    lam = rng.gamma(0.6, 1 / 4.0, n) + 0.05
    nu = rng.gamma(s.gg_q, 1.0 / s.gg_v, n)
    base_mult = 1.0 + rng.random(n)
    d_with = rng.integers(1, 30, n)
    owner, t = loyalty._arrivals(rng, rng.poisson(lam * s.horizon), s.horizon)
    value = rng.gamma(s.gg_p, 1.0 / nu[owner])
    tier_lift = s.tier_lift * reward_response(s.reward_rate, s.reward_scale)
    top = base_mult * (1.0 + 2.0 * tier_lift) * 1.3
    events = loyalty._Events(rng, s, lam, nu, top, owner, t, value)
    until = rng.exponential(s.horizon, n)  # unsubscribing half-way, on average
    prog = loyalty._Programme(events, s, base_mult, tier_lift, d_with, 1.3, until)
    keep_at = [prog.keep(np.full(prog.owner.size, k)) for k in range(3)]
    assert (keep_at[0] <= keep_at[1]).all() and (keep_at[1] <= keep_at[2]).all()  # nested by tier
    assert (prog.ev.kind == loyalty._CHECKIN).any() and (prog.ev.kind == loyalty._BIRTHDAY).any()
    bought, tier = np.zeros_like(prog.bought), np.zeros_like(prog.tier)
    kept = np.zeros_like(prog.bought)
    child = prog.ev.kind == loyalty._CHECKIN
    for o in range(n):
        spend, count, period, level = 0.0, 0, -1, 0
        for i in np.flatnonzero(prog.owner == o):
            if prog.period[i] != period:  # the tier of a period: the level of the spend before it
                period = prog.period[i]
                level = int(spend >= s.silver_threshold) + int(spend >= s.gold_threshold)
            tier[i] = level
            # an after-sale event happens when its parent did (at the parent's own tier)
            kept[i] = kept[prog.ev.parent[i]] and keep_at[2][i] if child[i] else keep_at[level][i]
            if kept[i]:
                count += 1
                if count <= d_with[o]:
                    bought[i] = True
                    spend += prog.value[i]
    assert tier.max() == 2 and (tier == 1).any()
    np.testing.assert_array_equal(prog.tier, tier)
    np.testing.assert_array_equal(prog.bought, bought)
