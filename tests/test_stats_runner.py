"""The runner on rows and on summary statistics: same numbers as the building blocks."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from experiments.errors import DataError
from experiments.stats import SampleStats, gather, mean_effect, proportion_effect
from experiments.stats.runner import analyze
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
