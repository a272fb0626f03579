"""The loyalty simulator: reproducibility, the BTYD truth, potential outcomes, self-selection."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from experiments.errors import ParameterError
from experiments.models.clv import fit_bgnbd
from experiments.scenarios.loyalty import DEFAULTS, LoyaltyScenario
from experiments.simulate.loyalty import simulate_loyalty


@pytest.fixture(scope="module")
def sim():
    return simulate_loyalty(LoyaltyScenario.from_params({"n_customers": 40_000, "seed": 3}))


def test_identical_whatever_the_block_size():
    s = LoyaltyScenario.from_params({"n_customers": 40_000, "seed": 9})
    a = simulate_loyalty(s)
    b = simulate_loyalty(s, block_size=1, workers=2)
    assert a.customers.equals(b.customers) and a.purchases.equals(b.purchases)
    c = simulate_loyalty(s.replace(seed=10))
    assert not a.customers.equals(c.customers)


def test_potential_outcomes_are_consistent(sim):
    c = sim.customers
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
    per = sim.purchases.group_by("customer_id").agg(pl.col("purchases").sum(), pl.col("revenue").sum())
    joined = c.join(per, on="customer_id", how="left", suffix="_log").fill_null(0)
    assert (joined["purchases"] == joined["purchases_log"]).all()
    np.testing.assert_allclose(joined["revenue"], joined["revenue_log"], atol=1e-6)
    assert (c["frequency_cal"] + c["purchases_holdout"] == c["purchases"]).all()
    assert (c["recency_cal"] <= c["T_cal"]).all()


def test_selection_makes_members_look_better_than_the_effect(sim):
    c, truth = sim.customers, sim.truth()
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
        {"n_customers": 5_000, "purchase_lift": 0, "dropout_reduction": 0, "tier_lift": 0, "message_lift": 0}
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
