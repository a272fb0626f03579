"""The battery on Hillstrom's real e-mail experiment, against statsmodels / scipy on the rows.

Reads the shipped copy (experiments.paths.HILLSTROM_CSV); fails (never skips) when it is missing.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.proportion import test_proportions_2indep as proportions_2indep_test
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from experiments import paths
from experiments.datasets import load_hillstrom
from experiments.stats.row_analysis import analyze

CONTROL = "No E-Mail"
# Hillstrom (2008) published summary: visit, conversion, spend per customer for No / Mens / Womens.
PUBLISHED = {
    "visit": {"No E-Mail": 0.106, "Mens E-Mail": 0.183, "Womens E-Mail": 0.151},
    "conversion": {"No E-Mail": 0.0057, "Mens E-Mail": 0.0125, "Womens E-Mail": 0.0088},
    "spend": {"No E-Mail": 0.65, "Mens E-Mail": 1.42, "Womens E-Mail": 1.08},
}


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    assert paths.HILLSTROM_CSV.is_file(), f"Hillstrom file missing at {paths.HILLSTROM_CSV}"
    return load_hillstrom()


@pytest.fixture(scope="module")
def result(rows: pl.DataFrame):  # type: ignore[no-untyped-def]
    return analyze(rows, arm="segment", control=CONTROL, metrics=["visit", "conversion", "spend"],
                   correction="none")


def test_arm_rates_match_published_summary(result) -> None:  # type: ignore[no-untyped-def]
    assert result.n_rows == 64_000
    assert result.metrics == {"visit": "binary", "conversion": "binary", "spend": "continuous"}
    for e in result.results:
        digits = {"visit": 0.0005, "conversion": 0.00005, "spend": 0.005}[e.metric]
        assert e.mean_arm == pytest.approx(PUBLISHED[e.metric][e.arm], abs=digits)
        assert e.mean_control == pytest.approx(PUBLISHED[e.metric][CONTROL], abs=digits)


def test_every_number_agrees_with_statsmodels_and_scipy(rows: pl.DataFrame, result) -> None:  # type: ignore[no-untyped-def]
    for e in result.results:
        y1 = rows.filter(pl.col("segment") == e.arm)[e.metric].to_numpy().astype(float)
        y0 = rows.filter(pl.col("segment") == CONTROL)[e.metric].to_numpy().astype(float)
        assert e.estimate == pytest.approx(y1.mean() - y0.mean(), abs=1e-9)
        if e.metric == "spend":
            # scipy ttest_ind(y1, y0, equal_var=False); CompareMeans(...).tconfint_diff(usevar="unequal")
            ref = sps.ttest_ind(y1, y0, equal_var=False)
            low, high = CompareMeans(DescrStatsW(y1), DescrStatsW(y0)).tconfint_diff(usevar="unequal")
        else:
            # statsmodels test_proportions_2indep / confint_proportions_2indep(method="wald", compare="diff")
            c1, n1, c0, n0 = int(y1.sum()), y1.size, int(y0.sum()), y0.size
            ref = proportions_2indep_test(c1, n1, c0, n0, method="wald", compare="diff")
            low, high = confint_proportions_2indep(c1, n1, c0, n0, method="wald", compare="diff")
            rlow, rhigh = confint_proportions_2indep(c1, n1, c0, n0, method="log", compare="ratio")
            assert (e.rel_ci_low, e.rel_ci_high) == pytest.approx((rlow - 1, rhigh - 1), rel=1e-6)
        assert e.p_value == pytest.approx(ref.pvalue, rel=1e-6)
        assert (e.ci_low, e.ci_high) == pytest.approx((low, high), rel=1e-6)
        assert e.p_value_adjusted == e.p_value  # correction="none"


def test_hillstrom_srm_and_cuped(rows: pl.DataFrame) -> None:
    res = analyze(rows, arm="segment", control=CONTROL, metrics=["spend"], covariates=["history"])
    chi2, p = sps.chisquare([21_307, 21_306, 21_387])
    assert (res.srm.chi2, res.srm.p_value) == pytest.approx((chi2, p), rel=1e-12)
    assert not res.srm.mismatch
    for plain, adj in zip(res.results, res.adjusted_results, strict=True):
        assert adj.se < plain.se
        assert abs(adj.estimate - plain.estimate) < 0.1 * plain.se
    assert np.isfinite([e.p_value_adjusted for e in res.results]).all()
