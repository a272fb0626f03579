"""Lin (2013) regression adjustment and the effect on the exposed, from per-arm sums, against references.

References: statsmodels ``OLS(y, [1, t, xc, t * xc]).fit(cov_type="HC1")`` on the rows of the two arms
(xc: covariates centred at their mean over those rows) for Lin's estimator; linearmodels 7.1
``IV2SLS(y, 1, D, Z).fit(cov_type="robust")`` (HC0, not debiased) for the effect on the exposed.
Equality within 1e-9 relative: point estimate, standard error, interval ends and p-value.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS

from experiments.errors import DataError, ParameterError
from experiments.stats.exposed import exposed_effect, wald_fit
from experiments.stats.regression import (
    lin_effect,
    lin_fit,
    lin_products,
    lin_residual_sums,
    raw_moments,
)
from experiments.stats.regression_coverage import exposed_coverage, lin_coverage
from experiments.stats.sufficient import gather

REL = 1e-9


def _rows(n: int, k: int, seed: int) -> pl.DataFrame:
    """Three arms, k covariates (one far from zero), heteroskedastic outcome, effects that vary with x."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["c", "a", "b"], n, p=[0.4, 0.3, 0.3])
    t = (arm != "c").astype(float)
    x = np.column_stack([rng.normal(1000.0, 40.0, n), rng.gamma(2.0, 3.0, n), rng.poisson(2.0, n)])[:, :k]
    slope = np.array([0.05, 0.8, -0.6])[:k]
    y = (1 + (x - x.mean(0)) @ slope + 0.12 * t + 0.1 * t * (x[:, -1] - x[:, -1].mean())
         + rng.normal(0, 1, n) * (1 + 0.5 * t))
    seg = rng.choice(["n", "s"], n)
    return pl.DataFrame({"arm": arm, "seg": seg, "y": y, **{f"x{j}": x[:, j] for j in range(k)}})


def _ols_hc1(df: pl.DataFrame, arm: str, covs: list[str]) -> dict[str, float]:
    rows = df.filter(pl.col("arm").is_in([arm, "c"]))
    t = (rows["arm"] == arm).to_numpy().astype(float)[:, None]
    x = rows.select(covs).to_numpy()
    xc = x - x.mean(axis=0)
    fit = sm.OLS(rows["y"].to_numpy(), np.hstack([np.ones_like(t), t, xc, t * xc])).fit(cov_type="HC1")
    low, high = fit.conf_int(alpha=0.05)[1]
    return {"estimate": fit.params[1], "se": fit.bse[1], "p_value": fit.pvalues[1], "ci_low": low,
            "ci_high": high}


def _assert_equal(effect: object, ref: dict[str, float]) -> None:
    for key, value in ref.items():
        assert getattr(effect, key) == pytest.approx(value, rel=REL), key


@pytest.mark.parametrize("k", [1, 2, 3])
def test_lin_equals_statsmodels_hc1(k: int) -> None:
    df = _rows(6_000, k, seed=k)
    covs = [f"x{j}" for j in range(k)]
    st = gather(df, arm="arm", metrics=["y"], covariates=covs, products=lin_products(["y"], covs))
    for arm in ("a", "b"):
        e = lin_effect(st, arm=arm, control="c", metric="y", covariates=covs)
        ref = _ols_hc1(df, arm, covs)
        assert 1e-6 < ref["p_value"] < 0.9  # the p-value itself is compared, not a 0 or a 1
        _assert_equal(e, ref)
        assert e.method.startswith("Lin (2013)")


@pytest.mark.parametrize("k", [2, 3])
def test_lin_two_passes_equal_statsmodels_hc1_and_the_one_pass(k: int) -> None:
    # second pass over the rows: each arm's residual sums in place of the third and fourth moments
    df = _rows(6_000, k, seed=20 + k)
    covs = [f"x{j}" for j in range(k)]
    st = gather(df, arm="arm", metrics=["y"], covariates=covs)  # no products
    res = lin_residual_sums(df, st, arm="arm", metrics=["y"], covariates=covs)
    assert set(res.sums) == {(a, "y") for a in ("a", "b", "c")}
    shuffled = lin_residual_sums(df.sample(fraction=1.0, shuffle=True, seed=3).lazy(), st, arm="arm",
                                 metrics=["y"], covariates=covs)
    for key, (e2, e2d, e2dd) in res.sums.items():  # exact sums: the same bits in any row order
        assert shuffled.sums[key][0] == e2
        assert np.array_equal(shuffled.sums[key][1], e2d) and np.array_equal(shuffled.sums[key][2], e2dd)
    one = gather(df, arm="arm", metrics=["y"], covariates=covs, products=lin_products(["y"], covs))
    for arm in ("a", "b"):
        e = lin_effect(st, arm=arm, control="c", metric="y", covariates=covs, residuals=res)
        _assert_equal(e, _ols_hc1(df, arm, covs))
        ref = lin_effect(one, arm=arm, control="c", metric="y", covariates=covs)
        assert e.estimate == ref.estimate  # the same first-pass sums
        assert e.se == pytest.approx(ref.se, rel=REL)
    with pytest.raises(ParameterError, match="residuals"):
        lin_effect(st, arm="a", control="c", metric="y", covariates=covs[:1], residuals=res)


def test_lin_per_segment_equals_statsmodels_on_the_segment_rows() -> None:
    df = _rows(8_000, 3, seed=11)
    covs = ["x0", "x1", "x2"]
    st = gather(df, arm="arm", metrics=["y"], covariates=covs, segment="seg",
                products=lin_products(["y"], covs))
    for seg in ("n", "s"):
        e = lin_effect(st, arm="a", control="c", metric="y", covariates=covs, segment=seg)
        _assert_equal(e, _ols_hc1(df.filter(pl.col("seg") == seg), "a", covs))
        assert e.segment == seg


def test_lin_from_row_moments_equals_gathered_and_is_exact_merge() -> None:
    df = _rows(3_000, 3, seed=5)
    covs = ["x0", "x1", "x2"]
    products = lin_products(["y"], covs)
    whole = gather(df, arm="arm", metrics=["y"], covariates=covs, products=products)
    halves = [gather(part, arm="arm", metrics=["y"], covariates=covs, products=products)
              for part in (df.head(1_300), df.tail(1_700))]
    merged = halves[0].merge(halves[1])
    a = lin_effect(whole, arm="a", control="c", metric="y", covariates=covs)
    b = lin_effect(merged, arm="a", control="c", metric="y", covariates=covs)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12) and a.se == pytest.approx(b.se, rel=1e-12)
    rows = {g: df.filter(pl.col("arm") == g) for g in ("a", "c")}
    fit = lin_fit(*(raw_moments(rows[g]["y"].to_numpy(), rows[g].select(covs).to_numpy())
                    for g in ("a", "c")))
    assert fit.estimate == pytest.approx(a.estimate, rel=REL) and fit.se == pytest.approx(a.se, rel=REL)


def test_lin_refusals() -> None:
    df = _rows(500, 2, seed=2)
    st = gather(df, arm="arm", metrics=["y"], covariates=["x0", "x1"])
    with pytest.raises(DataError, match="product of"):
        lin_effect(st, arm="a", control="c", metric="y", covariates=["x0", "x1"])
    with pytest.raises(ParameterError, match="covariates"):
        lin_effect(st, arm="a", control="c", metric="y", covariates=[])
    dup = df.with_columns(pl.col("x0").alias("x1"))
    st = gather(dup, arm="arm", metrics=["y"], covariates=["x0", "x1"],
                products=lin_products(["y"], ["x0", "x1"]))
    with pytest.raises(DataError, match="collinear"):
        lin_effect(st, arm="a", control="c", metric="y", covariates=["x0", "x1"])
    res = lin_residual_sums(dup, st, arm="arm", metrics=["y"], covariates=["x0", "x1"])
    assert res.sums == {}  # no arm can be fitted; lin_effect says why
    with pytest.raises(DataError, match="collinear"):
        lin_effect(st, arm="a", control="c", metric="y", covariates=["x0", "x1"], residuals=res)
    gaps = df.with_columns(pl.when((pl.col("arm") == "a") & (pl.col("x0") > pl.col("x0").median()))
                           .then(None).otherwise(pl.col("y")).alias("y"))
    st = gather(gaps, arm="arm", metrics=["y"], covariates=["x0", "x1"])
    res = lin_residual_sums(gaps, st, arm="arm", metrics=["y"], covariates=["x0", "x1"])
    assert set(res.sums) == {("b", "y"), ("c", "y")}
    assert res.to_dict()["errors"][0]["arm"] == "a" and len(res.to_dict()["sums"]) == 2
    with pytest.raises(DataError, match="on the same rows"):
        lin_effect(st, arm="a", control="c", metric="y", covariates=["x0", "x1"], residuals=res)


def _iv_rows(n: int, seed: int, control_exposed: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["c", "a", "b"], n)
    active = rng.random(n) < 0.5
    reach = rng.random(n) < np.where(active, 0.8, 0.4)
    d = np.where(arm == "c", rng.random(n) < control_exposed, reach & (arm != "c"))
    y = 3 + 2 * active + d * np.where(active, 0.3, 0.1) + (rng.gamma(2, 1, n) - 2) * (1 + d)
    conv = rng.random(n) < 0.1 + 0.03 * d
    return pl.DataFrame({"arm": arm, "seg": rng.choice(["n", "s"], n), "y": y, "conv": conv.astype(float),
                         "d": d.astype(float)})


def _iv_ref(df: pl.DataFrame, arm: str, metric: str) -> dict[str, float]:
    rows = df.filter(pl.col("arm").is_in([arm, "c"]))
    z = (rows["arm"] == arm).to_numpy().astype(float)
    fit = IV2SLS(rows[metric].to_numpy(), np.ones((rows.height, 1)), rows["d"].to_numpy()[:, None],
                 z[:, None]).fit(cov_type="robust")
    ci = fit.conf_int(level=0.95).to_numpy()[1]
    return {"estimate": float(fit.params.iloc[1]), "se": float(fit.std_errors.iloc[1]),
            "p_value": float(fit.pvalues.iloc[1]), "ci_low": float(ci[0]), "ci_high": float(ci[1])}


@pytest.mark.parametrize("control_exposed", [0.0, 0.05])
def test_exposed_equals_linearmodels_iv2sls_robust(control_exposed: float) -> None:
    df = _iv_rows(6_000, seed=4, control_exposed=control_exposed)
    st = gather(df, arm="arm", metrics=["y", "conv", "d"], pairs=[("y", "d"), ("conv", "d")], segment="seg")
    for arm in ("a", "b"):
        for metric in ("y", "conv"):
            e = exposed_effect(st, arm=arm, control="c", metric=metric, exposure="d")
            ref = _iv_ref(df, arm, metric)
            assert 1e-8 < ref["p_value"] < 0.99
            _assert_equal(e, ref)
        seg = exposed_effect(st, arm=arm, control="c", metric="y", exposure="d", segment="s")
        _assert_equal(seg, _iv_ref(df.filter(pl.col("seg") == "s"), arm, "y"))


def test_exposed_is_wald_and_complier_means() -> None:
    df = _iv_rows(4_000, seed=9)
    st = gather(df, arm="arm", metrics=["y", "d"], pairs=[("y", "d")])
    e = exposed_effect(st, arm="a", control="c", metric="y", exposure="d")
    means = {g: df.filter(pl.col("arm") == g).select(pl.col("y").mean(), pl.col("d").mean()).row(0)
             for g in ("a", "c")}
    itt, rate = means["a"][0] - means["c"][0], means["a"][1] - means["c"][1]
    assert e.estimate == pytest.approx(itt / rate, rel=1e-12)
    # one-sided: the compliers' treated mean is the mean of the exposed treated units
    exposed_mean = df.filter((pl.col("arm") == "a") & (pl.col("d") == 1))["y"].mean()
    assert e.mean_arm == pytest.approx(exposed_mean, rel=1e-12)
    assert e.mean_arm - e.mean_control == pytest.approx(e.estimate, rel=1e-12)


def test_exposed_refusals() -> None:
    df = _iv_rows(1_000, seed=1).with_columns(pl.when(pl.col("arm") == "b").then(0.0).otherwise(pl.col("d"))
                                              .alias("d"))
    st = gather(df, arm="arm", metrics=["y", "d"], pairs=[("y", "d")])
    with pytest.raises(DataError, match="no unit of arm 'b' was exposed"):
        exposed_effect(st, arm="b", control="c", metric="y", exposure="d")
    with pytest.raises(DataError, match="not identified"):
        wald_fit({"n": 10, "y": 5, "yy": 5, "d": 2, "yd": 1}, {"n": 10, "y": 4, "yy": 4, "d": 2, "yd": 1})


def test_coverage_functions_measure_what_they_claim() -> None:
    """Small runs of the calibration (the full figures: benchmarks/calibrate_regression_exposed.py)."""
    rng = np.random.default_rng(2026)
    r, n = 120, 1_500
    x = np.stack([rng.gamma(2, 3, (r, n)), rng.normal(0, 1, (r, n)), rng.poisson(2, (r, n))], axis=-1)
    t = rng.random((r, n)) < 0.5
    y = x @ np.array([1.0, 2.0, 0.5]) + t * (1.0 + 0.5 * x[..., 1]) + rng.normal(0, 2, (r, n))
    a = lin_coverage(y, t, x, 1.0)
    assert 0.88 <= a.coverage <= 0.995 and a.n_experiments == r
    assert a.widths["lin"] < 0.8 * a.widths["cuped"] < 0.8 * a.widths["unadjusted"]
    d = t & (rng.random((r, n)) < 0.6)
    y = rng.normal(0, 1, (r, n)) + 2.0 * d
    b = exposed_coverage(y, t, d, 2.0)
    assert 0.88 <= b.coverage <= 0.995 and b.covered["itt"] < 0.2  # the ITT estimates 0.6 x 2.0
    with pytest.raises(ParameterError, match="treated"):
        exposed_coverage(y, t[:, :10], d, 2.0)
