"""Retention measures, randomised vs naive estimates and programme economics; coverage by simulation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from experiments.errors import DataError
from experiments.simulate.loyalty import simulate_loyalty
from experiments.stats.loyalty_economics import (
    payback_curve,
    payback_period,
    programme_economics,
    retention_value,
)
from experiments.stats.retention import (
    arm_measures,
    comparison_frame,
    cumulative_by_period,
    itt_effect,
    member_effect,
    naive_member_gap,
)
from experiments.studies.loyalty.scenario import LoyaltyScenario


@pytest.fixture(scope="module")
def sim():
    """The full programme (both levers) against the control."""
    return simulate_loyalty(LoyaltyScenario.from_params({"n_customers": 20_000, "seed": 7})).programme()


def test_itt_matches_statsmodels_welch(sim):
    c = sim.customers
    y1 = c.filter(pl.col("arm") == "offer")["revenue"].to_numpy()
    y0 = c.filter(pl.col("arm") == "control")["revenue"].to_numpy()
    ref = CompareMeans(DescrStatsW(y1), DescrStatsW(y0))
    lo, hi = ref.zconfint_diff(usevar="unequal")
    est = itt_effect(c, "revenue")
    assert est.estimate == pytest.approx(y1.mean() - y0.mean(), rel=1e-10)
    assert est.ci_low == pytest.approx(lo, rel=1e-8) and est.ci_high == pytest.approx(hi, rel=1e-8)
    assert est.p_value == pytest.approx(ref.ztest_ind(usevar="unequal")[1], rel=1e-6)
    assert est.to_frame().height == 1 and "ITT" in est.summary()


def test_member_effect_is_itt_over_join_share_and_naive_is_biased(sim):
    c, truth = sim.customers, sim.truth()
    itt = itt_effect(c, "revenue")
    share = c.filter(pl.col("arm") == "offer")["member"].mean()
    mem = member_effect(c, "revenue")
    assert mem.estimate == pytest.approx(itt.estimate / share, rel=1e-10)
    assert mem.se > itt.se
    naive = naive_member_gap(c, "revenue")
    assert naive.ci_low > truth["member_revenue_effect"]  # the naive interval misses the truth
    frame = comparison_frame(
        naive, itt, mem, true_itt=truth["itt_revenue"], true_member=truth["member_revenue_effect"]
    )
    assert frame.height == 3 and frame["truth"].null_count() == 0


def test_arm_measures_and_cumulative(sim):
    c = sim.customers
    m = arm_measures(c)
    assert m.height == 8
    rr = m.filter((pl.col("arm") == "control") & (pl.col("measure") == "repeat_rate"))["estimate"][0]
    assert rr == pytest.approx((c.filter(pl.col("arm") == "control")["purchases"] > 0).mean())
    cum = cumulative_by_period(sim.purchases, c, n_periods=sim.scenario.horizon)
    assert cum.height == 2 * sim.scenario.horizon
    last = cum.filter(pl.col("period") == sim.scenario.horizon - 1)
    offer_mean = c.filter(pl.col("arm") == "offer")["revenue"].mean()
    assert last.filter(pl.col("arm") == "offer")["revenue"][0] == pytest.approx(offer_mean)
    assert (cum.group_by("arm").agg(pl.col("revenue").diff().min())["revenue"] >= 0).all()


def test_economics_adds_up_and_payback_ends_at_net(sim):
    s, c = sim.scenario, sim.customers
    e = programme_economics(c, margin=s.margin, referral_bonus=s.referral_bonus)
    parts = e.incremental_margin - e.total_cost + e.referral_value
    # net value = ITT of net contribution; costs are zero in control, so the pieces add up exactly
    assert e.net_value.estimate == pytest.approx(parts, rel=1e-9)
    curve = payback_curve(
        sim.purchases,
        c,
        margin=s.margin,
        referral_bonus=s.referral_bonus,
        n_periods=s.horizon,
    )
    assert curve["net_value"][-1] == pytest.approx(e.net_value.estimate, rel=1e-9)
    assert e.to_frame().height == 7


def test_payback_period_and_retention_value():
    curve = pl.DataFrame({"period": [1, 2, 3, 4], "net_value": [-2.0, -1.0, 0.5, 1.0]})
    assert payback_period(curve) == 3
    assert payback_period(curve.with_columns(pl.col("net_value") - 5)) is None
    rv = retention_value(30.0, acquisition_cost=60.0, programme_cost=2.0, churn_reduction=0.02)
    assert rv.programme_cost_per_retained_customer == pytest.approx(100.0)
    assert rv.value_to_acquisition_ratio == pytest.approx(0.5)


def test_missing_columns():
    with pytest.raises(DataError, match="columns not found"):
        itt_effect(pl.DataFrame({"arm": ["offer"]}), "revenue")


def _coverage(reps: int, n: int) -> float:
    hits = []
    for seed in range(reps):
        sim = simulate_loyalty(LoyaltyScenario.from_params({"n_customers": n, "seed": 1000 + seed}))
        both = sim.programme().customers  # the full programme against the control
        hits.append(itt_effect(both, "revenue").covers(sim.truth()["itt_revenue"]))
    return float(np.mean(hits))


def test_itt_interval_coverage_small():
    assert _coverage(40, 5_000) >= 0.85


@pytest.mark.slow
def test_itt_interval_coverage_200_replications():
    cov = _coverage(200, 20_000)
    assert 0.92 <= cov <= 0.98, cov
