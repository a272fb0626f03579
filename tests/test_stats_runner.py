"""The runner on rows and on summary statistics: same numbers as the building blocks."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from experiments.errors import DataError
from experiments.stats.effects import mean_effect, proportion_effect
from experiments.stats.row_analysis import RESULT_KEYS, analyze
from experiments.stats.sufficient import SampleStats, gather
from experiments.stats.summary_input import analyze_summary, asos_long


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    rng = np.random.default_rng(12)
    n = 20_000
    arm = rng.choice(["c", "t1", "t2"], n)
    conv = (rng.random(n) < np.where(arm == "c", 0.1, 0.12)).astype(int)
    return pl.DataFrame({"arm": arm, "conv": np.where(conv == 1, "True", "False"),
                         "rev": conv * rng.gamma(2, 20, n), "pre": rng.normal(size=n)})


def test_rows_battery_matches_building_blocks(rows: pl.DataFrame) -> None:
    res = analyze(rows.lazy(), arm="arm", control="c", metrics=["conv", "rev"], covariates=["pre"])
    assert res.metrics == {"conv": "binary", "rev": "continuous"}
    numeric = rows.with_columns((pl.col("conv") == "True").cast(pl.Int8))
    st = gather(numeric, arm="arm", metrics=["conv", "rev"])
    ref = proportion_effect(st.stats("t1", "conv"), st.stats("c", "conv"), metric="conv", arm="t1",
                            control_label="c")
    got = next(e for e in res.results if e.metric == "conv" and e.arm == "t1")
    assert (got.estimate, got.ci_low, got.p_value) == pytest.approx(
        (ref.estimate, ref.ci_low, ref.p_value), rel=1e-12)
    assert got.p_value_adjusted >= got.p_value
    assert len(res.adjusted_results) == 4 and res.to_frame().height == 8
    assert "rows" in res.summary()


def test_summary_input_equals_rows(rows: pl.DataFrame) -> None:
    numeric = rows.with_columns((pl.col("conv") == "True").cast(pl.Int8))
    summ = (numeric.unpivot(["conv", "rev"], index="arm", variable_name="metric")
            .group_by("arm", "metric").agg(pl.len().alias("count"), pl.col("value").mean().alias("mean"),
                                           pl.col("value").var().alias("variance")))
    a = analyze_summary(summ, arm="arm", control="c")
    b = analyze(numeric, arm="arm", control="c", metrics=["conv", "rev"])
    assert a.metrics == b.metrics
    for x in b.results:
        y = next(e for e in a.results if (e.metric, e.arm) == (x.metric, x.arm))
        assert (y.estimate, y.ci_low, y.p_value) == pytest.approx((x.estimate, x.ci_low, x.p_value), rel=1e-9)


def test_asos_sequential() -> None:
    from experiments.datasets import load_asos

    long = asos_long(load_asos(), "036afc")
    res = analyze_summary(long, arm="arm", control="control")
    assert len(res.sequential) == 4 and res.sequential[0].looks == 132
    assert res.metrics["metric1"] == "binary"
    last = long.filter(pl.col("metric") == "metric2").sort("look").group_by("arm").last()
    t, c = (last.filter(pl.col("arm") == a).row(0, named=True) for a in ("2", "control"))
    ref = mean_effect(SampleStats.from_moments(t["count"], t["mean"], t["variance"]),
                      SampleStats.from_moments(c["count"], c["mean"], c["variance"]))
    got = next(e for e in res.results if e.metric == "metric2")
    assert got.estimate == pytest.approx(ref.estimate, rel=1e-12)


def test_errors(rows: pl.DataFrame) -> None:
    with pytest.raises(DataError, match="control label"):
        analyze(rows, arm="arm", control="x", metrics=["rev"])
    with pytest.raises(DataError, match="unknown column"):
        analyze(rows, arm="arm", control="c", metrics=["nope"])


# --- one pass, ratio metrics, bootstrap, refusals ----------------------------------------------------


def _counted(frame: pl.DataFrame) -> tuple[pl.LazyFrame, list[int]]:
    """A lazy frame whose every scan is counted (a polars IO source called once per pass)."""
    from polars.io.plugins import register_io_source

    calls: list[int] = []

    def source(with_columns, predicate, n_rows, batch_size):  # type: ignore[no-untyped-def]
        calls.append(1)
        d = frame if with_columns is None else frame.select(with_columns)
        yield d if predicate is None else d.filter(predicate)

    return register_io_source(source, schema=frame.schema), calls


def test_one_pass_unless_unit_or_bootstrap(rows: pl.DataFrame) -> None:
    data = rows.with_columns(pl.Series("user", range(rows.height)), pl.col("rev").alias("orders"))
    common = dict(arm="arm", control="c", metrics=["conv", "rev"], covariates=["pre"])
    lf, calls = _counted(data)
    one = analyze(lf, **common, ratios=["rev/orders"])
    assert len(calls) == 1
    lf, calls = _counted(data)
    analyze(lf, **common, unit="user")
    assert len(calls) == 2
    lf, calls = _counted(data)
    analyze(lf, **common, bootstrap=20)
    assert len(calls) == 2
    two = analyze(data, **common, ratios=["rev/orders"])
    assert [e.estimate for e in one.results] == [e.estimate for e in two.results]


def test_ratio_against_rows_and_one_family(rows: pl.DataFrame) -> None:
    rng = np.random.default_rng(5)
    data = rows.with_columns(pl.Series("orders", rng.poisson(1.5, rows.height).astype(float)))
    data = data.with_columns(pl.when(pl.col("orders") > 0).then(pl.col("rev") + pl.col("orders") * 3)
                             .otherwise(0.0).alias("rev"))
    holes = data.with_columns(pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise(pl.col("rev"))
                              .alias("rev"))
    res = analyze(holes, arm="arm", control="c", metrics=["conv", "rev"], ratios=["rev/orders"])
    assert len(res.ratio_results) == 2
    z = sps.norm.ppf(0.975)
    for e in res.ratio_results:
        est = {}
        for a in (e.arm, "c"):
            sub = holes.filter((pl.col("arm") == a) & pl.col("rev").is_not_null())  # units with both values
            num, den = sub["rev"].to_numpy(), sub["orders"].to_numpy()
            r = num.sum() / den.sum()
            # delta method = variance of the linearised values (num - r den) / mean(den), over n
            var = np.var((num - r * den) / den.mean(), ddof=1) / num.size
            est[a] = (r, var, num.size)
        diff = est[e.arm][0] - est["c"][0]
        se = np.sqrt(est[e.arm][1] + est["c"][1])
        assert (e.estimate, e.se) == pytest.approx((diff, se), rel=1e-9)
        assert (e.ci_low, e.ci_high) == pytest.approx((diff - z * se, diff + z * se), rel=1e-9)
        assert e.p_value == pytest.approx(2 * sps.norm.sf(abs(diff / se)), rel=1e-9)
        assert (e.n_arm, e.n_control) == (est[e.arm][2], est["c"][2])
        assert e.metric == "rev/orders"
    # ratio metrics join the family of the plain effects for the correction (Holm, statsmodels)
    family = [*res.overall(), *res.ratio_results]
    ref = multipletests([e.p_value for e in family], method="holm")[1]
    assert [e.p_value_adjusted for e in family] == pytest.approx(list(ref), rel=1e-12)
    d = res.to_dict()
    assert [list(r)[: len(RESULT_KEYS)] for r in d["ratio_results"]] == [list(RESULT_KEYS)] * 2
    assert all("diff" in r for r in d["ratio_results"])


def test_bootstrap_in_analyze_matches_scipy(rows: pl.DataFrame) -> None:
    res = analyze(rows, arm="arm", control="c", metrics=["rev"], bootstrap=2000, seed=4)
    b = next(x for x in res.bootstrap if x.arm == "t1")
    x = rows.filter(pl.col("arm") == "t1")["rev"].to_numpy()
    y = rows.filter(pl.col("arm") == "c")["rev"].to_numpy()
    # scipy.stats.bootstrap((x, y), mean difference, method="percentile"): each sample resampled apart
    ref = sps.bootstrap((x, y), lambda a, b, axis=-1: a.mean(axis=axis) - b.mean(axis=axis),
                        method="percentile", n_resamples=2000, vectorized=True, random_state=1)
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert b.estimate == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    assert b.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.1 * width)
    assert b.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.1 * width)
    assert b.se == pytest.approx(ref.standard_error, rel=0.08)  # Monte Carlo error of 2,000 draws
    assert (b.metric, b.control, b.n_resamples, b.method) == ("rev", "c", 2000,
                                                              "percentile bootstrap (exact fast resampling)")
    again = analyze(rows, arm="arm", control="c", metrics=["rev"], bootstrap=2000, seed=4)
    other = analyze(rows, arm="arm", control="c", metrics=["rev"], bootstrap=2000, seed=5)
    assert again.bootstrap == res.bootstrap and other.bootstrap != res.bootstrap
    assert res.to_dict()["seed"] == 4 and len(res.to_dict()["bootstrap"]) == 2


def test_nonfinite_refused_or_dropped(rows: pl.DataFrame) -> None:
    bad = rows.with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(float("nan"))
        .when(pl.int_range(pl.len()) == 3).then(float("inf")).otherwise(pl.col("rev")).alias("rev"))
    with pytest.raises(DataError, match=r"metric 'rev' has 3 NaN and 1 infinite value\(s\) \(arms: ") as exc:
        analyze(bad, arm="arm", control="c", metrics=["conv", "rev"])
    arms = rows.head(4)["arm"].value_counts().sort("arm")
    assert all(f"{a!r} {n}" in str(exc.value) for a, n in arms.iter_rows())
    with pytest.raises(DataError, match="covariate 'rev' has 3 NaN"):
        analyze(bad, arm="arm", control="c", metrics=["conv"], covariates=["rev"])
    dropped = analyze(bad, arm="arm", control="c", metrics=["conv", "rev"], nonfinite="drop")
    blank = analyze(bad.with_columns(pl.col("rev").fill_nan(None).replace(float("inf"), None)),
                    arm="arm", control="c", metrics=["conv", "rev"])
    assert [e.estimate for e in dropped.results] == pytest.approx([e.estimate for e in blank.results],
                                                                  rel=1e-12)
    q = dropped.data_quality
    assert (q.nan["rev"], q.infinite["rev"], q.nonfinite) == (3, 1, "drop")
    assert any("dropped" in i and "'rev'" in i for i in q.issues)
    assert analyze(rows, arm="arm", control="c", metrics=["rev"]).data_quality.ok


def test_column_in_two_roles_refused(rows: pl.DataFrame) -> None:
    cases = [
        (dict(metrics=["arm"]), "'arm' is the arm column; it cannot also be the metric"),
        (dict(metrics=["rev"], covariates=["arm"]), "cannot also be the covariate"),
        (dict(metrics=["rev"], segment="arm"), "cannot also be the segment"),
        (dict(metrics=["rev"], unit="arm"), "cannot also be the unit"),
        (dict(metrics=["rev"], ratios=["rev/arm"]), "cannot also be the ratio column"),
        (dict(metrics=["rev"], covariates=["rev"]), "both a metric and a covariate"),
        (dict(metrics=["rev"], segment="rev"), "both the segment and a metric"),
        (dict(metrics=["rev"], ratios=["rev/rev"]), "by itself"),
        (dict(metrics=["rev"], ratios=["rev/nope"]), "no split"),
    ]
    for kw, message in cases:
        with pytest.raises(DataError, match=message):
            analyze(rows, arm="arm", control="c", **kw)  # type: ignore[arg-type]


def test_binary_only_when_every_value_is_0_or_1(rows: pl.DataFrame) -> None:
    conv = (rows["conv"] == "True").cast(pl.Float64)
    odd = rows.with_columns(conv.alias("conv"),
                            pl.when(pl.int_range(pl.len()) < 5).then(2.0).otherwise(conv).alias("odd"),
                            pl.when(pl.int_range(pl.len()) == 7).then(0.5).otherwise(conv).alias("half"),
                            (conv == 1).alias("flag"))
    res = analyze(odd, arm="arm", control="c", metrics=["conv", "odd", "half", "flag", "rev"])
    assert res.metrics == {"conv": "binary", "odd": "continuous", "half": "continuous", "flag": "binary",
                           "rev": "continuous"}
    q = res.data_quality
    assert q.non_binary == {"conv": 0, "flag": 0, "odd": 5, "half": 1}
    assert any("'odd' is 0 or 1 except for 5 value(s) (" in i and "from 0 to 2)" in i for i in q.issues)
    assert any("'half' is 0 or 1 except for 1 value(s) (" in i and "from 0 to 1)" in i for i in q.issues)
    assert not any("'rev'" in i for i in q.issues)  # an amount, not a yes/no column


def test_rows_without_segment_join_overall_effects_only(rows: pl.DataFrame) -> None:
    seg = rows.with_columns(pl.when(pl.int_range(pl.len()) % 10 == 0).then(None)
                            .otherwise(pl.when(pl.col("pre") > 0).then(pl.lit("hi")).otherwise(pl.lit("lo")))
                            .alias("seg"))
    res = analyze(seg, arm="arm", control="c", metrics=["rev"], segment="seg")
    plain = analyze(rows, arm="arm", control="c", metrics=["rev"])
    assert {e.segment for e in res.results} == {None, "hi", "lo"}
    assert [e.estimate for e in res.overall()] == pytest.approx([e.estimate for e in plain.overall()])
    assert res.data_quality.missing["seg"] == rows.height // 10 + (rows.height % 10 > 0)


def test_summary_rows_that_cannot_be_statistics_are_refused() -> None:
    base = {"arm": ["c", "t", "c", "t"], "metric": ["m", "m", "k", "k"], "count": [100, 100, 50, 50],
            "mean": [1.0, 1.2, 0.5, 0.6], "variance": [2.0, 2.0, 1.0, 1.0]}
    assert analyze_summary(pl.DataFrame(base), arm="arm", control="c").results
    cases = [
        ("variance", 1, -1.0, "a negative variance in row 2 (arm 't', metric 'm')"),
        ("count", 2, -5, "a negative count in row 3 (arm 'c', metric 'k')"),
        ("count", 0, 1, "a count below 2 in row 1"),
        ("count", 0, 10.5, "a count that is not a whole number in row 1"),
        ("variance", 3, float("nan"), "a variance that is not a finite number in row 4"),
        ("mean", 3, float("inf"), "a mean that is not a finite number in row 4"),
    ]
    for col, i, value, message in cases:
        data = dict(base)
        data[col] = [value if j == i else v for j, v in enumerate(base[col])]
        with pytest.raises(DataError, match=re.escape(message)):
            analyze_summary(pl.DataFrame(data, strict=False), arm="arm", control="c")
    with pytest.raises(DataError, match="arm column 'metric' is a column of the summary format"):
        analyze_summary(pl.DataFrame(base), arm="metric", control="c")
