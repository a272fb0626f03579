"""The omnichannel study computations: credit against truth, channel experiments, plans, blind spots."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from experiments.charts import omnichannel as oc
from experiments.models.attribution import MODELS, attribute, journeys_from_touches
from experiments.simulate.journeys import (
    channel_truth,
    draw_world,
    geo_holdout_table,
    observed_log,
    play,
    user_holdout_table,
)
from experiments.studies.omnichannel.numbers import (
    EXPERIMENT_PLAN,
    TRUTH_PLAN,
    costs_long,
    headline_numbers,
    marginal_returns,
    measure,
    reallocate,
)
from experiments.studies.omnichannel.scenario import CHANNELS, OmnichannelScenario


def _same(value: object) -> str:
    return ",".join(f"{c}:{value}" for c in CHANNELS)


@pytest.fixture(scope="module")
def analysis():
    return measure(OmnichannelScenario.from_params({"n_customers": 100_000, "seed": 20261201}))


def test_equal_random_channels_every_model_within_2_points_of_the_truth():
    """Every channel pushed at random to half the customers, same frequency, lift and half-life, no
    captured sessions: each model's credit share is within 2 percentage points of the true share.
    No channel is direct traffic in this world, so last_non_direct is told that none is."""
    s = OmnichannelScenario.from_params({
        "n_customers": 200_000, "seed": 11, "targeting": _same("push"), "reach": _same(0.5),
        "audience_tilt": _same(0.0), "frequency": _same(1.0), "capture": _same(0.0), "lift": _same(1.0),
        "half_life": _same(2.0), "unit_cost": _same(0.01), "display_synergy": 1.0,  # channels alike
    })
    world = draw_world(s)
    base = play(world)
    truth = channel_truth(world, base)
    log = observed_log(world, outcome=base)
    journeys = journeys_from_touches(log, journey="journey_id", time="time", channel="channel",
                                     converted="converted")
    result = attribute(journeys, direct="none")
    assert set(result.models) == set(MODELS)
    true_share = dict(zip(truth["channel"], truth["true_share"], strict=True))
    for m in result.models:
        for c, share in result.shares(m).items():
            assert abs(share - true_share[c]) < 0.02, (m, c)


def test_last_touch_overstates_retargeting_and_brand_search(analysis):
    for channel in ("display", "search_brand"):
        credit, true = analysis.share("last_touch", channel)
        assert credit > true + 0.05, channel
    assert analysis.share("last_touch", "search_brand")[1] == 0.0
    # the channels last touch under-credits: prospecting social and non-brand search
    for channel in ("social", "search_nonbrand"):
        credit, true = analysis.share("last_touch", channel)
        assert credit < true, channel


def test_display_lift_among_the_exposed_is_near_the_ghost_ads_figure(analysis):
    """Johnson, Lewis & Nubbemeyer (2017): +10.5% purchases among would-be exposed users."""
    s = OmnichannelScenario.from_params({"n_customers": 100_000, "seed": 20261201})
    world = draw_world(s)
    base, off = play(world), play(world, {"display": 0.0})
    table = user_holdout_table(world, "display", full=base, off=off)
    ids = table["customer_id"].to_numpy()
    lift = base.purchased[ids].mean() / off.purchased[ids].mean() - 1
    assert 0.05 < lift < 0.12


def test_comparison_and_errors(analysis):
    comp = analysis.comparison
    per_model = comp.group_by("model").agg(pl.col("credit_share").sum(), pl.col("true_share").sum(),
                                           pl.col("experiment_share").sum())
    assert np.allclose(per_model["credit_share"], 1.0) and np.allclose(per_model["true_share"], 1.0)
    assert np.allclose(per_model["experiment_share"], 1.0)
    errors = analysis.errors
    assert errors["mean_abs_error"].is_sorted()
    lt = comp.filter(pl.col("model") == "last_touch")
    assert errors.filter(pl.col("model") == "last_touch")["mean_abs_error"][0] == pytest.approx(
        lt["gap"].abs().mean())


def test_user_experiment_estimate_is_the_two_proportion_difference(analysis):
    s = analysis.scenario
    world = draw_world(s)
    base, off = play(world), play(world, {"email": 0.0})
    table = user_holdout_table(world, "email", full=base, off=off)
    y = table["purchased"].to_numpy()
    hold = (table["arm"] == "holdout").to_numpy()
    diff = y[~hold].mean() - y[hold].mean()
    row = analysis.experiments.filter(pl.col("channel") == "email").row(0, named=True)
    assert row["estimate"] == pytest.approx(diff * table.height, rel=1e-9)
    se = math.sqrt(y[~hold].var(ddof=0) / (~hold).sum() + y[hold].var(ddof=0) / hold.sum())
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * 1.959963984540054 * se * table.height,
                                                           rel=1e-6)
    assert row["truth"] == base.conversions - off.conversions


def test_geo_experiment_estimate_is_welch_on_regions(analysis):
    world = draw_world(analysis.scenario)
    base, off = play(world), play(world, {"search_nonbrand": 0.0})
    table = geo_holdout_table(world, "search_nonbrand", full=base, off=off)
    a = table.filter(pl.col("arm") == "exposed")["purchases_per_customer"].to_numpy()
    b = table.filter(pl.col("arm") == "holdout")["purchases_per_customer"].to_numpy()
    ref = sps.ttest_ind(a, b, equal_var=False)
    row = analysis.experiments.filter(pl.col("channel") == "search_nonbrand").row(0, named=True)
    assert row["estimate"] == pytest.approx((a.mean() - b.mean()) * world.n_customers, rel=1e-9)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert row["design"] == "geo" and row["units"] == table.height


def test_experiments_cover_the_truth_for_most_channels(analysis):
    exp = analysis.experiments
    assert exp.filter(pl.col("channel") == "direct")["covered"][0] is None
    tested = exp.filter(pl.col("covered").is_not_null())
    assert tested.height == 7 and tested["covered"].sum() >= 5


def test_reallocate_rules():
    spend = {"a": 100.0, "b": 100.0, "c": 100.0, "d": 50.0}
    credit = {"a": 10.0, "b": 20.0, "c": 30.0, "d": 5.0}
    m = reallocate(spend, credit, ["a", "b", "c"], strength=1.0, top=10.0)
    assert m["d"] == 1.0  # outside the plan
    assert sum(spend[c] * m[c] for c in "abc") == pytest.approx(300.0)
    assert [m[c] for c in "abc"] == pytest.approx([0.5, 1.0, 1.5])  # budgets in proportion to credit
    assert reallocate(spend, credit, ["a", "b", "c"], strength=0.0) == {c: 1.0 for c in spend}
    capped = reallocate(spend, {"a": 0.0, "b": 1.0, "c": 100.0}, ["a", "b", "c"], top=2.0)
    assert capped["c"] == 2.0 and capped["a"] == 0.0
    assert sum(spend[c] * capped[c] for c in "abc") == pytest.approx(300.0)  # b takes what c cannot
    none = reallocate(spend, {"a": 0.0, "b": 0.0, "c": 0.0}, ["a", "b", "c"])
    assert none == {c: 1.0 for c in spend}


def test_plans_are_re_simulated(analysis):
    plans = analysis.plans
    assert plans["plan"].to_list()[0] == "current plan" and plans["profit_change"][0] == 0.0
    assert set(MODELS) | {EXPERIMENT_PLAN, TRUTH_PLAN} <= set(plans["plan"].to_list())
    assert plans["planned_spend"].to_numpy() == pytest.approx(plans["planned_spend"][0], rel=1e-6)
    truth_plan = analysis.plan(TRUTH_PLAN)
    assert truth_plan["profit_change"] > analysis.plan("last_touch")["profit_change"]
    assert truth_plan["m_search_brand"] == 0.0  # no money for a channel that causes nothing
    assert analysis.plan("last_touch")["m_search_brand"] > 1.0


def test_blind_spot_and_cross_device(analysis):
    b = analysis.blind_spot
    assert b["purchases"] == b["online"] + b["store"]
    assert 0.25 < b["store_share"] < 0.35 and 0.2 < b["incremental_store_share"] < 0.4
    assert b["credited"] <= b["online"]
    assert set(b["by_channel"]["part"].unique().to_list()) == {"online", "store (not in the log)"}
    x = analysis.cross_device
    assert x["journeys"] > x["journeys_stitched"]
    assert 0 < x["converting_customers_split"] < 0.5 and 0 < x["touches_lost_share"] < 0.5
    assert x["mean_touches_converting_stitched"] > x["mean_touches_converting"]
    assert set(x["mean_abs_shift"]) == set(MODELS)


def test_headline_numbers(analysis):
    h = headline_numbers(analysis)
    assert h["display_credit_share"] > h["display_true_share"]
    assert (h["display_credit_share"], h["display_true_share"]) == analysis.share("last_touch", "display")
    assert h["model_plan_profit_change"] == analysis.plan("last_touch")["profit_change"]
    assert h["experiments_run"] == 7
    assert h["best_model"] == analysis.errors["model"][0]


def test_user_experiments_check_their_sample_ratio(analysis):
    exp = analysis.experiments
    user = exp.filter(pl.col("design") == "user")
    share = user["holdout_units"] / user["units"]
    assert ((share - analysis.scenario.user_holdout_share).abs() < 0.01).all()
    assert user["srm_p_value"].is_between(0, 1).all()
    geo = exp.filter(pl.col("design") == "geo")
    assert (geo["holdout_units"] == 100).all() and geo["srm_p_value"].is_nan().all()
    assert exp.filter(pl.col("design") == "none")["holdout_units"].to_list() == [0]


def test_marginal_returns(analysis):
    m = marginal_returns(analysis.budget, analysis.truth)
    assert m["channel"].to_list() == list(analysis.scenario.budget_channels)
    for row in m.iter_rows(named=True):
        rows = analysis.budget.filter(pl.col("channel") == row["channel"]).sort("multiplier")
        assert row["extra_conversions"] == rows["conversions"][2] - rows["conversions"][0]
        assert row["spend_change"] == pytest.approx(rows["spend"][2] - rows["spend"][0])
        assert row["marginal_cost"] == pytest.approx(row["spend_change"] / row["extra_conversions"])
        assert row["profit_change_up"] == pytest.approx(rows["profit"][2] - analysis.base_profit)
        truth = analysis.truth.filter(pl.col("channel") == row["channel"]).row(0, named=True)
        assert row["average_cost"] == truth["cost_per_incremental_conversion"]


def test_cross_device_touches_by_channel(analysis):
    x = analysis.cross_device
    parts = x["by_channel"]
    assert set(parts["part"].unique().to_list()) == {"on the buying journey", "on an unmatched device"}
    lost = parts.filter(pl.col("part") == "on an unmatched device")["touches"].sum()
    assert lost / parts["touches"].sum() == pytest.approx(x["touches_lost_share"])


def test_charts_specs(analysis):
    import json

    charts = {
        "credit_vs_truth": oc.credit_vs_truth(analysis.comparison, title="Credit against truth"),
        "credit_shares": oc.credit_shares(analysis.attribution.to_frame(), title="Credit shares"),
        "model_errors": oc.model_errors(analysis.errors, title="Errors"),
        "costs": oc.cost_per_incremental(costs_long(analysis.costs), title="Cost per conversion"),
        "plans": oc.plan_profits(analysis.plans.select("plan", "profit_change"), title="Plans"),
        "blind_spot": oc.blind_spot(analysis.blind_spot["by_channel"], title="Store sales"),
    }
    for name, chart in charts.items():
        spec = chart.to_dict()
        assert json.loads(json.dumps(spec)) == spec, name
        assert spec.get("title"), name
    costs = costs_long(analysis.costs)
    assert set(costs["measure"].unique().to_list()) >= {"true incremental", "last touch credit"}
    assert costs["cost"].is_finite().all()
    spec = charts["credit_vs_truth"].to_dict()
    assert spec["facet"]["field"] == "model"
    (rows,) = spec["datasets"].values()
    assert len(rows) == len(MODELS) * len(CHANNELS)


def test_an_arm_too_small_for_a_test_gives_no_estimate():
    a = measure(OmnichannelScenario.from_params({"n_customers": 100}))
    exp = a.experiments.filter(pl.col("design") == "user")
    small = exp.filter(pl.min_horizontal("holdout_units", pl.col("units") - pl.col("holdout_units")) < 2)
    assert small.height > 0  # 10% of a few eligible customers
    assert small["covered"].is_null().all() and small["estimate"].is_nan().all()


def test_re_runs_reuse_the_drawn_lanes_without_changing_a_number():
    """Lanes at their drawn thresholds are computed once per world; a re-run on a world that has kept
    them gives the same numbers, to the last bit, as on a freshly drawn one."""
    from experiments.simulate.journey_play import _touch_extra

    s = OmnichannelScenario.from_params({"n_customers": 20_000, "seed": 5})
    warm = draw_world(s)
    play(warm)
    for changes in ({"display": 0.0}, {"social": 1.7, "email": 0.3}, {}):
        cold = draw_world(s)
        thr = cold.thresholds(cold.multipliers(changes))
        assert np.array_equal(_touch_extra(warm, thr), _touch_extra(cold, thr))
        a, b = play(warm, changes), play(draw_world(s), changes)
        assert np.array_equal(a.purchased, b.purchased) and a.profit == b.profit
