"""Feature encoding and reading an uplift table: the arrays, and one clear line for each bad input."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.data import read_uplift_table
from experiments.models.uplift.features import design_matrix


def _frame(n: int = 40) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    return pl.DataFrame({
        "arm": (["T", "C", "X", None] * n)[:n],
        "y": (rng.random(n) < 0.4).astype(np.int64),
        "amount": rng.gamma(2, 3, n),
        "score": rng.normal(size=n),
        "age": pl.Series([None if i % 7 == 0 else int(v) for i, v in enumerate(rng.integers(18, 80, n))],
                         dtype=pl.Int64),
        "flag": rng.random(n) < 0.5,
        "city": pl.Series((["a", "b", None] * n)[:n], dtype=pl.String),
        "tier": pl.Series((["gold", "silver"] * n)[:n], dtype=pl.Categorical),
        "text_y": ["1"] * n,
    })


def test_design_matrix_encodings() -> None:
    df = _frame()
    d = design_matrix(df, ["age", "flag", "city", "tier"])
    assert d.names == ("age", "flag", "city=(missing)", "city=a", "city=b", "tier=gold", "tier=silver")
    assert d.X.shape == (40, 7) and d.X.dtype == np.float64
    assert np.isnan(d.X[0, 0]) and np.isfinite(d.X[1, 0])  # a missing number stays missing
    assert np.array_equal(d.X[:, 2:5].sum(axis=1), np.ones(40))
    assert [e.kind for e in d.encodings] == ["number", "boolean", "one-hot", "one-hot"]
    assert d.encodings[2].levels == ("(missing)", "a", "b")


def test_text_with_thousands_of_levels_is_refused() -> None:
    df = pl.DataFrame({"email": [f"user{i}@example.com" for i in range(3000)]})
    with pytest.raises(DataError, match=r"'email' is text with 3,000 levels \(more than 64\); refused"):
        design_matrix(df, ["email"])
    assert design_matrix(df.head(50), ["email"], max_levels=50).X.shape == (50, 50)


def test_other_types_and_unknown_columns() -> None:
    df = pl.DataFrame({"d": [datetime.date(2024, 1, 1)] * 3, "x": [1.0, np.inf, 2.0]})
    with pytest.raises(DataError, match="type Date"):
        design_matrix(df, ["d"])
    with pytest.raises(DataError, match="infinite"):
        design_matrix(df, ["x"])
    with pytest.raises(DataError, match="unknown feature"):
        design_matrix(df, ["nope"])
    with pytest.raises(ParameterError, match="distinct"):
        design_matrix(df, ["x", "x"])


def test_read_uplift_table_keeps_two_arms_and_counts_the_rest(tmp_path: Path) -> None:
    df = _frame()
    for path in (tmp_path / "t.csv", tmp_path / "t.parquet"):
        df.write_csv(path) if path.suffix == ".csv" else df.write_parquet(path)
        tab = read_uplift_table(path, arm="arm", treatment="T", control="C", outcome="y", score="score",
                                features=["age", "city"], with_rows=True)
        assert tab.n_treatment == 10 and tab.n_control == 10 and tab.n_left_out == 20
        assert tab.binary and tab.design is not None and tab.design.X.shape == (20, 4)
        assert tab.row is not None and tab.row[:4].tolist() == [0, 1, 4, 5]
        assert np.array_equal(tab.score, df["score"].to_numpy()[tab.row])
    amounts = read_uplift_table(df, arm="arm", treatment="T", control="C", outcome="amount")
    assert not amounts.binary and amounts.score is None and amounts.design is None


def test_numeric_arm_labels_compare_as_text() -> None:
    df = pl.DataFrame({"g": [1, 0, 1, 0, 2], "y": [1.0, 0, 0, 1, 1]})
    tab = read_uplift_table(df, arm="g", treatment="1", control="0", outcome="y")
    assert (tab.n_treatment, tab.n_control, tab.n_left_out) == (2, 2, 1)


def test_bad_tables_get_one_clear_line() -> None:
    df = _frame()
    with pytest.raises(DataError, match=r"treatment label 'Treat' not found in column 'arm'; labels present: "
                                        r"'C', 'T', 'X'"):
        read_uplift_table(df, arm="arm", treatment="Treat", control="C", outcome="y")
    with pytest.raises(ParameterError, match="different from the control"):
        read_uplift_table(df, arm="arm", treatment="C", control="C", outcome="y")
    with pytest.raises(DataError, match=r"unknown column\(s\) 'nope', 'zip'; columns present: 'arm'"):
        read_uplift_table(df, arm="arm", treatment="T", control="C", outcome="nope", features=["zip"])
    with pytest.raises(DataError, match="outcome column 'text_y' is not numeric"):
        read_uplift_table(df, arm="arm", treatment="T", control="C", outcome="text_y")
    with pytest.raises(DataError, match="outcome column 'age' has 3 missing"):
        read_uplift_table(df, arm="arm", treatment="T", control="C", outcome="age")
    nan_score = df.with_columns(pl.when(pl.int_range(pl.len()) == 4).then(float("nan")).otherwise("score")
                                .alias("score"))
    with pytest.raises(DataError, match="score column 'score' has 1 missing"):
        read_uplift_table(nan_score, arm="arm", treatment="T", control="C", outcome="y", score="score")
