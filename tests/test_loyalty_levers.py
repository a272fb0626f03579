"""The loyalty study's two levers: relationship messages (cadence, fatigue, unsubscribes), the 2 x 2
factorial that measures them apart from the rewards (held to statsmodels), and referred customers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest

from experiments.simulate.loyalty import referred_revenue, simulate_loyalty
from experiments.simulate.messages import message_response, unsubscribe_chance
from experiments.studies.loyalty import run
from experiments.studies.loyalty.scenario import LoyaltyScenario

CADENCES = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)


def test_message_response_rises_then_tires():
    kw = {"lift": 0.08, "diminishing": 0.5, "free": 4.0, "penalty": 0.1}
    assert message_response(0, **kw) == 1.0
    # (1 + 0.08 (1 - 0.5^2) / 0.5) by hand; past `free`, exp(-0.1 per extra message)
    assert message_response(2, **kw) == pytest.approx(1.12, rel=1e-12)
    assert message_response(6, **kw) == pytest.approx((1 + 0.16 * (1 - 0.5**6)) * math.exp(-0.2), rel=1e-12)
    values = [message_response(m, **kw) for m in CADENCES]
    gains = [b - a for a, b in itertools.pairwise(values)]
    assert all(g > 0 for g in gains[:4]) and all(g < 0 for g in gains[4:])
    assert all(g2 < g1 for g1, g2 in itertools.pairwise(gains[:4]))  # diminishing
    assert message_response(12, **kw) < 1.0  # heavy cadences lower the purchase rate
    assert unsubscribe_chance(4, rate=0.005, free=4.0) == pytest.approx(0.01)
    assert unsubscribe_chance(0, rate=0.005, free=4.0) < unsubscribe_chance(8, rate=0.005, free=4.0)


def test_true_value_of_messages_has_an_interior_optimum_over_the_cadence():
    """Same seed at every cadence (common random numbers for customers and their arrivals)."""
    default = LoyaltyScenario.from_params({}).messages_per_month
    assert default in CADENCES
    effect, unsub = {}, {}
    for m in CADENCES:
        sim = simulate_loyalty(LoyaltyScenario.from_params({"n_customers": 20_000, "seed": 11,
                                                            "messages_per_month": m}))
        effect[m] = sim.truth()["messages_effect"]
        members = sim.customers.filter(pl.col("member") & pl.col("cell").is_in(["messages", "both"]))
        unsub[m] = members["unsubscribed"].mean()
    best = max(effect, key=effect.get)
    assert CADENCES[0] < best < CADENCES[-1], effect
    assert effect[best] > effect[0.0] + 0.3 and effect[best] > effect[8.0] + 2.0, effect
    assert effect[8.0] < 0, effect  # fatigue and unsubscribes make heavy cadences lose money
    assert effect[best] - effect[default] < 0.2, effect  # the default sits near the top
    assert all(b > a for a, b in itertools.pairwise(unsub[m] for m in CADENCES[1:])), unsub


def test_unsubscribed_members_get_no_more_messages():
    s = LoyaltyScenario.from_params({"n_customers": 20_000, "seed": 5, "messages_per_month": 6.0,
                                     "unsubscribe_rate": 0.005})
    c = simulate_loyalty(s).customers.filter(pl.col("member") & pl.col("cell").is_in(["messages", "both"]))
    gone, kept = c.filter(pl.col("unsubscribed")), c.filter(~pl.col("unsubscribed"))
    assert gone.height > 100 and kept.height > 100
    regular_all_year = 6.0 * 12.0 / 52.0 * s.horizon
    assert kept["messages_sent"].min() >= regular_all_year  # the whole cadence, plus triggered ones
    assert gone["messages_sent"].mean() < 0.8 * regular_all_year
    # a lost subscriber costs unsubscribe_cost on top of the messages she got
    np.testing.assert_allclose(gone["message_cost"], gone["messages_sent"] * s.message_cost
                               + s.unsubscribe_cost, rtol=1e-12)


def test_referred_customers_are_simulated_and_worth_more():
    s = LoyaltyScenario.from_params({})
    arrival = np.zeros(400_000)
    referred = referred_revenue(np.random.default_rng(1), s, arrival)
    plain = referred_revenue(np.random.default_rng(2), s, arrival, dropout_factor=1.0, spend_factor=1.0)
    se = math.hypot(referred.std(), plain.std()) / math.sqrt(arrival.size) / plain.mean()
    premium = referred.mean() / plain.mean() - 1
    # Schmitt, Skiera & Van den Bulte (2011): referred customers at least 16% more valuable
    assert premium - 3 * se > 0.16, (premium, se)
    # a customer referred late in the year has less time to buy
    late = referred_revenue(np.random.default_rng(1), s, np.full(arrival.size, s.horizon - 1.0))
    assert late.mean() < 0.7 * referred.mean()
    c = simulate_loyalty(LoyaltyScenario.from_params({"n_customers": 20_000, "seed": 3})).customers
    assert c.filter(~pl.col("member"))["referred_revenue"].max() == 0
    with_refs = c.filter(pl.col("referrals") > 0)
    assert with_refs.height > 50 and (with_refs["referred_revenue"] > 0).all()


def test_study_reports_each_lever_against_its_truth():
    s = LoyaltyScenario.from_params({"n_customers": 20_000, "seed": 8})
    result = run(s)
    figures = {(f.name, f.group): f for f in result.figures()}
    truth = simulate_loyalty(s).truth()
    assert figures["lever_effect", "rewards"].truth == pytest.approx(truth["rewards_effect"])
    assert figures["lever_effect", "messages"].truth == pytest.approx(truth["messages_effect"])
    interaction = figures["lever_interaction", "rewards x messages"]
    assert interaction.truth == pytest.approx(truth["lever_interaction"])
    for f in figures.values():
        if f.unit == "$" and f.truth is not None:
            assert f.ci_low < f.estimate < f.ci_high
    head = result.verdict().headline
    assert "rewards" in head and "messages" in head and "95% CI" in head
    assert sum(result.cell_sizes.values()) == s.n_customers and len(result.cell_sizes) == 5
