"""Kaplan-Meier, log-rank and Cox wrappers against direct statsmodels calls and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from experiments.errors import DataError
from experiments.models.survival import cox_ph, retention_curves


def _data(seed=1, n=4000):
    rng = np.random.default_rng(seed)
    g = rng.random(n) < 0.5
    t = rng.exponential(np.where(g, 12.0, 10.0))
    censor = rng.uniform(0, 20, n)
    return np.minimum(t, censor).round(1) + 0.1, (t <= censor).astype(float), np.where(g, "offer", "control")


def test_km_and_logrank_match_statsmodels():
    d, e, g = _data()
    res = retention_curves(d, e, g, grid=[0.0, 5.0, 10.0])
    sf = SurvfuncRight(d[g == "offer"], e[g == "offer"])
    idx = np.searchsorted(sf.surv_times, 5.0, side="right") - 1
    got = res.frame.filter(res.frame["group"] == "offer")["retention"].to_list()
    assert got[0] == 1.0 and got[1] == pytest.approx(sf.surv_prob[idx], abs=1e-12)
    stat, p = survdiff(d, e, g)
    assert res.logrank_statistic == pytest.approx(stat) and res.logrank_p_value == pytest.approx(p)
    assert res.logrank_p_value < 0.05 and "log-rank" in res.summary()


def test_km_without_censoring_is_the_empirical_survival():
    d = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 1.0, 5.0, 6.0])
    g = np.array(["a"] * 4 + ["b"] * 4)
    res = retention_curves(d, np.ones(8), g, grid=[1.5, 2.5])
    a = res.frame.filter(res.frame["group"] == "a")["retention"].to_list()
    assert a == pytest.approx([0.75, 0.25])


def test_cox_matches_phreg_and_recovers_hazard_ratio():
    rng = np.random.default_rng(4)
    x = (rng.random(20_000) < 0.5).astype(float)
    t = rng.exponential(1 / (0.1 * np.exp(np.log(0.8) * x)))
    d, e = np.minimum(t, 30).round(2), (t < 30).astype(float)
    res = cox_ph(d, e, {"offer": x})
    ref = PHReg(d, x[:, None], status=e, ties="efron").fit()
    assert res.coefficients[0] == pytest.approx(ref.params[0], rel=1e-8)
    assert res.ci_low[0] < 0.8 < res.ci_high[0]
    assert res.hazard_ratio("offer") == pytest.approx(0.8, abs=0.03)
    assert res.to_frame().height == 1 and "hazard ratio" in res.summary()


def test_bad_input():
    with pytest.raises(DataError, match="events"):
        retention_curves([1.0, 2.0], [2, 0], ["a", "b"])
    with pytest.raises(DataError, match="2 groups"):
        retention_curves([1.0, 2.0], [1, 0], ["a", "a"])
    with pytest.raises(DataError, match="no churn"):
        cox_ph([1.0, 2.0], [0, 0], {"x": [0, 1]})
