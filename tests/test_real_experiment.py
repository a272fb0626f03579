"""Real-experiment study: scenario validation against the file, the verdict and charts on Hillstrom."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pytest

from experiments.errors import ParameterError
from experiments.stats.effects import mean_effect
from experiments.stats.sufficient import gather
from experiments.studies.real_experiment import words
from experiments.studies.real_experiment.scenario import DEFAULTS, RealExperimentScenario


@pytest.fixture()
def small_file(tmp_path):
    rng = np.random.default_rng(3)
    n = 6000
    arm = rng.choice(["ctrl", "a", "b"], n)
    pre = rng.gamma(1.0, 50.0, n)
    lift = np.select([arm == "a", arm == "b"], [5.0, 1.0], 0.0)
    spend = np.maximum(0.4 * pre + lift + rng.normal(0, 20, n), 0)
    frame = pl.DataFrame({"group": arm, "bought": (spend > 30).astype(int), "spend": spend, "pre": pre,
                          "region": rng.choice(["n", "s"], n)})
    path = tmp_path / "exp.parquet"
    frame.write_parquet(path)
    return path, frame


def test_scenario_checks_columns_and_labels(small_file) -> None:
    path, _ = small_file
    params = {"path": str(path), "arm": "group", "control": "ctrl", "metrics": "bought,spend",
              "covariate": "pre", "segments": "region", "decision_metric": "spend", "uplift_treatment": "a",
              "uplift_outcome": "bought", "uplift_features": "pre,region"}
    s = RealExperimentScenario.from_params(params)
    assert s.metrics == ("bought", "spend") and s.covariates == ("pre",) and s.file == path
    assert s.uplift_features == ("pre", "region")
    assert RealExperimentScenario.from_params(s.to_params()) == s
    bad = [({"arm": "grp"}, "arm"), ({"control": "nobody"}, "control"), ({"metrics": "spend,zz"}, "metrics"),
           ({"covariate": "zz"}, "covariate"), ({"segments": "zz"}, "segments"),
           ({"decision_metric": "pre"}, "decision_metric"), ({"alpha": 0.9}, "alpha"),
           ({"correction": "bonf"}, "correction"), ({"path": str(path) + ".missing"}, "path"),
           ({"unknown": 1}, "unknown"), ({"metrics": "spend,group"}, "metrics"),
           ({"uplift_treatment": "ctrl"}, "uplift_treatment"),
           ({"uplift_treatment": "z"}, "uplift_treatment"), ({"uplift_outcome": "zz"}, "uplift_outcome"),
           ({"uplift_outcome": "region"}, "uplift_outcome"),
           ({"uplift_features": "pre,zz"}, "uplift_features"),
           ({"uplift_features": "bought"}, "uplift_features"), ({"uplift_features": ""}, "uplift_features")]
    for change, name in bad:
        with pytest.raises(ParameterError, match=re.escape(repr(name))):
            RealExperimentScenario.from_params(params | change)


def test_another_file_needs_no_uplift_settings(small_file) -> None:
    """``uplift_treatment=auto`` models the women's e-mail on Hillstrom and skips the section elsewhere."""
    path, _ = small_file
    other = RealExperimentScenario.from_params({
        "path": str(path), "arm": "group", "control": "ctrl", "metrics": "bought,spend", "covariate": "pre",
        "segments": "region", "decision_metric": "spend"})
    assert other.uplift_arm == "" and other.uplift_treatment == "auto"
    assert RealExperimentScenario.from_params({}).uplift_arm == "Womens E-Mail"
    mens = RealExperimentScenario.from_params({"uplift_treatment": "Mens E-Mail"})
    assert mens.uplift_arm == "Mens E-Mail"


def test_study_on_a_small_file_matches_package_estimators(small_file) -> None:
    from experiments.studies.real_experiment.result import run

    path, frame = small_file
    s = RealExperimentScenario.from_params({
        "path": str(path), "arm": "group", "control": "ctrl", "metrics": "bought,spend",
        "covariate": "pre", "segments": "region", "decision_metric": "spend", "per": 100,
        "uplift_treatment": "", "uplift_features": "pre"})
    report = run(s)
    assert report.uplift is None and "uplift_qini" not in report.charts()
    assert report.uplift_table().columns == ["uplift section"] and report.uplift_qini_chart().to_dict()
    assert words.uplift_sentences(report)[0].startswith("No uplift model")
    assert report.best_arm == "a"
    table = gather(frame, arm="group", metrics=["spend"])
    ref = mean_effect(table.stats("a", "spend"), table.stats("ctrl", "spend"))
    e = report.effect("spend", "a")
    assert e.estimate == pytest.approx(ref.estimate) and e.ci_low == pytest.approx(ref.ci_low)
    per_unit = report.per_unit_frame()
    row = per_unit.filter((pl.col("arm") == "a") & (pl.col("metric") == "spend")
                          & (pl.col("method") == "unadjusted"))
    assert row["estimate"][0] == pytest.approx(100 * ref.estimate)
    # CUPED on a strongly predictive covariate narrows the interval
    assert report.decision_effect("a").se < 0.7 * e.se
    assert report.segment_frame().height == 4  # 2 regions x 2 arms
    assert report.arm_gap is not None and report.arm_gap.control == "b"
    parts = words.verdict_parts(report)
    assert parts["tone"] == "good" and parts["headline"].startswith("Send the a")
    for chart in (report.effects_chart(), report.cuped_chart(), report.segment_chart()):
        spec = chart.to_dict()
        assert spec["title"] and json.loads(json.dumps(spec)) == spec


def test_hillstrom_verdict() -> None:
    from experiments.studies.real_experiment.result import run

    report = run(RealExperimentScenario.from_params({}))
    assert RealExperimentScenario.from_params({}).to_params() == DEFAULTS
    assert report.best_arm == "Mens E-Mail"
    e = report.effect("spend", "Mens E-Mail")
    assert 1000 * e.estimate == pytest.approx(769.8, abs=0.1)
    assert 1000 * report.effect("visit", "Mens E-Mail").estimate == pytest.approx(76.6, abs=0.1)
    assert not report.result.srm.mismatch
    assert words.verdict_parts(report)["tone"] == "good"
    assert report.heterogeneity_table().height == 8
    # the uplift section: the women's e-mail against none, on visits, X- and T-learner out of fold
    u = report.uplift
    assert u is not None and (u.n_rows, u.n_treatment, u.n_control) == (42_693, 21_387, 21_306)
    for e in u.evaluations:
        assert e.qini.ci_low > 0 and e.qini.p_value < 0.01  # both rank visits better than random
        assert sum(r.n_treatment + r.n_control for r in e.bins.rows) == u.n_rows
        # treating everyone: the difference of visit rates, 15.14% against 10.62%
        assert e.profit.points[-1].estimate == pytest.approx(0.0452, abs=5e-4)
    lines = report.headline_text().splitlines()
    assert lines[0] == str(report.headline_numbers())
    assert lines[1].startswith("uplift of Womens E-Mail on visit")


def test_uplift_section_on_a_small_file(small_file) -> None:
    """The arm's effect grows with the pre-period covariate: the learners rank by it, beating random."""
    from experiments.studies.real_experiment.numbers import UPLIFT_LEARNERS
    from experiments.studies.real_experiment.result import run

    path, frame = small_file
    rng = np.random.default_rng(8)
    n = frame.height
    arm = frame["group"].to_numpy()
    pre = frame["pre"].to_numpy()
    visit = (rng.random(n) < 0.1 + (arm == "a") * 0.3 * (pre > np.median(pre))).astype(int)
    moved = path.with_name("moved.parquet")
    frame.with_columns(visit=pl.Series(visit)).write_parquet(moved)
    s = RealExperimentScenario.from_params({
        "path": str(moved), "arm": "group", "control": "ctrl", "metrics": "visit,spend", "covariate": "",
        "segments": "", "decision_metric": "spend", "uplift_treatment": "a", "uplift_outcome": "visit",
        "uplift_features": "pre,region"})
    report = run(s)
    u = report.uplift
    assert u is not None and u.binary and u.n_left_out == int((arm == "b").sum())
    assert [e.learner for e in u.evaluations] == list(UPLIFT_LEARNERS)
    for e in u.evaluations:
        assert e.qini.ci_low > 0  # the effect depends on pre, which the models see
        rows = e.bins.rows
        assert np.mean([r.estimate for r in rows[:3]]) > np.mean([r.estimate for r in rows[-3:]]) + 0.15
    assert report.uplift_decile_table().height == 10 and report.uplift_table().height == 2
    assert {"uplift_qini", "uplift_deciles"} <= set(report.charts())
    assert {"uplift_learners", "uplift_deciles"} <= set(report.tables())
    qini = [f for f in report.figures() if f.name == "uplift_qini"]
    assert [f.group for f in qini] == list(UPLIFT_LEARNERS) and all(f.ci_low <= f.estimate <= f.ci_high
                                                                    for f in qini)
    assert "ranks customers better than random" in report.verdict().details[-2]
    for chart in (report.uplift_qini_chart(), report.uplift_decile_chart()):
        spec = chart.to_dict()
        assert spec["title"] and json.loads(json.dumps(spec)) == spec
