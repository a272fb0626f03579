"""Analysis from per-arm summary statistics (count, mean, variance per arm and metric, optionally per look).

Long format, one row per arm × metric (× look): the arm column, ``metric``, ``count``, ``mean``,
``variance`` (ddof = 1; for a binary metric ``mean (1 - mean)`` is accepted too), and optionally a look
column (``look``, ``time`` or ``time_since_start``) holding cumulative statistics in time order.
Fixed-horizon effects use the last look; with several looks each treatment arm × metric also gets an
always-valid mSPRT result (:mod:`experiments.stats.sequential`). A metric is binary when every mean is in
[0, 1] and every variance equals ``mean (1 - mean)`` (ddof 0 or 1) to 1e-6. :func:`asos_long` turns one
experiment of the ASOS file (wide: ``count_c, count_t, ...``) into this format.

Rows with an empty cell are left out and reported. Rows that cannot be statistics are refused with one
line naming them (:func:`check_summary_rows`): a count that is negative, below 2 or not a whole number,
a negative variance, a count, mean or variance that is NaN or infinite, or one so large that squares
overflow (counts above 1e15, means beyond ±1e100, variances above 1e200).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.stats.battery import check_bayes
from experiments.stats.multiple import Correction
from experiments.stats.quality import HUGE, DataQuality, binary_expr, with_small_counts
from experiments.stats.row_analysis import AnalysisResult, battery, check_options
from experiments.stats.sequential import msprt
from experiments.stats.sufficient import ArmStatistics, SampleStats

if TYPE_CHECKING:
    from experiments.stats.effects import MetricKind
    from experiments.stats.sequential import SequentialResult

__all__ = [
    "LOOK_NAMES",
    "SUMMARY_COLUMNS",
    "analyze_summary",
    "asos_long",
    "check_summary_rows",
    "is_summary_frame",
    "row_looks",
    "sequential_results",
]

#: How rows with a time are grouped into looks.
LookEvery = Literal["day", "week"]

SUMMARY_COLUMNS: tuple[str, ...] = ("metric", "count", "mean", "variance")
LOOK_NAMES: tuple[str, ...] = ("look", "time", "time_since_start")


def is_summary_frame(columns: Sequence[str]) -> bool:
    """Whether a table's columns look like summary statistics rather than rows."""
    return all(c in columns for c in SUMMARY_COLUMNS)


def asos_long(frame: pl.DataFrame, experiment_id: str, *, control: str = "control") -> pl.DataFrame:
    """One ASOS experiment (wide rows, one per treatment × metric × time) in long summary format.

    The control's statistics are repeated on each treatment's rows; they are kept once (from the first
    treatment). Metrics are named ``metric<id>``; the arm column is ``arm``.
    """
    exp = frame.filter(pl.col("experiment_id") == experiment_id)
    if exp.height == 0:
        raise DataError(f"experiment {experiment_id!r} is not in the file")
    first = exp["variant_id"].min()
    base = [pl.format("metric{}", pl.col("metric_id")).alias("metric"),
            pl.col("time_since_start").alias("look")]
    treat = exp.select(pl.col("variant_id").cast(pl.String).alias("arm"), *base,
                       pl.col("count_t").alias("count"), pl.col("mean_t").alias("mean"),
                       pl.col("variance_t").alias("variance"))
    ctrl = exp.filter(pl.col("variant_id") == first).select(
        pl.lit(control).alias("arm"), *base, pl.col("count_c").alias("count"),
        pl.col("mean_c").alias("mean"),
        pl.col("variance_c").alias("variance"))
    return pl.concat([ctrl, treat], how="vertical_relaxed").sort("arm", "metric", "look")


def sequential_results(
    df: pl.DataFrame, *, arm: str, control: str, metrics: Sequence[str], look: str, alpha: float = 0.05,
    tau: float | None = None, planned_n: int | None = None, every: str | None = None,
) -> tuple[SequentialResult, ...]:
    """mSPRT and confidence sequence of every treatment arm × metric of a long frame of cumulative looks.

    ``df`` has the arm column, ``metric``, ``count``, ``mean``, ``variance`` and ``look`` (cumulative
    statistics per look, as :func:`row_looks` makes them); looks missing in one of the two arms are
    left out of that comparison, and so is a comparison whose looks all have zero variance (a metric
    constant in both arms: nothing to test). Each result names its looks (``look_labels``, the look
    column's values as text) and ``every`` (how rows were grouped into looks, None for given looks).
    """
    out = []
    arms = df[arm].unique(maintain_order=True).to_list()
    for m in metrics:
        sub = df.filter(pl.col("metric") == m)
        c = sub.filter(pl.col(arm) == control).select(look, "count", "mean", "variance")
        for a in arms:
            if a == control:
                continue
            t = sub.filter(pl.col(arm) == a).select(look, "count", "mean", "variance")
            both = t.join(c, on=look, suffix="_c").sort(look).rename(
                {"count": "count_t", "mean": "mean_t", "variance": "variance_t"})
            se2 = both.select(pl.col("variance_t") / pl.col("count_t")
                              + pl.col("variance_c") / pl.col("count_c")).to_series()
            if both.height and (tau is not None or (se2 > 0).any()):  # a constant metric: nothing to test
                r = msprt(both, alpha=alpha, tau=tau, planned_n=planned_n, metric=m, arm=a, control=control)
                out.append(dataclasses.replace(r, look_labels=tuple(both[look].cast(pl.String).to_list()),
                                               look_column=look, look_every=every))
    return tuple(out)


def row_looks(data: pl.DataFrame | pl.LazyFrame, *, arm: str, metrics: Sequence[str], time: str,
              every: LookEvery = "day") -> pl.DataFrame:
    """Cumulative per-arm statistics of each metric at the end of every day or week of ``time``.

    ``time`` holds dates, datetimes, ISO date text, or numbers read as days since the start. A look
    closes each period (``every``: ``"day"`` or ``"week"``; weeks start on Monday for dates, at day 0,
    7, 14, ... for numbers); its statistics count every unit up to then. Rows with an empty time are
    left out, and so are empty metric values. Returns the long summary format (arm, ``metric``,
    ``look``, ``count``, ``mean``, ``variance``; ``look`` is the start of the period), one row per arm
    × metric × look with at least 2 units so far.

    Raises
    ------
    DataError
        An unknown column, or a time column that is neither dates nor numbers.
    """
    if every not in ("day", "week"):
        raise ParameterError("look-every", every, "day or week")
    lf = data.lazy()
    schema = lf.collect_schema()
    for c in (arm, time, *metrics):
        if c not in schema:
            raise DataError(f"unknown column {c!r}; the data has columns: {', '.join(schema.names())}")
    dtype = schema[time]
    t = pl.col(time)
    if dtype == pl.String:
        t = t.str.to_datetime(strict=False, time_zone="UTC")  # ISO text with an offset is read in UTC
    elif dtype.is_numeric():
        t = (t.cast(pl.Float64) / (7 if every == "week" else 1)).floor() * (7 if every == "week" else 1)
    elif not isinstance(dtype, pl.Date | pl.Datetime):
        raise DataError(f"time column {time!r} holds {dtype}; allowed: dates, datetimes or numbers (days)")
    if not dtype.is_numeric():
        t = t.dt.truncate("1w" if every == "week" else "1d").cast(pl.Date)
    if dtype == pl.String:
        unread = lf.select((t.is_null() & pl.col(time).is_not_null()).sum()).collect().item()
        if unread:
            raise DataError(f"time column {time!r} has {unread:,} value(s) that are not dates; allowed: "
                            "dates, datetimes (ISO text) or numbers (days since the start)")
    lf = lf.select(pl.col(arm).cast(pl.String), t.alias("look"), *metrics)
    aggs = []
    for i, m in enumerate(metrics):
        dtype = schema[m]
        if isinstance(dtype, pl.Categorical | pl.Enum):  # categorical text, as the other tests read it
            lf, dtype = lf.with_columns(pl.col(m).cast(pl.String)), pl.String
        if not (dtype.is_numeric() or dtype in (pl.Boolean, pl.String)):
            raise DataError(f"metric {m!r} holds {dtype}; sequential looks need numbers, booleans or "
                            "true/false text")
        x = binary_expr(m, dtype)  # yes/no text as 0/1, as the other tests read it
        x = pl.when(x.is_finite()).then(x)  # NaN and infinity count as empty (refused earlier unless dropped)
        aggs += [x.count().alias(f"n{i}"), x.sum().alias(f"s{i}"), (x * x).sum().alias(f"ss{i}")]
    wide = lf.filter(pl.col("look").is_not_null()).group_by(arm, "look").agg(aggs)  # one pass over the rows
    per = pl.concat([wide.select(arm, "look", pl.lit(m).alias("metric"), pl.col(f"n{i}").alias("n"),
                                 pl.col(f"s{i}").alias("s"), pl.col(f"ss{i}").alias("ss"))
                     for i, m in enumerate(metrics)]).filter(pl.col("n") > 0).sort("look")
    cum = per.with_columns(
        pl.col("n", "s", "ss").cum_sum().over(arm, "metric", order_by="look")
    ).with_columns(
        count=pl.col("n"), mean=pl.col("s") / pl.col("n"),
        variance=((pl.col("ss") - pl.col("s") ** 2 / pl.col("n")) / (pl.col("n") - 1)).clip(lower_bound=0.0),
    ).filter(pl.col("count") >= 2)
    out = cum.select(arm, "metric", "look", "count", "mean", "variance").collect()
    return out.sort(arm, "metric", "look")


def _kind(last: pl.DataFrame) -> MetricKind:
    m = last["mean"].to_numpy().astype(float)
    v = last["variance"].to_numpy().astype(float)
    n = last["count"].to_numpy().astype(float)
    if np.any((m < 0) | (m > 1)):
        return "continuous"
    b0 = m * (1 - m)
    b1 = b0 * n / np.maximum(n - 1, 1)
    close = np.isclose(v, b0, rtol=1e-6, atol=1e-12) | np.isclose(v, b1, rtol=1e-6, atol=1e-12)
    return "binary" if bool(close.all()) else "continuous"


_RULES: tuple[tuple[str, str], ...] = (
    ("count_nonfinite", "a count that is not a finite number"),
    ("count_negative", "a negative count"),
    ("count_small", "a count below 2"),
    ("count_fraction", "a count that is not a whole number"),
    ("mean_nonfinite", "a mean that is not a finite number"),
    ("variance_nonfinite", "a variance that is not a finite number"),
    ("variance_negative", "a negative variance"),
    ("count_huge", "a count above 1e15"),
    ("mean_huge", "a mean beyond ±1e100"),
    ("variance_huge", "a variance above 1e200"),
)


def check_summary_rows(df: pl.DataFrame, *, arm: str, look: str | None = None, row: str | None = None,
                       limit: int = 5) -> None:
    """Refuse rows that cannot be summary statistics, in one line naming them.

    Rows with an empty count, mean or variance are left to the caller (they are dropped and reported).
    ``row`` names a column of row numbers (1 for the first data row); by default rows count from 1.

    Raises
    ------
    DataError
        Counts must be whole numbers from 2 to 1e15, means finite within ±1e100, variances finite
        from 0 to 1e200 (past those, sums and squares overflow).
    """
    if row is None:
        row, df = "\x00row", df.with_row_index("\x00row", offset=1)
    n, m, v = (pl.col(c).cast(pl.Float64) for c in ("count", "mean", "variance"))
    flags = {
        "count_nonfinite": ~n.is_finite(), "count_negative": n.is_finite() & (n < 0),
        "count_small": n.is_finite() & (n >= 0) & (n < 2),
        "count_fraction": n.is_finite() & (n >= 2) & (n.round(0) != n),
        "mean_nonfinite": ~m.is_finite(), "variance_nonfinite": ~v.is_finite(),
        "variance_negative": v.is_finite() & (v < 0),
        # beyond these, sums and squares overflow floating point: refused, not silently inf
        "count_huge": n.is_finite() & (n > 1e15), "mean_huge": m.is_finite() & (m.abs() > HUGE),
        "variance_huge": v.is_finite() & (v > HUGE**2),
    }
    bad = df.select(pl.col(row), pl.col(arm).cast(pl.String), pl.col("metric").cast(pl.String),
                    *([pl.col(look).cast(pl.String)] if look else []),
                    *[e.fill_null(False).alias(k) for k, e in flags.items()])
    parts = []
    for key, words in _RULES:
        hits = bad.filter(pl.col(key))
        if not hits.height:
            continue
        where = [f"{r[row]} (arm {r[arm]!r}, metric {r['metric']!r}" + (f", {look} {r[look]}" if look else "")
                 + ")" for r in hits.head(limit).iter_rows(named=True)]
        more = f" and {hits.height - limit:,} more" if hits.height > limit else ""
        parts.append(f"{words} in row{'s' if hits.height > 1 else ''} {', '.join(where)}{more}")
    if parts:
        raise DataError("summary statistics: " + "; ".join(parts) + "; allowed: counts that are whole "
                        "numbers from 2 to 1e15, finite means within ±1e100, variances from 0 to 1e200")


def analyze_summary(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    arm: str,
    control: str,
    metrics: Sequence[str] | None = None,
    look: str | None = None,
    shares: Mapping[str, float] | str | None = None,
    alpha: float = 0.05,
    correction: Correction = "holm",
    tau: float | None = None,
    planned_n: int | None = None,
    bayesian: bool = False,
    prior_sd: float | None = None,
    values: Mapping[str, float | str] | Sequence[str] | None = None,
) -> AnalysisResult:
    """The battery on summary statistics (see the module docstring); same result type as rows.

    Parameters
    ----------
    frame
        Long-format summary statistics.
    arm, control
        Arm column and control label.
    metrics
        Metrics to analyse (default: all in the frame, in order of appearance).
    look
        Look column (default: the first of :data:`LOOK_NAMES` present, else a single look).
    tau
        mSPRT mixing standard deviation (default chosen per metric, see :func:`msprt`).
    planned_n
        Planned total units (both arms) the confidence sequence is tuned for (default: the last look's).
    bayesian, prior_sd, values
        gbstats' Bayesian results, as in :func:`experiments.stats.row_analysis.analyze`.
    """
    alpha, correction, shares = check_options(alpha, correction, shares)
    df = frame.lazy().collect()
    for c in (arm, *SUMMARY_COLUMNS):
        if c not in df.columns:
            raise DataError(f"unknown column {c!r}; summary input needs columns {[arm, *SUMMARY_COLUMNS]} "
                            f"and has {df.columns}")
    if look is None:
        look = next((c for c in LOOK_NAMES if c in df.columns), None)
    elif look not in df.columns:
        raise DataError(f"unknown look column {look!r}; the data has columns: {', '.join(df.columns)}")
    if arm in (*SUMMARY_COLUMNS, look):
        raise DataError(f"arm column {arm!r} is a column of the summary format; name the column that "
                        "holds the arm labels")
    for c in ("count", "mean", "variance"):
        if not df.schema[c].is_numeric():
            raise DataError(f"summary column {c!r} holds text; allowed: numbers")
    df = df.with_columns(pl.col(arm).cast(pl.String), pl.col("metric").cast(pl.String))
    available = df["metric"].unique(maintain_order=True).to_list()
    metrics = list(metrics or available)
    for m in metrics:
        if m not in available:
            raise DataError(f"unknown metric {m!r}; the summary has metrics: {', '.join(available)}")
    bayes = check_bayes(bayesian, prior_sd, values, metrics)
    n_input = df.height
    df = df.with_row_index("\x00row", offset=1)
    check_summary_rows(df, arm=arm, look=look, row="\x00row")
    missing = {c: int(df[c].null_count()) for c in (arm, "metric", "count", "mean", "variance")}
    issues = [f"Column {c!r} has {n} missing value(s); those rows are left out."
              for c, n in missing.items() if n]
    df = df.drop_nulls([arm, "metric", "count", "mean", "variance"])
    if look:
        df = df.sort(look)
    last = df.group_by(arm, "metric", maintain_order=True).last()
    arms = last[arm].unique(maintain_order=True).to_list()
    kinds: dict[str, MetricKind] = {}
    cols: dict[str, list[float]] = {arm: arms, "n": []}
    for m in metrics:
        sub = last.filter(pl.col("metric") == m)
        kinds[m] = _kind(sub)
        by_arm = {r[arm]: r for r in sub.iter_rows(named=True)}
        for key in ("n", "sum", "sumsq"):
            cols.setdefault(f"{m}.{key}", [])
        for a in arms:
            r = by_arm.get(a)
            s = SampleStats.from_moments(r["count"], r["mean"], r["variance"]) if r else SampleStats(0, 0, 0)
            cols[f"{m}.n"].append(s.n)
            cols[f"{m}.sum"].append(s.sum)
            cols[f"{m}.sumsq"].append(s.sum_squares)
    cols["n"] = [max(int(cols[f"{m}.n"][i]) for m in metrics) for i in range(len(arms))]
    table = ArmStatistics(pl.DataFrame(cols), arm, tuple(metrics))
    out = battery(table, control=control, kinds=kinds, shares=shares, alpha=alpha, correction=correction,
                  bayes=bayes)
    srm, effects = out.srm, out.effects
    sequential: tuple[SequentialResult, ...] = ()
    if look and df[look].n_unique() > 1:
        sequential = sequential_results(df, arm=arm, control=control, metrics=metrics, look=look,
                                        alpha=alpha, tau=tau, planned_n=planned_n)
    quality = with_small_counts(DataQuality(n_rows=n_input, missing=missing, issues=tuple(issues)),
                                out.small_counts)
    return AnalysisResult(
        n_rows=sum(cols["n"]), arms=dict(zip(arms, cols["n"], strict=True)), control=control, metrics=kinds,
        alpha=alpha, correction=correction, srm=srm, data_quality=quality, results=tuple(effects),
        sequential=tuple(sequential), source="summary statistics", bayesian=out.bayesian,
    )
