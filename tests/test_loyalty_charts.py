"""Chart specs of the loyalty study: they build, serialise, and carry their titles."""

from __future__ import annotations

import json

import polars as pl
import pytest

from experiments.charts import loyalty as charts
from experiments.models import clv, survival
from experiments.simulate.loyalty import simulate_loyalty
from experiments.stats import loyalty_economics, retention
from experiments.studies.loyalty.scenario import LoyaltyScenario


@pytest.fixture(scope="module")
def parts():
    s = LoyaltyScenario.from_params({"n_customers": 4_000, "seed": 2})
    sim = simulate_loyalty(s).programme()
    c = sim.customers
    curves = survival.retention_curves(c["duration"].to_numpy(), c["lapsed"].to_numpy(), c["arm"].to_numpy())
    _, per = clv.clv_by_group(c, group="arm", holdout_length=26, horizon=52, margin=0.3)
    pay = loyalty_economics.payback_curve(
        sim.purchases,
        c,
        margin=0.3,
        referral_bonus=5,
        n_periods=52,
    )
    return {
        "retention": charts.retention_chart(curves.to_frame(), title="T1"),
        "revenue": charts.cumulative_revenue_chart(
            retention.cumulative_by_period(sim.purchases, c), title="T2"
        ),
        "clv": charts.clv_distribution_chart(clv.clv_histogram(per), title="T3"),
        "holdout": charts.calibration_holdout_chart(clv.holdout_by_frequency(per), title="T4"),
        "payback": charts.payback_chart(pay, title="T5"),
        "levers": charts.lever_effects_chart(pl.DataFrame({
            "lever": ["rewards", "messages", "rewards x messages"], "estimate": [0.5, 1.2, 0.1],
            "ci_low": [-1.0, -0.2, -2.0], "ci_high": [2.0, 2.6, 2.2], "truth": [0.4, 1.1, 0.1]}), title="T6"),
    }


def test_every_chart_serialises_with_its_title(parts):
    for i, (name, chart) in enumerate(parts.items(), start=1):
        spec = chart.to_dict()
        assert json.loads(json.dumps(spec))["title"] == f"T{i}", name
        assert "datasets" in spec and all(len(v) < 5000 for v in spec["datasets"].values())
