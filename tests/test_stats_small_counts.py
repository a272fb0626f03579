"""Binary metrics with small counts: Newcombe's score interval and the score test instead of Wald.

The rule (:func:`experiments.stats.effects.small_count_reason`): an arm with fewer than 10 successes or
fewer than 10 failures. References are statsmodels' own calls (tolerance 1e-12):
``confint_proportions_2indep(c1, n1, c0, n0, method="newcomb", compare="diff")``,
``test_proportions_2indep(c1, n1, c0, n0, method="score", compare="diff")`` and, for the relative lift,
``confint_proportions_2indep(..., method="log-adjusted", compare="ratio") - 1``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import polars as pl
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.proportion import test_proportions_2indep as proportions_2indep_test

from experiments.cli import main
from experiments.stats.effects import NEWCOMBE, SMALL_COUNT, proportion_effect, small_count_reason
from experiments.stats.row_analysis import analyze
from experiments.stats.sufficient import SampleStats
from experiments.stats.summary_input import analyze_summary

TOL = 1e-12


def _binary(k: int, n: int) -> SampleStats:
    return SampleStats(n=n, sum=float(k), sum_squares=float(k))


@pytest.mark.parametrize(("c1", "n1", "c0", "n0"), [
    (3, 60, 0, 60), (0, 60, 3, 60), (5, 60, 2, 60), (1, 200, 9, 200), (55, 60, 58, 60), (0, 60, 0, 60),
    (12, 400, 7, 380), (60, 60, 57, 60),
])
def test_small_counts_equal_statsmodels(c1: int, n1: int, c0: int, n0: int) -> None:
    e = proportion_effect(_binary(c1, n1), _binary(c0, n0), method="auto")
    assert e.method == NEWCOMBE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels forms p1 / p0 and 0 / 0
        low, high = confint_proportions_2indep(c1, n1, c0, n0, method="newcomb", compare="diff")
        res = proportions_2indep_test(c1, n1, c0, n0, method="score", compare="diff")
        rlow, rhigh = confint_proportions_2indep(c1, n1, c0, n0, method="log-adjusted", compare="ratio")
    assert (e.ci_low, e.ci_high) == pytest.approx((low, high), abs=TOL)
    if math.isnan(res.pvalue):  # both arms all 0 or all 1: nothing to test, as with Wald
        assert math.isnan(e.p_value)
    else:
        assert (e.statistic, e.p_value) == pytest.approx((res.statistic, res.pvalue), abs=TOL)
    if c0 > 0:
        assert (e.rel_ci_low, e.rel_ci_high) == pytest.approx((rlow - 1, rhigh - 1), abs=TOL)
        assert -1 <= e.rel_ci_low < e.rel_ci_high < math.inf
        if c1 > 0:  # with no success in the arm, the interval of the 0.5-adjusted counts leaves out -100%
            assert e.rel_ci_low <= e.rel_lift <= e.rel_ci_high
    else:  # no lift over a zero rate
        assert math.isnan(e.rel_lift) and math.isnan(e.rel_ci_low) and math.isnan(e.rel_ci_high)
    assert e.ci_low <= e.estimate <= e.ci_high


def test_large_counts_stay_wald() -> None:
    e = proportion_effect(_binary(SMALL_COUNT, 100), _binary(90, 100), method="auto")
    assert e.method == "two-proportion wald"
    assert small_count_reason(10, 100, 90, 100) is None
    assert "control has 9 failure(s) of 100" in small_count_reason(10, 100, 91, 100)
    assert e == proportion_effect(_binary(SMALL_COUNT, 100), _binary(90, 100), method="wald")


def _day_split() -> pl.DataFrame:
    """60 users per arm and day; on day 1 the control has 0 conversions and the arm 3; day 2: 20 and 22."""
    rows = []
    for day, k_ctrl, k_arm in (("day 1", 0, 3), ("day 2", 20, 22)):
        for arm, k in (("ctrl", k_ctrl), ("B", k_arm)):
            rows += [(arm, day, int(i < k)) for i in range(60)]
    return pl.DataFrame(rows, schema=["arm", "day", "converted"], orient="row")


def test_segment_with_zero_control_conversions_has_a_sane_p_value() -> None:
    """Regression: a day with 0 control conversions among 60 users must not look significant."""
    res = analyze(_day_split(), arm="arm", control="ctrl", metrics=["converted"], segment="day")
    day1 = next(e for e in res.results if e.segment == "day 1")
    assert day1.method == NEWCOMBE
    assert day1.p_value > 0.01 and day1.p_value_adjusted > 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = proportions_2indep_test(3, 60, 0, 60, method="score", compare="diff")
    assert day1.p_value == pytest.approx(ref.pvalue, abs=TOL)  # 0.0807
    assert math.isnan(day1.rel_lift) and math.isnan(day1.rel_ci_high)
    assert day1.ci_low < 0 < day1.ci_high
    overall = next(e for e in res.results if e.segment is None)
    assert overall.method == "two-proportion wald"  # 20 and 25 conversions of 120: no switch
    small = res.data_quality.small_counts
    assert [(s.metric, s.arm, s.segment) for s in small] == [("converted", "B", "day 1")]
    assert "the control has 0 success(es) of 60" in small[0].reason
    d = res.to_dict()["data_quality"]
    assert d["small_counts"][0]["segment"] == "day 1"
    assert any("day 1" in i and "Newcombe" in i for i in d["issues"])


def test_summary_input_switches_too() -> None:
    summary = pl.DataFrame({"arm": ["ctrl", "B"], "metric": ["converted"] * 2, "count": [60, 60],
                            "mean": [0.0, 0.05], "variance": [0.0, 0.05 * 0.95]})
    res = analyze_summary(summary, arm="arm", control="ctrl")
    e = res.results[0]
    assert res.metrics == {"converted": "binary"} and e.method == NEWCOMBE and e.p_value > 0.01
    assert res.data_quality.small_counts[0].segment is None and not res.data_quality.ok


def test_cli_reports_the_switch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "days.csv"
    _day_split().write_csv(path)
    args = ["analyze", str(path), "--arm", "arm", "--control", "ctrl", "--metric", "converted",
            "--segment", "day"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "in segment 'day 1': the control has 0 success(es) of 60" in out
    assert "Newcombe/score" in out
    assert main([*args, "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")]) == 0
    d = json.loads((tmp_path / "r.json").read_text())
    assert {r["method"] for r in d["results"] if r["segment"] == "day 1"} == {NEWCOMBE}
    assert "Newcombe&#x27;s hybrid score interval" in (tmp_path / "r.html").read_text()
