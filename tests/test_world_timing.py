"""Timing, message flow, season and the common-random-number curves of the remarketing world."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

import experiments.simulate.truth as truth
from experiments.errors import ParameterError
from experiments.simulate.blocks import CHUNK_SIZE
from experiments.simulate.campaign import message_hours
from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.truth import delivery_curve, first_touch_curve, frequency_curve
from experiments.studies.remarketing.scenario import RemarketingScenario

TWO = "holdout:0.5,dynamic:0.5"


def test_message_sequence_follows_the_flow() -> None:
    s = RemarketingScenario.from_params({"email_messages": 4, "first_touch_hours": 2,
                                         "message_spacing_hours": 48, "days": 7})
    assert message_hours(s, "email").tolist() == [2.0, 50.0, 98.0, 146.0]
    assert message_hours(s.replace(days=5), "email").tolist() == [2.0, 50.0, 98.0]  # window ends
    assert message_hours(s, "sms").tolist() == [2.0]


def test_more_messages_reach_email_customers() -> None:
    base = {"n_customers": 20_000, "seed": 2, "channels": "email", "arm_shares": TWO, "frequency_cap": 20,
            "channel_holdout": 0}  # every opted-in customer gets the whole flow
    few = simulate_remarketing(RemarketingScenario.from_params({**base, "email_messages": 2}))
    many = simulate_remarketing(RemarketingScenario.from_params({**base, "email_messages": 5}))
    opted = pl.col("email_opt_in")
    assert set(few.filter(opted)["exposures__dynamic"].unique()) == {2}
    assert set(many.filter(opted)["exposures__dynamic"].unique()) == {5}
    assert (many["cost__dynamic"] >= few["cost__dynamic"]).all()


def test_profit_falls_with_the_first_touch_delay() -> None:
    # Sahni, Narayanan & Kalyanam (2019): the reminder fades with time since the visit.
    s = RemarketingScenario.from_params({"n_customers": 40_000, "seed": 4})
    curve = first_touch_curve(s, [0, 1, 6, 24, 72])
    assert curve.columns[:2] == ["first_touch_hours", "arm"]
    for arm in s.treatment_arms:
        rows = curve.filter(pl.col("arm") == arm)
        expected = rows["expected_profit_per_1000"].to_list()
        assert all(a > b for a, b in itertools.pairwise(expected)), arm
        assert rows["incremental_profit_per_1000"][0] > rows["incremental_profit_per_1000"][-1] + 100
        conversions = rows["expected_conversions_per_1000"].to_list()
        assert conversions[0] > conversions[-1]


def test_frequency_curve_is_one_simulation_with_common_random_numbers(monkeypatch) -> None:
    s = RemarketingScenario.from_params({"n_customers": 40_000, "seed": 8})
    calls = []
    original = truth.draw_world

    def counted(*args, **kwargs):
        calls.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(truth, "draw_world", counted)
    curve = frequency_curve(s, [1, 4, 8, 20])
    assert sum(calls) == s.n_customers  # every customer drawn once, whatever the number of caps
    frame = simulate_remarketing(s)
    for arm in s.treatment_arms:
        row = curve.filter((pl.col("frequency_cap") == s.frequency_cap) & (pl.col("arm") == arm))
        loss = s.subscriber_value * frame[f"unsubscribed__{arm}"].cast(pl.Float64).mean()
        realised = frame.select(
            (pl.col(f"margin__{arm}") - pl.col("margin__holdout") - pl.col(f"cost__{arm}")).mean()
        ).item() - loss
        assert row["incremental_profit_per_1000"].item() == pytest.approx(1000 * realised, rel=1e-12)
        expected = (frame[f"cate_margin__{arm}"].cast(pl.Float64).mean()
                    - s.subscriber_value * frame[f"cate_unsubscribed__{arm}"].cast(pl.Float64).mean())
        assert row["expected_profit_per_1000"].item() == pytest.approx(1000 * expected, rel=1e-5)
        conversions = (frame[f"converted__{arm}"].cast(pl.Float64) - frame["converted__holdout"]).mean()
        assert row["incremental_conversions_per_1000"].item() == pytest.approx(1000 * conversions)


def test_curve_identical_whatever_the_blocks() -> None:
    s = RemarketingScenario.from_params({"n_customers": 2 * CHUNK_SIZE + 500, "seed": 3})  # 3 chunks
    one = delivery_curve(s, "message_spacing_hours", [6, 24], block_size=CHUNK_SIZE)
    two = delivery_curve(s, "message_spacing_hours", [6, 24], block_size=10**6, workers=2)
    assert one.equals(two)


def test_curve_refuses_parameters_of_the_customers_themselves() -> None:
    s = RemarketingScenario.from_params({"n_customers": 1_000})
    with pytest.raises(ParameterError, match="peak_season"):
        delivery_curve(s, "peak_season", [True])
    with pytest.raises(ParameterError, match="first_touch_hours"):
        first_touch_curve(s, [-1])


def test_peak_season_raises_baseline_and_media_prices_together() -> None:
    base = {"n_customers": 30_000, "seed": 6, "arm_shares": TWO}
    off = simulate_remarketing(RemarketingScenario.from_params(base))
    peak_s = RemarketingScenario.from_params({**base, "peak_season": True})
    peak = simulate_remarketing(peak_s)
    ratio = peak["p_converted__holdout"].mean() / off["p_converted__holdout"].mean()
    assert 1.2 < ratio < 1.31
    assert peak_s.unit_costs["display"] == pytest.approx(1.4 * 2.0 / 1000)
    assert peak_s.unit_costs["email"] == pytest.approx(0.001)
    media = pl.col("cost__dynamic").sum()
    assert peak.select(media).item() > 1.3 * off.select(media).item()  # mostly paid impressions
    assert (peak["exposures__dynamic"] == off["exposures__dynamic"]).all()  # same customers and draws


@pytest.mark.parametrize(
    ("params", "name", "shown"),
    [
        ({"first_touch_hours": -1}, "first_touch_hours", "-1"),
        ({"first_touch_hours": 336}, "first_touch_hours", "336"),
        ({"days": 2, "first_touch_hours": 50}, "first_touch_hours", "50"),
        ({"email_messages": 0}, "email_messages", "0"),
        ({"sms_messages": 2.5}, "sms_messages", "2.5"),
        ({"message_spacing_hours": 0}, "message_spacing_hours", "0"),
        ({"reactance": 1.5}, "reactance", "1.5"),
        ({"peak_season": "maybe"}, "peak_season", "maybe"),
        ({"peak_conversion_multiplier": 0}, "peak_conversion_multiplier", "0"),
        ({"peak_cpm_multiplier": "x"}, "peak_cpm_multiplier", "x"),
    ],
)
def test_new_parameters_are_validated_in_one_line(params: dict, name: str, shown: str) -> None:
    with pytest.raises(ParameterError) as info:
        RemarketingScenario.from_params(params)
    message = str(info.value)
    assert "\n" not in message and f"'{name}'" in message and shown in message and "allowed" in message


def test_new_parameters_round_trip_and_papermill_strings() -> None:
    s = RemarketingScenario.from_params({"peak_season": "true", "first_touch_hours": "6",
                                         "email_messages": "5", "message_spacing_hours": "12"})
    got = (s.peak_season, s.first_touch_hours, s.email_messages, s.message_spacing_hours)
    assert got == (True, 6.0, 5, 12.0)
    assert RemarketingScenario.from_params(s.to_params()) == s
    assert s.main_arm == "dynamic"  # ties go to the first arm in ARMS order
    larger = RemarketingScenario.from_params({"arm_shares": "holdout:0.2,generic:0.5,dynamic:0.3"})
    assert larger.main_arm == "generic"


def test_notebook_parameters_cell_mirrors_the_scenario() -> None:
    import ast

    import papermill as pm

    from experiments.paths import NOTEBOOKS_DIR
    from experiments.studies.remarketing.scenario import DEFAULTS

    inspected = pm.inspect_notebook(str(NOTEBOOKS_DIR / "remarketing.ipynb"))
    assert {k: ast.literal_eval(v["default"]) for k, v in inspected.items()} == DEFAULTS
    assert all(v["help"] for v in inspected.values())


def test_later_touch_means_weaker_reminder_for_every_reachable_customer() -> None:
    s = RemarketingScenario.from_params({"n_customers": 20_000, "seed": 1, "arm_shares": TWO,
                                         "channels": "email"})
    early = simulate_remarketing(s)
    late = simulate_remarketing(s.replace(first_touch_hours=48))
    opted = early["email_opt_in"].to_numpy()
    gain_early = early["cate_converted__dynamic"].to_numpy() + early["p_converted__holdout"].to_numpy()
    gain_late = late["cate_converted__dynamic"].to_numpy() + late["p_converted__holdout"].to_numpy()
    assert (gain_late[opted] <= gain_early[opted]).all()
    assert np.mean(gain_late[opted] < gain_early[opted]) > 0.5
