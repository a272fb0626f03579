"""Statistics core against independent references (numpy, scipy, statsmodels)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from experiments.errors import DataError, ParameterError
from experiments.stats.economics import campaign_economics
from experiments.stats.effects import compare, mean_effect, proportion_effect
from experiments.stats.srm import srm_test
from experiments.stats.sufficient import SampleStats, gather


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n = 30_000
    arm = rng.choice(["holdout", "a", "b"], size=n, p=[0.2, 0.4, 0.4])
    lift = np.select([arm == "a", arm == "b"], [0.01, 0.02], 0.0)
    converted = (rng.random(n) < 0.05 + lift).astype(np.int8)
    pre = rng.gamma(0.5, 80, n)
    revenue = converted * rng.lognormal(4, 1, n) + 0.1 * pre
    seg = rng.choice(["x", "y"], size=n)
    return pl.DataFrame(
        {"arm": arm, "converted": converted, "revenue": revenue, "pre": pre, "seg": seg}
    )


def test_gather_matches_numpy(table: pl.DataFrame) -> None:
    st_ = gather(table, arm="arm", metrics=["converted", "revenue"], covariates=["pre"])
    for a in ("holdout", "a", "b"):
        sub = table.filter(pl.col("arm") == a)
        s = st_.stats(a, "revenue")
        r = sub["revenue"].to_numpy()
        assert s.n == len(r)
        assert s.mean == pytest.approx(r.mean(), rel=1e-12)
        assert s.variance == pytest.approx(r.var(ddof=1), rel=1e-9)
        assert st_.cross(a, "revenue", "pre") == pytest.approx(
            float((r * sub["pre"].to_numpy()).sum()), rel=1e-12
        )
    assert st_.counts() == {a: int((table["arm"] == a).sum()) for a in ("a", "b", "holdout")}


def test_gather_lazy_and_merge_are_exact(table: pl.DataFrame) -> None:
    whole = gather(table.lazy(), arm="arm", metrics=["revenue"], segment="seg")
    halves = gather(table[:12_345], arm="arm", metrics=["revenue"], segment="seg").merge(
        gather(table[12_345:], arm="arm", metrics=["revenue"], segment="seg")
    )
    for a in ("holdout", "a", "b"):
        for s in ("x", "y"):
            w, h = whole.stats(a, "revenue", s), halves.stats(a, "revenue", s)
            assert w.n == h.n
            assert w.sum == pytest.approx(h.sum, rel=1e-12)
            assert w.sum_squares == pytest.approx(h.sum_squares, rel=1e-12)


def test_gather_skips_missing_values() -> None:
    df = pl.DataFrame({"arm": ["a", "a", "b"], "y": [1.0, None, 3.0]})
    s = gather(df, arm="arm", metrics=["y"]).stats("a", "y")
    assert (s.n, s.sum) == (1, 1.0)


@pytest.mark.parametrize("method", ["wald", "score"])
def test_proportion_effect_matches_statsmodels(method: str) -> None:
    t, c = SampleStats(21_000, 1_260, 1_260), SampleStats(20_500, 1_100, 1_100)
    e = proportion_effect(t, c, method=method, alpha=0.05)
    low, high = confint_proportions_2indep(1260, 21_000, 1100, 20_500, method=method, compare="diff")
    assert e.estimate == pytest.approx(1260 / 21_000 - 1100 / 20_500, abs=1e-15)
    assert (e.ci_low, e.ci_high) == pytest.approx((low, high), rel=1e-12)
    rlow, rhigh = confint_proportions_2indep(1260, 21_000, 1100, 20_500, method="log", compare="ratio")
    assert (e.rel_ci_low, e.rel_ci_high) == pytest.approx((rlow - 1, rhigh - 1), rel=1e-12)
    if method == "wald":  # unpooled z: statistic and p-value by hand
        p1, p0 = 1260 / 21_000, 1100 / 20_500
        z = (p1 - p0) / math.sqrt(p1 * (1 - p1) / 21_000 + p0 * (1 - p0) / 20_500)
        assert e.statistic == pytest.approx(z, rel=1e-12)
        assert e.p_value == pytest.approx(2 * sps.norm.sf(abs(z)), rel=1e-10)
    else:  # the score test is close to the pooled z-test at these sizes
        _, p_pooled = proportions_ztest([1260, 1100], [21_000, 20_500])
        assert e.p_value == pytest.approx(p_pooled, rel=0.02)
    stat, p = e  # unpacks like statsmodels results
    assert (stat, p) == (e.statistic, e.p_value)


def test_mean_effect_matches_scipy_and_statsmodels(table: pl.DataFrame) -> None:
    x1 = table.filter(pl.col("arm") == "b")["revenue"].to_numpy()
    x0 = table.filter(pl.col("arm") == "holdout")["revenue"].to_numpy()
    t = SampleStats(len(x1), x1.sum(), (x1**2).sum())
    c = SampleStats(len(x0), x0.sum(), (x0**2).sum())
    e = mean_effect(t, c, alpha=0.1)
    ref = sps.ttest_ind(x1, x0, equal_var=False)
    assert e.statistic == pytest.approx(ref.statistic, rel=1e-8)
    assert e.p_value == pytest.approx(ref.pvalue, rel=1e-7)
    low, high = CompareMeans(DescrStatsW(x1), DescrStatsW(x0)).tconfint_diff(alpha=0.1, usevar="unequal")
    assert (e.ci_low, e.ci_high) == pytest.approx((low, high), rel=1e-8)
    assert e.estimate == pytest.approx(x1.mean() - x0.mean(), abs=1e-9)


def test_relative_lift_delta_method_covers_by_simulation() -> None:
    rng = np.random.default_rng(3)
    hits = 0
    reps = 400
    for _ in range(reps):
        a, b = rng.exponential(1.2, 2_000), rng.exponential(1.0, 2_000)
        e = mean_effect(SampleStats(2000, a.sum(), (a**2).sum()), SampleStats(2000, b.sum(), (b**2).sum()))
        hits += e.rel_ci_low <= 0.2 <= e.rel_ci_high
    assert 0.92 <= hits / reps <= 0.98


@settings(max_examples=60, deadline=None)
@given(
    c1=st.integers(0, 500), n1=st.integers(501, 5000), c0=st.integers(0, 500), n0=st.integers(501, 5000)
)
def test_proportion_interval_contains_estimate(c1: int, n1: int, c0: int, n0: int) -> None:
    e = proportion_effect(SampleStats(n1, c1, c1), SampleStats(n0, c0, c0))
    assert e.ci_low <= e.estimate + 1e-12
    assert e.estimate <= e.ci_high + 1e-12
    assert math.isnan(e.p_value) or 0 <= e.p_value <= 1


def test_compare_runs_every_arm_and_metric(table: pl.DataFrame) -> None:
    st_ = gather(table, arm="arm", metrics=["converted", "revenue"])
    effects = compare(st_, control="holdout", kinds={"converted": "binary", "revenue": "continuous"})
    assert [(e.metric, e.arm) for e in effects] == [
        ("converted", "a"), ("converted", "b"), ("revenue", "a"), ("revenue", "b")
    ]
    frame = pl.concat([e.to_frame() for e in effects])
    assert frame.height == 4 and set(frame["control"]) == {"holdout"}
    assert effects[0].to_dict()["method"] == "two-proportion wald"
    with pytest.raises(ParameterError, match="alpha"):
        compare(st_, control="holdout", kinds={"converted": "binary"}, alpha=1.5)


def test_srm_matches_scipy() -> None:
    res = srm_test({"holdout": 2_100, "a": 3_950, "b": 3_950}, {"holdout": 0.2, "a": 0.4, "b": 0.4})
    chi2, p = sps.chisquare([2100, 3950, 3950], [2000, 4000, 4000])
    assert (res.chi2, res.p_value) == pytest.approx((chi2, p), rel=1e-12)
    assert res.df == 2 and not res.mismatch
    assert srm_test({"a": 5_000, "b": 5_400}).mismatch
    with pytest.raises(ParameterError, match="shares"):
        srm_test({"a": 1, "b": 1}, {"a": 0.5, "b": 0.6})
    with pytest.raises(DataError, match="shares name arms"):
        srm_test({"a": 1, "b": 1}, {"a": 0.5, "c": 0.5})


def test_campaign_economics_scales_intervals() -> None:
    conv = proportion_effect(SampleStats(10_000, 700, 700), SampleStats(10_000, 600, 600), arm="a")
    rev = mean_effect(SampleStats(10_000, 70_000, 7e6), SampleStats(10_000, 60_000, 6e6), arm="a")
    mar = mean_effect(SampleStats(10_000, 24_500, 9e5), SampleStats(10_000, 21_000, 8e5), arm="a")
    eco = campaign_economics(conv, rev, mar, cost=1_500.0)
    assert eco.incremental_conversions == pytest.approx(100.0)
    assert eco.incremental_conversions_low == pytest.approx(10_000 * conv.ci_low)
    assert eco.incremental_profit == pytest.approx(3_500 - 1_500)
    assert eco.incremental_profit_low == pytest.approx(10_000 * mar.ci_low - 1_500)
    assert eco.cost_per_incremental_conversion == pytest.approx(15.0)
    assert eco.cost_per_incremental_conversion_low == pytest.approx(1_500 / (10_000 * conv.ci_high))
    assert eco.iroas == pytest.approx(10_000 / 1_500)
    if conv.ci_low <= 0:
        assert math.isinf(eco.cost_per_incremental_conversion_high)
    assert eco.verdict in {"pays back", "does not pay back", "inconclusive"}
    assert eco.to_frame().height == 5
    with pytest.raises(ParameterError, match="cost"):
        campaign_economics(conv, rev, mar, cost=-1)
