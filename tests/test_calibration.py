"""Calibration studies: vectorised estimators equal the package's, and measured rates are nominal."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from experiments.errors import ParameterError
from experiments.simulate import replications as sim
from experiments.stats import SampleStats, gather, mean_effect, proportion_effect, replay
from experiments.stats import calibration as cal
from experiments.stats import vectorised as vec
from experiments.stats.cuped import cuped_effect
from experiments.studies.calibration import numbers as checks


# ---------------------------------------------------------------- vectorised twins == package
def test_proportion_arrays_equal_proportion_effect() -> None:
    c1, c0 = sim.simulate_proportions(replications=5, n_per_arm=800, base_rate=0.08, diff=0.02, seed=3)
    est = vec.proportion_arrays(c1, 800, c0, 800, alpha=0.1)
    for i in range(5):
        ref = proportion_effect(SampleStats(800, float(c1[i]), float(c1[i])),
                                SampleStats(800, float(c0[i]), float(c0[i])), alpha=0.1)
        assert est.estimate[i] == pytest.approx(ref.estimate, abs=1e-14)
        assert est.se[i] == pytest.approx(ref.se, rel=1e-12)
        assert est.ci_low[i] == pytest.approx(ref.ci_low, abs=1e-12)
        assert est.ci_high[i] == pytest.approx(ref.ci_high, abs=1e-12)
        assert est.p_value[i] == pytest.approx(ref.p_value, rel=1e-9, abs=1e-15)


def test_spend_sums_equal_gather_on_rows() -> None:
    t, c = (vec.ArmSums(**d) for d in sim.simulate_spend(replications=3, n_per_arm=50, lift=0.1, seed=11))
    rows = sim.spend_rows(replications=3, n_per_arm=50, lift=0.1, seed=11)
    for i in range(3):
        table = gather(rows.filter(pl.col("replication") == i), arm="arm", metrics=["spend"],
                       covariates=["history"])
        for label, s in (("treatment", t), ("control", c)):
            assert table.stats(label, "spend").sum == pytest.approx(s.y[i], rel=1e-12)
            assert table.stats(label, "spend").sum_squares == pytest.approx(s.yy[i], rel=1e-12)
            assert table.stats(label, "history").sum_squares == pytest.approx(s.xx[i], rel=1e-12)
            assert table.cross(label, "spend", "history") == pytest.approx(s.xy[i], rel=1e-12)


def test_welch_and_cuped_arrays_equal_package_estimators() -> None:
    t, c = (vec.ArmSums(**d) for d in sim.simulate_spend(replications=4, n_per_arm=300, lift=0.2, seed=5))
    welch = vec.welch_arrays(t, c, alpha=0.05)
    cuped = vec.cuped_arrays(t, c, alpha=0.05)
    for i in range(4):
        ref = mean_effect(t.sample_stats(i), c.sample_stats(i))
        for k in ("estimate", "se", "ci_low", "ci_high", "p_value"):
            assert getattr(welch, k)[i] == pytest.approx(getattr(ref, k), rel=1e-9), k
        table = vec.ArmSums.table(t, c, i)
        ref = cuped_effect(table, arm="treatment", control="control", metric="spend",
                           covariates=["history"])
        for k in ("estimate", "se", "ci_low", "ci_high", "p_value"):
            assert getattr(cuped, k)[i] == pytest.approx(getattr(ref, k), rel=1e-8), k


# ---------------------------------------------------------------- calibration (small, fast)
def test_binary_aa_false_positive_rate_and_coverage() -> None:
    s = checks.binary_study(replications=4000, n_per_arm=4000, base_rate=0.1, seed=1)
    assert s.reject.name == "false-positive rate"
    assert 0.04 <= s.reject.rate <= 0.06
    assert s.reject.contains_target or abs(s.reject.rate - 0.05) < 0.008
    assert s.coverage.rate == pytest.approx(1 - s.reject.rate)  # Wald test and interval agree
    assert abs(s.bias) < 4 * s.bias_se


def test_binary_ab_coverage_of_true_difference() -> None:
    s = checks.binary_study(replications=3000, n_per_arm=3000, base_rate=0.1, diff=0.02, seed=2)
    assert s.reject.name == "power"
    assert 0.935 <= s.coverage.rate <= 0.965
    assert s.reject.rate > 0.7


def test_cuped_is_unbiased_narrower_and_covers() -> None:
    s = checks.cuped_study(replications=600, n_per_arm=1000, lift=0.1, seed=4)
    assert s.true_diff == pytest.approx(0.1 * sim.SpendModel().mean_spend)
    assert s.width_ratio < 0.9
    assert s.width_ratio == pytest.approx(s.expected_width_ratio, abs=0.03)
    for arm in (s.unadjusted, s.cuped):
        assert abs(arm.bias) < 4 * arm.bias_se
        assert 0.92 <= arm.coverage.rate <= 0.975
    assert s.to_frame().height == 2
    assert set(s.to_dict()) >= {"width_ratio", "cuped", "unadjusted"}


def test_same_seed_same_numbers_and_seed_matters() -> None:
    a = sim.simulate_proportions(replications=250, n_per_arm=100, base_rate=0.3, seed=9)
    b = sim.simulate_proportions(replications=250, n_per_arm=100, base_rate=0.3, seed=9)
    d = sim.simulate_proportions(replications=250, n_per_arm=100, base_rate=0.3, seed=10)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], d[0])
    # whole blocks of replications do not depend on how many are drawn
    short = sim.simulate_proportions(replications=2 * sim.BLOCK_REPLICATIONS, n_per_arm=100,
                                     base_rate=0.3, seed=9)
    assert np.array_equal(short[0], a[0][: 2 * sim.BLOCK_REPLICATIONS])


def test_simulated_looks_are_cumulative() -> None:
    c1, c0, n = sim.simulate_looks(replications=7, looks=5, n_per_look=40, base_rate=0.5, seed=0)
    assert c1.shape == c0.shape == (7, 5)
    assert np.all(np.diff(c1, axis=1) >= 0) and np.all(c1 <= n)
    assert n.tolist() == [40, 80, 120, 160, 200]


def test_measured_rate_wilson_interval() -> None:
    r = cal.measured_rate("fpr", 50, 1000, target=0.05)
    assert r.rate == 0.05 and r.ci_low < 0.05 < r.ci_high and r.contains_target
    assert r.ci_low == pytest.approx(0.03813, abs=1e-4)  # Wilson, statsmodels proportion_confint
    assert "5.00%" in r.summary()
    assert cal.measured_rate("x", np.array([True, False, False, False]), target=0.5).rate == 0.25


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"replications": 0}, "replications"),
        ({"n_per_arm": 1}, "n_per_arm"),
        ({"alpha": 1.5}, "alpha"),
        ({"base_rate": 1.2}, "base_rate"),
        ({"base_rate": 0.99, "diff": 0.05}, "base_rate + diff"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict, name: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(repr(name))):
        checks.binary_study(**{"replications": 10, "n_per_arm": 100} | kwargs)


# ---------------------------------------------------------------- power, peeking, replay
def test_power_matches_the_power_calculation() -> None:
    s = checks.power_study(replications=3000, n_per_arm=4000, base_rate=0.05, power=0.8, seed=8)
    assert s.plan.n_per_arm == 4000 and s.study.true_diff == pytest.approx(s.plan.mde)
    assert s.measured.name == "power" and s.measured.target == 0.8
    assert abs(s.measured.rate - 0.8) < 0.03
    assert 0.93 <= s.study.coverage.rate <= 0.97


def test_peeking_inflates_naive_but_not_always_valid() -> None:
    s = checks.peeking_study(replications=1500, looks=20, n_per_look=400, base_rate=0.1, seed=6)
    assert s.naive.rate > 0.15  # repeated naive tests: several times alpha
    assert s.always_valid.rate <= 0.05
    assert 0.03 <= s.final_look.rate <= 0.07  # a single test at the end is fine
    assert s.naive_by_look[-1] == pytest.approx(s.naive.rate)
    assert list(s.naive_by_look) == sorted(s.naive_by_look)  # cumulative
    frame = s.to_frame()
    assert frame.height == 40 and set(frame["method"]) == {"naive test at every look",
                                                          "always-valid (mSPRT)"}
    assert s.rates_frame().height == 3


def test_confidence_sequence_holds_alpha_on_the_peeking_experiments() -> None:
    import math

    s = checks.sequence_study(replications=1500, looks=20, n_per_look=400, base_rate=0.1, seed=6)
    peek = checks.peeking_study(replications=1500, looks=20, n_per_look=400, base_rate=0.1, seed=6)
    # the same simulated experiments: the mSPRT and naive rates are the peeking study's
    assert s.msprt.hits == peek.always_valid.hits and s.naive.hits == peek.naive.hits
    assert s.sequence.rate <= 0.05 and s.sequence.hits > 0
    assert list(s.sequence_by_look) == sorted(s.sequence_by_look)
    assert s.sequence_by_look[-1] == pytest.approx(s.sequence.rate)
    # at the planned size the boundary is sqrt((1 + 1/c)(2 log(1/alpha) + log(1 + c))) standard errors,
    # c = N* rho^2 = -2 log(alpha) + log(1 - 2 log(alpha)) for the sequence and 10 for the mSPRT
    la = -2 * math.log(0.05)
    c = la + math.log(1 + la)
    theory = math.sqrt((1 + 1 / c) * (la + math.log1p(c)) / ((1 + 1 / 10) * (la + math.log1p(10))))
    assert s.final_width_ratio == pytest.approx(theory, rel=0.01)
    assert 1.0 < s.width_ratio < 1.15 and s.fixed_width_ratio > 1.5
    frame = s.to_frame()
    assert frame.height == 60 and frame["method"].n_unique() == 3 and s.rates_frame().height == 3
    assert "confidence sequence" in s.summary()


def test_peeking_uses_the_package_always_valid_pvalues() -> None:
    from experiments.stats.sequential import always_valid_pvalues

    c1, c0, n = sim.simulate_looks(replications=3, looks=6, n_per_look=300, base_rate=0.2, seed=1)
    est = vec.proportion_arrays(c1, n, c0, n)
    p = always_valid_pvalues(est.estimate, est.se**2, tau2=1e-4)
    assert p.shape == (3, 6) and np.all(np.diff(p, axis=1) <= 0)


def _asos_like() -> pl.DataFrame:
    days = [1.0, 2.0, 3.0]
    return pl.DataFrame({
        "experiment_id": ["e1"] * 3 + ["e2"], "variant_id": [1, 1, 1, 1], "metric_id": [1, 1, 1, 2],
        "time_since_start": [*days[::-1], 1.0],
        "count_c": [3000.0, 2000.0, 1000.0, 10.0], "count_t": [3010.0, 2005.0, 990.0, 10.0],
        "mean_c": [0.2, 0.2, 0.2, 1.0], "mean_t": [0.22, 0.23, 0.25, 1.0],
        "variance_c": [0.16, 0.16, 0.16, 1.0], "variance_t": [0.17, 0.17, 0.19, 1.0],
    })


def test_asos_looks_and_replay_frame() -> None:
    from experiments.stats.sequential import msprt

    looks = replay.asos_looks(_asos_like(), experiment="e1", variant=1, metric=1)
    assert looks["time_since_start"].to_list() == [1.0, 2.0, 3.0]
    res = msprt(looks)
    frame = replay.replay_frame(looks, res)
    assert frame.height == 6
    naive = frame.filter(pl.col("method") == "naive test at each look")
    assert naive["p_value"].to_list() == pytest.approx(list(res.naive_p_value))
    av = frame.filter(pl.col("method") == "always-valid (mSPRT)")
    assert av["p_value"].to_list() == pytest.approx(list(res.p_value))
    # the always-valid interval is never narrower than the naive one
    assert np.all(av["ci_high"].to_numpy() - av["ci_low"].to_numpy()
                  >= naive["ci_high"].to_numpy() - naive["ci_low"].to_numpy())


def test_asos_looks_names_what_exists() -> None:
    from experiments.errors import DataError

    with pytest.raises(DataError, match=r"\(1, 1\)"):
        replay.asos_looks(_asos_like(), experiment="e1", variant=2, metric=1)
    with pytest.raises(DataError, match="no such experiment"):
        replay.asos_looks(_asos_like(), experiment="zz", variant=1, metric=1)


# ---------------------------------------------------------------- study layer, scenario, charts
def test_calibration_study_report_and_charts() -> None:
    import json

    from experiments.scenarios.calibration import CalibrationScenario
    from experiments.studies.calibration.result import run

    scenario = CalibrationScenario.from_params({"replications": 400, "n_per_arm": 2000,
                                                "cuped_n_per_arm": 300, "looks": 8})
    asos = _asos_like()
    report = run(scenario.replace(asos_experiment="e1"), asos)
    checks = report.checks()
    assert checks.height == 13 and checks["experiments"].to_list() == [400] * 13
    assert checks.filter(pl.col("check").str.contains("confidence sequence"))["check"].to_list() == [
        "daily peeking over 8 looks, confidence sequence",
        "daily peeking over 100 looks, confidence sequence"]
    assert "sequence_width_ratio" in report.headline_numbers() and "confidence sequence" in \
        report.sequence_sentence()
    parts = report.verdict_parts()
    assert set(parts) == {"headline", "details", "tone", "numbers"} and parts["tone"] in {"good", "bad"}
    assert "e1" in report.replay_sentence()
    for chart in (report.rates_chart(), report.peeking_chart(), report.cuped_chart(), report.replay_chart(),
                  report.sequence_chart()):
        spec = chart.to_dict()
        assert spec["title"] and json.loads(json.dumps(spec)) == spec
    assert len(report.assumptions()) >= 4
    json.dumps(report.to_dict(), default=str)


def test_calibration_scenario_validation() -> None:
    from experiments.scenarios.calibration import DEFAULTS, CalibrationScenario

    s = CalibrationScenario.from_params({})
    assert s.to_params() == DEFAULTS and s.replace(seed=3).seed == 3
    assert CalibrationScenario.from_params({"replications": "2_000"}).replications == 2000
    for params, name in [({"replications": 10}, "replications"), ({"alpha": 0}, "alpha"),
                         ({"power": 0.01}, "power"), ({"asos_path": "/nope.parquet"}, "asos_path"),
                         ({"looks": 1}, "looks"), ({"bogus": 1}, "bogus"),
                         ({"asos_experiment": " "}, "asos_experiment")]:
        with pytest.raises(ParameterError, match=re.escape(repr(name))):
            CalibrationScenario.from_params(params)
