"""Data-quality checks a careful analyst runs before any test: what can be fixed is reported, what cannot
is refused.

The checks are aggregations (:func:`column_checks`) that run inside the same ``group_by(arm)`` pass that
gathers the sufficient statistics, so they cost no extra scan; :func:`read_checks` adds them up over the
groups. Per column they count missing values, NaN and infinite values (per arm), true/false spellings
and other text, and values other than 0/1. Only the duplicate-unit and unit-in-several-arms checks need
a pass of their own (:func:`unit_checks`), and only when a unit column is given.

What is done with each finding (see :func:`classify`, :func:`refuse_nonfinite`):

- missing (empty) values: left out of that column's statistics and reported;
- NaN or infinity in a metric or covariate: refused (one line naming the column, how many values and in
  which arms), or, with ``nonfinite="drop"``, dropped like missing values and reported;
- text in a metric: refused, unless every value is a true/false spelling (then it is a binary metric);
  a binary text metric with a third value is refused;
- a numeric metric is binary only when every value is 0 or 1. One that holds 0s and 1s and a few other
  values (fewer than its 1s and at most :data:`NEAR_BINARY_SHARE` of its values, e.g. a stray 2 or 0.5
  in a yes/no column) is analysed as a continuous metric and reported, since those values are likely
  errors; a count or an amount (spend: mostly 0, a few 1s, many other values) is not reported;
- a binary metric whose arm (overall or in a segment) has fewer than 10 successes or failures is tested
  with Newcombe's score interval and the score test instead of Wald's, and reported
  (:class:`SmallCount`, :func:`with_small_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import polars as pl

from experiments.errors import DataError

__all__ = [
    "FALSE_SPELLINGS",
    "HUGE",
    "NEAR_BINARY_SHARE",
    "ROWS",
    "TRUE_SPELLINGS",
    "ColumnCheck",
    "DataQuality",
    "NonFinite",
    "SmallCount",
    "binary_expr",
    "check_quality",
    "classify",
    "column_checks",
    "quality_report",
    "read_checks",
    "refuse_huge",
    "refuse_nonfinite",
    "unit_checks",
    "value_expr",
    "with_small_counts",
]

TRUE_SPELLINGS: frozenset[str] = frozenset({"1", "1.0", "true", "t", "yes", "y"})
FALSE_SPELLINGS: frozenset[str] = frozenset({"0", "0.0", "false", "f", "no", "n"})
#: Largest magnitude of a value the statistics take: past it, sums of squares overflow floating point
#: (1e100 squared is 1e200, with room for 1e100 rows), so such a value is refused, not turned into inf.
HUGE = 1e100
#: Largest share of values other than 0/1 for which a numeric metric is reported as "nearly binary".
NEAR_BINARY_SHARE = 0.01
#: What to do with NaN and infinite values: refuse the table, or drop them like missing values.
NonFinite = Literal["refuse", "drop"]

_Q = "\x00"  # separates a column name from a check name in the aggregation's output columns
#: Name of the row count (``pl.len()``) that :func:`read_checks` expects beside the checks.
ROWS = f"{_Q}n"
_KIND = Literal["binary", "continuous"]


@dataclass(frozen=True)
class SmallCount:
    """A binary metric of one arm (and segment) tested with small-count methods, and why."""

    metric: str
    arm: str
    control: str
    segment: str | None
    reason: str
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {"metric": self.metric, "arm": self.arm, "control": self.control, "segment": self.segment,
                "reason": self.reason, "method": self.method}

    def sentence(self) -> str:
        """The finding in one sentence."""
        seg = f" in segment {self.segment!r}" if self.segment is not None else ""
        return (f"Binary metric {self.metric!r}, arm {self.arm!r} against {self.control!r}{seg}: "
                f"{self.reason}, so it is tested with {self.method} instead of Wald.")


@dataclass(frozen=True)
class DataQuality:
    """What the checks found; ``issues`` says it in plain sentences (empty when all is well).

    ``nan`` and ``infinite`` count non-finite values per checked column; ``nonfinite`` says what was
    done with them (``"refuse"``: there were none, or the analysis stopped; ``"drop"``: dropped like
    missing values). ``non_binary`` counts values other than 0/1 or true/false in binary metrics, and in
    nearly-binary numeric metrics analysed as continuous.
    """

    n_rows: int
    missing: Mapping[str, int]
    non_binary: Mapping[str, int] = field(default_factory=dict)
    duplicate_units: int | None = None
    units_in_several_arms: int | None = None
    unit: str | None = None
    issues: tuple[str, ...] = ()
    nan: Mapping[str, int] = field(default_factory=dict)
    infinite: Mapping[str, int] = field(default_factory=dict)
    nonfinite: NonFinite = "refuse"
    small_counts: tuple[SmallCount, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no issue was found."""
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        """Plain dict; ``duplicate_units`` and ``units_in_several_arms`` only when a unit was given."""
        d: dict[str, Any] = {
            "n_rows": self.n_rows,
            "missing": dict(self.missing),
            "non_binary": dict(self.non_binary),
            "nan": dict(self.nan),
            "infinite": dict(self.infinite),
            "nonfinite": self.nonfinite,
        }
        if self.unit is not None:
            d["unit"] = self.unit
            d["duplicate_units"] = self.duplicate_units
            d["units_in_several_arms"] = self.units_in_several_arms
        d["small_counts"] = [c.to_dict() for c in self.small_counts]
        d["issues"] = list(self.issues)
        return d

    def to_frame(self) -> pl.DataFrame:
        """One row per check: check, column, count."""
        rows = [("missing", c, n) for c, n in self.missing.items()]
        rows += [("non_binary", c, n) for c, n in self.non_binary.items()]
        rows += [("nan", c, n) for c, n in self.nan.items() if n]
        rows += [("infinite", c, n) for c, n in self.infinite.items() if n]
        if self.unit is not None:
            rows += [("duplicate_units", self.unit, self.duplicate_units or 0),
                     ("units_in_several_arms", self.unit, self.units_in_several_arms or 0)]
        return pl.DataFrame(rows, schema={"check": pl.String, "column": pl.String, "count": pl.Int64},
                            orient="row")

    def summary(self) -> str:
        """Readable lines."""
        if not self.issues:
            return f"Data quality: {self.n_rows:,} rows, no issue found."
        return "Data quality:\n" + "\n".join(f"- {i}" for i in self.issues)


def with_small_counts(quality: DataQuality, small: Sequence[SmallCount]) -> DataQuality:
    """``quality`` with the small-count switches added (and said in its issues)."""
    if not small:
        return quality
    return replace(quality, small_counts=(*quality.small_counts, *small),
                   issues=(*quality.issues, *[c.sentence() for c in small]))


def binary_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """``column`` as 0/1 floats: numbers and booleans cast, common true/false spellings mapped.

    Values outside those spellings become null (count them with :func:`check_quality` first).
    """
    c = pl.col(column)
    if dtype == pl.String:
        low = c.str.strip_chars().str.to_lowercase()
        return (
            pl.when(low.is_in(list(TRUE_SPELLINGS))).then(1.0)
            .when(low.is_in(list(FALSE_SPELLINGS))).then(0.0)
            .otherwise(None).alias(column)
        )
    return c.cast(pl.Float64).alias(column)


def value_expr(column: str, dtype: pl.DataType, *, nonfinite: NonFinite = "refuse") -> pl.Expr:
    """The numbers the statistics use for ``column``: 0/1 for booleans and true/false text, floats
    otherwise; with ``nonfinite="drop"``, NaN and infinity become missing."""
    x = binary_expr(column, dtype)
    if nonfinite == "drop" and dtype.is_float():
        x = pl.when(x.is_finite()).then(x).alias(column)
    return x


def _is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical, pl.Enum) or isinstance(dtype, pl.Categorical | pl.Enum)


def column_checks(column: str, dtype: pl.DataType, *, metric: bool = True) -> list[pl.Expr]:
    """Aggregations (for a ``select`` or a ``group_by``, beside ``pl.len().alias(ROWS)``) that check
    one column.

    Output names are ``column``, a NUL character and the check: ``missing`` (nulls), ``nan`` and ``inf``
    (float columns); for a ``metric`` also ``yes``, ``no``, ``text`` (values that are no true/false
    spelling) and ``examples`` (up to three of those, sorted) for text, and ``not01`` (finite values other
    than 0/1), ``ones``, ``min`` and ``max`` for numbers. Read them back with :func:`read_checks`.
    """
    c = pl.col(column)
    name = f"{column}{_Q}"
    out = [c.null_count().alias(f"{name}missing")]
    if dtype.is_float():
        out += [c.is_nan().sum().alias(f"{name}nan"), c.is_infinite().sum().alias(f"{name}inf")]
    if dtype.is_numeric():
        x = c.cast(pl.Float64)
        out += [(x.is_finite() & (x.abs() > HUGE)).sum().alias(f"{name}huge")]
    if not metric:
        return out
    if dtype == pl.String:
        low = c.str.strip_chars().str.to_lowercase()
        spelled = low.is_in(list(TRUE_SPELLINGS | FALSE_SPELLINGS))
        out += [low.is_in(list(TRUE_SPELLINGS)).sum().alias(f"{name}yes"),
                low.is_in(list(FALSE_SPELLINGS)).sum().alias(f"{name}no"),
                (c.is_not_null() & ~spelled).sum().alias(f"{name}text"),
                c.filter(c.is_not_null() & ~spelled).unique().sort().head(3).implode()
                .alias(f"{name}examples")]
    elif dtype.is_numeric():
        x = c.cast(pl.Float64)
        out += [(x.is_finite() & (x != 0.0) & (x != 1.0)).sum().alias(f"{name}not01"),
                (x == 1.0).sum().alias(f"{name}ones"), x.min().alias(f"{name}min"),
                x.max().alias(f"{name}max")]
    return out


@dataclass(frozen=True)
class ColumnCheck:
    """The checks of one column, added up over the groups; ``nonfinite_by_arm`` per arm label."""

    column: str
    dtype: pl.DataType
    missing: int = 0
    nan: int = 0
    infinite: int = 0
    yes: int = 0
    no: int = 0
    text: int = 0
    examples: tuple[str, ...] = ()
    not01: int = 0
    ones: int = 0
    zeros: int = 0
    min: float | None = None
    max: float | None = None
    nonfinite_by_arm: Mapping[str, int] = field(default_factory=dict)
    huge: int = 0

    @property
    def nonfinite(self) -> int:
        """NaN and infinite values."""
        return self.nan + self.infinite


def read_checks(groups: pl.DataFrame, columns: Mapping[str, pl.DataType], *, arm: str | None = None
                ) -> dict[str, ColumnCheck]:
    """Add up the :func:`column_checks` of ``columns`` over the rows of ``groups`` (one per group, with
    the row count :data:`ROWS`).

    With ``arm`` (the grouping column), NaN and infinite values are also counted per arm label
    (``"(missing arm)"`` for rows without one).
    """
    out: dict[str, ColumnCheck] = {}
    sums = [c for c, t in groups.schema.items()
            if _Q in c and t.is_numeric() and not c.endswith((f"{_Q}min", f"{_Q}max"))]
    total = groups.select(pl.col(c).sum() for c in sums).row(0, named=True) if sums else {}
    for col, dtype in columns.items():
        def get(check: str) -> int:
            return int(total.get(f"{col}{_Q}{check}") or 0)  # noqa: B023

        kw: dict[str, Any] = {k: get(k) for k in ("missing", "nan", "yes", "no", "text", "not01", "ones",
                                                  "huge")}
        kw["infinite"] = get("inf")
        kw["zeros"] = get("ones") and (int(total.get(ROWS) or 0) - kw["missing"] - kw["nan"] - kw["infinite"]
                                       - kw["not01"] - kw["ones"])
        if f"{col}{_Q}examples" in groups.columns:
            ex = groups[f"{col}{_Q}examples"].explode().drop_nulls().unique().sort().head(3)
            kw["examples"] = tuple(str(v) for v in ex.to_list())
        if f"{col}{_Q}min" in groups.columns:
            kw["min"], kw["max"] = groups[f"{col}{_Q}min"].min(), groups[f"{col}{_Q}max"].max()
        if arm is not None and kw["nan"] + kw["infinite"]:
            bad = groups.select(
                pl.col(arm).cast(pl.String).fill_null("(missing arm)").alias("arm"),
                (pl.col(f"{col}{_Q}nan") + pl.col(f"{col}{_Q}inf")).alias("k"),
            ).group_by("arm").agg(pl.col("k").sum()).filter(pl.col("k") > 0).sort("arm")
            kw["nonfinite_by_arm"] = {a: int(k) for a, k in bad.iter_rows()}
        out[col] = ColumnCheck(column=col, dtype=dtype, **kw)
    return out


def classify(checks: Mapping[str, ColumnCheck], metrics: Sequence[str], *, role: str = "metric"
             ) -> dict[str, _KIND]:
    """Binary or continuous, from the checks; text that is not a binary metric is refused.

    Booleans and numbers that are all 0/1 are binary; text is binary when every value is a common
    true/false spelling (true/false, yes/no, y/n, t/f, 1/0, any case) and both kinds occur or one kind
    with no other text. Raises :class:`DataError` for text and for text with a third value.
    """
    kinds: dict[str, _KIND] = {}
    for m in metrics:
        ck = checks[m]
        if ck.dtype == pl.Boolean:
            kinds[m] = "binary"
        elif ck.dtype == pl.String:
            if not ck.text:
                kinds[m] = "binary"
                continue
            eg = ", ".join(map(repr, ck.examples))
            if not (ck.yes and ck.no):  # not both a true and a false spelling: a text column
                raise DataError(f"{role} {m!r} holds text (e.g. {eg}); allowed: numbers, or 0/1 and "
                                "true/false spellings for a binary metric")
            raise DataError(f"binary {role} {m!r} has values other than two (e.g. {eg}); allowed: 0/1 or "
                            "one true/false spelling (true/false, yes/no, y/n, t/f)")
        elif ck.dtype.is_numeric():
            kinds[m] = "continuous" if ck.not01 else "binary"
        else:
            raise DataError(f"{role} {m!r} has type {ck.dtype}; allowed: numbers or 0/1, true/false values")
    return kinds


def _arms_text(by_arm: Mapping[str, int]) -> str:
    return ", ".join(f"{a!r} {k:,}" for a, k in by_arm.items())


def _nonfinite_text(ck: ColumnCheck) -> str:
    parts = ([f"{ck.nan:,} NaN"] if ck.nan else []) + ([f"{ck.infinite:,} infinite"] if ck.infinite else [])
    return f"{' and '.join(parts)} value(s) (arms: {_arms_text(ck.nonfinite_by_arm)})"


def refuse_nonfinite(checks: Mapping[str, ColumnCheck], roles: Mapping[str, str]) -> None:
    """Raise one :class:`DataError` naming every column of ``roles`` that holds NaN or infinity.

    ``roles`` maps a column to the word used for it (``"metric"``, ``"covariate"``...).
    """
    bad = [f"{roles[c]} {c!r} has {_nonfinite_text(checks[c])}" for c in roles if checks[c].nonfinite]
    if bad:
        raise DataError("; ".join(bad) + ". NaN and infinity are not numbers that can be averaged: "
                        "blank them (blank cells are left out and reported) or drop them with "
                        "--drop-nonfinite (nonfinite='drop')")


def refuse_huge(checks: Mapping[str, ColumnCheck], roles: Mapping[str, str]) -> None:
    """Raise one :class:`DataError` naming every column of ``roles`` with values beyond :data:`HUGE`."""
    bad = [f"{roles[c]} {c!r} has {checks[c].huge:,} value(s) beyond ±{HUGE:g}"
           for c in roles if checks[c].huge]
    if bad:
        raise DataError("; ".join(bad) + ": their squares overflow the statistics; rescale the column "
                        "(e.g. to thousands or millions)")


def unit_checks(data: pl.DataFrame | pl.LazyFrame, *, unit: str, arm: str) -> tuple[int, int]:
    """Duplicated unit rows and units seen in more than one arm (one pass of its own)."""
    per_unit = data.lazy().filter(pl.col(unit).is_not_null()).group_by(unit).agg(
        pl.len().alias("rows"), pl.col(arm).drop_nulls().n_unique().alias("arms")
    )
    row = per_unit.select(
        (pl.col("rows") - 1).sum().alias("dup"), (pl.col("arms") > 1).sum().alias("several")
    ).collect().row(0, named=True)
    return int(row["dup"] or 0), int(row["several"] or 0)


def quality_report(
    *,
    n_rows: int,
    missing: Mapping[str, int],
    checks: Mapping[str, ColumnCheck],
    binary: Sequence[str] = (),
    continuous: Sequence[str] = (),
    unit: str | None = None,
    units: tuple[int, int] | None = None,
    nonfinite: NonFinite = "refuse",
) -> DataQuality:
    """The :class:`DataQuality` of a table, with its sentences.

    Parameters
    ----------
    n_rows
        Rows of the table.
    missing
        Missing values of the columns that are not in ``checks`` (arm, unit, segment), first in order.
    checks
        :func:`read_checks` of the metric and covariate columns.
    binary
        Binary metrics: values other than 0/1 or a true/false spelling are counted.
    continuous
        Numeric metrics analysed as continuous: reported when nearly binary (see the module docstring).
    unit, units
        The unit column and what :func:`unit_checks` found.
    nonfinite
        What was done with NaN and infinity (``"drop"`` reports them as dropped).
    """
    miss = {**missing, **{c: ck.missing for c, ck in checks.items()}}
    non_binary = {b: checks[b].text if checks[b].dtype == pl.String else checks[b].not01 for b in binary
                  if checks[b].dtype != pl.Boolean}
    for b in binary:
        if checks[b].dtype == pl.Boolean:
            non_binary[b] = 0
    issues = []
    if n_rows == 0:
        issues.append("The table has no rows.")
    for c, n in miss.items():
        if n:
            issues.append(f"Column {c!r} has {n:,} missing value(s) ({n / max(n_rows, 1):.2%} of rows); "
                          "they are left out of that column's statistics.")
    for c, ck in checks.items():
        if ck.nonfinite:
            done = ("they were dropped from its statistics, as missing values are" if nonfinite == "drop"
                    else "no statistic of it is valid")
            issues.append(f"Column {c!r} has {_nonfinite_text(ck)}; {done}.")
    for b, n in non_binary.items():
        if n:
            issues.append(f"Binary metric {b!r} has {n:,} value(s) other than 0/1 or true/false.")
    for m in continuous:
        ck = checks[m]
        nonnull = ck.not01 + ck.ones + ck.zeros
        if (ck.dtype.is_numeric() and ck.zeros and ck.ones > ck.not01 > 0
                and ck.not01 <= NEAR_BINARY_SHARE * nonnull):
            non_binary[m] = ck.not01
            issues.append(
                f"Metric {m!r} is 0 or 1 except for {ck.not01:,} value(s) ({ck.not01 / nonnull:.2%} of its "
                f"values, which range from {ck.min:g} to {ck.max:g}), so it is analysed as a continuous "
                "metric (Welch t); if it is a yes/no outcome, those values are errors."
            )
    dup, several = units if units is not None else (None, None)
    if dup:
        issues.append(f"Unit column {unit!r} has {dup:,} duplicated row(s): units appear more than once.")
    if several:
        issues.append(f"{several:,} unit(s) of {unit!r} appear in more than one arm.")
    return DataQuality(
        n_rows=n_rows, missing=miss, non_binary=non_binary, duplicate_units=dup,
        units_in_several_arms=several, unit=unit, issues=tuple(issues),
        nan={c: ck.nan for c, ck in checks.items()}, infinite={c: ck.infinite for c, ck in checks.items()},
        nonfinite=nonfinite,
    )


def check_quality(
    data: pl.DataFrame | pl.LazyFrame,
    *,
    arm: str,
    metrics: Sequence[str],
    unit: str | None = None,
    binary: Sequence[str] = (),
) -> DataQuality:
    """Run the checks on an experiment table (one pass, plus one for the unit checks).

    Parameters
    ----------
    data
        One row per unit (lazy frames are scanned, not loaded).
    arm
        Arm column (its missing values are counted too).
    metrics
        Metric (and covariate) columns whose missing and non-finite values are counted.
    unit
        Optional unit id column: duplicated ids and ids seen in more than one arm are counted.
    binary
        Metrics expected to hold only 0/1 (or true/false spellings); other values are counted.
    """
    lf = data.lazy()
    schema = lf.collect_schema()
    cols = list(dict.fromkeys([*metrics, *binary]))
    absent = [c for c in [arm, *([unit] if unit else []), *cols] if c not in schema]
    if absent:
        raise DataError(f"unknown column(s) {absent}; the table has {list(schema)}")
    keyed = [c for c in dict.fromkeys([arm, *([unit] if unit else [])]) if c not in cols]
    aggs = [pl.len().alias(ROWS), *[pl.col(c).null_count().alias(f"{c}{_Q}missing") for c in keyed
                                        if c != arm]]
    for c in cols:
        aggs += column_checks(c, schema[c])
    groups = lf.group_by(pl.col(arm).alias(f"{_Q}arm")).agg(aggs).collect()
    checks = read_checks(groups, {c: schema[c] for c in cols}, arm=f"{_Q}arm")
    n_rows = int(groups[ROWS].sum())
    missing = {c: int(groups[f"{c}{_Q}missing"].sum()) for c in keyed if c != arm}
    if arm in keyed:
        missing = {arm: int(groups.filter(pl.col(f"{_Q}arm").is_null())[ROWS].sum()), **missing}
    units = unit_checks(lf, unit=unit, arm=arm) if unit else None
    return quality_report(n_rows=n_rows, missing=missing, checks=checks, binary=binary, unit=unit,
                          units=units)
