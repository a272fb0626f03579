"""Power and sample size against statsmodels, the closed-form formula and Cohen's (1988) table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.optimize import brentq
from scipy.stats import norm
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from experiments.errors import ParameterError
from experiments.stats.power import (
    minimum_detectable_effect,
    sample_size,
    sequential_boundary,
    sequential_power,
    sequential_sample_size,
)


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


# --------------------------------------------------------------------------------------------------
# regression adjustment (r2) and sequential monitoring
# --------------------------------------------------------------------------------------------------
def test_r2_is_statsmodels_on_the_reduced_variance() -> None:
    r = sample_size(baseline=0.1, mde=0.02, r2=0.3)
    es = 0.02 / math.sqrt((0.1 * 0.9 + 0.12 * 0.88) / 2) / math.sqrt(0.7)
    assert r.n_per_arm == math.ceil(NormalIndPower().solve_power(es, alpha=0.05, power=0.8)) and r.r2 == 0.3
    # the normal sample size scales by (1 - r2), up to rounding
    plain = sample_size(baseline=0.1, mde=0.02)
    assert abs(r.n_per_arm - 0.7 * plain.n_per_arm) <= 1.5
    c = sample_size(baseline=50, mde=2, kind="continuous", sd=20, r2=0.5)
    ref = TTestIndPower().solve_power(2 / (20 * math.sqrt(0.5)), alpha=0.05, power=0.8)
    assert c.n_per_arm == math.ceil(ref)
    m = minimum_detectable_effect(baseline=50, n_per_arm=c.n_per_arm, kind="continuous", sd=20, r2=0.5)
    assert m.mde == pytest.approx(2, rel=0.01) and m.mde < 2.0 + 1e-9
    with pytest.raises(ParameterError, match="r2"):
        sample_size(baseline=0.1, mde=0.02, r2=1.0)


def test_sequential_boundary_is_the_confidence_sequence_at_each_look() -> None:
    # the z-scale boundary equals the half-width / se of stats.sequential's sequence at the same looks
    from experiments.stats.sequential import asymptotic_confidence_sequence, tuning_rho

    looks, n_max = 10, 20_000
    n = n_max * np.arange(1, looks + 1) / looks
    var = 1.0 / n
    low, _ = asymptotic_confidence_sequence(np.zeros(looks), var, n, rho=tuning_rho(0.05, n_max),
                                            intersect=False)
    np.testing.assert_allclose(sequential_boundary(looks, 0.05, "cs"), -low / np.sqrt(var), rtol=1e-12)


def test_sequential_power_one_look_is_the_normal_formula() -> None:
    # one look: power = Phi(theta - b) + Phi(-theta - b) exactly (scipy)
    b = sequential_boundary(1, 0.05, "cs")
    theta = brentq(lambda x: norm.cdf(x - b[0]) + norm.cdf(-x - b[0]) - 0.8, 0, 10)
    plan = sequential_sample_size(baseline=0.1, mde=0.02, looks=1, replications=200_000)
    es = 0.02 / math.sqrt((0.1 * 0.9 + 0.12 * 0.88) / 2)
    assert plan.n_max_per_arm == pytest.approx(2 * (theta / es) ** 2, rel=0.01)
    assert plan.expected_fraction == 1.0


def test_sequential_power_matches_multivariate_normal() -> None:
    # three looks: 1 - P(all |Z_k| < b_k) for the Gaussian vector Z_k = theta sqrt(t_k) + W(t_k)/sqrt(t_k),
    # cov sqrt(t_j / t_k) (j <= k), from scipy's multivariate normal cdf (Genz)
    from scipy.stats import multivariate_normal

    t = np.array([1, 2, 3]) / 3
    b = sequential_boundary(3, 0.05, "msprt")
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    for theta in (0.0, 2.5, 3.5):
        inside = multivariate_normal(theta * np.sqrt(t), cov).cdf(b, lower_limit=-b)
        power, _ = sequential_power(theta, b, replications=400_000, seed=1)
        assert power == pytest.approx(1 - inside, abs=4 * math.sqrt(0.25 / 400_000) + 1e-4)


def test_sequential_power_holds_pocock_level() -> None:
    # Pocock (1977), Jennison & Turnbull (2000) Table 2.1: constant |z| >= 2.413 over 5 equally spaced
    # looks has two-sided level 0.05
    power, frac = sequential_power(0.0, np.full(5, 2.413), replications=400_000, seed=2)
    assert power == pytest.approx(0.05, abs=0.0015) and 0.95 < frac <= 1


def test_sequential_plan_reaches_its_power_on_simulated_experiments() -> None:
    # binary experiments at the planned maximum, tested at each look with stats.sequential's sequence
    from experiments.stats.sequential import asymptotic_confidence_sequence, tuning_rho

    plan = sequential_sample_size(baseline=0.1, mde=0.02, looks=10, replications=100_000)
    reps, k = 3000, 10
    per = -(-plan.n_max_per_arm // k)
    rng = np.random.default_rng(7)
    n = per * np.arange(1, k + 1)
    c1 = rng.binomial(per, 0.12, (reps, k)).cumsum(axis=1) / n
    c0 = rng.binomial(per, 0.10, (reps, k)).cumsum(axis=1) / n
    var = (c1 * (1 - c1) + c0 * (1 - c0)) / n
    low, high = asymptotic_confidence_sequence(c1 - c0, var, 2 * n, rho=tuning_rho(0.05, 2 * per * k))
    hit = (low > 0) | (high < 0)
    power = hit[:, -1].mean()
    stop = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, k) / k
    assert power == pytest.approx(0.8, abs=3 * math.sqrt(0.16 / reps) + 0.01)
    assert stop.mean() == pytest.approx(plan.expected_fraction, abs=0.02)
    assert 1 < plan.inflation < 2 and plan.expected_n_per_arm < plan.n_max_per_arm
    assert plan.to_dict()["fixed"]["n_per_arm"] == plan.fixed.n_per_arm == 3839
    assert plan.to_frame()["n_max_per_arm"].item() == plan.n_max_per_arm


@pytest.mark.parametrize(("kwargs", "name"), [({"looks": 0}, "looks"), ({"method": "pocock"}, "sequential"),
                                              ({"looks": 5000}, "looks")])
def test_sequential_rejects_bad_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(ParameterError, match=name):
        sequential_sample_size(baseline=0.1, mde=0.02, **kwargs)


def test_sequential_refuses_a_maximum_beyond_the_bound() -> None:
    # about 7e11 per arm at a fixed horizon (allowed), 1.7 times that monitored (refused)
    assert sample_size(baseline=0.1, mde=1.42e-6).n_per_arm < 10**12
    with pytest.raises(ParameterError, match="sequential test"):
        sequential_sample_size(baseline=0.1, mde=1.42e-6, replications=1000)
