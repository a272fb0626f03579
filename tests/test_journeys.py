"""The omnichannel journey world: scenario, reproducibility, common random numbers, the log, the truth."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from experiments.errors import ParameterError
from experiments.simulate.journey_play import _purchase_times
from experiments.simulate.journey_world import decay_integral
from experiments.simulate.journeys import (
    SESSION_STEP,
    base_hazard_scale,
    budget_response,
    channel_truth,
    draw_world,
    geo_holdout_table,
    observed_log,
    play,
    user_holdout_table,
)
from experiments.studies.omnichannel.scenario import CHANNELS, DEFAULTS, OmnichannelScenario

SMALL = {"n_customers": 60_000, "seed": 5}


@pytest.fixture(scope="module")
def world():
    return draw_world(OmnichannelScenario.from_params(SMALL))


@pytest.fixture(scope="module")
def base(world):
    return play(world)


@pytest.fixture(scope="module")
def log(world, base):
    return observed_log(world, outcome=base)


# --------------------------------------------------------------------------- scenario


def test_scenario_defaults_round_trip():
    s = OmnichannelScenario.from_params({})
    assert s.to_params() == DEFAULTS
    assert OmnichannelScenario.from_params(s.to_params()) == s
    assert hash(s) == hash(OmnichannelScenario.from_params(s.to_params()))
    assert s.lift["search_brand"] == 0.0 and s.targeting["display"] == "retarget"
    assert s.days == 28.0 and "direct" not in s.paid_channels and "affiliate" in s.paid_channels


def test_per_channel_values_override_only_what_is_named():
    s = OmnichannelScenario.from_params({"lift": "display: 0.2 , social:0.3", "reach": {"sms": 0.5}})
    assert s.lift["display"] == 0.2 and s.lift["social"] == 0.3
    assert s.lift["email"] == OmnichannelScenario.from_params({}).lift["email"]
    assert s.reach["sms"] == 0.5
    assert s.changed() == {"lift": s.to_params()["lift"], "reach": s.to_params()["reach"]}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"lift": "tv:0.2"}, "lift"),
        ({"lift": "display"}, "lift"),
        ({"lift": "display:0.1,display:0.2"}, "lift"),
        ({"lift": "display:-1"}, "lift[display]"),
        ({"reach": "sms:1.5"}, "reach[sms]"),
        ({"targeting": "display:tv"}, "targeting[display]"),
        ({"frequency": "direct:1"}, "frequency[direct]"),
        ({"budget_change": 1.5}, "budget_change"),
        ({"budget_change": 0.5, "max_budget_multiplier": 1.2}, "budget_change"),
        ({"n_customers": 10}, "n_customers"),
        ({"plan_channels": ""}, "plan_channels"),
        ({"colour": 1}, "colour"),
    ],
)
def test_scenario_rejects_in_one_line(params, name):
    with pytest.raises(ParameterError) as info:
        OmnichannelScenario.from_params(params)
    assert info.value.name == name and "\n" not in str(info.value)


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_same_world_whatever_the_workers():
    s = OmnichannelScenario.from_params({"n_customers": 40_000, "seed": 3})
    a, b = draw_world(s), draw_world(s, workers=2)
    for name in ("base_hazard", "threshold", "touch_customer", "touch_lane", "touch_time", "touch_mark",
                 "session_time", "purchase_marks", "holdout_draw", "geo_holdout"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    la, lb = observed_log(a), observed_log(b)
    assert la.equals(lb)
    other = draw_world(s.replace(seed=4))
    assert not np.array_equal(other.threshold, a.threshold)


def test_changing_one_channel_leaves_the_others_draws():
    s = OmnichannelScenario.from_params({"n_customers": 20_000, "seed": 8})
    a = draw_world(s)
    b = draw_world(s.replace(frequency="social:5"))
    for k in (0, 2, 4):  # display, search_nonbrand, email lanes are drawn from their own streams
        np.testing.assert_array_equal(a.touch_time[a.touch_lane == k], b.touch_time[b.touch_lane == k])
    np.testing.assert_array_equal(a.threshold, b.threshold)


def test_base_hazard_scale_gives_the_base_conversion():
    s = OmnichannelScenario.from_params({"n_customers": 200_000, "seed": 2, "geo_sigma": 0.0})
    w = draw_world(s)
    none = play(w, dict.fromkeys(CHANNELS, 0.0))
    rate = none.conversions / s.n_customers
    se = math.sqrt(s.base_conversion * (1 - s.base_conversion) / s.n_customers)
    assert abs(rate - s.base_conversion) < 4 * se
    assert base_hazard_scale(0.04, 0.0, 28.0) == pytest.approx(-math.log(0.96) / 28, rel=1e-9)


# --------------------------------------------------------------------------- common random numbers


def test_lane_index_keeps_exactly_the_marks_below_threshold(world):
    rng = np.random.default_rng(0)
    for _ in range(5):
        thr = rng.random(2 * len(CHANNELS)).astype(np.float32)
        counts = world.lane_counts(thr)
        brute = np.bincount(world.touch_lane[world.touch_mark < thr[world.touch_lane]],
                            minlength=2 * len(CHANNELS))
        np.testing.assert_array_equal(counts, brute)


def test_switching_a_channel_off_never_adds_a_purchase(world, base):
    for c in CHANNELS:
        off = play(world, {c: 0.0})
        assert not (off.purchased & ~base.purchased).any(), c
        assert off.spend[CHANNELS.index(c)] == 0 and off.touches[CHANNELS.index(c)] == 0


def test_more_budget_more_touches_and_purchases(world):
    low, mid, high = (play(world, {"social": m}) for m in (0.8, 1.0, 1.2))
    k = CHANNELS.index("social")
    assert low.touches[k] < mid.touches[k] < high.touches[k]
    assert mid.touches[k] / low.touches[k] == pytest.approx(1.25, rel=0.02)
    assert not (low.purchased & ~mid.purchased).any() and not (mid.purchased & ~high.purchased).any()
    with pytest.raises(ParameterError, match="multiplier"):
        play(world, {"social": 2.5})


def test_channels_without_effect_cause_nothing(world, base):
    truth = channel_truth(world, base)
    zero = truth.filter(pl.col("channel").is_in(["search_brand", "direct"]))
    assert (zero["incremental_conversions"] == 0).all() and (zero["incremental_revenue"] == 0).all()
    assert truth.filter(pl.col("channel") == "email")["incremental_conversions"][0] > 0
    assert truth["true_share"].sum() == pytest.approx(1.0)
    brand = truth.filter(pl.col("channel") == "search_brand").row(0, named=True)
    assert brand["incremental_profit"] == pytest.approx(-brand["spend"])


def test_spend_is_touches_times_unit_cost_plus_commission(world, base):
    """Scheduled touches cost their unit cost; session channels pay per captured session (click);
    clicks on a scheduled channel's ads are free; the affiliate is paid a commission on its sales."""
    s = world.scenario
    scheduled = world.lane_counts(world.thresholds(base.multipliers))[: len(CHANNELS)]
    for k, c in enumerate(CHANNELS):
        paid = base.touches[k] if s.targeting[c] == "session" else scheduled[k]
        expected = paid * s.unit_cost[c]
        if c == "affiliate":
            assert base.spend[k] > expected  # plus the commission
        else:
            assert base.spend[k] == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- the log


def test_log_shape_and_invariants(world, base, log):
    assert log.columns == ["journey_id", "time", "channel", "device", "converted", "value", "customer_id",
                           "purchase"]
    assert log.schema["channel"] == pl.Enum(CHANNELS)
    keys = log.select("journey_id", "time")
    assert keys.equals(keys.sort(["journey_id", "time"]))
    per = log.group_by("journey_id").agg(pl.col("converted").n_unique().alias("c"),
                                         pl.col("value").n_unique().alias("v"),
                                         pl.col("customer_id").n_unique().alias("k"))
    assert (per["c"] == 1).all() and (per["v"] == 1).all() and (per["k"] == 1).all()
    assert ((log["journey_id"] // 2) == log["customer_id"]).all()
    assert (log["time"] >= 0).all() and (log["time"] < world.scenario.days).all()
    converted = log.filter(pl.col("converted") == 1)
    assert (converted["purchase"] == "online").all() and (converted["value"] > 0).all()
    assert log.filter(pl.col("purchase") == "store")["converted"].sum() == 0
    # at most one converted journey per online buyer, and never more than the buyers
    n_conv = converted["journey_id"].n_unique()
    assert n_conv <= base.online_conversions
    assert converted.group_by("customer_id").agg(pl.col("journey_id").n_unique())["journey_id"].max() == 1


def test_log_stops_at_the_purchase(world, base, log):
    buyers = np.flatnonzero(base.online)
    when = _purchase_times(world, base, buyers)
    last = log.filter(pl.col("converted") == 1).group_by("customer_id").agg(pl.col("time").max())
    lookup = dict(zip(buyers.tolist(), when.tolist(), strict=True))
    near = 0
    for cust, t in last.iter_rows():
        assert t < lookup[cust]
        near += t >= lookup[cust] - len(CHANNELS) * SESSION_STEP  # a click of the purchase session
    assert 0 < near < last.height


def test_purchase_times_solve_the_cumulative_hazard(world, base):
    """The purchase time brackets the root of the closed-form cumulative hazard = the customer's
    threshold to the bisection's step: the hazard reaches it at the time and not one step before."""
    s = world.scenario
    buyers = np.flatnonzero(base.online)[:200]
    when = _purchase_times(world, base, buyers)
    thr = world.thresholds(base.multipliers)
    kept = world.kept_touches(thr)
    lift = np.array([s.lift[c] for c in CHANNELS])
    half = np.array([s.half_life[c] for c in CHANNELS])
    step = s.days / 2**36  # the bisection's last interval

    display = CHANNELS.index("display")
    boosted = {CHANNELS.index(c) for c in s.synergy_channels}

    def cumulative(cust: int, t: float) -> float:
        mine = kept[(world.touch_customer[kept] == cust) & (world.touch_effect[kept] > 0)]
        seen = world.touch_time[kept[(world.touch_customer[kept] == cust)
                                     & (world.touch_lane[kept] == display)]]
        # the display synergy, touch by touch: a synergy channel's touch preceded by a kept display
        # touch within the window responds display_synergy times as strongly
        gain = np.array([s.display_synergy if int(ch) in boosted
                         and np.any((seen < tt) & (seen >= tt - s.synergy_window_days)) else 1.0
                         for ch, tt in zip(world.touch_channel[mine], world.touch_time[mine], strict=True)])
        extra = float(np.sum(decay_integral(lift[world.touch_channel[mine]] * gain,
                                             half[world.touch_channel[mine]], t - world.touch_time[mine])))
        sess = world.session_time[world.session_customer == cust]
        extra += float(np.sum(decay_integral(s.session_lift, s.session_half_life, t - sess)))
        return float(world.base_hazard[cust] * (t + extra))

    for cust, t in zip(buyers.tolist(), when.tolist(), strict=True):
        target = world.threshold[cust]
        assert cumulative(cust, t) >= target * (1 - 1e-12)
        assert cumulative(cust, t - step) <= target * (1 + 1e-12)
        assert cumulative(cust, t) == pytest.approx(target, rel=1e-6)


def test_stitched_log_has_the_same_touches_in_one_journey_per_customer(world, base, log):
    stitched = observed_log(world, outcome=base, stitched=True)
    assert stitched.height == log.height
    assert (stitched["journey_id"] == 2 * stitched["customer_id"]).all()
    cols = ["customer_id", "time", "channel"]
    assert stitched.select(cols).sort(cols).equals(log.select(cols).sort(cols))
    split = log.group_by("customer_id").agg(pl.col("journey_id").n_unique().alias("n"))
    assert split["n"].max() == 2 and (split["n"] == 2).sum() > 0
    assert stitched.filter(pl.col("converted") == 1)["customer_id"].n_unique() >= \
        log.filter(pl.col("converted") == 1)["customer_id"].n_unique()


def test_store_purchases_are_invisible_but_counted(world, base, log):
    store = base.purchased & ~base.online
    assert store.sum() > 0 and base.conversions == base.online_conversions + store.sum()
    share = store.sum() / base.conversions
    assert abs(share - world.scenario.store_share) < 0.03


# --------------------------------------------------------------------------- re-runs and experiments


def test_budget_response_rows(world, base):
    frame = budget_response(world, ["social"], 0.2, base=base)
    assert frame["multiplier"].to_list() == [0.8, 1.0, 1.2]
    assert frame["spend"].is_sorted() and frame["conversions"].is_sorted()
    extra = frame["conversions"][2] - frame["conversions"][0]
    assert frame["cost_per_extra_conversion"][0] == pytest.approx((frame["spend"][2] - frame["spend"][0])
                                                                  / extra)


def test_user_holdout_table(world, base):
    off = play(world, {"email": 0.0})
    table = user_holdout_table(world, "email", full=base, off=off)
    share = (table["arm"] == "holdout").mean()
    assert abs(share - world.scenario.user_holdout_share) < 0.01
    # held-out customers get the world without e-mail, the rest the world as planned
    ids = table["customer_id"].to_numpy()
    hold = (table["arm"] == "holdout").to_numpy()
    np.testing.assert_array_equal(table["purchased"].to_numpy()[hold], off.purchased[ids[hold]])
    np.testing.assert_array_equal(table["purchased"].to_numpy()[~hold], base.purchased[ids[~hold]])
    # customers outside the table are untouched by e-mail: the channel changes nothing for them
    outside = np.ones(world.n_customers, dtype=bool)
    outside[ids] = False
    np.testing.assert_array_equal(base.purchased[outside], off.purchased[outside])


def test_geo_holdout_table(world, base):
    table = geo_holdout_table(world, "search_nonbrand", full=base)
    assert table["customers"].sum() == world.n_customers
    s = world.scenario
    assert (table["arm"] == "holdout").sum() == round(s.geo_holdout_share * s.n_geos)
    assert table["purchases_per_customer"].to_numpy() == pytest.approx(
        (table["purchases"] / table["customers"]).to_numpy())
