"""Experiment tables that live in a database: the per-arm sufficient statistics as one SQL aggregation.

A :class:`DatabaseTable` names a table (or a query) behind an Ibis connection URL: DuckDB embedded
(``duckdb://relative/file.duckdb``, ``duckdb:///absolute/file.duckdb``, or ``duckdb://`` in memory, whose
queries can read large parquet and CSV files lazily with ``read_parquet(...)``) or any engine Ibis
connects to (``postgres://user:pass@host:5432/db``, BigQuery, Snowflake...).
:meth:`DatabaseTable.gather` builds one ``GROUP BY arm[, segment]`` query with Ibis that returns the same
grouped frame as the polars pass of :func:`experiments.stats.row_analysis.analyze`: the same column names,
counts, checks (:mod:`experiments.stats.quality`) and sums
(:func:`experiments.stats.sufficient.statistic_columns`). The rows never leave the database; only one row
per arm (and segment) does. :func:`rfm_summary_db` does the same for the per-customer summary of a
transaction table (``experiments clv --db``).

Sums of floats are gathered as the same two exact integer parts the polars pass adds
(:mod:`experiments.exact_sums`: the floor of each value, and its fraction in units of 2**-62, both summed
as ``DECIMAL(38, 0)``), so the statistics, and every number computed from them, are the same bits as from
a file of the same rows, whatever order the engine adds the rows in. Column names are always quoted by
Ibis; no SQL is written from user text other than the user's own ``query``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import ibis
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.exact_sums import PARTS, read_sums
from experiments.stats.quality import FALSE_SPELLINGS, HUGE, ROWS, TRUE_SPELLINGS, NonFinite
from experiments.stats.sufficient import SMALL_INTEGERS, statistic_columns
from experiments.transactions import RFMSummary, TimeUnit

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["WIDE_SUMS", "DatabaseTable", "open_table", "redact", "rfm_summary_db"]

# Separator of a column name and a check name in the checks' output names (ROWS is that separator + "n").
_Q = ROWS[:-1]
_LARGE = 2.0**63
_UNIT = 2.0**62  # the fraction's unit, as in experiments.exact_sums
_WIDE = "decimal(38, 0)"  # holds exact sums of up to 2**64 parts of 2**62
#: Ibis backends whose SUM of BIGINT is exact and wide (HUGEINT, NUMERIC, NUMBER(38)), never overflowing.
WIDE_SUMS = frozenset({"duckdb", "postgres", "snowflake", "mysql", "risingwave"})
_HALF = 2**31
_SPLIT = ("\x02up", "\x02low")  # the two 31-bit halves of a fraction part, on engines that sum in 64 bits


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and reports); also in text that is not
    a URL with a scheme (``user:password@host/db``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return re.sub(r"(?<=:)[^:/@]+(?=@)", "***", url) if "@" in url else url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(exc: BaseException, url: str | None = None) -> str:
    """The first line of a driver's message; with ``url``, its password (a driver may quote the URL)
    replaced by ``***``."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    if url is not None:
        password = urlsplit(url).password
        line = line.replace(url, redact(url))
        for secret in {password, password and unquote(password)} - {None, ""}:
            line = line.replace(secret, "***")  # type: ignore[arg-type]
    return line


def _polars_type(dtype: Any) -> pl.DataType:
    """The polars type the file path would give a column of this Ibis type."""
    names = {"int8": pl.Int8, "int16": pl.Int16, "int32": pl.Int32, "int64": pl.Int64, "uint8": pl.UInt8,
             "uint16": pl.UInt16, "uint32": pl.UInt32, "uint64": pl.UInt64, "float16": pl.Float32,
             "float32": pl.Float32, "float64": pl.Float64, "boolean": pl.Boolean, "string": pl.String,
             "date": pl.Date, "time": pl.Time}
    if dtype.is_decimal():
        return pl.Float64()  # read as floats, as polars casts a decimal column
    if dtype.is_timestamp():
        return pl.Datetime()
    name = type(dtype).__name__.lower()
    return names.get(name, pl.Binary)()


@dataclass(frozen=True)
class DatabaseTable:
    """A table (or a query's result) in a database, named by an Ibis connection URL.

    Exactly one of ``table`` and ``query`` is set; open it with :func:`open_table`, which checks both.
    """

    url: str
    table: str | None = None
    query: str | None = None

    @property
    def name(self) -> str:
        """How reports name the source: the table or ``query``, and the URL without its password."""
        what = f"table {self.table!r}" if self.table is not None else "query"
        return f"{what} in {redact(self.url)}"

    def to_dict(self) -> dict[str, Any]:
        """``url`` (password hidden), ``table``, ``query``."""
        return {"url": redact(self.url), "table": self.table, "query": self.query}

    @functools.cached_property
    def expr(self) -> ir.Table:
        """The Ibis table expression (connects on first use)."""
        parts = urlsplit(self.url)
        kwargs: dict[str, Any] = {}
        if parts.scheme.lower() == "duckdb":
            # as Ibis reads it: duckdb://relative/file.duckdb, duckdb:///absolute/file.duckdb
            path = "/".join(p for p in (parts.netloc, parts.path[bool(parts.netloc):]) if p)
            if path and path != ":memory:":
                if not Path(path).is_file():
                    raise DataError(f"--db {self.url!r}: no DuckDB file at {str(Path(path).absolute())!r}")
                kwargs["read_only"] = True
        try:
            con = ibis.connect(self.url, **kwargs)
        except Exception as exc:  # drivers raise their own types: one line, whatever they are
            raise DataError(f"--db {redact(self.url)!r}: cannot connect: "
                            f"{_first_line(exc, self.url)}") from None
        if self.query is not None:
            try:
                return con.sql(self.query)
            except Exception as exc:
                raise DataError(f"--query failed in {redact(self.url)!r}: "
                                f"{_first_line(exc, self.url)}") from None
        try:
            return con.table(self.table)
        except Exception:
            try:
                tables = ", ".join(con.list_tables()) or "none"
            except Exception:  # pragma: no cover - a driver that cannot list its tables
                tables = "(could not list them)"
            raise DataError(f"--table {self.table!r}: no such table in {redact(self.url)!r}; its tables: "
                            f"{tables}") from None

    @functools.cached_property
    def wide_sums(self) -> bool:
        """Whether the engine adds BIGINTs exactly past 64 bits (:data:`WIDE_SUMS`); otherwise each sum's
        fraction part is gathered as two 31-bit halves whose 64-bit sums cannot overflow."""
        return str(self.expr.get_backend().name) in WIDE_SUMS

    @functools.cached_property
    def schema(self) -> pl.Schema:
        """Column names and the polars types a file of the same table would have."""
        return pl.Schema({c: _polars_type(t) for c, t in self.expr.schema().items()})

    def execute(self, expr: ir.Table) -> pl.DataFrame:
        """Run an Ibis expression on this table's connection; its result as polars (one line on error)."""
        try:
            return pl.from_arrow(expr.to_pyarrow())  # type: ignore[return-value]
        except Exception as exc:
            raise DataError(f"the database {redact(self.url)!r} refused the aggregation: "
                            f"{_first_line(exc, self.url)}") from None

    def gather(
        self,
        *,
        keys: Mapping[str, str],
        count: str,
        metrics: Sequence[str],
        covariates: Sequence[str] = (),
        pairs: Sequence[tuple[str, str]] = (),
        unit_missing: tuple[str, str] | None = None,
        nonfinite: NonFinite = "refuse",
    ) -> pl.DataFrame:
        """The grouped frame of :func:`experiments.stats.row_analysis.analyze`'s pass, from one SQL query.

        Parameters
        ----------
        keys
            Output name -> column to group by (the arm, optionally the segment).
        count
            Output name of the row count.
        metrics, covariates, pairs
            As in :func:`experiments.stats.sufficient.gather_exprs`; each ``pairs[i]`` is gathered on the
            rows where both are present, prefixed ``"\\x00r{i}\\x00"``, as the ratio metrics of ``analyze``.
        unit_missing
            ``(output name, unit column)``: count the unit's missing values.
        nonfinite
            ``"drop"``: NaN and infinity in float columns count as missing.

        Returns
        -------
        polars.DataFrame
            One row per group with the key columns, the count, the checks of every column and the
            parts of every sum, named as the polars pass names them.
        """
        t = self.expr
        dtypes = self.schema
        ratio_cols = [c for p in pairs for c in p]
        value_cols = list(dict.fromkeys([*metrics, *covariates, *ratio_cols]))
        values = {c: _value(t[c], dtypes[c], nonfinite) for c in value_cols}
        aggs: dict[str, ir.Scalar] = {count: t.count()}
        if unit_missing:
            aggs[unit_missing[0]] = t[unit_missing[1]].isnull().sum()
        for c in value_cols:
            aggs.update(_checks(t[c], c, dtypes[c], metric=c in metrics or dtypes[c] == pl.String))
        wide = self.wide_sums
        aggs.update(_sums(values, dtypes, metrics=metrics, covariates=covariates, wide=wide))
        for i, (num, den) in enumerate(pairs):
            both = values[num].notnull() & values[den].notnull()
            masked = {c: _when(both, values[c]) for c in (num, den)}
            aggs.update(_sums(masked, dtypes, metrics=[num, den], pairs=[(num, den)], prefix=f"\x00r{i}\x00",
                              wide=wide))
        # SQL names are plain (a0, a1...): the output names hold NUL, which not every engine accepts
        safe = {f"a{i}": name for i, name in enumerate(aggs)}
        group = [t[col].name(f"k{i}") for i, col in enumerate(keys.values())]
        query = t.group_by(group).aggregate(**{s: aggs[n] for s, n in safe.items()})
        frame = self.execute(query)
        frame = frame.rename({f"k{i}": name for i, name in enumerate(keys)} | safe)
        return _as_polars_pass(frame, self, list(keys), value_cols, dtypes)

    def unit_checks(self, *, unit: str, arm: str) -> tuple[int, int]:
        """Duplicated unit rows and units seen in more than one arm, in the database (one query)."""
        t = self.expr
        known = t.filter(t[unit].notnull())
        per_unit = known.group_by(known[unit].name("u")).aggregate(rows=known.count(),
                                                                    arms=known[arm].nunique())
        out = self.execute(per_unit.aggregate(dup=(per_unit.rows - 1).sum(),
                                               several=(per_unit.arms > 1).sum()))
        row = out.row(0, named=True)
        return int(row["dup"] or 0), int(row["several"] or 0)


def check_source(file: str | None, db: str | None, table: str | None, query: str | None) -> None:
    """A command's input: exactly one of FILE and ``--db``; with ``--db`` exactly one of ``--table`` and
    ``--query``, and neither without it (one :class:`ParameterError` naming the option)."""
    if (file is None) == (db is None):
        allowed = ("exactly one of FILE or --db URL" if file is None
                   else "nothing when FILE is given (exactly one of FILE or --db URL)")
        raise ParameterError("db", db and redact(db), allowed)
    if db is None:
        for name, given in (("table", table), ("query", query)):
            if given is not None:
                raise ParameterError(name, given, "nothing without --db URL")
    elif (table is None) == (query is None):
        raise ParameterError("table", table, "exactly one of --table NAME or --query SQL with --db")


def open_table(url: str, *, table: str | None = None, query: str | None = None) -> DatabaseTable:
    """A :class:`DatabaseTable`, connected and checked (the table exists, the query runs).

    Raises
    ------
    ParameterError
        Neither or both of ``table`` and ``query``; a URL without a scheme.
    DataError
        The database cannot be reached, the table does not exist, the query fails.
    """
    if (table is None) == (query is None):
        raise ParameterError("table", table, "exactly one of --table NAME or --query SQL with --db")
    if "://" not in url:
        raise ParameterError("db", redact(url), "a connection URL such as duckdb://file.duckdb, duckdb:// "
                             "or postgres://user:password@host:5432/database")
    for option, text in (("table", table), ("query", query)):
        if text is not None and not text.strip():
            what = "table name" if option == "table" else "SQL"
            raise ParameterError(option, text, f"a non-empty {what}")
    source = DatabaseTable(url, table=table, query=query)
    source.schema  # noqa: B018 - connect now, so that a bad URL, table or query fails before any work
    return source


def _when(cond: ir.BooleanValue, value: ir.Value) -> ir.Value:
    return ibis.cases((cond, value), else_=ibis.null(value.type()))


def _finite(x: ir.FloatingValue) -> ir.BooleanValue:
    return ~(x.isnan() | x.isinf())


def _value(col: ir.Column, dtype: pl.DataType, nonfinite: NonFinite) -> ir.FloatingValue:
    """The numbers of :func:`experiments.stats.quality.value_expr`: spellings as 0/1, floats otherwise."""
    if dtype == pl.String:
        low = col.strip().lower()
        return ibis.cases((low.isin(sorted(TRUE_SPELLINGS)), 1.0), (low.isin(sorted(FALSE_SPELLINGS)), 0.0),
                          else_=ibis.null("float64"))
    # booleans through integers: PostgreSQL casts no boolean to a float
    x = (col.cast("int32") if dtype == pl.Boolean else col).cast("float64")
    if nonfinite == "drop" and dtype.is_float():
        x = _when(_finite(x), x)
    return x


def _checks(col: ir.Column, name: str, dtype: pl.DataType, *, metric: bool) -> dict[str, ir.Scalar]:
    """:func:`experiments.stats.quality.column_checks` in SQL, but for the text ``examples`` (see
    :func:`_as_polars_pass`)."""
    pre = f"{name}{_Q}"
    out: dict[str, ir.Scalar] = {f"{pre}missing": col.isnull().sum()}
    if dtype.is_float():
        x = col.cast("float64")
        out[f"{pre}nan"] = x.isnan().sum()
        out[f"{pre}inf"] = x.isinf().sum()
    if dtype.is_numeric():
        x = col.cast("float64")
        out[f"{pre}huge"] = (_finite(x) & (x.abs() > HUGE)).sum()
    if not metric:
        return out
    if dtype == pl.String:
        low = col.strip().lower()
        spelled = low.isin(sorted(TRUE_SPELLINGS | FALSE_SPELLINGS))
        out[f"{pre}yes"] = low.isin(sorted(TRUE_SPELLINGS)).sum()
        out[f"{pre}no"] = low.isin(sorted(FALSE_SPELLINGS)).sum()
        out[f"{pre}text"] = (col.notnull() & ~spelled).sum()
    elif dtype.is_numeric():
        x = col.cast("float64")
        out[f"{pre}not01"] = (_finite(x) & (x != 0.0) & (x != 1.0)).sum()
        out[f"{pre}ones"] = (x == 1.0).sum()
        numbers = _when(~x.isnan(), x)  # polars' min and max pass over NaN
        out[f"{pre}min"] = numbers.min()
        out[f"{pre}max"] = numbers.max()
    return out


def _sums(values: Mapping[str, ir.FloatingValue], dtypes: Mapping[str, pl.DataType], *,
          metrics: Sequence[str], covariates: Sequence[str] = (), pairs: Sequence[tuple[str, str]] = (),
          prefix: str = "", wide: bool = True) -> dict[str, ir.Scalar]:
    """:func:`experiments.stats.sufficient.gather_exprs` in SQL: the same names, integers and parts."""

    def small(c: str) -> bool:
        t = dtypes[c]
        return t in SMALL_INTEGERS or t == pl.String

    out: dict[str, ir.Scalar] = {}
    for name, cols in statistic_columns(metrics, covariates, pairs):
        key = prefix + name
        if name.endswith(".n"):
            out[key] = values[cols[0]].count()
        elif all(small(c) for c in cols):
            ints = [values[c].cast("int64") for c in cols]
            out[key] = (ints[0] if len(ints) == 1 else ints[0] * ints[1]).sum()
        else:
            x = values[cols[0]] if len(cols) == 1 else values[cols[0]] * values[cols[1]]
            out.update(_sum_parts(x, key, wide=wide))
    return out


def _sum_parts(x: ir.FloatingValue, name: str, *, wide: bool = True) -> dict[str, ir.Scalar]:
    """:func:`experiments.exact_sums.sum_aggs` in SQL: floor and 2**-62 fraction summed exactly, values
    beyond 2**63 (and NaN, infinity) as floats beside. ``x - floor(x)`` is polars' ``x % 1.0`` to the bit
    (both round the same exact difference once).

    BIGINT parts are summed and the sum cast to ``DECIMAL(38, 0)`` (exact on :data:`WIDE_SUMS` engines,
    and over twice as fast in DuckDB as a cast of every value); elsewhere (``wide=False``) the fraction
    part is summed as two 31-bit halves, put together by :func:`_as_polars_pass`.
    """
    hi, lo, big = PARTS
    small = _when((x >= -_LARGE) & (x < _LARGE), x)  # NaN compares above every number, as in polars
    whole = small.floor()
    frac = small - whole
    out = {name + hi: whole.sum().cast(_WIDE)}
    if wide:
        out[name + lo] = (frac * _UNIT).floor().sum().cast(_WIDE)
    else:
        up = (frac * float(_HALF)).floor()
        out[name + lo + _SPLIT[0]] = up.sum().cast(_WIDE)
        out[name + lo + _SPLIT[1]] = ((frac * _UNIT).floor() - up * _HALF).sum().cast(_WIDE)
    out[name + big] = _when((x >= _LARGE) | (x < -_LARGE), x).sum()
    return out


def _as_polars_pass(frame: pl.DataFrame, source: DatabaseTable, keys: Sequence[str],
                    value_cols: Sequence[str], dtypes: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Types and empty sums as polars gives them (a SQL ``SUM`` of nothing is NULL, polars' is 0), and the
    up to three sorted ``examples`` of text metrics with other text (one small query each, only then)."""
    halves = [c[: -len(_SPLIT[0])] for c in frame.columns if c.endswith(_SPLIT[0])]
    frame = frame.with_columns(
        (pl.col(c + _SPLIT[0]).cast(pl.Int128).fill_null(0) * _HALF + pl.col(c + _SPLIT[1]).cast(pl.Int128)
         .fill_null(0)).alias(c) for c in halves
    ).drop([c + h for c in halves for h in _SPLIT])
    fixes = []
    for c, t in frame.schema.items():
        if c.endswith((PARTS[0], PARTS[1])):
            fixes.append(pl.col(c).cast(pl.Int128).fill_null(0))
        elif c.endswith(PARTS[2]):
            fixes.append(pl.col(c).cast(pl.Float64).fill_null(0.0))
        elif t.is_numeric() and c not in keys and not c.endswith((f"{_Q}min", f"{_Q}max")):
            fixes.append(pl.col(c).fill_null(0))
    frame = frame.with_columns(fixes)
    t = source.expr
    for c in value_cols:
        if dtypes[c] != pl.String or f"{c}{_Q}text" not in frame.columns or not frame[f"{c}{_Q}text"].sum():
            continue
        low = t[c].strip().lower()
        other = t.filter(t[c].notnull() & ~low.isin(sorted(TRUE_SPELLINGS | FALSE_SPELLINGS)))
        found = source.execute(other.select(v=t[c]).distinct().order_by("v").limit(3))["v"].to_list()
        frame = frame.with_columns(
            pl.Series(f"{c}{_Q}examples", [found] + [[]] * (frame.height - 1), dtype=pl.List(pl.String)))
    return frame


def _split_days(t: ir.Table, customer: ir.Value, day: ir.Value, amount: ir.FloatingValue) -> ir.Table:
    """Per customer and day, the amounts added as the file path adds them: ``(customer, day, amount)``.

    The float of each day is :func:`experiments.exact_sums.sum_expr` of the day's exact parts, to the bit:
    the 2**-62 fraction parts are summed in two 31-bit halves (integers every engine adds exactly in 64
    bits), the carry and remainder are found by integer arithmetic below 2**53, and the float is put
    together by the same three IEEE operations as polars. Exact while a day's total is below 2**53 and a
    customer has under 2**22 transactions a day.
    """
    small = _when((amount >= -_LARGE) & (amount < _LARGE), amount)
    whole = small.floor()
    frac = small - whole
    upper = (frac * 2.0**31).floor()
    lower = (frac * _UNIT).floor() - upper * 2**31
    days = t.group_by([customer.name("customer"), day.name("date")]).aggregate(
        hi=whole.sum(), up=upper.sum(), low=lower.sum(),
        big=_when((amount >= _LARGE) | (amount < -_LARGE), amount).sum())
    half = 2**31
    carry_low = days.low // half
    upper_total = days.up + carry_low
    carry = upper_total // half
    rest = (upper_total % half) * half + days.low % half  # the fraction in 2**-62 units, below 2**62
    value = ((days.hi + carry).cast("float64") + rest.cast("float64") * 2.0**-62
             + days.big.coalesce(ibis.literal(0.0)))
    return days.select("customer", "date", amount=value)


def rfm_summary_db(source: DatabaseTable, *, customer: str, date: str, amount: str,
                   calibration_end: dt.date, holdout_end: dt.date | None = None,
                   time_unit: TimeUnit = "week") -> tuple[int, RFMSummary]:
    """:func:`experiments.transactions.rfm_summary` of a transaction table in a database, in SQL.

    Two queries: one checks the table (rows, missing ids and dates, amounts that are missing, NaN,
    infinite or negative, the first and last date), one returns a row per customer. The numbers equal
    those of a file of the same transactions (the same bits: see :func:`_split_days`).

    Returns
    -------
    (int, RFMSummary)
        The number of transactions and the summary.
    """
    if time_unit not in ("day", "week"):
        raise ParameterError("time_unit", time_unit, "day or week")
    schema = source.schema
    for role, col in (("customer", customer), ("date", date), ("amount", amount)):
        if col not in schema:
            raise DataError(f"--{role} column {col!r} not in {source.name}; columns: {', '.join(schema)}")
    if len({customer, date, amount}) < 3:
        raise DataError("the customer, date and amount columns must be three different columns")
    if schema[date] not in (pl.Date, pl.Datetime):
        raise DataError(f"date column {date!r} has type {schema[date]}; with --db allowed: a DATE or "
                        f"TIMESTAMP column (convert text with --query, e.g. SELECT CAST(... AS DATE) ...)")
    if not schema[amount].is_numeric():
        raise DataError(f"amount column {amount!r} has type {schema[amount]}; allowed: numbers")
    t = source.expr
    cust = t[customer]
    day = t[date] if schema[date] == pl.Date else t[date].date()
    amt = t[amount].cast("float64")
    no_id = (cust.isnull() | (cust.strip() == "")) if schema[customer] == pl.String else cust.isnull()
    checks = source.execute(t.aggregate(
        n=t.count(), no_id=no_id.sum(), no_date=day.isnull().sum(),
        no_amount=(amt.isnull() | amt.isnan()).sum(), inf=amt.isinf().sum(), neg=(amt < 0).sum(),
        lowest=amt.min(), first=day.min(), last=day.max(),
    )).row(0, named=True)
    if not checks["n"]:
        raise DataError(f"{source.name} holds no transactions")
    if checks["no_id"]:
        raise DataError(f"customer column {customer!r} has {checks['no_id']} missing ids")
    if checks["no_date"]:
        raise DataError(f"date column {date!r} has {checks['no_date']} missing dates")
    if checks["no_amount"]:
        raise DataError(f"amount column {amount!r} has {checks['no_amount']} missing values or NaN")
    if checks["inf"]:
        raise DataError(f"amount column {amount!r} has infinite values")
    if checks["neg"]:
        raise DataError(f"amount column {amount!r} has negative amounts (e.g. {checks['lowest']!r})")
    first, last = checks["first"], checks["last"]
    if calibration_end < first or calibration_end >= last:
        raise DataError(
            f"calibration end {calibration_end} lies outside the transactions "
            f"({first} to {last}); it must be on or after the first and before the last date"
        )
    if holdout_end is not None and holdout_end <= calibration_end:
        raise DataError(f"holdout end {holdout_end} must be after the calibration end {calibration_end}")

    days = _split_days(t, cust, day, amt)
    end = ibis.literal(calibration_end)
    in_cal = days.date <= end
    days = days.mutate(first_day=_when(in_cal, days.date).min().over(group_by=days.customer))
    repeat = _when(in_cal & (days.date > days.first_day), days.amount)
    parts = _sum_parts(repeat, "monetary_value", wide=source.wide_sums)
    safe = {f"m{i}": name for i, name in enumerate(parts)}  # SQL names without control characters
    aggs: dict[str, ir.Scalar] = {
        "days": in_cal.sum(), "first_day": days.first_day.min(), "last_day": _when(in_cal, days.date).max(),
        "repeats": repeat.count(), **{k: parts[name] for k, name in safe.items()},
    }
    if holdout_end is not None:
        aggs["holdout"] = ((days.date > end) & (days.date <= ibis.literal(holdout_end))).sum()
    per_customer = days.group_by("customer").aggregate(**aggs)
    frame = source.execute(per_customer.filter(per_customer.days > 0))
    frame = frame.rename(safe)
    frame = _as_polars_pass(frame, source, ["customer"], [], {})
    unit = {"day": 1.0, "week": 7.0}[time_unit]
    first_day = pl.col("first_day").cast(pl.Date)
    summary = read_sums(frame, ["monetary_value"]).select(
        "customer",
        (pl.col("days") - 1).cast(pl.Int64).alias("frequency"),
        ((pl.col("last_day").cast(pl.Date) - first_day).dt.total_days() / unit).alias("recency"),
        ((pl.lit(calibration_end) - first_day).dt.total_days() / unit).alias("T"),
        pl.when(pl.col("repeats") > 0).then(pl.col("monetary_value") / pl.col("repeats")).otherwise(0.0)
        .alias("monetary_value"),
        *([pl.col("holdout").cast(pl.Int64).alias("holdout_purchases")] if holdout_end is not None else []),
    ).sort("customer")
    return int(checks["n"]), RFMSummary(frame=summary, first_date=first, last_date=last,
                                        calibration_end=calibration_end, holdout_end=holdout_end,
                                        time_unit=time_unit)
