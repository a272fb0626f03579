"""Charts of the lifecycle study: one function per chart, each taking an aggregated tidy frame.

Every function takes a ``title`` that should state the finding, and returns an altair chart
(never shown or saved here).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from experiments.charts import enable_theme

__all__ = ["lever_reads", "marginal_returns", "projection_errors", "purchase_timing"]

enable_theme()
_HORIZONS = alt.Scale(domain=["short", "long"], range=["#f4a259", "#2e86ab"])


def lever_reads(frame: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Each lever's read (estimate and interval) at the short and long horizon, with the truth as a
    black tick (``lever, horizon, estimate, ci_low, ci_high, truth``)."""
    base = alt.Chart(frame).encode(
        y=alt.Y("lever:N", title=None, sort=None),
        yOffset=alt.YOffset("horizon:N", sort=["short", "long"]),
        color=alt.Color("horizon:N", title="read", scale=_HORIZONS, sort=["short", "long"]),
    )
    rule = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title="value per customer, arm minus "
                                                        "holdout ($)"), x2="ci_high:Q")
    point = base.mark_point(filled=True, size=70).encode(
        x="estimate:Q",
        tooltip=["lever:N", "horizon:N", alt.Tooltip("estimate:Q", format="$.2f"),
                 alt.Tooltip("ci_low:Q", format="$.2f"), alt.Tooltip("ci_high:Q", format="$.2f"),
                 alt.Tooltip("truth:Q", format="$.2f")])
    truth = base.mark_tick(color="black", thickness=2, size=12).encode(x="truth:Q")
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(color="#999", strokeDash=[4, 3]).encode(x="x:Q")
    return (zero + rule + point + truth).properties(title=title, height=alt.Step(16))


def marginal_returns(frame: pl.DataFrame, *, title: str, budget: float) -> alt.LayerChart:
    """Margin brought back by the next budget on each route, with its interval, the truth (tick) and the
    budget itself (dashed: above it the route pays) (``label, estimate, ci_low, ci_high, truth``)."""
    base = alt.Chart(frame).encode(y=alt.Y("label:N", title=None, sort=None))
    bar = base.mark_bar(color="#2e86ab", opacity=0.8).encode(
        x=alt.X("estimate:Q", title="margin brought back ($)"),
        tooltip=["label:N", *(alt.Tooltip(f"{c}:Q", format="$,.0f") for c in ("estimate", "ci_low",
                                                                              "ci_high", "truth"))])
    rule = base.mark_rule(strokeWidth=2, color="#333").encode(x="ci_low:Q", x2="ci_high:Q")
    truth = base.mark_tick(color="black", thickness=3, size=22).encode(x="truth:Q")
    spend = (alt.Chart(pl.DataFrame({"x": [budget]})).mark_rule(color="#c62828", strokeDash=[5, 3])
             .encode(x="x:Q"))
    return (bar + rule + truth + spend).properties(title=title)


def purchase_timing(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Purchases per customer added (or lost) by each lever during the campaign and after it
    (``lever, period, effect``)."""
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("lever:N", title=None, sort=None),
        yOffset=alt.YOffset("period:N", sort=["during the campaign", "after it"]),
        x=alt.X("effect:Q", title="purchases per customer, arm minus holdout"),
        color=alt.Color("period:N", title=None, sort=["during the campaign", "after it"],
                        scale=alt.Scale(range=["#f4a259", "#8d99ae"])),
        tooltip=["lever:N", "period:N", alt.Tooltip("effect:Q", format=".3f")],
    ).properties(title=title, height=alt.Step(14))


def projection_errors(frame: pl.DataFrame, *, title: str) -> alt.Chart:
    """Absolute error of each arm's projected long-run value, as a share of the truth
    (``lever, side, error``)."""
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("lever:N", title=None, sort=None),
        yOffset=alt.YOffset("side:N"),
        x=alt.X("error:Q", title="projection error, share of the true value", axis=alt.Axis(format="%")),
        color=alt.Color("side:N", title="arm", scale=alt.Scale(domain=["on", "off"],
                                                                range=["#2e86ab", "#8d99ae"])),
        tooltip=["lever:N", "side:N", alt.Tooltip("error:Q", format=".1%")],
    ).properties(title=title, height=alt.Step(14))
