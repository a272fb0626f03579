"""The factorial estimators (a factor's effect pooled over the others, contrasts of cell means: the effect
with the others on, a pair's interaction, the total, centred main effects) against statsmodels OLS with
HC2 on the rows, to 1e-9 relative."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from experiments.errors import DataError, ParameterError
from experiments.stats.factorial import (
    POOLED_METHOD,
    cell_statistics,
    contrast_frame,
    pooled_effect,
    weighted_contrast,
)

ON = frozenset


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    n = 3_000
    a, b, c = (rng.random(n) < 0.7 for _ in range(3))
    y = (rng.random(n) < 0.05 + 0.02 * a + 0.01 * b + 0.03 * a * b).astype(np.int8)
    z = rng.lognormal(0.0, 1.0, n) * (1 + 0.2 * c) - 0.5 * b
    return pl.DataFrame({"a": a, "b": b, "c": c, "y": y, "z": z})


def test_cell_statistics_are_each_cells_count_mean_and_variance(table):
    cells = cell_statistics(table, factors={"A": "a", "B": "b", "C": "c"}, metrics=["y", "z"])
    assert len(cells.cells) == 8 and sum(cells.counts().values()) == table.height
    mine = table.filter(pl.col("a") & ~pl.col("b") & pl.col("c"))["z"].to_numpy()
    got = cells[ON({"A", "C"})]["z"]
    assert got.n == mine.size
    assert got.mean == pytest.approx(np.mean(mine), rel=1e-12)
    assert got.variance == pytest.approx(np.var(mine, ddof=1), rel=1e-12)
    pooled = cells.pooled(("B",))[ON({"B"})]["z"]
    on_b = table.filter(pl.col("b"))["z"].to_numpy()
    assert pooled.n == on_b.size and pooled.variance == pytest.approx(np.var(on_b, ddof=1), rel=1e-12)
    assert cells.units("A", on=False) == int((~table["a"]).sum())


def test_pooled_effects_and_pair_interactions_equal_statsmodels_hc2(table):
    cells = cell_statistics(table, factors={"A": "a", "B": "b", "C": "c"}, metrics=["y", "z"])
    for metric in ("y", "z"):
        y = table[metric].to_numpy().astype(float)
        for name, col in (("A", "a"), ("B", "b"), ("C", "c")):
            x = table[col].to_numpy().astype(float)
            # reference: OLS of y on an intercept and the factor's indicator, HC2 covariance
            fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC2")
            e = pooled_effect(cells, name, metric=metric)
            assert e.estimate == pytest.approx(fit.params[1], rel=1e-9, abs=1e-12)
            assert e.se == pytest.approx(fit.bse[1], rel=1e-9)
            low, high = fit.conf_int()[1]
            assert (e.ci_low, e.ci_high) == pytest.approx((low, high), rel=1e-9)
            assert e.p_value == pytest.approx(fit.pvalues[1], rel=1e-7)
            assert e.method == POOLED_METHOD and e.n_min == min(int(x.sum()), int((1 - x).sum()))
        for first, second in (("a", "b"), ("a", "c"), ("b", "c")):
            xa, xb = (table[k].to_numpy().astype(float) for k in (first, second))
            # reference: the saturated 2 x 2 model, y ~ 1 + a + b + a:b, HC2 covariance
            design = np.column_stack([np.ones_like(xa), xa, xb, xa * xb])
            fit = sm.OLS(y, design).fit(cov_type="HC2")
            fa, fb = first.upper(), second.upper()
            i = weighted_contrast(cells.pooled((fa, fb)), {ON({fa, fb}): 1.0, ON({fa}): -1.0, ON({fb}): -1.0,
                                                           ON(): 1.0}, metric=metric, term=f"{fa} x {fb}",
                                  kind="pair")
            assert i.estimate == pytest.approx(fit.params[3], rel=1e-9, abs=1e-12)
            assert i.se == pytest.approx(fit.bse[3], rel=1e-9)
            assert i.p_value == pytest.approx(fit.pvalues[3], rel=1e-7)


FACTORS = ("display", "search_nonbrand", "email")


def test_contrasts_with_the_others_on_match_statsmodels_saturated_ols_hc2() -> None:
    """Each factor's effect with the others on, each pair's interaction and the total equal statsmodels'
    OLS on the exposure indicators and all their products, ``fit(cov_type="HC2")``, read by ``t_test``."""
    rng = np.random.default_rng(3)
    n = 4_000
    x = (rng.random((n, 3)) >= np.array([0.3, 0.4, 0.5])).astype(float)
    y = (rng.random(n) < 0.1 + 0.05 * x[:, 0] + 0.03 * x[:, 1] * x[:, 2]).astype(float) * rng.lognormal(
        3, 0.5, n)
    frame = pl.DataFrame({**{f: x[:, j].astype(np.int8) for j, f in enumerate(FACTORS)}, "y": y})
    cells = cell_statistics(frame, factors=FACTORS, metrics=["y"])
    every = ON(FACTORS)
    weights = {f: {every: 1.0, every - {f}: -1.0} for f in FACTORS}
    weights |= {f"{p} x {q}": {every: 1.0, every - {p}: -1.0, every - {q}: -1.0, every - {p, q}: 1.0}
                for p, q in (FACTORS[:2], FACTORS[::2], FACTORS[1:])}
    weights["total"] = {every: 1.0, ON(): -1.0}
    got = {t: weighted_contrast(cells, w, metric="y", term=t, kind="contrast") for t, w in weights.items()}
    a, b, c = x.T
    design = np.column_stack([np.ones(n), a, b, c, a * b, a * c, b * c, a * b * c])
    fit = sm.OLS(y, design).fit(cov_type="HC2")
    # coefficients: 1, a, b, c, ab, ac, bc, abc; "all on minus one off" sums the terms holding that factor
    vectors = {
        "display": [0, 1, 0, 0, 1, 1, 0, 1], "search_nonbrand": [0, 0, 1, 0, 1, 0, 1, 1],
        "email": [0, 0, 0, 1, 0, 1, 1, 1],
        "display x search_nonbrand": [0, 0, 0, 0, 1, 0, 0, 1], "display x email": [0, 0, 0, 0, 0, 1, 0, 1],
        "search_nonbrand x email": [0, 0, 0, 0, 0, 0, 1, 1], "total": [0, 1, 1, 1, 1, 1, 1, 1],
    }
    assert set(got) == set(vectors)
    for term, v in vectors.items():
        ref = fit.t_test(np.array([v], dtype=float))
        assert got[term].estimate == pytest.approx(float(ref.effect[0]), rel=1e-9), term
        assert got[term].se == pytest.approx(float(ref.sd[0, 0]), rel=1e-9), term
        assert got[term].p_value == pytest.approx(float(ref.pvalue), rel=1e-7, abs=1e-12), term
        low, high = ref.conf_int()[0]
        assert (got[term].ci_low, got[term].ci_high) == pytest.approx((low, high), rel=1e-9), term
    scaled = weighted_contrast(cells, weights["display"], metric="y", term="display", kind="factor",
                               scale=100.0)
    assert scaled.estimate == pytest.approx(100 * got["display"].estimate, rel=1e-12)
    assert scaled.statistic == pytest.approx(got["display"].statistic, rel=1e-12)
    assert contrast_frame(list(got.values())).height == 7 and got["total"].to_frame().height == 1
    assert got["total"].to_dict()["term"] == "total" and "total" in got["total"].summary()


def _two_levers(rng: np.random.Generator) -> pl.DataFrame:
    n = 4_000
    a, b = rng.random(n) < 0.5, rng.random(n) < 0.3
    y = 1.0 + 0.5 * a - 0.2 * b + 0.4 * a * b + rng.standard_gamma(0.5, n) * (1.0 + 2.0 * b)
    return pl.DataFrame({"a": a, "b": b, "y": y})


@pytest.mark.parametrize("seed", [1, 2])
def test_averaged_main_effects_and_interaction_match_statsmodels_centred_ols_hc2(seed):
    frame = _two_levers(np.random.default_rng(seed))
    cells = cell_statistics(frame, factors=("a", "b"), metrics=("y",))
    none, a_, b_, ab = ON(), ON({"a"}), ON({"b"}), ON({"a", "b"})
    main_a = weighted_contrast(cells, {none: -0.5, a_: 0.5, b_: -0.5, ab: 0.5}, metric="y", term="a",
                               kind="main")
    main_b = weighted_contrast(cells, {none: -0.5, a_: -0.5, b_: 0.5, ab: 0.5}, metric="y", term="b",
                               kind="main")
    inter = weighted_contrast(cells, {none: 1.0, a_: -1.0, b_: -1.0, ab: 1.0}, metric="y", term="a x b",
                              kind="interaction")
    a = frame["a"].cast(pl.Float64).to_numpy() - 0.5
    b = frame["b"].cast(pl.Float64).to_numpy() - 0.5
    x = np.column_stack([np.ones_like(a), a, b, a * b])  # centred levers: coefficients are the contrasts
    ref = sm.OLS(frame["y"].to_numpy(), x).fit(cov_type="HC2")
    ci = ref.conf_int(alpha=0.05)
    for i, eff in enumerate((main_a, main_b, inter), start=1):
        assert eff.estimate == pytest.approx(ref.params[i], rel=1e-9)
        assert eff.se == pytest.approx(ref.bse[i], rel=1e-9)
        assert eff.p_value == pytest.approx(ref.pvalues[i], rel=1e-7, abs=1e-300)
        assert (eff.ci_low, eff.ci_high) == pytest.approx(tuple(ci[i]), rel=1e-9)
        assert eff.covers(float(ref.params[i]))


def test_bad_input_is_refused(table):
    cells = cell_statistics(table.with_columns(pl.lit(True).alias("a")), factors={"A": "a"}, metrics=["y"])
    with pytest.raises(DataError, match="A=off needs at least 2 units; it has 0"):
        pooled_effect(cells, "A", metric="y")
    cells = cell_statistics(table, factors=("a", "b"), metrics=["y"])
    with pytest.raises(ParameterError, match="alpha"):
        pooled_effect(cells, "a", metric="y", alpha=1.5)
    with pytest.raises(ParameterError, match="metric"):
        pooled_effect(cells, "a", metric="z")
    with pytest.raises(ParameterError, match="factors"):
        cells.pooled(("c",))
    with pytest.raises(DataError, match="'w'"):
        cell_statistics(table, factors=("a",), metrics=["w"])
    with pytest.raises(DataError, match="no factors"):
        cell_statistics(table, factors=(), metrics=["y"])
    one = cell_statistics(table.head(3).with_columns(pl.Series("a", [True, False, False])), factors=("a",),
                          metrics=["y"])
    assert math.isnan(one[ON({"a"})]["y"].variance)
    with pytest.raises(DataError, match="a=on needs at least 2 units; it has 1"):
        pooled_effect(one, "a", metric="y")
