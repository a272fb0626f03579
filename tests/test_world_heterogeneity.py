"""The heterogeneous remarketing world: features drive baseline and effect, four uplift groups, the truth."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from experiments.simulate.campaign import UPLIFT_GROUPS
from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.targeting import oracle_policy, policy_value, top_share
from experiments.studies.remarketing.scenario import RemarketingScenario

ARMS = "holdout:0.2,generic:0.2,dynamic:0.2,generic_incentive:0.2,dynamic_incentive:0.2"


@pytest.fixture(scope="module")
def scenario() -> RemarketingScenario:
    return RemarketingScenario.from_params({"n_customers": 150_000, "seed": 21, "arm_shares": ARMS})


@pytest.fixture(scope="module")
def frame(scenario: RemarketingScenario) -> pl.DataFrame:
    return simulate_remarketing(scenario).with_columns(
        recency_band=pl.when(pl.col("recency_days") <= 30).then(pl.lit("recent"))
        .when(pl.col("recency_days") < 365).then(pl.lit("older")).otherwise(pl.lit("none")),
        orders_band=pl.col("pre_orders").clip(0, 4),
        price_band=(pl.col("price_sensitivity") > pl.col("price_sensitivity").median()),
        value_band=(pl.col("pre_revenue") / pl.col("pre_orders").cast(pl.Float64).clip(1, None) > 90.0),
        cart_band=(pl.col("cart_value") > 90.0),
    )


def _by(frame: pl.DataFrame, column: str, arm: str = "dynamic") -> pl.DataFrame:
    return frame.group_by(column).agg(
        pl.col("p_converted__holdout").mean().alias("baseline"),
        pl.col(f"cate_converted__{arm}").mean().alias("effect"),
        pl.col(f"cate_converted__{arm}").std().alias("sd"),
        pl.len().alias("n"),
    )


@pytest.mark.parametrize(
    "column",
    ["device", "age_band", "funnel_stage", "recency_band", "orders_band", "price_band", "value_band",
     "cart_band"],
)
def test_each_feature_moves_baseline_and_effect(frame: pl.DataFrame, column: str) -> None:
    groups = _by(frame, column)
    assert groups.height >= 2
    base, effect = groups["baseline"], groups["effect"]
    # Differences far beyond sampling noise of the group means (the truth columns carry no draw noise
    # beyond who lands in which group).
    assert base.max() / base.min() > 1.1, column
    se = float((groups["sd"] / groups["n"].cast(pl.Float64).sqrt()).max())
    assert effect.max() - effect.min() > 10 * se, column


def test_price_sensitivity_drives_the_incentive(frame: pl.DataFrame) -> None:
    groups = _by(frame, "price_band", arm="dynamic_incentive").sort("price_band")
    low, high = groups["effect"].to_list()
    assert high > 1.5 * low
    base_low, base_high = groups["baseline"].to_list()
    assert base_high < base_low  # price-sensitive customers buy less unprompted


def test_cart_value_tracks_what_the_customer_spends(frame: pl.DataFrame) -> None:
    buyers = frame.filter(pl.col("converted__holdout") == 1)
    assert buyers.select(pl.corr("cart_value", "revenue__holdout")).item() > 0.7
    profit = frame.group_by("cart_band").agg(pl.col("cate_margin__dynamic").mean()).sort("cart_band")
    assert profit["cate_margin__dynamic"][1] > 2 * profit["cate_margin__dynamic"][0]


def test_region_is_inert(frame: pl.DataFrame) -> None:
    groups = _by(frame, "region")
    assert groups["effect"].max() - groups["effect"].min() < 0.1 * groups["effect"].mean()


def test_frequent_recent_buyers_gain_least(frame: pl.DataFrame) -> None:
    # Blake, Nosko & Tadelis (2015): frequent users unmoved; here they are the likeliest buyers.
    groups = _by(frame, "orders_band").sort("orders_band")
    assert groups["baseline"].is_sorted()
    assert groups["effect"].is_sorted(descending=True)
    assert groups["effect"][-1] < 0.25 * groups["effect"][0]


def test_uplift_groups_follow_potential_outcomes(frame: pl.DataFrame, scenario: RemarketingScenario) -> None:
    main = scenario.main_arm
    assert main == "generic"
    t, c = pl.col(f"converted__{main}") == 1, pl.col("converted__holdout") == 1
    expected = (
        pl.when(t & ~c).then(pl.lit("persuadable")).when(t & c).then(pl.lit("sure_thing"))
        .when(~t & ~c).then(pl.lit("lost_cause")).otherwise(pl.lit("do_not_disturb"))
    )
    assert frame.select((pl.col("uplift_group").cast(pl.String) == expected).all()).item()
    assert frame.schema["uplift_group"] == pl.Enum(UPLIFT_GROUPS)


def test_uplift_group_shares_are_plausible() -> None:
    s = RemarketingScenario.from_params({"n_customers": 200_000, "seed": 5})
    shares = dict(simulate_remarketing(s)["uplift_group"].value_counts(normalize=True).iter_rows())
    assert set(shares) == set(UPLIFT_GROUPS)
    assert 0.004 < shares["persuadable"] < 0.05
    assert 0.04 < shares["sure_thing"] < 0.12  # about the 14-day baseline conversion (7%)
    assert 0.0003 < shares["do_not_disturb"] < shares["persuadable"] / 3
    assert shares["lost_cause"] > 0.8


def test_some_customers_are_put_off(frame: pl.DataFrame) -> None:
    put_off = frame.filter(pl.col("cate_converted__generic") < 0)
    assert put_off.height > 0.02 * frame.height
    # ... mostly habitual and older customers
    assert put_off["pre_orders"].mean() > 2 * frame["pre_orders"].mean()
    older = pl.col("age_band").is_in(["55-64", "65+"])
    assert put_off.select(older.mean()).item() > frame.select(older.mean()).item()


@pytest.mark.parametrize("arm", ["generic", "dynamic", "generic_incentive", "dynamic_incentive"])
def test_cate_columns_are_the_expected_differences(frame: pl.DataFrame, arm: str) -> None:
    n = frame.height
    conv = (pl.col(f"converted__{arm}") - pl.col("converted__holdout")).cast(pl.Float64)
    profit = pl.col(f"margin__{arm}") - pl.col("margin__holdout") - pl.col(f"cost__{arm}")
    got = frame.select(
        conv.mean().alias("conv"), conv.std().alias("conv_sd"),
        profit.mean().alias("profit"), profit.std().alias("profit_sd"),
        pl.col(f"cate_converted__{arm}").cast(pl.Float64).mean().alias("cate_conv"),
        pl.col(f"cate_margin__{arm}").cast(pl.Float64).mean().alias("cate_profit"),
    ).row(0, named=True)
    assert abs(got["conv"] - got["cate_conv"]) < 4 * got["conv_sd"] / np.sqrt(n)
    assert abs(got["profit"] - got["cate_profit"]) < 4 * got["profit_sd"] / np.sqrt(n)
    assert frame.schema[f"cate_converted__{arm}"] == pl.Float32
    assert frame.schema[f"cate_margin__{arm}"] == pl.Float32
    # unreachable customers see nothing: no effect at all
    unreached = frame.filter(~pl.col("reachable"))
    assert (unreached[f"cate_converted__{arm}"] == 0).all() and (unreached[f"cate_margin__{arm}"] == 0).all()


def test_baseline_probability_column(frame: pl.DataFrame) -> None:
    p = frame["p_converted__holdout"]
    assert p.dtype == pl.Float32 and p.min() >= 0 and p.max() <= 1
    observed = frame["converted__holdout"].mean()
    assert abs(p.mean() - observed) < 4 * np.sqrt(observed * (1 - observed) / frame.height)


@pytest.mark.parametrize("arm", ["dynamic", "dynamic_incentive"])
def test_targeting_likely_buyers_loses_to_targeting_by_uplift(frame: pl.DataFrame, arm: str) -> None:
    n = frame.height
    everyone = policy_value(frame, np.ones(n, dtype=bool), arm=arm).profit_per_1000
    oracle = policy_value(frame, oracle_policy(frame, arm=arm), arm=arm)
    assert oracle.profit_per_1000 > everyone + 10 and 0.3 < oracle.treated_share < 0.95
    for share in (0.2, 0.35, 0.5):
        likely = policy_value(frame, top_share(frame["p_converted__holdout"], share), arm=arm)
        uplift = policy_value(frame, top_share(frame[f"cate_margin__{arm}"], share), arm=arm)
        assert likely.profit_per_1000 < 0.5 * uplift.profit_per_1000, share
    # the top baseline decile is worth less per customer than the middle deciles
    rank = pl.col("p_converted__holdout").rank("ordinal") - 1
    decile = frame.with_columns(d=(rank * 10 // n).cast(pl.Int64))
    by = dict(decile.group_by("d").agg(pl.col(f"cate_margin__{arm}").mean()).iter_rows())
    assert by[9] < 0 < by[4]
