"""Data-quality checks a careful analyst runs before any test: reported, never silently fixed.

One polars pass counts rows, missing values per column and values outside 0/1 in each binary metric;
with a unit column, a second aggregation counts duplicated units and units seen in more than one arm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from experiments.errors import DataError

__all__ = ["FALSE_SPELLINGS", "TRUE_SPELLINGS", "DataQuality", "binary_expr", "check_quality"]

TRUE_SPELLINGS: frozenset[str] = frozenset({"1", "1.0", "true", "t", "yes", "y"})
FALSE_SPELLINGS: frozenset[str] = frozenset({"0", "0.0", "false", "f", "no", "n"})


@dataclass(frozen=True)
class DataQuality:
    """What the checks found; ``issues`` says it in plain sentences (empty when all is well)."""

    n_rows: int
    missing: Mapping[str, int]
    non_binary: Mapping[str, int] = field(default_factory=dict)
    duplicate_units: int | None = None
    units_in_several_arms: int | None = None
    unit: str | None = None
    issues: tuple[str, ...] = ()

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
        }
        if self.unit is not None:
            d["unit"] = self.unit
            d["duplicate_units"] = self.duplicate_units
            d["units_in_several_arms"] = self.units_in_several_arms
        d["issues"] = list(self.issues)
        return d

    def to_frame(self) -> pl.DataFrame:
        """One row per check: check, column, count."""
        rows = [("missing", c, n) for c, n in self.missing.items()]
        rows += [("non_binary", c, n) for c, n in self.non_binary.items()]
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


def _not_binary(column: str, dtype: pl.DataType) -> pl.Expr:
    c = pl.col(column)
    if dtype == pl.String:
        ok = c.str.strip_chars().str.to_lowercase().is_in(list(TRUE_SPELLINGS | FALSE_SPELLINGS))
    elif dtype == pl.Boolean:
        ok = c.is_not_null()
    else:
        ok = c.cast(pl.Float64).is_in([0.0, 1.0])
    return (c.is_not_null() & ~ok).sum()


def check_quality(
    data: pl.DataFrame | pl.LazyFrame,
    *,
    arm: str,
    metrics: Sequence[str],
    unit: str | None = None,
    binary: Sequence[str] = (),
) -> DataQuality:
    """Run the checks on an experiment table.

    Parameters
    ----------
    data
        One row per unit (lazy frames are scanned, not loaded).
    arm
        Arm column (its missing values are counted too).
    metrics
        Metric (and covariate) columns whose missing values are counted.
    unit
        Optional unit id column: duplicated ids and ids seen in more than one arm are counted.
    binary
        Metrics expected to hold only 0/1 (or true/false spellings); other values are counted.
    """
    lf = data.lazy()
    schema = lf.collect_schema()
    cols = list(dict.fromkeys([arm, *([unit] if unit else []), *metrics]))
    absent = [c for c in [*cols, *binary] if c not in schema]
    if absent:
        raise DataError(f"unknown column(s) {absent}; the table has {list(schema)}")
    aggs = [pl.len().alias("__n")] + [pl.col(c).null_count().alias(f"missing:{c}") for c in cols]
    aggs += [_not_binary(b, schema[b]).alias(f"nonbin:{b}") for b in binary]
    queries = [lf.select(aggs)]
    if unit:
        per_unit = lf.filter(pl.col(unit).is_not_null()).group_by(unit).agg(
            pl.len().alias("rows"), pl.col(arm).drop_nulls().n_unique().alias("arms")
        )
        queries.append(per_unit.select(
            (pl.col("rows") - 1).sum().alias("dup"), (pl.col("arms") > 1).sum().alias("several")
        ))
    frames = pl.collect_all(queries)
    row = frames[0].row(0, named=True)
    n_rows = int(row["__n"])
    missing = {c: int(row[f"missing:{c}"]) for c in cols}
    non_binary = {b: int(row[f"nonbin:{b}"]) for b in binary}
    dup = several = None
    if unit:
        urow = frames[1].row(0, named=True)
        dup, several = int(urow["dup"] or 0), int(urow["several"] or 0)
    issues = []
    if n_rows == 0:
        issues.append("The table has no rows.")
    for c, n in missing.items():
        if n:
            issues.append(f"Column {c!r} has {n:,} missing value(s) ({n / max(n_rows, 1):.2%} of rows); "
                          "they are left out of that column's statistics.")
    for b, n in non_binary.items():
        if n:
            issues.append(f"Binary metric {b!r} has {n:,} value(s) other than 0/1 or true/false.")
    if dup:
        issues.append(f"Unit column {unit!r} has {dup:,} duplicated row(s): units appear more than once.")
    if several:
        issues.append(f"{several:,} unit(s) of {unit!r} appear in more than one arm.")
    return DataQuality(n_rows=n_rows, missing=missing, non_binary=non_binary, duplicate_units=dup,
                       units_in_several_arms=several, unit=unit, issues=tuple(issues))
