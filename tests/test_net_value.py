"""One net-value formula serves the simulator's truth, the estimate and the pay-back curve."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from experiments.net_value import net_contribution
from experiments.simulate.loyalty import simulate_loyalty
from experiments.stats.loyalty_economics import payback_curve, programme_economics
from experiments.studies.loyalty.scenario import LoyaltyScenario


def test_formula_on_numbers_arrays_and_expressions() -> None:
    kw = {"margin": 0.3, "acquisition_cost": 40.0, "referral_bonus": 5.0}
    assert net_contribution(100.0, 3.0, 0.5, 1.0, **kw) == pytest.approx(30 - 3 - 0.5 - 5 + 40)
    arr = net_contribution(np.array([100.0, 0.0]), np.array([3.0, 0.0]), 0.5, np.array([1.0, 0.0]), **kw)
    assert arr.tolist() == pytest.approx([61.5, -0.5])
    frame = pl.DataFrame({"r": [100.0], "w": [3.0], "m": [0.5], "f": [1.0]})
    expr = net_contribution(pl.col("r"), pl.col("w"), pl.col("m"), pl.col("f"), **kw)
    assert frame.select(expr).item() == pytest.approx(61.5)


def test_estimate_and_truth_agree_when_both_see_the_whole_population() -> None:
    """On a large simulation the randomised estimate lands near the truth computed by the same formula."""
    s = LoyaltyScenario.from_params({"n_customers": 40_000, "seed": 3})
    sim = simulate_loyalty(s)
    econ = programme_economics(sim.customers, margin=s.margin, acquisition_cost=s.acquisition_cost,
                               referral_bonus=s.referral_bonus)
    truth = sim.truth()["itt_net_margin"]
    assert econ.net_value.ci_low - 1.0 < truth < econ.net_value.ci_high + 1.0
    curve = payback_curve(sim.purchases, sim.customers, margin=s.margin, acquisition_cost=s.acquisition_cost,
                          referral_bonus=s.referral_bonus,
                          message_cost_per_period=s.message_cost * s.weeks_per_period, n_periods=s.horizon)
    assert curve["net_value"][-1] == pytest.approx(econ.net_value.estimate, rel=1e-9)
