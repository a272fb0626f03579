"""The factorial estimator (one factor's effect, one pair's interaction) against statsmodels OLS with HC2."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from experiments.errors import DataError
from experiments.stats.factorial import factorial_effects


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    n = 3_000
    a, b, c = (rng.random(n) < 0.7 for _ in range(3))
    y = (rng.random(n) < 0.05 + 0.02 * a + 0.01 * b + 0.03 * a * b).astype(np.int8)
    z = rng.lognormal(0.0, 1.0, n) * (1 + 0.2 * c) - 0.5 * b
    return pl.DataFrame({"a": a, "b": b, "c": c, "y": y, "z": z})


def test_effects_and_interactions_equal_statsmodels_hc2(table):
    res = factorial_effects(table, factors={"A": "a", "B": "b", "C": "c"}, metrics=["y", "z"])
    for metric in ("y", "z"):
        y = table[metric].to_numpy().astype(float)
        for name, col in (("A", "a"), ("B", "b"), ("C", "c")):
            x = table[col].to_numpy().astype(float)
            # reference: OLS of y on an intercept and the factor's indicator, HC2 covariance
            fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC2")
            e = res.effect(name, metric)
            assert e.estimate == pytest.approx(fit.params[1], rel=1e-10, abs=1e-12)
            assert e.se == pytest.approx(fit.bse[1], rel=1e-9)
            low, high = fit.conf_int()[1]
            assert (e.ci_low, e.ci_high) == pytest.approx((low, high), rel=1e-9)
            assert e.p_value == pytest.approx(fit.pvalues[1], rel=1e-7)
        for first, second in (("a", "b"), ("a", "c"), ("b", "c")):
            xa, xb = (table[k].to_numpy().astype(float) for k in (first, second))
            # reference: the saturated 2 x 2 model, y ~ 1 + a + b + a:b, HC2 covariance
            design = np.column_stack([np.ones_like(xa), xa, xb, xa * xb])
            fit = sm.OLS(y, design).fit(cov_type="HC2")
            i = res.interaction(first.upper(), second.upper(), metric)
            assert i.estimate == pytest.approx(fit.params[3], rel=1e-9, abs=1e-12)
            assert i.se == pytest.approx(fit.bse[3], rel=1e-9)
            assert i.p_value == pytest.approx(fit.pvalues[3], rel=1e-7)
    frame = res.to_frame()
    assert frame.height == 2 * (3 + 3) and set(frame["term"]) >= {"A", "A:B"}
    assert res.to_dict()["effects"][0]["factor"] == "A"


def test_a_factor_never_off_is_refused(table):
    with pytest.raises(DataError, match="at least 2 units on and 2 off"):
        factorial_effects(table.with_columns(pl.lit(True).alias("a")), factors={"A": "a"}, metrics=["y"])
