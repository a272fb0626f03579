"""Order-free float sums: exact to 2**-62 a value, the same bits in any row order."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from experiments.exact_sums import group_sums, read_sums, sum_aggs


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    n = 200_000
    x = rng.gamma(0.5, 100.0, n) * rng.choice([-1.0, 1.0], n)
    x[:4] = [1e70, -3e-200, 1e-40, -(2.0**63)]
    return pl.DataFrame({"g": rng.integers(0, 5, n), "x": x})


def test_sums_match_exact_sums(table: pl.DataFrame) -> None:
    out = group_sums(table, ["g"], {"s": pl.col("x"), "q": pl.col("x") ** 2}, aggs=[pl.len().alias("n")])
    assert out["g"].to_list() == [0, 1, 2, 3, 4]
    assert out.columns == ["g", "n", "s", "q"]
    x, g = table["x"].to_numpy(), table["g"].to_numpy()
    for k, s, q in zip(out["g"], out["s"], out["q"], strict=True):
        assert s == pytest.approx(math.fsum(x[g == k]), rel=1e-15, abs=1e-12)
        assert q == pytest.approx(math.fsum(x[g == k] ** 2), rel=1e-15)


def test_same_bits_in_any_row_order(table: pl.DataFrame) -> None:
    sums = {"s": pl.col("x"), "q": pl.col("x") * pl.col("x")}
    first = group_sums(table, ["g"], sums)
    for seed in range(3):
        shuffled = table.sample(fraction=1.0, shuffle=True, seed=seed)
        chunked = pl.concat([shuffled[i:i + 7_001] for i in range(0, shuffled.height, 7_001)], rechunk=False)
        assert group_sums(chunked.lazy(), ["g"], sums).equals(first)


def test_nan_infinity_null_and_large_values() -> None:
    x = [float("nan"), 1.0, 2.0, float("inf"), 1.5, None, 2.0**64, -3.25, -(2.0**63)]
    frame = pl.DataFrame({"g": [1, 1, 1, 2, 2, 3, 4, 4, 5], "x": x}, schema={"g": pl.Int64, "x": pl.Float64})
    out = dict(group_sums(frame, ["g"], {"s": pl.col("x")}).iter_rows())
    assert math.isnan(out[1])
    assert out[2] == math.inf
    assert out[3] == 0.0
    assert out[4] == 2.0**64 - 3.25
    assert out[5] == -(2.0**63)


def test_parts_inside_a_larger_aggregation() -> None:
    frame = pl.DataFrame({"g": ["a", "b", "a"], "x": [0.1, 0.2, 0.7]})
    lazy = frame.lazy().group_by("g").agg(pl.len().alias("n"), *sum_aggs(pl.col("x"), "total"))
    out = read_sums(lazy, ["total"]).sort("g").collect()
    assert out.columns == ["g", "n", "total"]
    assert out["total"].to_list() == [0.1 + 0.7, 0.2]
