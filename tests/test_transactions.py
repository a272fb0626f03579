"""Transaction-log loading and the RFM summary rules."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from experiments.errors import DataError, ParameterError
from experiments.transactions import load_transactions, parse_date, rfm_summary


def _write(tmp_path, rows, name="t.csv"):
    path = tmp_path / name
    frame = pl.DataFrame(rows, schema=["c", "d", "a"], orient="row")
    if name.endswith(".parquet"):
        frame.write_parquet(path)
    else:
        frame.write_csv(path)
    return path


ROWS = [
    ("x", "2024-01-01", 10.0),
    ("x", "2024-01-01", 5.0),  # same day: one purchase of 15
    ("x", "2024-01-08", 20.0),
    ("x", "2024-01-15", 40.0),
    ("x", "2024-02-10", 7.0),  # holdout
    ("y", "2024-01-10", 3.0),
    ("z", "2024-01-20", 4.0),  # on the calibration end: T = 0
]


def test_summary_rules(tmp_path):
    tx = load_transactions(_write(tmp_path, ROWS), customer="c", date="d", amount="a")
    s = rfm_summary(
        tx, calibration_end=dt.date(2024, 1, 20), holdout_end=dt.date(2024, 2, 20), time_unit="day"
    )
    f = {r["customer"]: r for r in s.frame.iter_rows(named=True)}
    assert f["x"]["frequency"] == 2 and f["x"]["recency"] == 14 and f["x"]["T"] == 19
    assert f["x"]["monetary_value"] == pytest.approx(30.0)
    assert f["x"]["holdout_purchases"] == 1
    assert f["y"]["frequency"] == 0 and f["y"]["recency"] == 0 and f["y"]["monetary_value"] == 0
    assert f["z"]["T"] == 0
    assert s.holdout_length == 31 and s.n_customers == 3 and s.n_repeat_customers == 1
    weeks = rfm_summary(tx, calibration_end=dt.date(2024, 1, 20), time_unit="week").frame
    assert weeks.filter(pl.col("customer") == "x")["T"][0] == pytest.approx(19 / 7)


def test_parquet_and_integer_dates(tmp_path):
    rows = [(1, 20240101, 1.0), (1, 20240105, 2.0), (2, 20240103, 3.0)]
    path = tmp_path / "t.parquet"
    pl.DataFrame(rows, schema=["c", "d", "a"], orient="row").write_parquet(path)
    tx = load_transactions(path, customer="c", date="d", amount="a")
    assert tx["date"].dtype == pl.Date and tx["date"].min() == dt.date(2024, 1, 1)


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([("x", "2024-01-01", 1.0), ("x", "2024-13-45", 2.0)], "2024-13-45"),
        ([("x", "2024-01-01", 1.0), ("x", "2024-01-02", -2.0)], "negative"),
        ([("x", "2024-01-01", 1.0), ("x", "2024-01-02", None)], "missing values"),
        ([("x", "2024-01-01", 1.0), (None, "2024-01-02", 2.0)], "missing ids"),
    ],
)
def test_bad_files(tmp_path, rows, match):
    with pytest.raises(DataError, match=match):
        load_transactions(_write(tmp_path, rows), customer="c", date="d", amount="a")


def test_bad_columns_and_periods(tmp_path):
    path = _write(tmp_path, ROWS)
    with pytest.raises(DataError, match="'cust' not in"):
        load_transactions(path, customer="cust", date="d", amount="a")
    tx = load_transactions(path, customer="c", date="d", amount="a")
    with pytest.raises(DataError, match="outside"):
        rfm_summary(tx, calibration_end=dt.date(2023, 12, 1))
    with pytest.raises(DataError, match="outside"):
        rfm_summary(tx, calibration_end=dt.date(2024, 3, 1))
    with pytest.raises(DataError, match="holdout end"):
        rfm_summary(tx, calibration_end=dt.date(2024, 1, 20), holdout_end=dt.date(2024, 1, 10))
    with pytest.raises(ParameterError, match="calibration_end"):
        parse_date("calibration_end", "yesterday")
    with pytest.raises(DataError, match="not found"):
        load_transactions(tmp_path / "nope.csv", customer="c", date="d", amount="a")
