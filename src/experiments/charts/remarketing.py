"""Charts of the remarketing study. Each takes a small tidy frame and returns an altair chart."""

from __future__ import annotations

import altair as alt
import polars as pl

from experiments.charts import ARM_COLORS, PALETTE

__all__ = ["conversion_by_arm", "estimate_vs_truth", "funnel", "profit_by_frequency", "profit_by_setting"]


def _arm_scale(arms: list[str], control: str) -> alt.Scale:
    others = [a for a in arms if a != control]
    colors = [ARM_COLORS.get(control, "#8d99ae"), *PALETTE[1 : 1 + len(others)]]
    return alt.Scale(domain=[control, *others], range=colors)


def conversion_by_arm(rates: pl.DataFrame, *, title: str, control: str = "holdout") -> alt.LayerChart:
    """Conversion rate per arm with its interval.

    Parameters
    ----------
    rates
        Columns ``arm, n, mean, low, high`` (as from :func:`experiments.stats.arm_means`).
    """
    scale = _arm_scale(rates["arm"].to_list(), control)
    base = alt.Chart(rates).encode(
        y=alt.Y("arm:N", sort=rates["arm"].to_list(), title=None),
        color=alt.Color("arm:N", scale=scale, legend=None),
        tooltip=[
            alt.Tooltip("arm:N"), alt.Tooltip("n:Q", format=","),
            alt.Tooltip("mean:Q", format=".2%", title="conversion"),
            alt.Tooltip("low:Q", format=".2%", title="95% low"),
            alt.Tooltip("high:Q", format=".2%", title="95% high"),
        ],
    )
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", axis=alt.Axis(format=".1%"), title="conversion rate (95% interval)",
                scale=alt.Scale(zero=False)),
        x2="high:Q",
    )
    points = base.mark_point(filled=True, size=120).encode(x="mean:Q")
    return (bars + points).properties(title=title, height=max(60, 40 * rates.height))


def estimate_vs_truth(comparison: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Estimates with intervals against the true value the simulation knows (a red tick).

    Parameters
    ----------
    comparison
        Columns ``arm, measure, estimate, low, high, truth`` (one measure).
    """
    base = alt.Chart(comparison).encode(
        y=alt.Y("arm:N", title=None),
        tooltip=[alt.Tooltip("arm:N"), alt.Tooltip("measure:N"),
                 alt.Tooltip("estimate:Q", format=",.1f"), alt.Tooltip("low:Q", format=",.1f"),
                 alt.Tooltip("high:Q", format=",.1f"), alt.Tooltip("truth:Q", format=",.1f"),
                 alt.Tooltip("covered:N")],
    )
    interval = base.mark_rule(strokeWidth=3, color=PALETTE[1]).encode(
        x=alt.X("low:Q", title=str(comparison["measure"][0]) + " (estimate, 95% interval)"), x2="high:Q"
    )
    estimate = base.mark_point(filled=True, size=110, color=PALETTE[1]).encode(x="estimate:Q")
    truth = base.mark_tick(color="#c62828", thickness=3, size=26).encode(x="truth:Q")
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(color="#999", strokeDash=[4, 3]).encode(x="x:Q")
    return (zero + interval + estimate + truth).properties(
        title=alt.Title(title, subtitle="dot and bar: estimate and interval; red tick: true value"),
        height=max(60, 45 * comparison.height),
    )


def funnel(stages: pl.DataFrame, *, title: str) -> alt.Chart:
    """Horizontal bars of customers reaching each funnel stage or audience.

    Parameters
    ----------
    stages
        Columns ``group`` (e.g. "funnel" / "audience"), ``stage``, ``customers`` (in display order).
    """
    order = stages["stage"].to_list()
    return (
        alt.Chart(stages)
        .mark_bar(color=PALETTE[1])
        .encode(
            y=alt.Y("stage:N", sort=order, title=None),
            x=alt.X("customers:Q", title="customers", axis=alt.Axis(format="~s")),
            row=alt.Row("group:N", title=None, sort=stages["group"].unique(maintain_order=True).to_list()),
            tooltip=[alt.Tooltip("group:N"), alt.Tooltip("stage:N"), alt.Tooltip("customers:Q", format=",")],
        )
        .resolve_scale(y="independent")
        .properties(title=title, width=460, height=alt.Step(22))
    )


def profit_by_frequency(curve: pl.DataFrame, *, title: str, chosen_cap: int) -> alt.LayerChart:
    """True incremental profit per 1,000 customers against the frequency cap, one line per arm.

    Parameters
    ----------
    curve
        Columns ``frequency_cap, arm, profit_per_1000`` (optionally more, shown in tooltips).
    chosen_cap
        The scenario's cap, marked with a vertical rule.
    """
    tips = [alt.Tooltip(c, format=",.2f") if curve.schema[c].is_numeric() else alt.Tooltip(c)
            for c in curve.columns]
    line = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("frequency_cap:Q", title="frequency cap (exposures per customer)"),
            y=alt.Y("profit_per_1000:Q", title="true incremental profit per 1,000 customers ($)"),
            color=alt.Color("arm:N", title="arm"),
            tooltip=tips,
        )
    )
    zero = alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(color="#999", strokeDash=[4, 3]).encode(y="y:Q")
    rule = alt.Chart(pl.DataFrame({"x": [chosen_cap]})).mark_rule(color="#555").encode(x="x:Q")
    return (zero + rule + line).properties(
        title=alt.Title(title, subtitle=f"vertical line: this run's cap ({chosen_cap})")
    )


def profit_by_setting(curve: pl.DataFrame, *, x: str, x_title: str, title: str,
                      chosen: float) -> alt.LayerChart:
    """True profit per 1,000 customers against one campaign setting, one line per arm.

    Parameters
    ----------
    curve
        Columns ``x``, ``arm``, ``profit_per_1000`` (optionally more, shown in tooltips).
    chosen
        The scenario's value, marked with a vertical rule.
    """
    tips = [alt.Tooltip(c, format=",.2f") if curve.schema[c].is_numeric() else alt.Tooltip(c)
            for c in curve.columns]
    line = alt.Chart(curve).mark_line(point=True).encode(
        x=alt.X(f"{x}:Q", title=x_title),
        y=alt.Y("profit_per_1000:Q", title="true incremental profit per 1,000 customers ($)"),
        color=alt.Color("arm:N", title="arm"), tooltip=tips)
    zero = alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(color="#999", strokeDash=[4, 3]).encode(y="y:Q")
    rule = alt.Chart(pl.DataFrame({"x": [chosen]})).mark_rule(color="#555").encode(x="x:Q")
    return (zero + rule + line).properties(
        title=alt.Title(title, subtitle=f"vertical line: this run ({chosen:g})"))
