"""CUPED from sufficient statistics against statsmodels OLS with robust (HC1) errors on the rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from experiments.errors import DataError, ParameterError
from experiments.stats.cuped import cuped_effect, regression_adjusted_rows
from experiments.stats.effects import mean_effect
from experiments.stats.sufficient import gather


def _table(n: int, seed: int, effect: float = 0.5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    treat = rng.integers(0, 2, n)
    x1 = rng.gamma(2.0, 5.0, n)
    x2 = rng.normal(0, 1, n)
    y = 2 + 0.8 * x1 + 1.5 * x2 + effect * treat + rng.normal(0, 3 + 0.5 * treat, n)
    return pl.DataFrame({"arm": np.where(treat == 1, "t", "c"), "y": y, "x1": x1, "x2": x2})


@pytest.mark.parametrize("covs", [["x1"], ["x1", "x2"]])
def test_cuped_matches_ols_with_robust_errors(covs: list[str]) -> None:
    df = _table(20_000, 1)
    e = cuped_effect(gather(df, arm="arm", metrics=["y"], covariates=covs), arm="t", control="c",
                     metric="y", covariates=covs)
    # statsmodels: OLS(y, [1, treat, x]).fit(cov_type="HC1"), coefficient of treat
    ref = regression_adjusted_rows(df["y"].to_numpy(), (df["arm"] == "t").to_numpy(),
                                   df.select(covs).to_numpy())
    assert e.estimate == pytest.approx(ref["diff"], rel=1e-9)  # the same estimator: exact
    # HC1 differs from the per-arm residual variance by O(1/n) (theta estimated, pooled residuals): 0.5 %
    assert e.se == pytest.approx(ref["se"], rel=5e-3)
    assert e.p_value == pytest.approx(ref["p_value"], rel=0.05, abs=1e-12)
    lin = regression_adjusted_rows(df["y"].to_numpy(), (df["arm"] == "t").to_numpy(),
                                   df.select(covs).to_numpy(), interacted=True)
    assert e.estimate == pytest.approx(lin["diff"], abs=0.2 * lin["se"])  # Lin (2013): same target
    assert e.method.startswith("CUPED")


def test_cuped_narrows_interval_and_is_unbiased() -> None:
    diffs, ses, plain = [], [], []
    for seed in range(60):
        df = _table(2_000, 100 + seed)
        st = gather(df, arm="arm", metrics=["y"], covariates=["x1", "x2"])
        e = cuped_effect(st, arm="t", control="c", metric="y", covariates=["x1", "x2"])
        diffs.append(e.estimate)
        ses.append(e.se)
        plain.append(mean_effect(st.stats("t", "y"), st.stats("c", "y")).se)
    assert np.mean(ses) < 0.6 * np.mean(plain)
    assert abs(np.mean(diffs) - 0.5) < 3 * np.std(diffs) / np.sqrt(len(diffs))


def test_cuped_rejects_bad_input() -> None:
    df = _table(500, 2)
    st = gather(df, arm="arm", metrics=["y"], covariates=["x1"])
    with pytest.raises(ParameterError, match="covariates"):
        cuped_effect(st, arm="t", control="c", metric="y", covariates=[])
    with pytest.raises(DataError, match="not gathered"):
        cuped_effect(st, arm="t", control="c", metric="y", covariates=["x2"])
    holes = df.with_columns(pl.when(pl.col("x1") > 20).then(None).otherwise(pl.col("x1")).alias("x1"))
    with pytest.raises(DataError, match="same rows"):
        cuped_effect(gather(holes, arm="arm", metrics=["y"], covariates=["x1"]), arm="t", control="c",
                     metric="y", covariates=["x1"])
