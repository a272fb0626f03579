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
    kw = {"margin": 0.3, "referral_bonus": 5.0}
    assert net_contribution(100.0, 3.0, 0.5, 1.0, 80.0, **kw) == pytest.approx(30 - 3 - 0.5 - 5 + 24)
    arr = net_contribution(np.array([100.0, 0.0]), np.array([3.0, 0.0]), 0.5, np.array([1.0, 0.0]),
                           np.array([80.0, 0.0]), **kw)
    assert arr.tolist() == pytest.approx([45.5, -0.5])
    frame = pl.DataFrame({"r": [100.0], "w": [3.0], "m": [0.5], "f": [1.0], "x": [80.0]})
    expr = net_contribution(pl.col("r"), pl.col("w"), pl.col("m"), pl.col("f"), pl.col("x"), **kw)
    assert frame.select(expr).item() == pytest.approx(45.5)


def test_estimate_and_truth_agree_when_both_see_the_whole_population() -> None:
    """On a large simulation the randomised estimate lands near the truth computed by the same formula."""
    s = LoyaltyScenario.from_params({"n_customers": 40_000, "seed": 3})
    full = simulate_loyalty(s)
    sim = full.programme()
    econ = programme_economics(sim.customers, margin=s.margin, referral_bonus=s.referral_bonus)
    truth = full.truth()["itt_net_margin"]
    assert econ.net_value.ci_low - 1.0 < truth < econ.net_value.ci_high + 1.0
    curve = payback_curve(sim.purchases, sim.customers, margin=s.margin, referral_bonus=s.referral_bonus,
                          n_periods=s.horizon)
    assert curve["net_value"][-1] == pytest.approx(econ.net_value.estimate, rel=1e-9)
