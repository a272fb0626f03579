"""The two-arm targeting campaign and the exact true value of treat / don't-treat policies."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from experiments.errors import DataError, ParameterError
from experiments.simulate.campaign import UPLIFT_GROUPS
from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.targeting import (
    FEATURES,
    oracle_policy,
    picked_by_group,
    policy_value,
    profit_by_share,
    simulate_targeting,
    top_share,
)
from experiments.studies.remarketing.scenario import RemarketingScenario
from experiments.worlds import targeting_scenario

ARM = "dynamic_incentive"


@pytest.fixture(scope="module")
def scenario() -> RemarketingScenario:
    return RemarketingScenario.from_params({"n_customers": 60_000, "seed": 17})


@pytest.fixture(scope="module")
def frame(scenario: RemarketingScenario) -> pl.DataFrame:
    return simulate_targeting(scenario, arm=ARM, treated_share=0.6)


def test_two_arm_campaign_with_treatment_indicator(frame: pl.DataFrame) -> None:
    assert frame.schema["arm"] == pl.Enum(["holdout", ARM])
    assert frame.columns[frame.columns.index("arm") + 1] == "treatment"
    assert frame["treatment"].dtype == pl.Int8
    assert frame.select(((pl.col("arm") == ARM).cast(pl.Int8) == pl.col("treatment")).all()).item()
    share = frame["treatment"].mean()
    assert abs(share - 0.6) < 4 * np.sqrt(0.24 / frame.height)
    assert set(FEATURES) <= set(frame.columns)
    assert not {"exposed", "exposures", "cost", "converted"} & set(FEATURES)
    for name in ("cate_converted", "cate_margin"):
        assert f"{name}__{ARM}" in frame.columns
    # the uplift groups compare the targeted arm with the holdout
    sure = frame.filter(pl.col("uplift_group") == "sure_thing")
    assert (sure[f"converted__{ARM}"] == 1).all() and (sure["converted__holdout"] == 1).all()


def test_same_customers_as_the_full_simulation(scenario: RemarketingScenario, frame: pl.DataFrame) -> None:
    s = targeting_scenario(scenario, arm=ARM, treated_share=0.6)
    assert s.arms == ("holdout", ARM) and s.main_arm == ARM
    full = simulate_remarketing(s)
    assert full.equals(frame.drop("treatment"))


def test_policy_values_add_up(frame: pl.DataFrame) -> None:
    n = frame.height
    nobody = policy_value(frame, np.zeros(n, dtype=bool), arm=ARM)
    assert nobody.treated == 0 and nobody.profit_per_1000 == 0 and nobody.realised_profit_per_1000 == 0
    everyone = policy_value(frame, np.ones(n, dtype=bool), arm=ARM)
    assert everyone.treated_share == 1
    true_mean = frame[f"cate_margin__{ARM}"].cast(pl.Float64).mean()
    assert everyone.profit_per_1000 == pytest.approx(1000 * true_mean)
    realised = (frame[f"margin__{ARM}"] - frame["margin__holdout"] - frame[f"cost__{ARM}"]).mean()
    assert everyone.realised_profit_per_1000 == pytest.approx(1000 * realised)
    assert everyone.cost_per_1000 == pytest.approx(1000 * frame[f"cost__{ARM}"].mean())
    rng = np.random.default_rng(0)
    a = rng.random(n) < 0.3
    parts = [policy_value(frame, mask, arm=ARM) for mask in (a, ~a)]
    assert sum(p.profit_per_1000 for p in parts) == pytest.approx(everyone.profit_per_1000)
    assert sum(p.conversions_per_1000 for p in parts) == pytest.approx(everyone.conversions_per_1000)
    assert set(everyone.to_dict()) >= {"arm", "profit_per_1000", "treated_share"}
    assert policy_value(frame, pl.Series(a), arm=ARM) == parts[0]


def test_oracle_is_the_best_policy(frame: pl.DataFrame) -> None:
    oracle = policy_value(frame, oracle_policy(frame, arm=ARM), arm=ARM)
    rng = np.random.default_rng(1)
    for _ in range(5):
        other = policy_value(frame, rng.random(frame.height) < rng.random(), arm=ARM)
        assert other.profit_per_1000 <= oracle.profit_per_1000
    likely = policy_value(frame, top_share(frame["p_converted__holdout"], oracle.treated_share), arm=ARM)
    assert likely.profit_per_1000 < 0 < oracle.profit_per_1000


def test_top_share_and_profit_by_share_agree(frame: pl.DataFrame) -> None:
    scores = frame[f"cate_margin__{ARM}"].to_numpy() + np.random.default_rng(2).normal(0, 0.5, frame.height)
    curve = profit_by_share(frame, scores, arm=ARM)
    assert curve.height == 101 and curve["share"][0] == 0 and curve["share"][-1] == 1
    assert curve["profit_per_1000"][0] == 0
    for share in (0.1, 0.35, 1.0):
        mask = top_share(scores, share)
        assert mask.sum() == round(share * frame.height)
        value = policy_value(frame, mask, arm=ARM)
        row = curve.filter(pl.col("share").round(6) == share).row(0, named=True)
        assert row["profit_per_1000"] == pytest.approx(value.profit_per_1000, rel=1e-9)
        assert row["conversions_per_1000"] == pytest.approx(value.conversions_per_1000, rel=1e-9)


def test_top_share_breaks_ties_by_row() -> None:
    assert top_share(np.array([1.0, 2.0, 2.0, 0.0]), 0.5).tolist() == [False, True, True, False]
    assert top_share([1.0, 1.0, 1.0, 1.0], 0.25).tolist() == [True, False, False, False]
    with pytest.raises(DataError, match="NaN"):
        top_share([1.0, np.nan], 0.5)
    with pytest.raises(ParameterError, match="share"):
        top_share([1.0, 2.0], 1.5)


def test_picked_by_group(frame: pl.DataFrame) -> None:
    mask = oracle_policy(frame, arm=ARM)
    table = picked_by_group(frame, mask)
    assert table["uplift_group"].cast(pl.String).to_list() == list(UPLIFT_GROUPS)
    assert table["customers"].sum() == frame.height and table["treated"].sum() == mask.sum()
    assert table["share_of_treated"].sum() == pytest.approx(1.0)
    share = dict(zip(table["uplift_group"].cast(pl.String), table["share_of_group"], strict=True))
    assert share["persuadable"] > share["sure_thing"]  # the oracle spares those who buy anyway


def test_bad_policies_and_arms_are_refused(frame: pl.DataFrame, scenario: RemarketingScenario) -> None:
    with pytest.raises(DataError, match="one true/false value per customer"):
        policy_value(frame, np.ones(3, dtype=bool), arm=ARM)
    with pytest.raises(DataError, match="one true/false value per customer"):
        policy_value(frame, np.ones(frame.height), arm=ARM)
    with pytest.raises(DataError, match="generic"):
        policy_value(frame, np.ones(frame.height, dtype=bool), arm="generic")
    with pytest.raises(ParameterError, match="arm"):
        simulate_targeting(scenario, arm="holdout")
    with pytest.raises(ParameterError, match="treated_share"):
        simulate_targeting(scenario, treated_share=1.0)
    with pytest.raises(ParameterError, match="arm_shares"):
        simulate_targeting(scenario.replace(incentive="none", arm_shares="holdout:0.5,dynamic:0.5"),
                           arm="dynamic_incentive")
