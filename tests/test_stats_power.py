"""Power and sample size against statsmodels, the closed-form formula and Cohen's (1988) table."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from experiments.errors import ParameterError
from experiments.stats.power import minimum_detectable_effect, sample_size


def test_binary_sample_size_matches_unpooled_formula() -> None:
    r = sample_size(baseline=0.10, mde=0.02)
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
    by_hand = z**2 * (0.1 * 0.9 + 0.12 * 0.88) / 0.02**2  # 3838.4 (far tail ignored)
    assert r.n_per_arm == math.ceil(by_hand) == 3839
    assert r.n_total == 2 * 3839 and r.mde_relative == pytest.approx(0.2)
    # Kohavi et al. (2020) rule of thumb n = 16 sigma^2 / delta^2 (sigma^2 averaged over arms), within 2 %
    assert r.n_per_arm == pytest.approx(16 * (0.09 + 0.1056) / 2 / 0.02**2, rel=0.02)


def test_continuous_matches_cohens_table() -> None:
    # Cohen (1988), Table 2.4.1, two-sided alpha 0.05, power 0.80: d = 0.2 -> 393, 0.5 -> 64, 0.8 -> 26.
    # The table rounds to the nearest unit (393.4 -> 393); we round up, so allow one unit.
    for d, n in ((0.2, 393), (0.5, 64), (0.8, 26)):
        got = sample_size(baseline=10, mde=d * 4, sd=4, kind="continuous").n_per_arm
        assert n <= got <= n + 1
        assert got == math.ceil(TTestIndPower().solve_power(effect_size=d, alpha=0.05, power=0.8))


def test_several_arms_use_bonferroni() -> None:
    r = sample_size(baseline=0.05, mde=0.05, relative=True, arms=4)
    assert r.alpha_per_comparison == pytest.approx(0.05 / 3)
    es = 0.0025 / math.sqrt((0.05 * 0.95 + 0.0525 * 0.9475) / 2)
    ref = NormalIndPower().solve_power(effect_size=es, alpha=0.05 / 3, power=0.8)
    assert r.n_per_arm == math.ceil(ref) and r.n_total == 4 * r.n_per_arm


def test_mde_inverts_sample_size() -> None:
    r = minimum_detectable_effect(baseline=0.1, n_per_arm=3839)
    assert r.mde == pytest.approx(0.02, rel=2e-3)
    c = minimum_detectable_effect(baseline=10, n_per_arm=64, sd=4, kind="continuous")
    assert c.mde / 4 == pytest.approx(TTestIndPower().solve_power(nobs1=64, alpha=0.05, power=0.8), rel=1e-9)
    assert "per arm" in c.summary() and c.to_frame().height == 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"baseline": 1.5, "mde": 0.1}, "baseline"),
        ({"baseline": 0.1, "mde": 0.0}, "mde"),
        ({"baseline": 0.1, "mde": 0.01, "alpha": 1.0}, "alpha"),
        ({"baseline": 0.1, "mde": 0.01, "arms": 1}, "arms"),
        ({"baseline": 3.0, "mde": 1.0, "kind": "continuous"}, "sd"),
        ({"baseline": 0.95, "mde": 0.1}, "mde"),
    ],
)
def test_rejects_bad_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(ParameterError, match=name):
        sample_size(**kwargs)
