"""Charts of the calibration study. Each takes a small tidy frame and a title that states the finding."""

from __future__ import annotations

import altair as alt
import polars as pl

from experiments.charts import PALETTE

__all__ = ["adjustment_widths", "capping_tradeoff", "cuped_widths", "exposure_coverage", "peeking_curve",
           "rates_against_targets", "replay_looks", "sequence_curves"]



def _method_scale(methods: list[str]) -> alt.Scale:
    """Naive methods in orange, the always-valid one in blue."""
    domain = list(dict.fromkeys(methods))
    return alt.Scale(domain=domain, range=[PALETTE[1] if "always" in m else PALETTE[2] for m in domain])


def rates_against_targets(rates: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Measured rates minus their nominal level, with Wilson intervals, around a zero line.

    Rates near 5% and near 95% share one axis by showing the gap to the target in percentage points.

    Parameters
    ----------
    rates
        Columns ``check, rate, ci_low, ci_high, target`` (one row per measured rate).
    """
    order = rates["check"].to_list()
    frame = rates.with_columns(
        gap=(pl.col("rate") - pl.col("target")) * 100,
        gap_low=(pl.col("ci_low") - pl.col("target")) * 100,
        gap_high=(pl.col("ci_high") - pl.col("target")) * 100,
    )
    base = alt.Chart(frame).encode(
        y=alt.Y("check:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[alt.Tooltip("check:N"), alt.Tooltip("rate:Q", format=".2%"),
                 alt.Tooltip("ci_low:Q", format=".2%", title="95% low"),
                 alt.Tooltip("ci_high:Q", format=".2%", title="95% high"),
                 alt.Tooltip("target:Q", format=".1%")],
    )
    bars = base.mark_rule(strokeWidth=3, color=PALETTE[1]).encode(
        x=alt.X("gap_low:Q", title="measured minus nominal rate, percentage points (95% interval)"),
        x2="gap_high:Q",
    )
    points = base.mark_point(filled=True, size=110, color=PALETTE[1]).encode(x="gap:Q")
    zero = alt.Chart(frame).mark_rule(color="black").encode(x=alt.datum(0))
    return (bars + points + zero).properties(title=title, height=max(80, 34 * rates.height))


def peeking_curve(curve: pl.DataFrame, *, alpha: float, title: str) -> alt.LayerChart:
    """Share of A/A experiments declared significant at or before each look, per method.

    Parameters
    ----------
    curve
        Columns ``look, method, false_positive_rate`` (from ``PeekingStudy.to_frame()``).
    """
    lines = alt.Chart(curve).mark_line(point=True).encode(
        x=alt.X("look:Q", title="look (day)", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("false_positive_rate:Q", axis=alt.Axis(format=".0%"),
                title="A/A tests declared significant so far"),
        color=alt.Color("method:N", scale=_method_scale(curve["method"].to_list()), title=None,
                        legend=alt.Legend(orient="top-left")),
        tooltip=[alt.Tooltip("look:Q"), alt.Tooltip("method:N"),
                 alt.Tooltip("false_positive_rate:Q", format=".1%")],
    )
    rule = alt.Chart(pl.DataFrame({"alpha": [alpha]})).mark_rule(strokeDash=[4, 4], color="black").encode(
        y="alpha:Q"
    )
    return (lines + rule).properties(title=title)


def sequence_curves(curve: pl.DataFrame, *, alpha: float, title: str | list[str]) -> alt.LayerChart:
    """False positives accumulating over the looks: naive peeking, mSPRT and confidence sequence.

    The share axis is on a square-root scale so the always-valid curves (a few percent at most) stay
    readable beside naive peeking's.

    Parameters
    ----------
    curve
        Columns ``look, method, false_positive_rate`` (from ``SequenceStudy.to_frame()``).
    title
        The finding (a list gives several lines).
    """
    domain = list(dict.fromkeys(curve["method"].to_list()))
    colours = [PALETTE[2] if "naive" in m else PALETTE[1] if "mSPRT" in m else PALETTE[0] for m in domain]
    lines = alt.Chart(curve).mark_line().encode(
        x=alt.X("look:Q", title="look (day)", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("false_positive_rate:Q", scale=alt.Scale(type="sqrt"), axis=alt.Axis(format=".0%"),
                title="A/A tests declared significant so far (square-root scale)"),
        color=alt.Color("method:N", scale=alt.Scale(domain=domain, range=colours), title=None,
                        legend=alt.Legend(orient="top-left")),
        tooltip=[alt.Tooltip("look:Q"), alt.Tooltip("method:N"),
                 alt.Tooltip("false_positive_rate:Q", format=".2%")],
    )
    rule = alt.Chart(pl.DataFrame({"alpha": [alpha]})).mark_rule(strokeDash=[4, 4], color="black").encode(
        y="alpha:Q"
    )
    return (lines + rule).properties(title=title)


def cuped_widths(summary: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Mean interval width and mean estimate against the truth, unadjusted and CUPED.

    Parameters
    ----------
    summary
        Columns ``method, true_diff, mean_estimate, mean_width`` (from ``CupedStudy.to_frame()``).
    """
    frame = summary.with_columns(
        low=pl.col("mean_estimate") - pl.col("mean_width") / 2,
        high=pl.col("mean_estimate") + pl.col("mean_width") / 2,
    )
    base = alt.Chart(frame).encode(
        y=alt.Y("method:N", title=None),
        tooltip=[alt.Tooltip("method:N"), alt.Tooltip("mean_estimate:Q", format=",.3f"),
                 alt.Tooltip("mean_width:Q", format=",.3f", title="mean interval width"),
                 alt.Tooltip("true_diff:Q", format=",.3f", title="truth")],
    )
    bars = base.mark_rule(strokeWidth=6, color=PALETTE[1], opacity=0.6).encode(
        x=alt.X("low:Q", title="average estimate ± half the average interval width ($ per customer)"),
        x2="high:Q",
    )
    points = base.mark_point(filled=True, size=110, color=PALETTE[0]).encode(x="mean_estimate:Q")
    truth = base.mark_tick(color=PALETTE[2], thickness=3, size=30).encode(x="true_diff:Q")
    return (bars + points + truth).properties(title=title, height=110)


def replay_looks(frame: pl.DataFrame, *, title: str) -> alt.FacetChart:
    """Difference and interval at each look of a real experiment, naive next to always-valid.

    Parameters
    ----------
    frame
        Columns ``day, method, diff, ci_low, ci_high, significant`` (from
        :func:`experiments.stats.calibration_results.replay_frame`).
    """
    frame = frame.with_columns(
        pl.when(pl.col("significant")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("significant")
    )
    base = alt.Chart(frame).encode(
        x=alt.X("day:Q", title="days since start"),
        tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("method:N"), alt.Tooltip("diff:Q", format="+.4f"),
                 alt.Tooltip("ci_low:Q", format="+.4f"), alt.Tooltip("ci_high:Q", format="+.4f"),
                 alt.Tooltip("p_value:Q", format=".3f"), alt.Tooltip("significant:N")],
    )
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("ci_low:Q", title="treatment − control (95% interval)"), y2="ci_high:Q",
        color=alt.Color("method:N", scale=_method_scale(frame["method"].to_list()), legend=None),
    )
    line = base.mark_line(color=PALETTE[0]).encode(y="diff:Q")
    dots = base.mark_point(filled=True, size=50).encode(
        y="diff:Q",
        color=alt.Color("significant:N", scale=alt.Scale(domain=["yes", "no"],
                                                         range=[PALETTE[2], PALETTE[0]]),
                        title="significant at this look"),
    )
    zero = alt.Chart(frame).mark_rule(strokeDash=[4, 4], color="black").encode(y=alt.datum(0))
    return (band + line + dots + zero).properties(width=260, height=220).facet(
        column=alt.Column("method:N", title=None, sort=["naive test at each look", "always-valid (mSPRT)"])
    ).properties(title=title)


def capping_tradeoff(summary: pl.DataFrame, *, title: str | list[str]) -> alt.LayerChart:
    """Where the uncapped and capped estimates land on average, how wide their intervals are, against the
    true uncapped difference (red tick) and each one's own estimand (grey tick).

    Parameters
    ----------
    summary
        Columns ``method, true_diff, estimand, bias, mean_width`` (from ``CappingStudy.to_frame()``); plus
        ``relative_bias, variance_ratio, rmse, coverage`` for the tooltip.
    title
        The finding (a list gives several lines).
    """
    frame = summary.with_columns(mean_estimate=pl.col("true_diff") + pl.col("bias")).with_columns(
        low=pl.col("mean_estimate") - pl.col("mean_width") / 2,
        high=pl.col("mean_estimate") + pl.col("mean_width") / 2,
    )
    base = alt.Chart(frame).encode(
        y=alt.Y("method:N", title=None, sort=frame["method"].to_list()),
        tooltip=[alt.Tooltip("method:N"), alt.Tooltip("mean_estimate:Q", format=",.3f"),
                 alt.Tooltip("true_diff:Q", format=",.3f", title="true difference"),
                 alt.Tooltip("estimand:Q", format=",.3f", title="its own estimand"),
                 alt.Tooltip("relative_bias:Q", format="+.1%", title="bias / true difference"),
                 alt.Tooltip("variance_ratio:Q", format=".3f", title="variance / uncapped"),
                 alt.Tooltip("rmse:Q", format=",.3f", title="RMSE"),
                 alt.Tooltip("coverage:Q", format=".1%", title="coverage of its estimand")],
    )
    bars = base.mark_rule(strokeWidth=6, color=PALETTE[1], opacity=0.6).encode(
        x=alt.X("low:Q", title="average estimate ± half the average interval width ($ per customer)"),
        x2="high:Q",
    )
    points = base.mark_point(filled=True, size=110, color=PALETTE[0]).encode(x="mean_estimate:Q")
    own = base.mark_tick(color="grey", thickness=2, size=22).encode(x="estimand:Q")
    truth = base.mark_tick(color=PALETTE[2], thickness=3, size=30).encode(x="true_diff:Q")
    return (bars + points + own + truth).properties(title=title, height=40 * summary.height)


def adjustment_widths(summary: pl.DataFrame, *, title: str) -> alt.LayerChart:
    """Mean interval width of each estimator (bars), labelled with its coverage.

    Parameters
    ----------
    summary
        Columns ``method, mean_width, coverage`` (from ``RegressionStudy.to_frame()``), plus ``ci_low,
        ci_high, width_ratio`` for the tooltip.
    """
    frame = summary.with_columns(
        label=pl.format("coverage {}%", (pl.col("coverage") * 100).round(1)))
    base = alt.Chart(frame).encode(
        y=alt.Y("method:N", title=None, sort=frame["method"].to_list(), axis=alt.Axis(labelLimit=300)),
        x=alt.X("mean_width:Q", title="average 95% interval width ($ per customer)"),
        tooltip=[alt.Tooltip("method:N"), alt.Tooltip("mean_width:Q", format=",.3f"),
                 alt.Tooltip("width_ratio:Q", format=".3f", title="width / unadjusted"),
                 alt.Tooltip("coverage:Q", format=".1%"),
                 alt.Tooltip("ci_low:Q", format=".1%", title="95% low"),
                 alt.Tooltip("ci_high:Q", format=".1%", title="95% high")],
    )
    bars = base.mark_bar(color=PALETTE[1], opacity=0.8)
    text = base.mark_text(align="left", dx=4).encode(text="label:N")
    return (bars + text).properties(title=title, height=40 * summary.height)


def exposure_coverage(summary: pl.DataFrame, *, level: float, title: str) -> alt.LayerChart:
    """Coverage of one truth by several intervals, with Wilson intervals, against the nominal level.

    Parameters
    ----------
    summary
        Columns ``method, coverage, ci_low, ci_high`` (from ``ExposureStudy.to_frame()``).
    level
        The nominal coverage (dashed line).
    """
    base = alt.Chart(summary).encode(
        y=alt.Y("method:N", title=None, sort=summary["method"].to_list(), axis=alt.Axis(labelLimit=300)),
        tooltip=[alt.Tooltip("method:N"), alt.Tooltip("coverage:Q", format=".1%"),
                 alt.Tooltip("ci_low:Q", format=".1%", title="95% low"),
                 alt.Tooltip("ci_high:Q", format=".1%", title="95% high"),
                 alt.Tooltip("mean_width:Q", format=",.3f", title="mean interval width")],
    )
    bars = base.mark_bar(color=PALETTE[1], opacity=0.7).encode(
        x=alt.X("coverage:Q", title="share of intervals holding the effect on the exposed",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")))
    whiskers = base.mark_rule(strokeWidth=2, color=PALETTE[0]).encode(x="ci_low:Q", x2="ci_high:Q")
    rule = alt.Chart(pl.DataFrame({"level": [level]})).mark_rule(strokeDash=[4, 4], color="black").encode(
        x="level:Q")
    return (bars + whiskers + rule).properties(title=title, height=40 * summary.height)
