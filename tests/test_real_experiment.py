"""Real-experiment study: scenario validation against the file, the verdict and charts on Hillstrom."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pytest

from experiments.errors import ParameterError
from experiments.scenarios.real_experiment import DEFAULTS, RealExperimentScenario
from experiments.stats import gather, mean_effect


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
              "covariate": "pre", "segments": "region", "decision_metric": "spend"}
    s = RealExperimentScenario.from_params(params)
    assert s.metrics == ("bought", "spend") and s.covariates == ("pre",) and s.file == path
    assert RealExperimentScenario.from_params(s.to_params()) == s
    bad = [({"arm": "grp"}, "arm"), ({"control": "nobody"}, "control"), ({"metrics": "spend,zz"}, "metrics"),
           ({"covariate": "zz"}, "covariate"), ({"segments": "zz"}, "segments"),
           ({"decision_metric": "pre"}, "decision_metric"), ({"alpha": 0.9}, "alpha"),
           ({"correction": "bonf"}, "correction"), ({"path": str(path) + ".missing"}, "path"),
           ({"unknown": 1}, "unknown"), ({"metrics": "spend,group"}, "metrics")]
    for change, name in bad:
        with pytest.raises(ParameterError, match=re.escape(repr(name))):
            RealExperimentScenario.from_params(params | change)


def test_study_on_a_small_file_matches_package_estimators(small_file) -> None:
    from experiments.studies.real_experiment import run

    path, frame = small_file
    s = RealExperimentScenario.from_params({
        "path": str(path), "arm": "group", "control": "ctrl", "metrics": "bought,spend",
        "covariate": "pre", "segments": "region", "decision_metric": "spend", "per": 100})
    report = run(s)
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
    parts = report.verdict_parts()
    assert parts["tone"] == "good" and parts["headline"].startswith("Send the a")
    for chart in (report.effects_chart(), report.cuped_chart(), report.segment_chart()):
        spec = chart.to_dict()
        assert spec["title"] and json.loads(json.dumps(spec)) == spec


def test_hillstrom_verdict() -> None:
    from experiments.studies.real_experiment import run

    report = run(RealExperimentScenario.from_params({}))
    assert RealExperimentScenario.from_params({}).to_params() == DEFAULTS | {"path": ""}
    assert report.best_arm == "Mens E-Mail"
    e = report.effect("spend", "Mens E-Mail")
    assert 1000 * e.estimate == pytest.approx(769.8, abs=0.1)
    assert 1000 * report.effect("visit", "Mens E-Mail").estimate == pytest.approx(76.6, abs=0.1)
    assert not report.result.srm.mismatch
    assert report.verdict_parts()["tone"] == "good"
    assert report.heterogeneity_table().height == 8
