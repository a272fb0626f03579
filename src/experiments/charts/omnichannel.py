"""Charts of attribution and of the omnichannel world. Each takes a small tidy frame, returns a chart."""

from __future__ import annotations

import altair as alt
import polars as pl

from experiments.charts import PALETTE

__all__ = [
    "TRUTH_COLOR",
    "blind_spot",
    "cost_per_incremental",
    "credit_shares",
    "credit_vs_truth",
    "model_errors",
    "plan_profits",
]

#: Colour of the true value (incrementality known to the simulation).
TRUTH_COLOR = "#c62828"


def credit_shares(frame: pl.DataFrame, *, title: str, columns: int = 4) -> alt.FacetChart:
    """Share of the credit each model gives each channel: one small bar chart per model.

    Parameters
    ----------
    frame
        Columns ``model, channel, share`` (as :meth:`AttributionResult.to_frame` gives).
    """
    data = frame.select("model", "channel", "share")
    models = list(dict.fromkeys(data["model"].to_list()))
    channels = sorted(set(data["channel"].to_list()))
    base = alt.Chart().mark_bar(color=PALETTE[1]).encode(
        x=alt.X("share:Q", axis=alt.Axis(format=".0%"), title="share of credit"),
        y=alt.Y("channel:N", sort=channels, title=None),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("channel:N"),
                 alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=170, height=alt.Step(16))
    return alt.layer(base, data=data).facet(
        facet=alt.Facet("model:N", sort=models, title=None), columns=columns,
    ).properties(title=title)


def credit_vs_truth(frame: pl.DataFrame, *, title: str, columns: int = 4) -> alt.FacetChart:
    """Each model's credit share per channel (bars) against the true incremental share (red ticks).

    Parameters
    ----------
    frame
        Columns ``model, channel, credit_share, true_share`` (one row per model and channel).
    """
    data = frame.select("model", "channel", "credit_share", "true_share")
    models = list(dict.fromkeys(data["model"].to_list()))
    channels = list(dict.fromkeys(data["channel"].to_list()))
    tooltip = [alt.Tooltip("model:N"), alt.Tooltip("channel:N"),
               alt.Tooltip("credit_share:Q", format=".1%", title="credit share"),
               alt.Tooltip("true_share:Q", format=".1%", title="true incremental share")]
    y = alt.Y("channel:N", sort=channels, title=None)
    bars = alt.Chart().mark_bar(color=PALETTE[1]).encode(
        x=alt.X("credit_share:Q", axis=alt.Axis(format=".0%"), title="share (bar: credit; tick: truth)"),
        y=y, tooltip=tooltip,
    )
    ticks = alt.Chart().mark_tick(color=TRUTH_COLOR, thickness=3, size=14).encode(
        x="true_share:Q", y=y, tooltip=tooltip)
    return alt.layer(bars, ticks, data=data).properties(width=170, height=alt.Step(16)).facet(
        facet=alt.Facet("model:N", sort=models, title=None), columns=columns,
    ).properties(title=title)


def model_errors(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Error of each model: mean absolute gap between credit share and true share, in points.

    Parameters
    ----------
    frame
        Columns ``model, mean_abs_error`` (a fraction), sorted as they should be drawn.
    """
    order = frame["model"].to_list()
    return alt.Chart(frame.select("model", "mean_abs_error")).mark_bar(color=PALETTE[2]).encode(
        x=alt.X("mean_abs_error:Q", axis=alt.Axis(format=".0%"),
                title="mean gap between credit share and true share (percentage points)"),
        y=alt.Y("model:N", sort=order, title=None),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("mean_abs_error:Q", format=".1%", title="mean gap")],
    ).properties(title=title, height=alt.Step(22))


def cost_per_incremental(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Cost per true incremental conversion of each paid channel, with its credited cost (last touch).

    Parameters
    ----------
    frame
        Columns ``channel, measure, cost`` (``measure`` e.g. "true" or a model name), dollars.
    """
    measures = list(dict.fromkeys(frame["measure"].to_list()))
    colors = [TRUTH_COLOR if m == "true incremental" else PALETTE[(i + 1) % len(PALETTE)]
              for i, m in enumerate(measures)]
    return alt.Chart(frame.select("channel", "measure", "cost")).mark_bar().encode(
        x=alt.X("cost:Q", title="dollars per conversion", axis=alt.Axis(format="$,.0f")),
        y=alt.Y("channel:N", title=None),
        yOffset=alt.YOffset("measure:N", sort=measures),
        color=alt.Color("measure:N", sort=measures, scale=alt.Scale(domain=measures, range=colors),
                        title=None),
        tooltip=[alt.Tooltip("channel:N"), alt.Tooltip("measure:N"),
                 alt.Tooltip("cost:Q", format="$,.2f")],
    ).properties(title=title, height=alt.Step(10))


def plan_profits(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """True profit change of each budget plan against the current plan, dollars.

    Parameters
    ----------
    frame
        Columns ``plan, profit_change`` sorted as they should be drawn.
    """
    order = frame["plan"].to_list()
    data = frame.select("plan", "profit_change").with_columns(
        gain=pl.when(pl.col("profit_change") >= 0).then(pl.lit("gain")).otherwise(pl.lit("loss")))
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("profit_change:Q", title="true profit change vs current plan", axis=alt.Axis(format="$,.0f")),
        y=alt.Y("plan:N", sort=order, title=None),
        color=alt.Color("gain:N", scale=alt.Scale(domain=["gain", "loss"], range=["#2e7d32", TRUTH_COLOR]),
                        legend=None),
        tooltip=[alt.Tooltip("plan:N"), alt.Tooltip("profit_change:Q", format="$,.0f")],
    )
    zero = alt.Chart(data).mark_rule(color="#444").encode(x=alt.datum(0))
    return (bars + zero).properties(title=title, height=alt.Step(24))


def blind_spot(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Stacked bars per channel: true incremental purchases seen online, made in store, or lost.

    Parameters
    ----------
    frame
        Columns ``channel, part, conversions`` (``part`` e.g. "online", "store").
    """
    parts = list(dict.fromkeys(frame["part"].to_list()))
    return alt.Chart(frame.select("channel", "part", "conversions")).mark_bar().encode(
        x=alt.X("conversions:Q", title="true incremental purchases", stack="zero"),
        y=alt.Y("channel:N", title=None),
        color=alt.Color("part:N", sort=parts, title=None,
                        scale=alt.Scale(domain=parts, range=PALETTE[1:1 + len(parts)])),
        tooltip=[alt.Tooltip("channel:N"), alt.Tooltip("part:N"),
                 alt.Tooltip("conversions:Q", format=",.0f")],
    ).properties(title=title, height=alt.Step(18))
