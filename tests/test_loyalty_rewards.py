"""Loyalty rewards move behaviour with diminishing returns: no reward, no lift; an interior optimum."""

from __future__ import annotations

import itertools
import math

import polars as pl
import pytest

from experiments.simulate.loyalty import simulate_loyalty
from experiments.simulate.rewards import reward_response
from experiments.studies.loyalty.scenario import LoyaltyScenario

GRID = (0.0, 0.02, 0.03, 0.05, 0.1, 0.2)


def test_reward_response_saturates():
    assert reward_response(0.0, 0.03) == 0.0
    assert reward_response(0.03, 0.03) == pytest.approx(1.0 - 1.0 / math.e, rel=1e-12)
    values = [reward_response(r, 0.03) for r in GRID]
    gains = [b - a for a, b in itertools.pairwise(values)]
    assert all(g > 0 for g in gains) and values[-1] < 1.0
    # diminishing returns: the gain per unit of reward rate falls along the grid
    slopes = [g / (b - a) for g, a, b in zip(gains, GRID, GRID[1:], strict=False)]
    assert all(s2 < s1 for s1, s2 in itertools.pairwise(slopes))


def test_no_reward_means_no_behavioural_lift():
    base = {"n_customers": 5_000, "seed": 4, "reward_rate": 0.0}
    quiet = {"message_lift": 0.0, "birthday_lift": 0.0, "checkin_lift": 0.0}
    c = simulate_loyalty(LoyaltyScenario.from_params({**base, **quiet})).customers
    for name in ("purchases", "revenue", "alive"):
        assert (c[f"{name}_with"] == c[f"{name}_without"]).all(), name
    assert (c["rewards_cost_with"] == 0).all()
    # a reward that rewards nothing is the same as no reward lever: rewards only = neither,
    # both = messages only, whatever the messages do
    with_messages = simulate_loyalty(LoyaltyScenario.from_params(base)).customers
    assert (with_messages["net_rewards"] == with_messages["net_neither"]).all()
    assert (with_messages["net_both"] == with_messages["net_messages"]).all()
    inert = simulate_loyalty(LoyaltyScenario.from_params(
        {**base, "reward_rate": 0.05, "purchase_lift": 0.0, "dropout_reduction": 0.0, "tier_lift": 0.0}
    )).customers
    cols = ["purchases_with", "revenue_with", "alive_with"]
    assert with_messages.select(cols).equals(inert.select(cols))
    assert (with_messages["purchases_with"] > with_messages["purchases_without"]).any()


def test_true_net_value_has_an_interior_optimum_near_the_default_reward():
    """Same seed at every point (common random numbers for the customers' traits and arrivals)."""
    default = LoyaltyScenario.from_params({}).reward_rate
    assert default in GRID
    net, revenue = {}, {}
    for r in GRID:
        truth = simulate_loyalty(LoyaltyScenario.from_params(
            {"n_customers": 20_000, "seed": 11, "reward_rate": r})).truth()
        net[r], revenue[r] = truth["itt_net_margin"], truth["itt_revenue"]
    best = max(net, key=net.get)
    assert 0.0 < best < 0.1, net
    # the default is near the top: well above no rewards and above generous ones
    assert net[default] > net[0.0] + 0.3, net
    assert net[default] > net[0.1] + 1.0 > net[0.2] + 1.0, net
    assert net[best] - net[default] < 0.2, net
    # revenue keeps rising with the reward, but by less and less
    steps = [revenue[b] - revenue[a] for a, b in itertools.pairwise(GRID)]
    assert all(s > -0.3 for s in steps) and revenue[0.2] - revenue[0.1] < revenue[0.03] - revenue[0.0]


def test_members_still_self_select_with_the_behavioural_reward():
    sim = simulate_loyalty(LoyaltyScenario.from_params({"n_customers": 20_000, "seed": 12}))
    off = sim.customers.filter(pl.col("offered"))
    rate = off.group_by("member").agg(pl.col("true_rate").mean()).sort("member")["true_rate"]
    assert rate[1] > 1.5 * rate[0]
