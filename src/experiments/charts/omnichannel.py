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
    "experiment_estimates",
    "factorial_readings",
    "model_errors",
    "plan_profits",
    "split_journeys",
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
    """Each model's credit share per channel (bars) against the true incremental share (red ticks) and,
    when the frame has it, the share the channel experiments measured (dark ticks).

    Parameters
    ----------
    frame
        Columns ``model, channel, credit_share, true_share`` and optionally ``experiment_share`` (one row
        per model and channel).
    """
    measured = "experiment_share" in frame.columns
    data = frame.select("model", "channel", "credit_share", "true_share",
                        *(["experiment_share"] if measured else []))
    models = list(dict.fromkeys(data["model"].to_list()))
    channels = list(dict.fromkeys(data["channel"].to_list()))
    tooltip = [alt.Tooltip("model:N"), alt.Tooltip("channel:N"),
               alt.Tooltip("credit_share:Q", format=".1%", title="credit share"),
               alt.Tooltip("true_share:Q", format=".1%", title="true incremental share")]
    if measured:
        tooltip.append(alt.Tooltip("experiment_share:Q", format=".1%", title="channel experiments' share"))
    y = alt.Y("channel:N", sort=channels, title=None)
    bars = alt.Chart().mark_bar(color=PALETTE[1]).encode(
        x=alt.X("credit_share:Q", axis=alt.Axis(format=".0%"), title="share"),
        y=y, tooltip=tooltip,
    )
    names = {"true_share": "truth (simulation)", "experiment_share": "channel experiments"}
    folded = [c for c in names if c in data.columns]
    domain = [names[c] for c in folded]
    ticks = alt.Chart().transform_fold(folded, as_=["key", "value"]).transform_calculate(
        measure=" : ".join(f"datum.key == '{c}' ? '{names[c]}'" for c in folded[:-1])
        + (" : " if len(folded) > 1 else "") + f"'{names[folded[-1]]}'",
    ).mark_tick(thickness=3, size=14).encode(
        x="value:Q", y=y, tooltip=tooltip,
        color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=domain, range=[TRUTH_COLOR, "#222222"][:len(domain)])),
    )
    return alt.layer(bars, ticks, data=data).properties(width=170, height=alt.Step(16)).facet(
        facet=alt.Facet("model:N", sort=models, title=None), columns=columns,
    ).properties(title=title)


def experiment_estimates(frame: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Each channel experiment's incremental purchases with its 95% interval, and the truth (red tick).

    Parameters
    ----------
    frame
        Columns ``channel, design, estimate, ci_low, ci_high, truth`` (tested channels only), orders.
    """
    data = frame.select("channel", "design", "estimate", "ci_low", "ci_high", "truth")
    channels = data["channel"].to_list()
    tooltip = [alt.Tooltip("channel:N"), alt.Tooltip("design:N", title="holdout"),
               alt.Tooltip("estimate:Q", format=",.0f"),
               alt.Tooltip("ci_low:Q", format=",.0f", title="95% low"),
               alt.Tooltip("ci_high:Q", format=",.0f", title="95% high"),
               alt.Tooltip("truth:Q", format=",.0f", title="true incremental purchases")]
    base = alt.Chart(data).encode(y=alt.Y("channel:N", sort=channels, title=None), tooltip=tooltip)
    interval = base.mark_rule(strokeWidth=3, color=PALETTE[1]).encode(
        x=alt.X("ci_low:Q", title="incremental purchases (dot: estimate, line: 95% interval, red: truth)"),
        x2="ci_high:Q")
    point = base.mark_point(filled=True, size=90, color=PALETTE[1]).encode(x="estimate:Q")
    truth = base.mark_tick(color=TRUTH_COLOR, thickness=3, size=16).encode(x="truth:Q")
    zero = alt.Chart(data).mark_rule(color="#999").encode(x=alt.datum(0))
    return (zero + interval + point + truth).properties(title=title, height=alt.Step(26))


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
    """Cost per conversion of each paid channel: per true incremental one (red) and per credited or
    estimated one, as dots on a log scale (costs span orders of magnitude).

    Parameters
    ----------
    frame
        Columns ``channel, measure, cost`` (``measure`` e.g. "true incremental" or a model's credit),
        dollars, all positive.
    """
    measures = list(dict.fromkeys(frame["measure"].to_list()))
    channels = list(dict.fromkeys(frame["channel"].to_list()))
    others = iter([PALETTE[1], PALETTE[3], PALETTE[5], PALETTE[4], PALETTE[2]])
    colors = [TRUTH_COLOR if m == "true incremental" else "#222222" if m == "channel experiments"
              else next(others, PALETTE[0]) for m in measures]
    legend = alt.Legend(orient="top", title=None)
    return alt.Chart(frame.select("channel", "measure", "cost")).mark_point(filled=True, size=90).encode(
        x=alt.X("cost:Q", title="dollars per conversion (log scale)", scale=alt.Scale(type="log"),
                axis=alt.Axis(format="$,.2~f")),
        y=alt.Y("channel:N", sort=channels, title=None),
        color=alt.Color("measure:N", scale=alt.Scale(domain=measures, range=colors), legend=legend),
        shape=alt.Shape("measure:N", scale=alt.Scale(domain=measures), legend=legend),
        tooltip=[alt.Tooltip("channel:N"), alt.Tooltip("measure:N"),
                 alt.Tooltip("cost:Q", format="$,.2f")],
    ).properties(title=title, width=520, height=alt.Step(28))


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
    return _parts_by_channel(frame, "conversions", axis="true incremental purchases", number=",.0f",
                             title=title)


def split_journeys(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Stacked bars per channel: online buyers' touches on the buying journey and on an unmatched device.

    Parameters
    ----------
    frame
        Columns ``channel, part, touches``.
    """
    return _parts_by_channel(frame, "touches", axis="touches of online buyers", number=",", title=title)


def _parts_by_channel(frame: pl.DataFrame, value: str, *, axis: str, number: str, title: str) -> alt.Chart:
    """Bars per channel of ``value`` stacked by ``part``, channels and parts in the frame's order."""
    parts = list(dict.fromkeys(frame["part"].to_list()))
    channels = list(dict.fromkeys(frame["channel"].to_list()))
    return alt.Chart(frame.select("channel", "part", value)).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=axis, stack="zero"),
        y=alt.Y("channel:N", sort=channels, title=None),
        color=alt.Color("part:N", sort=parts, title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=parts, range=PALETTE[1:1 + len(parts)])),
        tooltip=[alt.Tooltip("channel:N"), alt.Tooltip("part:N"), alt.Tooltip(f"{value}:Q", format=number)],
    ).properties(title=title, height=alt.Step(18))


def factorial_readings(frame: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Profit of each channel, pair and the whole plan as each reading gives it, with its 95% interval
    (where it has one) and the truth (red tick), one row per term and reading.

    Parameters
    ----------
    frame
        Columns ``term, reading, estimate, ci_low, ci_high, truth`` (dollars; intervals may be null).
    """
    data = frame.select("term", "reading", "estimate", "ci_low", "ci_high", "truth")
    terms = list(dict.fromkeys(data["term"].to_list()))
    readings = list(dict.fromkeys(data["reading"].to_list()))
    tooltip = [alt.Tooltip("term:N"), alt.Tooltip("reading:N"), alt.Tooltip("estimate:Q", format="$,.0f"),
               alt.Tooltip("ci_low:Q", format="$,.0f", title="95% low"),
               alt.Tooltip("ci_high:Q", format="$,.0f", title="95% high"),
               alt.Tooltip("truth:Q", format="$,.0f", title="true")]
    color = alt.Color("reading:N", sort=readings, scale=alt.Scale(range=PALETTE), title=None,
                      legend=alt.Legend(orient="bottom", columns=2))
    base = alt.Chart(data).encode(y=alt.Y("term:N", sort=terms, title=None),
                                  yOffset=alt.YOffset("reading:N", sort=readings), tooltip=tooltip)
    interval = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("ci_low:Q", title="profit over the plan, dollars (dot: estimate, line: 95% interval, red: "
                "truth)"), x2="ci_high:Q", color=color)
    point = base.mark_point(filled=True, size=70).encode(x="estimate:Q", color=color)
    truth = alt.Chart(data).mark_tick(color=TRUTH_COLOR, thickness=3).encode(
        y=alt.Y("term:N", sort=terms), x="truth:Q")
    zero = alt.Chart(data).mark_rule(color="#999").encode(x=alt.datum(0))
    return (zero + interval + point + truth).properties(title=title, height=alt.Step(14))
