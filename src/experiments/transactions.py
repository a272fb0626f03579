"""Transaction logs (one row per transaction) and their per-customer RFM summary for BTYD models.

Rules (as for the published CDNOW analyses, Fader, Hardie & Lee 2005):

- transactions of one customer on the same day count as one purchase (their amounts are added);
- the calibration period runs from the first transaction to ``calibration_end`` inclusive; customers
  whose first purchase falls after it are left out of the summary;
- ``frequency`` is the number of repeat purchase days in the calibration period; ``recency`` the days
  from the first purchase to the last repeat purchase (0 without one); ``T`` the days from the first
  purchase to ``calibration_end``; both divided by 7 with ``time_unit="week"``;
- ``monetary_value`` is the mean value of the repeat purchase days (0 without one);
- with ``holdout_end``, ``holdout_purchases`` counts purchase days in ``(calibration_end, holdout_end]``.

Files are read lazily with polars (CSV, gzip-compressed CSV or parquet) and only the named columns are
loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from experiments.datasets import csv_header_names
from experiments.errors import DataError, ParameterError
from experiments.exact_sums import read_sums, sum_aggs

__all__ = ["DATE_FORMATS", "RFMSummary", "load_columns", "load_transactions", "parse_date", "rfm_summary"]

TimeUnit = Literal["day", "week"]
#: Date spellings tried in turn (the first that parses every value wins).
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y")
_DATETIME_FORMATS: tuple[str, ...] = tuple(
    f"{day}{sep}{time}" for day in DATE_FORMATS if "/" in day or "-" in day
    for sep in ((" ", "T") if "-" in day else (" ",)) for time in ("%H:%M:%S", "%H:%M"))
_UNIT_DAYS = {"day": 1.0, "week": 7.0}


def parse_date(name: str, value: str | dt.date) -> dt.date:
    """A date given as ``YYYY-MM-DD`` (or ``YYYYMMDD``), for command-line options."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ParameterError(name, value, "a date written YYYY-MM-DD")


def _scan(path: Path) -> pl.LazyFrame:
    if not path.is_file():
        raise DataError(f"transaction file not found: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".gz" and Path(path.stem).suffix.lower() in {".csv", ".tsv"}:  # gzip-compressed CSV
        suffix = Path(path.stem).suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            return pl.scan_parquet(path)
        if suffix in {".csv", ".txt", ".tsv"}:
            return csv_header_names(pl.scan_csv(path, separator="\t" if suffix == ".tsv" else ",",
                                                infer_schema_length=10_000))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {str(exc).splitlines()[0]}") from None
    raise DataError(
        f"unsupported file type {suffix!r} for {str(path)!r}; allowed: .csv, .tsv (optionally .gz), .parquet"
    )


def _to_dates(values: pl.Series, column: str) -> pl.Series:
    """Parse a column of dates strictly; raise naming the first value that is missing or does not parse."""
    missing = values.is_null() | (values.cast(pl.String).str.strip_chars() == "")
    if missing.any():
        row = int(missing.arg_true()[0]) + 1
        raise DataError(f"date column {column!r} has {int(missing.sum())} missing dates (first at row {row})")
    dtype = values.dtype
    if dtype == pl.Date:
        return values
    if dtype.is_temporal():
        return values.cast(pl.Datetime).dt.date()
    if dtype.is_integer():
        values = values.cast(pl.String)
    elif dtype != pl.String:
        raise DataError(f"date column {column!r} has type {dtype}; allowed: dates or text YYYY-MM-DD")
    text = values.str.strip_chars()
    best: pl.Series | None = None
    for fmt in DATE_FORMATS + _DATETIME_FORMATS:
        parsed = text.str.strptime(pl.Datetime, fmt, strict=False, exact=True)
        if parsed.null_count() == 0:
            return parsed.dt.date()
        if best is None or parsed.null_count() < best.null_count():
            best = parsed
    assert best is not None
    bad = text.filter(best.is_null()).head(1).to_list()
    raise DataError(
        f"date column {column!r}: cannot parse {bad[0]!r} as a date; allowed: YYYY-MM-DD, YYYYMMDD, "
        "YYYY/MM/DD, DD/MM/YYYY or MM/DD/YYYY (all in one column), optionally with a time HH:MM[:SS]"
    )


def load_transactions(path: str | Path, *, customer: str, date: str, amount: str) -> pl.DataFrame:
    """Read and validate a transaction log; returns columns ``customer``, ``date``, ``amount``.

    Raises
    ------
    DataError
        Missing columns or file, one column in two roles, no rows, customer ids missing, dates missing
        or not parsing, amounts missing, NaN, infinite, negative or not numbers.
    """
    path = Path(path)
    lazy = _scan(path)
    try:
        names = lazy.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {str(exc).splitlines()[0]}") from None
    for role, col in (("customer", customer), ("date", date), ("amount", amount)):
        if col not in names:
            raise DataError(f"--{role} column {col!r} not in {path.name}; columns: {', '.join(names)}")
    if len({customer, date, amount}) < 3:
        raise DataError("the customer, date and amount columns must be three different columns")
    try:
        frame = lazy.select(
            pl.col(customer).alias("customer"), pl.col(date).alias("date"), pl.col(amount).alias("amount")
        ).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {str(exc).splitlines()[0]}") from None
    if frame.height == 0:
        raise DataError(f"{path.name} holds no transactions")
    cust = frame["customer"]
    if cust.dtype == pl.String:
        missing = cust.is_null() | (cust.str.strip_chars() == "")
    else:
        missing = cust.is_null()
    if missing.any():
        row = int(missing.arg_true()[0]) + 1
        raise DataError(
            f"customer column {customer!r} has {int(missing.sum())} missing ids (first at row {row})"
        )
    amt = frame["amount"]
    if not amt.dtype.is_numeric():
        number = amt.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
        bad = amt.cast(pl.String).filter(amt.is_not_null() & number.is_null()).head(1).to_list()
        if bad:
            raise DataError(f"amount column {amount!r}: {bad[0]!r} is not a number")
        amt = number  # numbers written as text among missing cells
    amt = amt.cast(pl.Float64)
    if amt.is_null().any() or amt.is_nan().any():
        row = int((amt.is_null() | amt.is_nan()).arg_true()[0]) + 1
        raise DataError(f"amount column {amount!r} has missing values or NaN (first at row {row})")
    if amt.is_infinite().any():
        row = int(amt.is_infinite().arg_true()[0]) + 1
        raise DataError(f"amount column {amount!r} has infinite values (first at row {row})")
    if (amt < 0).any():
        raise DataError(f"amount column {amount!r} has negative amounts (e.g. {amt.filter(amt < 0)[0]!r})")
    return frame.with_columns(date=_to_dates(frame["date"], date), amount=amt)


def load_columns(path: str | Path, columns: dict[str, str]) -> pl.DataFrame:
    """Read the named columns of a CSV or parquet table as numbers; ``columns`` maps an option (``--period``)
    to its column, and the frame's columns are named after the options (without the dashes).

    Raises
    ------
    DataError
        A missing or unreadable file, a missing column, one column in two roles, no rows, or a cell that
        is missing or not a finite number.
    """
    path = Path(path)
    lazy = _scan(path)
    try:
        names = lazy.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {str(exc).splitlines()[0]}") from None
    for option, col in columns.items():
        if col not in names:
            raise DataError(f"{option} column {col!r} not in {path.name}; columns: {', '.join(names)}")
    if len(set(columns.values())) < len(columns):
        raise DataError(f"the columns of {', '.join(columns)} must be different columns")
    try:
        frame = lazy.select(pl.col(c).alias(o.lstrip("-")) for o, c in columns.items()).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"cannot read {str(path)!r}: {str(exc).splitlines()[0]}") from None
    if frame.height == 0:
        raise DataError(f"{path.name} holds no rows")
    out = {}
    for option, col in columns.items():
        values = frame[option.lstrip("-")]
        if option == "--cohort":
            if values.is_null().any():
                raise DataError(f"{option} column {col!r} has missing values")
            out[option.lstrip("-")] = values.cast(pl.String)
            continue
        number = values.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
        bad = number.is_null() | number.is_nan() | number.is_infinite()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise DataError(
                f"{option} column {col!r}: {values[row]!r} at row {row + 1} is not a finite number"
            )
        out[option.lstrip("-")] = number
    return pl.DataFrame(out)


@dataclass(frozen=True)
class RFMSummary:
    """Per-customer summary and the period it covers."""

    frame: pl.DataFrame
    first_date: dt.date
    last_date: dt.date
    calibration_end: dt.date
    holdout_end: dt.date | None
    time_unit: str

    @property
    def holdout_length(self) -> float | None:
        """Length of the holdout period in time units."""
        if self.holdout_end is None:
            return None
        return (self.holdout_end - self.calibration_end).days / _UNIT_DAYS[self.time_unit]

    @property
    def n_customers(self) -> int:
        return self.frame.height

    @property
    def n_repeat_customers(self) -> int:
        return int((self.frame["frequency"] > 0).sum())


def rfm_summary(
    transactions: pl.DataFrame,
    *,
    calibration_end: dt.date,
    holdout_end: dt.date | None = None,
    time_unit: TimeUnit = "week",
) -> RFMSummary:
    """Frequency, recency, T, monetary value (and holdout purchases) of every customer.

    ``transactions`` has the columns of :func:`load_transactions`. Raises :class:`DataError` when the
    calibration end lies before the first or after the last transaction, or the holdout end is not
    after the calibration end.
    """
    if time_unit not in _UNIT_DAYS:
        raise ParameterError("time_unit", time_unit, "day or week")
    first = transactions["date"].min()
    last = transactions["date"].max()
    if calibration_end < first or calibration_end >= last:
        raise DataError(
            f"calibration end {calibration_end} lies outside the transactions "
            f"({first} to {last}); it must be on or after the first and before the last date"
        )
    if holdout_end is not None and holdout_end <= calibration_end:
        raise DataError(f"holdout end {holdout_end} must be after the calibration end {calibration_end}")
    unit = _UNIT_DAYS[time_unit]
    # amounts are added with exact_sums, so that the same file gives the same bits on every run
    amount = pl.col("amount").cast(pl.Float64)
    days = read_sums(transactions.lazy().group_by("customer", "date").agg(sum_aggs(amount, "amount")),
                     ["amount"])
    end = pl.lit(calibration_end)
    first_day = pl.col("date").min().over("customer")
    cal = days.filter(pl.col("date") <= end).with_columns(first_day=first_day)
    repeat = pl.col("amount").filter(pl.col("date") > pl.col("first_day"))
    summary = read_sums(cal.group_by("customer").agg(
        (pl.len() - 1).cast(pl.Int64).alias("frequency"),
        ((pl.col("date").max() - pl.col("first_day").first()).dt.total_days() / unit).alias("recency"),
        ((end - pl.col("first_day").first()).dt.total_days() / unit).alias("T"),
        repeat.count().alias("repeats"),
        *sum_aggs(repeat, "monetary_value"),
    ), ["monetary_value"]).with_columns(
        pl.when(pl.col("repeats") > 0).then(pl.col("monetary_value") / pl.col("repeats")).otherwise(0.0)
        .alias("monetary_value")
    ).drop("repeats")
    if holdout_end is not None:
        hold = (
            days.filter((pl.col("date") > end) & (pl.col("date") <= pl.lit(holdout_end)))
            .group_by("customer")
            .agg(holdout_purchases=pl.len().cast(pl.Int64))
        )
        summary = summary.join(hold, on="customer", how="left").with_columns(
            pl.col("holdout_purchases").fill_null(0)
        )
    frame = summary.sort("customer").collect()
    return RFMSummary(
        frame=frame,
        first_date=first,
        last_date=last,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
    )
