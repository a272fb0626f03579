"""Tests of the typed remarketing scenario: defaults, round trip, one-line rejections."""

from __future__ import annotations

import pytest

from experiments.errors import ParameterError
from experiments.studies.remarketing.scenario import DEFAULTS, RemarketingScenario


def test_defaults_round_trip():
    s = RemarketingScenario.from_params({})
    assert s.to_params() == {**DEFAULTS, "channels": "display,social,email"}
    assert RemarketingScenario.from_params(s.to_params()) == s
    assert s.n_customers == 200_000 and s.seed == 20261124
    assert s.arms == ("holdout", "dynamic", "dynamic_incentive")
    assert s.treatment_arms == ("dynamic", "dynamic_incentive")
    assert s.unit_costs["social"] == pytest.approx(0.01)


def test_strings_from_papermill_are_accepted():
    s = RemarketingScenario.from_params(
        {"n_customers": "1000", "seed": "7", "discount": "0.2", "frequency_cap": 3.0,
         "arm_shares": "dynamic:0.5,holdout:0.5"}
    )
    assert (s.n_customers, s.seed, s.discount, s.frequency_cap) == (1000, 7, 0.2, 3)
    assert s.arms == ("holdout", "dynamic")


def test_replace_validates():
    s = RemarketingScenario.from_params({})
    assert s.replace(frequency_cap=3).frequency_cap == 3
    with pytest.raises(ParameterError):
        s.replace(frequency_cap=0)


@pytest.mark.parametrize(
    ("params", "name", "shown"),
    [
        ({"n_customers": -1}, "n_customers", "-1"),
        ({"n_customers": 2.5}, "n_customers", "2.5"),
        ({"n_customers": "abc"}, "n_customers", "abc"),
        ({"arm_shares": "holdout:0.5,dynamic:0.4"}, "arm_shares", "dynamic:0.4"),
        ({"channels": "display,tv"}, "channels", "tv"),
        ({"cookie_match_rate": 1.5}, "cookie_match_rate", "1.5"),
        ({"email_opt_in_rate": -0.1}, "email_opt_in_rate", "-0.1"),
        ({"discount": 2}, "discount", "2"),
        ({"colour": "blue"}, "colour", "blue"),
        ({"arm_shares": "holdout:0.5,magic:0.5"}, "arm_shares", "magic"),
        ({"arm_shares": "generic:0.5,dynamic:0.5"}, "arm_shares", "generic:0.5"),
        ({"incentive": "none"}, "arm_shares", "dynamic_incentive"),
        ({"audience": "everyone"}, "audience", "everyone"),
        ({"days": 91}, "days", "91"),
        ({"frequency_cap": 0}, "frequency_cap", "0"),
    ],
)
def test_bad_values_name_parameter_and_value(params, name, shown):
    with pytest.raises(ParameterError) as info:
        RemarketingScenario.from_params(params)
    message = str(info.value)
    assert "\n" not in message
    assert f"'{name}'" in message and shown in message and "allowed" in message


def test_incentive_none_without_incentive_arms_is_fine():
    s = RemarketingScenario.from_params(
        {"incentive": "none", "arm_shares": "holdout:0.5,generic:0.25,dynamic:0.25"}
    )
    assert s.treatment_arms == ("generic", "dynamic")
