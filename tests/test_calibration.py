"""Calibration studies: vectorised estimators equal the package's, and measured rates are nominal."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from experiments.errors import ParameterError
from experiments.simulate import replications as sim
from experiments.stats import calibration_results as cal
from experiments.stats import replay
from experiments.stats import vectorised as vec
from experiments.stats.cuped import cuped_effect
from experiments.stats.effects import mean_effect, proportion_effect
from experiments.stats.sufficient import SampleStats, gather
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

    from experiments.studies.calibration import words
    from experiments.studies.calibration.result import run
    from experiments.studies.calibration.scenario import CalibrationScenario

    scenario = CalibrationScenario.from_params({"replications": 400, "n_per_arm": 2000,
                                                "cuped_n_per_arm": 300, "looks": 8,
                                                "capping_replications": 100, "coverage_replications": 20})
    asos = _asos_like()
    report = run(scenario.replace(asos_experiment="e1"), asos)
    checks = report.checks()
    assert checks.height == 18 and checks["experiments"].to_list() == [400] * 13 + [100] * 2 + [20] * 3
    more = checks.tail(5)
    assert more["check"].to_list() == [
        "coverage of the capped effect, spend capped at p99",
        "coverage of the capped effect, spend capped at p99.9",
        "coverage of the true effect, spend (Lin, 3 covariates)",
        "coverage of the effect on the exposed, 40% of treated never reached (2SLS)",
        "coverage of the effect on the exposed, 40% of treated never reached, by the intent-to-treat "
        "interval"]
    # bands widen to two binomial standard errors with few experiments, inside [0, 1]
    assert more["band_low"].to_list()[2] == pytest.approx(0.95 - 2 * (0.95 * 0.05 / 20) ** 0.5)
    assert more["band_high"].to_list()[2] == 1.0
    assert not more["passed"].to_list()[-1]  # the intent-to-treat interval misses the exposed effect
    numbers = report.headline_numbers()
    assert {"capped_p99_relative_bias", "capped_p99_9_variance_ratio", "lin_coverage", "lin_width_ratio",
            "exposed_coverage", "itt_covers_exposed"} <= set(numbers)
    assert {"capping", "regression", "exposure"} <= set(report.tables())
    assert len(words.more_sentences(report)) == 3
    assert {f.name for f in report.figures()} >= {"capped_p99_coverage", "lin_coverage", "exposed_coverage"}
    assert "intent-to-treat" not in json.dumps(report.rates_chart().to_dict())  # a miss by design, not a rate
    assert checks.filter(pl.col("check").str.contains("confidence sequence"))["check"].to_list() == [
        "daily peeking over 8 looks, confidence sequence",
        "daily peeking over 100 looks, confidence sequence"]
    assert "sequence_width_ratio" in report.headline_numbers() and "confidence sequence" in \
        words.sequence_sentence(report)
    parts = words.verdict_parts(report)
    assert set(parts) == {"headline", "details", "tone", "numbers"} and parts["tone"] in {"good", "bad"}
    assert "e1" in words.replay_sentence(report)
    for chart in (report.rates_chart(), report.peeking_chart(), report.cuped_chart(), report.replay_chart(),
                  report.sequence_chart(), report.capping_chart(), report.regression_chart(),
                  report.exposure_chart()):
        spec = chart.to_dict()
        assert spec["title"] and json.loads(json.dumps(spec)) == spec
    assert len(report.assumptions()) >= 4
    json.dumps(report.to_dict(), default=str)


def test_calibration_scenario_validation() -> None:
    from experiments.studies.calibration.scenario import DEFAULTS, CalibrationScenario

    s = CalibrationScenario.from_params({})
    assert s.to_params() == DEFAULTS and s.replace(seed=3).seed == 3
    assert CalibrationScenario.from_params({"replications": "2_000"}).replications == 2000
    for params, name in [({"replications": 10}, "replications"), ({"alpha": 0}, "alpha"),
                         ({"power": 0.01}, "power"), ({"asos_path": "/nope.parquet"}, "asos_path"),
                         ({"looks": 1}, "looks"), ({"bogus": 1}, "bogus"),
                         ({"coverage_replications": 10}, "coverage_replications"),
                         ({"capping_replications": 0}, "capping_replications"),
                         ({"asos_experiment": " "}, "asos_experiment")]:
        with pytest.raises(ParameterError, match=re.escape(repr(name))):
            CalibrationScenario.from_params(params)


# ---------------------------------------------------------------- capping, regression adjustment, exposure
def test_heavy_spend_truth_matches_scipy() -> None:
    from scipy import integrate, optimize, stats

    m = sim.HeavySpendModel()
    assert m.cv == pytest.approx(10.0, abs=0.05)  # Lewis & Rao (2015): CV about 10
    # reference: scipy's lognormal; E[min(Y, c)] = integral of P(Y > t) over [0, c]
    arms = [(m.buy, stats.lognorm(s=m.sigma, scale=np.exp(m.mu))),
            (m.buy * (1 + m.buy_lift), stats.lognorm(s=m.sigma, scale=np.exp(m.mu) * (1 + m.amount_lift)))]
    assert np.sqrt(arms[0][0] * arms[0][1].moment(2) - (arms[0][0] * arms[0][1].mean()) ** 2) / (
        arms[0][0] * arms[0][1].mean()) == pytest.approx(m.cv, rel=1e-9)
    for pct in (99.0, 99.9):
        t = m.truth(pct)

        def pooled_cdf(c: float) -> float:
            return sum(0.5 * (1 - b + b * d.cdf(c)) for b, d in arms)

        cap = optimize.brentq(lambda c: pooled_cdf(c) - pct / 100, 1e-6, 1e8, xtol=1e-10)  # noqa: B023
        assert t["cap"] == pytest.approx(cap, rel=1e-8)
        capped = [b * integrate.quad(d.sf, 0, cap, limit=200)[0] for b, d in arms]
        assert t["capped_diff"] == pytest.approx(capped[1] - capped[0], rel=1e-7)
        means = [b * d.mean() for b, d in arms]
        assert t["mean_diff"] == pytest.approx(means[1] - means[0], rel=1e-12)
    with pytest.raises(ParameterError, match="cap_percentile"):
        m.truth(90.0)  # below the share of zeros


def test_heavy_spend_draws_follow_the_model() -> None:
    m = sim.HeavySpendModel()
    (c0, t0), = sim.heavy_spend_blocks(replications=1, n_per_arm=400_000, seed=3)
    means = [b * np.exp(mu + m.sigma**2 / 2) for b, mu in ((m.buy, m.mu), (m.buy * 1.1, m.mu + np.log(1.05)))]
    assert c0.mean() == pytest.approx(means[0], rel=0.06) and t0.mean() == pytest.approx(means[1], rel=0.06)
    assert (c0 == 0).mean() == pytest.approx(1 - m.buy, abs=0.002)
    again = next(iter(sim.heavy_spend_blocks(replications=1, n_per_arm=400_000, seed=3)))
    assert np.array_equal(again[0], c0)


def test_capping_trades_bias_for_variance_and_covers_its_estimand() -> None:
    s = checks.capping_study(replications=400, n_per_arm=3000, seed=5)
    p99, p999 = s.levels
    truth = sim.HeavySpendModel().truth(99.0)
    assert p99.true_mean_diff == pytest.approx(truth["mean_diff"]) and s.true_diff == p99.true_mean_diff
    assert p99.true_capped_diff == pytest.approx(truth["capped_diff"])
    # capping at p99 biases towards zero far beyond Monte Carlo error, and p99 more than p99.9
    assert p99.bias_capped < -5 * p99.sd_capped / np.sqrt(400) and p99.bias_capped < p999.bias_capped < 0
    assert p99.variance_ratio < p999.variance_ratio < 1 and p99.width_ratio < 1
    assert abs(p99.bias_mean) < 4 * p99.sd_mean / np.sqrt(400)  # uncapped is unbiased
    for r in s.capped_coverage:
        assert 0.91 <= r.rate <= 0.99 and r.trials == 400
    frame = s.to_frame()
    assert frame["method"].to_list() == ["uncapped", "capped at p99", "capped at p99.9"]
    assert frame["relative_bias"][1] == pytest.approx(p99.bias_capped / p99.true_mean_diff)
    assert "capped at p99.9" in s.summary() and len(s.to_dict()["levels"]) == 2


def test_lin_adjustment_narrows_and_covers() -> None:
    s = checks.regression_study(replications=30, units=1000, seed=6)
    assert s.covariates == 3 and s.lin.trials == 30
    assert s.width_ratio < 0.7 and s.cuped_width_ratio < 0.9  # three covariates beat one, which beats none
    assert s.lin.rate >= 0.8 and s.unadjusted.rate >= 0.8
    assert s.truth == pytest.approx(2.0, abs=0.3) and s.mean_estimate == pytest.approx(s.truth, abs=0.3)
    assert s.to_frame()["method"].to_list()[-1] == "Lin regression on 3 covariates"
    assert s.to_dict()["width_ratio"] == pytest.approx(s.width_ratio)


def test_exposed_interval_covers_and_intent_to_treat_misses() -> None:
    w, truth = sim.simulate_cookie_loss(replications=3, units=50_000, seed=2)
    assert truth == pytest.approx(5 / 3)
    reach = w["exposed"].sum() / w["treated"].sum()
    assert reach == pytest.approx(0.6, abs=0.01) and not (w["exposed"] & ~w["treated"]).any()
    s = checks.exposure_study(replications=40, units=2000, seed=7)
    assert s.truth == pytest.approx(5 / 3) and s.reach == pytest.approx(0.6, abs=0.01)
    assert s.exposed.rate >= 0.85 and s.itt.rate <= 0.3
    assert s.mean_estimate == pytest.approx(5 / 3, abs=0.15)
    assert s.to_frame().height == 2 and "2SLS" in s.summary()
    with pytest.raises(ParameterError, match="reach_active"):
        sim.simulate_cookie_loss(replications=1, units=10, reach_active=1.5)


def test_covariate_spend_truth_is_each_experiments_average_effect() -> None:
    w = sim.simulate_covariate_spend(replications=2, units=200_000, seed=1)
    assert w["effect"].mean() == pytest.approx(2.0, abs=0.05)  # the population's average effect
    treated = w["treated"]
    # the difference of means in a large experiment lands on its own average effect
    for r in range(2):
        diff = w["spend"][r][treated[r]].mean() - w["spend"][r][~treated[r]].mean()
        assert diff == pytest.approx(w["effect"][r].mean(), abs=0.6)
