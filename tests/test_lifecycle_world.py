"""The lifecycle world: every lever moves its truth the way its mechanism says, the truth is consistent
with what is observed, and the tables do not depend on the block size, the workers or anything but the
seed."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import special, stats

from experiments.errors import ParameterError
from experiments.simulate.blocks import CHUNK_SIZE
from experiments.simulate.lifecycle import (
    HORIZONS,
    LEVERS,
    LifecycleSettings,
    LifecycleSimulation,
    simulate_lifecycle,
    truth_column,
    write_lifecycle,
)
from experiments.simulate.lifecycle_acquire import (
    OrderValues,
    first_failure,
    poisson_inverse,
    simulate_referred,
)
from experiments.simulate.lifecycle_settings import Source

# A smaller world than the default (fewer weeks and customers), the levers at their defaults.
SMALL = LifecycleSettings(n_customers=30_000, horizon_weeks=78, acquisition_weeks=40, campaign_start=20,
                          campaign_weeks=20, long_weeks=38)
# A tiny one for the layout tests: two chunks, the second one short.
TINY = LifecycleSettings(n_customers=CHUNK_SIZE + 1_500, horizon_weeks=24, acquisition_weeks=10,
                         campaign_start=6, campaign_weeks=8, long_weeks=10, promo_weeks=(1, 4), lapse_weeks=4)
# One short chunk of it, for the tests that need no layout.
ONE = replace(TINY, n_customers=20_000)


@lru_cache(maxsize=4)
def _sim(settings: LifecycleSettings, seed: int = 3) -> LifecycleSimulation:
    return simulate_lifecycle(settings, seed=seed)


def _run(settings: LifecycleSettings, seed: int = 3) -> pl.DataFrame:
    return _sim(settings, seed).customers.filter(pl.col("in_experiment"))


def _effect(lever: str, measure: str = "value", horizon: str = "long") -> pl.Expr:
    return (pl.col(truth_column(measure, horizon, lever, "on"))
            - pl.col(truth_column(measure, horizon, lever, "off"))).mean()


def _mean_effect(settings: LifecycleSettings, lever: str, measure: str = "value", horizon: str = "long",
                 where: pl.Expr | None = None) -> float:
    c = _run(settings)
    if where is not None:
        c = c.filter(where)
    return float(c.select(_effect(lever, measure, horizon)).item())


# -- helpers against their references -------------------------------------------------------------

def test_poisson_inverse_matches_scipy_ppf():
    rng = np.random.default_rng(0)
    u = rng.random(20_000, dtype=np.float32)
    rate = rng.gamma(0.5, 2.0, 20_000).astype(np.float32)
    k = poisson_inverse(u, rate)
    ref = stats.poisson.ppf(u.astype(np.float64), rate.astype(np.float64))  # scipy's inverse CDF
    # equal except where float32 rounding puts u on a step of the CDF (a few in 10,000)
    assert np.mean(k == ref) > 0.999 and np.all(np.abs(k - ref) <= 1)
    # common random numbers: a higher rate never gives fewer purchases for the same uniform
    assert np.all(poisson_inverse(u, rate * 1.5) >= k)


def test_order_values_follow_scipy_gamma_quantiles():
    values = OrderValues(6.25)  # the CDNOW Gamma-Gamma shape (Fader & Hardie)
    u = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
    np.testing.assert_allclose(values.first(u), stats.gamma.ppf(u, 6.25), rtol=2e-3)


def test_first_failure_is_the_direct_rule():
    rng = np.random.default_rng(1)
    u = rng.random(50_000, dtype=np.float32)
    f = 0.05
    kf = first_failure(u, f)
    for k in range(1, 6):
        direct = u < 1 - (1 - f) ** k
        assert np.mean((k >= kf) == direct) > 0.9995


def test_no_lever_world_buys_as_bgnbd_says():
    """With every lever off, no failures and one source of CDNOW customers, repeat purchases in a
    customer's first 26 weeks match the BG/NBD expectation E[X(t)] of Fader, Hardie & Lee (2005, eq. 9)
    with the CDNOW parameters, within four standard errors of the simulated mean plus 1% (a customer
    finishes the week she drops out in, a little above the continuous model)."""
    s = replace(SMALL, n_customers=60_000, sources=(Source("cdnow", 1.0, 0.0),), failure_rate=0.0,
                referral_rate=0.0, **{f"{lv}_share": 0.0 for lv in LEVERS})
    sim = simulate_lifecycle(s, seed=11)
    t = 26
    first = sim.customers.filter(pl.col("acquisition_week") <= s.horizon_weeks - 1 - t).select(
        "customer_id", "acquisition_week")
    repeat = (sim.purchases.join(first, on="customer_id")
              .filter((pl.col("week") > pl.col("acquisition_week"))
                      & (pl.col("week") <= pl.col("acquisition_week") + t))
              .group_by("customer_id").agg(pl.col("purchases").sum()))
    x = first.join(repeat, on="customer_id", how="left")["purchases"].fill_null(0).to_numpy()
    r, alpha, a, b = s.bgnbd_r, s.bgnbd_alpha, s.bgnbd_a, s.bgnbd_b
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r
                                         * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    se = x.std() / np.sqrt(x.size)
    assert abs(x.mean() - expected) < 4 * se + 0.01 * expected


# -- settings --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "name"), [
    ({"discount_depth": 1.5}, "discount_depth"),
    ({"n_customers": 0}, "n_customers"),
    ({"long_weeks": 80}, "long_weeks"),
    ({"promo_weeks": (30,)}, "promo_weeks"),
    ({"reward_rate": -0.1}, "reward_rate"),
    ({"gg_q": 1.0}, "gg_q"),
    ({"sources": (Source("referral", 1.0, 1.0),)}, "sources"),
    ({"bgnbd_r": float("nan")}, "bgnbd_r"),
])
def test_bad_settings_name_the_parameter(change, name):
    with pytest.raises(ParameterError, match=name):
        replace(SMALL, **change)


def test_bad_seed_is_refused():
    with pytest.raises(ParameterError, match="seed"):
        simulate_lifecycle(ONE, seed=-1)


# -- layout, seed, consistency ---------------------------------------------------------------------

def test_tables_do_not_depend_on_blocks_or_workers(tmp_path: Path):
    one = simulate_lifecycle(TINY, seed=5, block_size=CHUNK_SIZE, workers=1)
    # the streamed parquet files are the same tables, byte for byte whatever the blocks and workers
    digests = []
    for k, (block, workers) in enumerate([(CHUNK_SIZE, 2), (2 * CHUNK_SIZE, 1)]):
        paths = {"customers": tmp_path / f"c{k}.parquet", "purchases": tmp_path / f"p{k}.parquet"}
        rows = write_lifecycle(TINY, paths, seed=5, block_size=block, workers=workers)
        assert rows == {"customers": one.customers.height, "purchases": one.purchases.height}
        digests.append([hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.values()])
        assert pl.read_parquet(paths["customers"]).equals(one.customers)
        assert pl.read_parquet(paths["purchases"]).equals(one.purchases)
    assert digests[0] == digests[1]


def test_seed_decides_everything():
    a = simulate_lifecycle(ONE, seed=5)
    again = simulate_lifecycle(ONE, seed=5)
    assert a.customers.equals(again.customers) and a.purchases.equals(again.purchases)
    assert not a.customers.equals(simulate_lifecycle(ONE, seed=6).customers)


def test_observed_outcome_is_the_assigned_arms_potential_outcome():
    sim = simulate_lifecycle(ONE, seed=5)
    c = sim.customers.filter(pl.col("in_experiment"))
    for lever in LEVERS:
        side = pl.col(f"arm_{lever}")
        for h in HORIZONS:
            for measure in ("value", "purchases"):
                on, off = (pl.col(truth_column(measure, h, lever, x)) for x in ("on", "off"))
                mismatch = c.filter(pl.when(side).then(on).otherwise(off) != pl.col(f"{measure}_{h}"))
                assert mismatch.height == 0, (lever, h, measure)
    # the summary is the means of the truth columns
    summary = sim.lever_truth().filter((pl.col("lever") == "loyalty") & (pl.col("horizon") == "long")
                                       & (pl.col("measure") == "value"))
    assert summary["effect"].item() == pytest.approx(c.select(_effect("loyalty")).item(), rel=1e-9)
    # a lever spends nothing on its holdout, and something on its arm; its spend is in the costs
    for lever in LEVERS:
        spend = c.group_by(f"arm_{lever}").agg(pl.col(f"spend_{lever}").sum())
        by_arm = dict(zip(spend[f"arm_{lever}"], spend[f"spend_{lever}"], strict=True))
        assert by_arm[False] == 0 and by_arm[True] > 0, lever
    given = pl.sum_horizontal(pl.col(f"spend_{lever}") for lever in LEVERS)
    assert c.filter(pl.col("lever_cost") > given + 1e-6).height == 0
    # the purchases table is the observed world: it adds up to each customer's purchases and revenue
    sums = sim.purchases.group_by("customer_id").agg(pl.col("purchases").sum().alias("p"),
                                                     pl.col("revenue").sum().alias("r"))
    both = sim.customers.join(sums, on="customer_id", how="left").with_columns(pl.col("p").fill_null(0))
    assert (both["p"] == both["purchases"]).all()
    assert np.allclose(both["r"].fill_null(0.0).to_numpy(), both["revenue"].to_numpy(), rtol=1e-6)
    # every acquired customer buys in her acquisition week; referred ones arrive after their referrer
    first = sim.purchases.group_by("customer_id").agg(pl.col("week").min())
    joined = sim.customers.join(first, on="customer_id")
    assert (joined["week"] == joined["acquisition_week"]).all()
    ref = sim.customers.filter(pl.col("referred")).join(
        sim.customers.select(pl.col("customer_id").alias("referrer_id"),
                             pl.col("acquisition_week").alias("referrer_week")), on="referrer_id")
    assert ref.height > 0 and (ref["acquisition_week"] > ref["referrer_week"]).all()


@pytest.mark.parametrize(("lever", "null"), [
    ("discount", {"discount_depth": 0.0, "promo_lift": 0.0}),
    ("win_back", {"win_back_cost": 0.0, "win_back_lift": 0.0, "win_back_revival": 0.0,
                  "win_back_discount": 0.0}),
    ("messages", {"messages_per_month": 0.0, "checkin_lift": 0.0, "birthday_lift": 0.0, "message_cost": 0.0,
                  "unsubscribe_rate": 0.0, "fatigue_penalty": 0.0}),
    ("loyalty", {"reward_rate": 0.0, "goal_lift": 0.0}),
    ("recovery", {"recovery_effect": 0.0, "recovery_cost": 0.0}),
    ("referral", {"referral_reward": 0.0}),
])
def test_a_lever_without_strength_or_cost_changes_nobody(lever, null):
    """Common random numbers: with nothing to act through, on and off are the same world, exactly."""
    c = _run(replace(ONE, **null))
    for h in HORIZONS:
        for measure in ("value", "purchases"):
            on, off = (c[truth_column(measure, h, lever, x)] for x in ("on", "off"))
            assert (on == off).all(), (lever, h, measure)


# -- the levers' mechanisms ------------------------------------------------------------------------

def test_discount_moves_purchases_in_time_and_teaches_established_customers_to_wait():
    established = pl.col("acquisition_week") <= SMALL.campaign_start - 13
    new = pl.col("acquisition_week") >= SMALL.campaign_start - 2
    after = (pl.col(truth_column("purchases", "long", "discount", "on"))
             - pl.col(truth_column("purchases", "short", "discount", "on"))
             - pl.col(truth_column("purchases", "long", "discount", "off"))
             + pl.col(truth_column("purchases", "short", "discount", "off"))).mean()
    promo, dip, after_est, after_new = [], [], [], []
    for depth in (0.1, 0.3):
        c = _run(replace(SMALL, discount_depth=depth))
        on_p, off_p = (pl.col(f"purchases_promo__discount_{x}") for x in ("on", "off"))
        promo.append(c.select((on_p - off_p).mean()).item())
        rest = (pl.col(truth_column("purchases", "short", "discount", "on")) - on_p
                - pl.col(truth_column("purchases", "short", "discount", "off")) + off_p)
        dip.append(c.select(rest.mean()).item())
        after_est.append(c.filter(established).select(after).item())
        after_new.append(c.filter(new).select(after).item())
    # deeper discount: more purchases in the promotion weeks, fewer in the window's other weeks
    assert 0 < promo[0] < promo[1]
    assert dip[1] < 0 and dip[0] < 0
    # after the window: established customers buy less at full price, more so after deeper discounts;
    # new customers lose less (Anderson & Simester 2004: their later purchases rise with the depth)
    assert after_est[1] < after_est[0] < 0
    assert after_new[1] > after_est[1] and after_new[1] > after_new[0]
    # the margin given away on purchases that would have happened makes the discount lose money
    assert _mean_effect(replace(SMALL, discount_depth=0.3), "discount", horizon="short") < 0


def test_win_back_works_on_the_dormant_and_the_failed_never_on_the_dropped_out():
    s = replace(SMALL, horizon_weeks=78, acquisition_weeks=30, campaign_start=50, campaign_weeks=8,
                long_weeks=20, promo_weeks=(1,))
    c = _run(s).filter(pl.col("arm_win_back") & pl.col("win_back_offered"))
    by = {r["lapse_reason"]: r for r in c.group_by("lapse_reason").agg(
        _effect("win_back", "purchases").alias("p"), _effect("win_back").alias("v"), pl.len()
    ).iter_rows(named=True)}
    # silently dropped out: unreachable, the offer only costs
    assert by["dropped_out"]["p"] == 0 and by["dropped_out"]["v"] == pytest.approx(-s.win_back_cost)
    assert by["dormant"]["p"] > 0 and by["left_after_failure"]["p"] > 0
    # the longer ago the lapse, the less it brings back
    dormant = c.filter(pl.col("lapse_reason") == "dormant")
    lapse = pl.col("win_back_lapse_weeks")
    recent = dormant.filter(lapse == s.lapse_weeks).select(_effect("win_back", "purchases"))
    old = dormant.filter(lapse >= s.lapse_weeks + 20).select(_effect("win_back", "purchases"))
    assert recent.item() > old.item() > 0


def test_message_cadence_unsubscribes_and_has_an_interior_optimum():
    cadences = (0.5, 4.0, 16.0)
    value = [_mean_effect(replace(SMALL, messages_per_month=m), "messages") for m in cadences]
    unsub = [_run(replace(SMALL, messages_per_month=m)).filter(pl.col("arm_messages"))["unsubscribed"].mean()
             for m in cadences]
    assert unsub[0] < unsub[1] < unsub[2]
    assert value[1] > value[0] and value[1] > value[2]
    assert value[2] < 0  # past the fatigue, more messages lose money
    # unsubscribed customers get no more messages: none in the holdout
    assert not _run(SMALL).filter(~pl.col("arm_messages"))["unsubscribed"].any()


def test_reward_rate_has_an_interior_optimum_and_members_self_select():
    rates = (0.01, SMALL.reward_rate, 0.16)
    value = [_mean_effect(replace(SMALL, reward_rate=r), "loyalty") for r in rates]
    assert value[1] > value[0] and value[1] > value[2]
    assert value[2] < 0  # generous rewards cost more than the behaviour they buy
    c = _run(SMALL)
    # the heavier buyers join, so members vs offered non-members overstates the programme's effect
    offered = c.filter(pl.col("arm_loyalty"))
    naive = (offered.filter(pl.col("member"))["purchases_long"].mean()
             - offered.filter(~pl.col("member"))["purchases_long"].mean())
    true = c.filter(pl.col("would_join")).select(_effect("loyalty", "purchases")).item()
    assert naive > 3 * true > 0


def test_recovery_keeps_customers_after_failures():
    failed = pl.col("failures") > 0
    gain = [_mean_effect(replace(SMALL, recovery_effect=e), "recovery", "purchases", where=failed)
            for e in (0.3, 0.9)]
    assert 0 < gain[0] < gain[1]
    # customers who never fail are not touched by it
    untouched = _run(SMALL).filter(pl.col("failures") == 0)
    assert untouched.select(_effect("recovery", "purchases")).item() >= 0


def test_referral_reward_brings_more_and_more_valuable_customers():
    c = _run(SMALL)
    on = c.filter(pl.col("arm_referral"))["referrals"].mean()
    off = c.filter(~pl.col("arm_referral"))["referrals"].mean()
    assert on > 1.2 * off
    more = _run(replace(SMALL, referral_reward=40.0))
    assert more.filter(pl.col("arm_referral"))["referrals"].mean() > on
    # referred customers are worth more than comparable non-referred ones (Schmitt, Skiera & Van den
    # Bulte 2011: at least 16%): the same draws with and without the referred advantage
    values = OrderValues(SMALL.gg_p)
    rng = np.random.default_rng(7)
    referred = simulate_referred(SMALL, rng, 40_000, 52, values)
    plain = simulate_referred(replace(SMALL, referred_dropout=1.0, referred_spend=0.0),
                              np.random.default_rng(7), 40_000, 52, values)
    ratio = referred.cum_margin[:, -1].mean() / plain.cum_margin[:, -1].mean()
    assert ratio >= 1.16
    # retention: more of them still buying in their second half-year
    assert (referred.purchases[26:].sum(axis=0) > 0).mean() > (plain.purchases[26:].sum(axis=0) > 0).mean()


def test_sources_differ_in_cost_and_quality():
    sim = _sim(SMALL).customers
    by = {r["source"]: r for r in sim.group_by("source").agg(
        pl.col("acquisition_cost").mean(), pl.col("true_rate").mean(), pl.col("margin_first_52w").mean(),
        pl.len()).iter_rows(named=True)}
    costs = {x.name: x.cost for x in SMALL.sources}
    for name, cost in costs.items():
        assert by[name]["acquisition_cost"] == cost
    # the rate multipliers show in the traits (CDNOW mean rate r / alpha)
    mean_rate = SMALL.bgnbd_r / SMALL.bgnbd_alpha
    for x in SMALL.sources:
        assert by[x.name]["true_rate"] == pytest.approx(mean_rate * x.rate, rel=0.1)
    assert by["organic"]["margin_first_52w"] > by["affiliate"]["margin_first_52w"]
    shares = np.array([by[x.name]["len"] for x in SMALL.sources]) / SMALL.n_customers
    np.testing.assert_allclose(shares, [x.share for x in SMALL.sources], atol=0.01)
