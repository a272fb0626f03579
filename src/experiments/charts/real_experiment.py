"""Charts of the real-experiment study. Each takes a small tidy frame and a title that states the finding."""

from __future__ import annotations

import altair as alt
import polars as pl

from experiments.charts import PALETTE

__all__ = ["effects_by_arm", "effects_by_segment", "interval_widths"]


def _interval_layers(base: alt.Chart, x_title: str) -> alt.LayerChart:
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=x_title), x2="high:Q",
    )
    points = base.mark_point(filled=True, size=90).encode(x="estimate:Q")
    zero = base.mark_rule(color="black", strokeDash=[4, 4]).encode(x=alt.datum(0))
    return bars + points + zero


def effects_by_arm(frame: pl.DataFrame, *, title: str, per: int) -> alt.FacetChart:
    """Effect of each arm on each metric with its 95% interval, one panel per metric.

    Parameters
    ----------
    frame
        Columns ``arm, metric, estimate, low, high`` (effects per ``per`` recipients).
    """
    arms = list(dict.fromkeys(frame["arm"].to_list()))
    base = alt.Chart(frame).encode(
        y=alt.Y("arm:N", title=None, sort=arms),
        color=alt.Color("arm:N", scale=alt.Scale(domain=arms, range=PALETTE[1:1 + len(arms)]), legend=None),
        tooltip=[alt.Tooltip("arm:N"), alt.Tooltip("metric:N"), alt.Tooltip("estimate:Q", format=",.2f"),
                 alt.Tooltip("low:Q", format=",.2f", title="95% low"),
                 alt.Tooltip("high:Q", format=",.2f", title="95% high")],
    )
    layers = _interval_layers(base, f"change per {per:,} recipients (95% interval)")
    return layers.properties(width=460, height=30 * len(arms) + 20).facet(
        row=alt.Row("metric:N", title=None, sort=list(dict.fromkeys(frame["metric"].to_list())),
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
    ).resolve_scale(x="independent").properties(title=title)


def interval_widths(widths: pl.DataFrame, *, title: str) -> alt.Chart:
    """Width of each 95% interval, unadjusted next to CUPED, per metric and arm.

    Parameters
    ----------
    widths
        Columns ``arm, metric, method, width`` (widths per recipients).
    """
    return alt.Chart(widths).mark_bar().encode(
        y=alt.Y("method:N", title=None),
        x=alt.X("width:Q", title="width of the 95% interval (per recipients)"),
        color=alt.Color("method:N", scale=alt.Scale(range=[PALETTE[0], PALETTE[1]]),
                        legend=alt.Legend(orient="bottom", title=None)),
        row=alt.Row("metric:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        column=alt.Column("arm:N", title=None),
        tooltip=[alt.Tooltip("arm:N"), alt.Tooltip("metric:N"), alt.Tooltip("method:N"),
                 alt.Tooltip("width:Q", format=",.2f")],
    ).properties(width=220, height=50, title=title).resolve_scale(x="independent")


def effects_by_segment(frame: pl.DataFrame, *, title: str, per: int, metric: str) -> alt.FacetChart:
    """Effect on one metric within each segment, one panel per arm.

    Parameters
    ----------
    frame
        Columns ``segment, arm, n, estimate, low, high`` (effects per ``per`` recipients).
    """
    order = list(dict.fromkeys(frame["segment"].to_list()))
    base = alt.Chart(frame).encode(
        y=alt.Y("segment:N", title=None, sort=order),
        color=alt.Color("column:N", title="segment column", legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("segment:N"), alt.Tooltip("arm:N"), alt.Tooltip("n:Q", format=","),
                 alt.Tooltip("estimate:Q", format=",.2f"), alt.Tooltip("low:Q", format=",.2f"),
                 alt.Tooltip("high:Q", format=",.2f")],
    )
    layers = _interval_layers(base, f"{metric}: change per {per:,} recipients (95% interval)")
    return layers.properties(width=300, height=22 * max(len(order), 1)).facet(
        column=alt.Column("arm:N", title=None)
    ).properties(title=title)
