"""Float sums in polars that come out the same whatever the order of the rows.

Polars adds the floats of a ``group_by`` (and of a lazy aggregation) in an order that depends on how
its threads take the rows, so the last bits of a sum change from one run to the next. Here each value
is cut into two integers, its floor and its fraction in units of 2**-62 (rounded down), whose sums are
exact, hence the same in any order; the float is read back from them once (:func:`sum_expr`). The sum
is then exact but for under 2**-62 per value (a float sum rounds to about 1e-16 of the running total).
Values beyond 2**63 in magnitude, NaN and infinity (NaN compares above every number in polars) are added
as floats beside, the same in any order while a group holds at most two of them. Up to 2**64 rows per
group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import polars as pl

__all__ = ["PARTS", "group_sums", "read_sums", "sum_aggs", "sum_expr"]

#: Suffixes of the three aggregations that hold one sum: integer part, fraction, large values.
PARTS: tuple[str, str, str] = ("\x01hi", "\x01lo", "\x01big")
_FRACTION_BITS = 62
_LARGE = 2.0**63

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def sum_aggs(x: pl.Expr, name: str) -> list[pl.Expr]:
    """Aggregations whose results add up to ``x.sum()``, the same in any row order.

    Parameters
    ----------
    x
        Float (or numeric) expression; nulls count as nothing, as in ``sum``.
    name
        Output name of the sum; the aggregations are named ``name`` plus each of :data:`PARTS`.
    """
    # the casts turn NaN, infinity and magnitudes beyond 2**63 into nulls, which `sum` leaves out
    return [
        x.floor().cast(pl.Int64, strict=False).cast(pl.Int128).sum().alias(name + PARTS[0]),
        ((x % 1.0) * 2.0**_FRACTION_BITS).cast(pl.Int64, strict=False).cast(pl.Int128).sum()
        .alias(name + PARTS[1]),
        pl.when((x >= _LARGE) | (x < -_LARGE)).then(x).sum().cast(pl.Float64).alias(name + PARTS[2]),
    ]


def sum_expr(name: str) -> pl.Expr:
    """The float sum read back from the columns of :func:`sum_aggs` (output name ``name``)."""
    hi, lo, big = (pl.col(name + p) for p in PARTS)
    unit = pl.lit(2**_FRACTION_BITS, pl.Int128)
    whole = hi + lo // unit  # exact; the fraction left is in [0, 1), so nothing cancels when adding
    fraction = (lo % unit).cast(pl.Float64) * 2.0**-_FRACTION_BITS
    return (whole.cast(pl.Float64) + fraction + big).alias(name)


def read_sums(frame: FrameT, names: Iterable[str]) -> FrameT:
    """``frame`` (eager or lazy) with the parts of each sum in ``names`` replaced by its float column."""
    names = list(names)
    if not names:
        return frame
    parts = {n + p for n in names for p in PARTS}
    return frame.with_columns(sum_expr(n) for n in names).drop(*parts)


def group_sums(
    data: pl.DataFrame | pl.LazyFrame,
    by: Sequence[str],
    sums: Mapping[str, pl.Expr],
    *,
    aggs: Sequence[pl.Expr] = (),
) -> pl.DataFrame:
    """``data.group_by(by)`` with order-free float sums, sorted by ``by``.

    Parameters
    ----------
    data
        Table (a lazy frame is collected).
    by
        Grouping columns.
    sums
        Output name -> expression to add up per group (a Float64 column in the result).
    aggs
        Further aggregations whose result does not depend on the order (counts, integer sums, min, max).
    """
    exprs = [e for name, x in sums.items() for e in sum_aggs(x, name)]
    out = data.lazy().group_by(by).agg(*aggs, *exprs).collect()
    return read_sums(out, sums).sort(by)
