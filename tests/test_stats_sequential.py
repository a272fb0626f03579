"""mSPRT: always-valid p-values hold the false-positive rate under daily peeking (simulation)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.errors import DataError, ParameterError
from experiments.stats.sequential import (
    always_valid_pvalues,
    asymptotic_confidence_sequence,
    asymptotic_pvalues,
    confidence_sequence,
    msprt,
    naive_looks,
    tuning_rho,
)
from experiments.stats.sufficient import SampleStats


def _simulate(
    reps: int, looks: int, per_look: int, effect: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative difference of means and its variance (unit variance arms), shape (reps, looks)."""
    rng = np.random.default_rng(seed)
    sums_t = np.cumsum(rng.normal(effect * per_look, math.sqrt(per_look), (reps, looks)), axis=1)
    sums_c = np.cumsum(rng.normal(0, math.sqrt(per_look), (reps, looks)), axis=1)
    n = per_look * np.arange(1, looks + 1)
    return (sums_t - sums_c) / n, np.broadcast_to(2 / n, (reps, looks))


def test_false_positive_rate_under_peeking() -> None:
    diff, var = _simulate(4_000, 30, 200, 0.0, 11)
    p = always_valid_pvalues(diff, var, tau2=10 * var[0, -1])
    fpr = float((p[:, -1] <= 0.05).mean())
    naive = 2 * (1 - __import__("scipy").stats.norm.cdf(np.abs(diff / np.sqrt(var))))
    naive_fpr = float((naive.min(axis=1) <= 0.05).mean())
    assert fpr <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 4_000)
    assert naive_fpr > 0.15  # peeking at a fixed-horizon test inflates it (about 0.25 at 30 looks)
    assert np.all(np.diff(p, axis=1) <= 0)


def test_power_and_confidence_sequence_coverage() -> None:
    diff, var = _simulate(2_000, 20, 500, 0.05, 12)
    tau2 = 10 * var[0, -1]
    p = always_valid_pvalues(diff, var, tau2=tau2)
    assert (p[:, -1] <= 0.05).mean() > 0.5
    low, high = confidence_sequence(diff, var, tau2=tau2, alpha=0.05)
    covered_always = ((low <= 0.05) & (high >= 0.05)).all(axis=1).mean()
    assert covered_always >= 0.95 - 3 * math.sqrt(0.05 * 0.95 / 2_000)


def test_msprt_on_frames_and_sample_stats() -> None:
    rng = np.random.default_rng(5)
    t, c = rng.normal(0.1, 1, 5_000), rng.normal(0, 1, 5_000)
    ends = [1_000, 2_000, 3_000, 4_000, 5_000]
    pairs = [
        (SampleStats(k, t[:k].sum(), (t[:k] ** 2).sum()), SampleStats(k, c[:k].sum(), (c[:k] ** 2).sum()))
        for k in ends
    ]
    res = msprt(pairs, alpha=0.05)
    frame = pl.DataFrame({
        "count_t": ends, "mean_t": [a.mean for a, _ in pairs], "variance_t": [a.variance for a, _ in pairs],
        "count_c": ends, "mean_c": [b.mean for _, b in pairs], "variance_c": [b.variance for _, b in pairs],
    })
    res2 = msprt(frame, alpha=0.05)
    assert res.p_value == pytest.approx(res2.p_value, rel=1e-12)
    assert res.estimate[-1] == pytest.approx(t.mean() - c.mean(), rel=1e-9)
    assert res.tau == pytest.approx(math.sqrt(10 * res.se[-1] ** 2))
    assert all(a >= b for a, b in zip(res.p_value, res.p_value[1:], strict=False))
    assert res.to_frame().height == 5 and res.to_dict()["looks"] == 5 and "looks" in res.summary()
    naive = naive_looks(pairs)
    assert naive["p_value"][-1] == pytest.approx(res.naive_p_value[-1])
    assert res.p_value[-1] >= naive["p_value"][-1]  # the always-valid p-value is the cautious one
    with pytest.raises(DataError, match="lacks columns"):
        msprt(frame.drop("mean_c"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=1, max_size=15), st.floats(0.01, 100))
def test_pvalues_in_unit_interval_and_non_increasing(diffs: list[float], tau2: float) -> None:
    d = np.array(diffs)
    p = always_valid_pvalues(d, np.linspace(1, 0.1, d.size), tau2=tau2)
    assert np.all((p > 0) & (p <= 1)) and np.all(np.diff(p) <= 0)


# ---------------------------------------------------------------------------------------------------
# asymptotic confidence sequence (Waudby-Smith et al. 2023), against GrowthBook's gbstats 0.8.0
# ---------------------------------------------------------------------------------------------------
# Reference numbers: gbstats 0.8.0 (PyPI), in its own environment (it pins numpy < 2, pandas < 2):
#   from gbstats.frequentist.tests import SequentialTwoSidedTTest, SequentialConfig
#   from gbstats.models.statistics import SampleMeanStatistic
#   t = SequentialTwoSidedTTest(SampleMeanStatistic(n=3000, sum=3900.0, sum_squares=12000.0),   # control
#                               SampleMeanStatistic(n=3100, sum=4300.0, sum_squares=13500.0),   # treatment
#                               SequentialConfig(alpha=0.05, sequential_tuning_parameter=5000,
#                                                difference_type="absolute"))
#   t.rho, t.confidence_interval, t.p_value
GBSTATS_CASES = [
    # control (n, sum, sumsq), treatment (n, sum, sumsq), alpha, tuning N*, rho, ci, p-value
    ((3000, 3900.0, 12000.0), (3100, 4300.0, 13500.0), 0.05, 5000, 0.03984006677137368,
     (-0.03264959970899459, 0.20684314809609147), 0.35805635629015253),
    ((1000, 1200.0, 4000.0), (1000, 1350.0, 4700.0), 0.10, 20000, 0.017788844264448767,
     (-0.11750155265078294, 0.4175015526507832), 0.5735394872530727),
    ((40000, 52000.0, 200000.0), (40500, 53800.0, 204000.0), 0.01, 50000, 0.015187982973861423,
     (-0.01743189405674371, 0.07422201751353373), 0.4265896140358066),
]


@pytest.mark.parametrize(("control", "treatment", "alpha", "planned", "rho", "ci", "p"), GBSTATS_CASES)
def test_asymptotic_cs_equals_gbstats(control, treatment, alpha, planned, rho, ci, p) -> None:
    c, t = SampleStats(*control), SampleStats(*treatment)
    assert tuning_rho(alpha, planned) == pytest.approx(rho, rel=1e-12)
    diff, var, n = t.mean - c.mean, t.variance / t.n + c.variance / c.n, t.n + c.n
    low, high = asymptotic_confidence_sequence([diff], [var], [n], rho=rho, alpha=alpha, intersect=False)
    assert (low[0], high[0]) == pytest.approx(ci, rel=1e-10)
    assert asymptotic_pvalues([diff], [var], [n], rho=rho)[0] == pytest.approx(p, rel=1e-10)
    one_look = msprt([(t, c)], alpha=alpha, planned_n=planned)
    assert (one_look.cs_low[0], one_look.cs_high[0]) == pytest.approx(ci, rel=1e-10)
    assert one_look.cs_p_value[0] == pytest.approx(p, rel=1e-10)


def test_asymptotic_cs_proportions_equal_gbstats() -> None:
    # gbstats: ProportionStatistic(n=5000, sum=500) control, (n=5000, sum=560) treatment, alpha 0.05,
    # sequential_tuning_parameter=10000, absolute: ci [-0.006683480352294411, 0.030683480352294405],
    # p 0.5529512686175692 (variance p (1 - p), ddof 0, as gbstats takes it)
    p0, p1 = 0.1, 0.112
    var = p0 * (1 - p0) / 5000 + p1 * (1 - p1) / 5000
    rho = tuning_rho(0.05, 10_000)
    assert rho == pytest.approx(0.02817118137696317, rel=1e-12)
    low, high = asymptotic_confidence_sequence([p1 - p0], [var], [10_000], rho=rho, intersect=False)
    assert (low[0], high[0]) == pytest.approx((-0.006683480352294411, 0.030683480352294405), rel=1e-9)
    assert asymptotic_pvalues([p1 - p0], [var], [10_000], rho=rho)[0] == pytest.approx(0.5529512686175692,
                                                                                     rel=1e-9)


def test_asymptotic_cs_is_the_msprt_boundary_with_tau_from_rho() -> None:
    # Waudby-Smith et al.'s boundary is the normal-mixture (mSPRT) one with tau^2 = rho^2 sigma^2
    diff, var = _simulate(50, 12, 300, 0.02, 5)
    n = 2 * 300 * np.arange(1, 13)
    rho = tuning_rho(0.05, int(n[-1]))
    low, high = asymptotic_confidence_sequence(diff, var, n, rho=rho, intersect=False)
    tau2 = rho**2 * var[0, 0] * n[0]  # unit-variance arms: sigma^2 = N V is the same at every look
    m_low, m_high = confidence_sequence(diff, var, tau2=tau2)
    np.testing.assert_allclose(np.maximum.accumulate(low, axis=1), m_low, rtol=1e-9)
    np.testing.assert_allclose(np.minimum.accumulate(high, axis=1), m_high, rtol=1e-9)


def test_asymptotic_cs_false_positives_and_coverage_under_peeking() -> None:
    reps, looks, per = 4_000, 30, 200
    for effect, seed in ((0.0, 21), (0.1, 22)):
        diff, var = _simulate(reps, looks, per, effect, seed)
        n = 2 * per * np.arange(1, looks + 1)
        rho = tuning_rho(0.05, int(n[-1]))
        low, high = asymptotic_confidence_sequence(diff, var, n, rho=rho)
        p = asymptotic_pvalues(diff, var, n, rho=rho)
        miss = float(((low[:, -1] > effect) | (high[:, -1] < effect)).mean())
        assert miss <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)  # time-uniform coverage of the truth
        # the interval excludes 0 at a look exactly when the running p-value is <= alpha
        np.testing.assert_array_equal((low > 0) | (high < 0), p <= 0.05)
        if effect == 0:
            assert miss > 0.002  # not vacuous: about 1.5% over 30 looks


def test_msprt_result_carries_confidence_sequence_and_decision() -> None:
    diff, _ = _simulate(1, 10, 400, 0.3, 3)
    looks = [(SampleStats.from_moments(400 * (k + 1), float(diff[0, k]), 1.0),
              SampleStats.from_moments(400 * (k + 1), 0.0, 1.0)) for k in range(10)]
    r = msprt(looks, alpha=0.05)
    assert r.planned_n == 8000 and r.cs_rejected_at is not None and r.decision == "positive"
    d = r.to_dict()
    cs = d["confidence_sequence"]
    assert cs["decision"] == "positive" and cs["rejected_at"] == r.cs_rejected_at
    assert cs["ci_low"] > 0 and len(d["by_look"]["cs_low"]) == 10
    assert np.all(np.diff(r.cs_low) >= 0) and np.all(np.diff(r.cs_high) <= 0)
    assert "confidence sequence" in r.cs_summary()
    flat = msprt([(SampleStats.from_moments(500, 0.0, 1.0), SampleStats.from_moments(500, 0.0, 1.0))] * 2)
    assert flat.decision == "inconclusive" and flat.cs_rejected_at is None


@pytest.mark.parametrize("planned", [1, 2.5])
def test_msprt_refuses_bad_planned_n(planned) -> None:
    pair = (SampleStats.from_moments(500, 0.0, 1.0), SampleStats.from_moments(500, 0.0, 1.0))
    with pytest.raises(ParameterError, match="planned_n"):
        msprt([pair], planned_n=planned)
    with pytest.raises(ParameterError, match="rho"):
        asymptotic_pvalues([0.1], [0.01], [100], rho=0.0)
