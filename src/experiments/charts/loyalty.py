"""Charts of the loyalty study: one function per chart, each taking an aggregated tidy frame.

Every function takes a ``title`` that should state the finding, and returns an altair chart
(never shown or saved here).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from experiments.charts import enable_theme

__all__ = [
    "calibration_holdout_chart",
    "clv_distribution_chart",
    "cumulative_revenue_chart",
    "lever_effects_chart",
    "payback_chart",
    "retention_chart",
]

enable_theme()
_ARM_SCALE = alt.Scale(domain=["control", "offer"], range=["#8d99ae", "#2e86ab"])


def retention_chart(curves: pl.DataFrame, *, title: str, time_label: str = "weeks") -> alt.Chart:
    """Kaplan-Meier retention by group with its interval band (``RetentionCurves.frame``)."""
    base = alt.Chart(curves).encode(
        x=alt.X("time:Q", title=f"time since first purchase ({time_label})"),
        color=alt.Color("group:N", title="arm", scale=_ARM_SCALE),
    )
    band = base.mark_area(opacity=0.18).encode(y="ci_low:Q", y2="ci_high:Q")
    line = base.mark_line(interpolate="step-after").encode(
        y=alt.Y("retention:Q", title="share still active", axis=alt.Axis(format="%")),
        tooltip=["group:N", alt.Tooltip("time:Q", format=".1f"), alt.Tooltip("retention:Q", format=".1%")],
    )
    return (band + line).properties(title=title)


def cumulative_revenue_chart(frame: pl.DataFrame, *, title: str, time_label: str = "week") -> alt.Chart:
    """Cumulative revenue per customer by arm and period (``cumulative_by_period``)."""
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("period:Q", title=time_label),
            y=alt.Y("revenue:Q", title="cumulative revenue per customer ($)"),
            color=alt.Color("arm:N", scale=_ARM_SCALE),
            tooltip=["arm:N", "period:Q", alt.Tooltip("revenue:Q", format="$.2f")],
        )
        .properties(title=title)
    )


def clv_distribution_chart(histogram: pl.DataFrame, *, title: str) -> alt.Chart:
    """Share of customers by CLV bin and arm (``clv_histogram``)."""
    return (
        alt.Chart(histogram)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("clv_from:Q", title="expected margin over the next year ($)"),
            y=alt.Y(
                "share:Q", title="share of customers", axis=alt.Axis(format="%"), scale=alt.Scale(type="sqrt")
            ),
            color=alt.Color("group:N", title="arm", scale=_ARM_SCALE),
            tooltip=[
                "group:N",
                alt.Tooltip("clv_from:Q", format="$.2f"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(title=title)
    )


def calibration_holdout_chart(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Predicted vs actual holdout purchases by calibration frequency (``holdout_by_frequency``)."""
    long = frame.unpivot(
        index=["group", "frequency", "bin"], on=["predicted", "actual"], variable_name="series"
    )
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("frequency:O", title="repeat purchases in the calibration period", sort=None),
            y=alt.Y("value:Q", title="purchases per customer in the holdout"),
            color=alt.Color("series:N", title="", scale=alt.Scale(range=["#3d405b", "#e07a5f"])),
            strokeDash=alt.StrokeDash("series:N", title=""),
            column=alt.Column("group:N", title="arm"),
            tooltip=["group:N", "frequency:N", "series:N", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(title=title, width=260)
    )


def payback_chart(curve: pl.DataFrame, *, title: str, time_label: str = "week") -> alt.Chart:
    """Cumulative incremental margin, cost and net value per offered customer (``payback_curve``)."""
    long = curve.unpivot(
        index="period", on=["incremental_margin", "programme_cost", "net_value"], variable_name="series"
    ).with_columns(pl.col("series").str.replace_all("_", " "))
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("period:Q", title=time_label),
            y=alt.Y("value:Q", title="cumulative $ per offered customer"),
            color=alt.Color("series:N", title="", scale=alt.Scale(range=["#81b29a", "#2e86ab", "#e07a5f"])),
            tooltip=["series:N", "period:Q", alt.Tooltip("value:Q", format="$.2f")],
        )
    )
    zero = alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(color="#999").encode(y="y:Q")
    return (zero + lines).properties(title=title)


def lever_effects_chart(frame: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Each lever's estimated effect with its interval, and the true effect (columns ``lever``,
    ``estimate``, ``ci_low``, ``ci_high``, ``truth``: one row per lever or interaction)."""
    base = alt.Chart(frame).encode(y=alt.Y("lever:N", title="", sort=None))
    rule = base.mark_rule(strokeWidth=2, color="#2e86ab").encode(
        x=alt.X("ci_low:Q", title="net value per offered customer ($)"), x2="ci_high:Q")
    point = base.mark_point(filled=True, size=80, color="#2e86ab").encode(
        x="estimate:Q",
        tooltip=["lever:N", alt.Tooltip("estimate:Q", format="$.2f"), alt.Tooltip("ci_low:Q", format="$.2f"),
                 alt.Tooltip("ci_high:Q", format="$.2f"), alt.Tooltip("truth:Q", format="$.2f")],
    )
    truth = base.mark_tick(color="#e07a5f", thickness=3, size=22).encode(x="truth:Q")
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(color="#999").encode(x="x:Q")
    return (zero + rule + point + truth).properties(title=title)
