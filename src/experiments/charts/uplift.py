"""Charts of uplift models and targeting policies. Each takes a small tidy frame and a title that states
the finding; none computes anything but the layout.

Used by ``experiments uplift`` (one ranking), the targeting study (several rankings beside the truth)
and the Hillstrom section of the real-experiment study.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import altair as alt
import polars as pl

from experiments.charts import PALETTE

__all__ = [
    "budget_curve", "picked_by_group", "profit_by_delay", "profit_by_share", "qini_curves", "uplift_by_bin",
]

_WIDTH, _HEIGHT = 520, 280
#: Characters per line of a chart title: a longer title is wrapped, so that it never makes the chart wider
#: than the page (a report scales such a chart down, axes and all).
_TITLE_CHARS = 80
#: Colour of a ranking that is not named in ``colors``; random is always grey.
_RANDOM = "#9aa0a6"


def _lines(text: str | Sequence[str], width: int) -> list[str]:
    parts = [text] if isinstance(text, str) else list(text)
    return [line for part in parts for line in textwrap.wrap(part, width) or [""]]


def _title(title: str, subtitle: str | Sequence[str] | None) -> alt.TitleParams:
    lines = _lines(title, _TITLE_CHARS)
    text: str | list[str] = lines[0] if len(lines) == 1 else lines
    if subtitle is None:
        return alt.TitleParams(text)
    return alt.TitleParams(text, subtitle=_lines(subtitle, int(_TITLE_CHARS * 1.3)))


def _color_scale(names: list[str]) -> alt.Scale:
    colours, k = [], 1
    for name in names:
        if name == "random":
            colours.append(_RANDOM)
        else:
            colours.append(PALETTE[k % len(PALETTE)])
            k += 1
    return alt.Scale(domain=names, range=colours)


def qini_curves(
    frame: pl.DataFrame, *, title: str, y_title: str, subtitle: str | Sequence[str] | None = None
) -> alt.Chart:
    """Qini curves of several rankings (and ``random``), against the share of customers treated.

    Parameters
    ----------
    frame
        Columns ``share`` (0 to 1), ``value`` (incremental outcome among the first ``share``) and
        ``ranking`` (the curve's name; ``random`` is drawn grey and dashed). At most a few hundred rows.
    """
    names = list(dict.fromkeys(frame["ranking"].to_list()))
    data = frame.with_columns((pl.col("ranking") == "random").alias("is_random"))
    return alt.Chart(data, title=_title(title, subtitle)).mark_line().encode(
        x=alt.X("share:Q", title="share of customers treated (highest scores first)",
                axis=alt.Axis(format="%")),
        y=alt.Y("value:Q", title=y_title),
        color=alt.Color("ranking:N", title=None, scale=_color_scale(names), sort=names,
                        legend=alt.Legend(orient="bottom", columns=3)),
        strokeDash=alt.StrokeDash("is_random:N", legend=None,
                                  scale=alt.Scale(domain=[False, True], range=[[1, 0], [5, 4]])),
        tooltip=["ranking:N", alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("value:Q", format=",.1f")],
    ).properties(width=_WIDTH, height=_HEIGHT)


def uplift_by_bin(
    frame: pl.DataFrame, *, title: str, y_title: str, subtitle: str | Sequence[str] | None = None
) -> alt.LayerChart:
    """Uplift (treated minus control mean) per bin of predicted uplift, with intervals.

    Parameters
    ----------
    frame
        Columns ``bin`` (1 = highest predicted uplift), ``estimate``, ``ci_low``, ``ci_high``,
        ``n_treatment`` and ``n_control``.
    """
    base = alt.Chart(frame).encode(x=alt.X("bin:O", title="bin of predicted uplift (1 = highest)"))
    bars = base.mark_bar(color="#2e86ab", opacity=0.8).encode(
        y=alt.Y("estimate:Q", title=y_title),
        tooltip=["bin", alt.Tooltip("estimate:Q", format="+.4g"), alt.Tooltip("ci_low:Q", format="+.4g"),
                 alt.Tooltip("ci_high:Q", format="+.4g"), "n_treatment", "n_control"])
    rules = base.mark_rule(color="#333").encode(y="ci_low:Q", y2="ci_high:Q")
    return alt.layer(bars, rules, title=_title(title, subtitle)).properties(width=_WIDTH, height=260)


def profit_by_share(
    frame: pl.DataFrame,
    *,
    title: str,
    y_title: str = "incremental profit per 1,000 customers ($)",
    subtitle: str | Sequence[str] | None = None,
    chosen_share: float | None = None,
) -> alt.LayerChart:
    """Profit against the share treated, per ranking: estimated (with its interval band) and true.

    Parameters
    ----------
    frame
        Columns ``share``, ``ranking``, ``kind`` (``estimated`` or ``true``), ``profit``, ``low`` and
        ``high`` (the interval of estimated rows; null for true ones).
    chosen_share
        Draws a vertical rule at the share a policy treats.
    """
    names = list(dict.fromkeys(frame["ranking"].to_list()))
    scale = _color_scale(names)
    kinds = [k for k in ("estimated", "true") if k in set(frame["kind"].to_list())]
    base = alt.Chart(frame).encode(
        x=alt.X("share:Q", title="share of customers treated (highest scores first)",
                axis=alt.Axis(format="%")))
    legend = alt.Legend(orient="bottom", columns=2, labelLimit=320)
    band = base.transform_filter(alt.datum.kind == "estimated").mark_area(opacity=0.15).encode(
        y=alt.Y("low:Q", title=y_title), y2="high:Q",
        color=alt.Color("ranking:N", title=None, scale=scale, sort=names, legend=legend))
    line = base.mark_line().encode(
        y=alt.Y("profit:Q", title=y_title),
        color=alt.Color("ranking:N", title=None, scale=scale, sort=names, legend=legend),
        strokeDash=alt.StrokeDash("kind:N", title=None, sort=kinds,
                                  scale=alt.Scale(domain=kinds, range=[[1, 0], [5, 3]][: len(kinds)]),
                                  legend=alt.Legend(orient="bottom") if len(kinds) > 1 else None),
        detail="kind:N",
        tooltip=["ranking:N", "kind:N", alt.Tooltip("share:Q", format=".0%"),
                 alt.Tooltip("profit:Q", format=",.2f"), alt.Tooltip("low:Q", format=",.2f"),
                 alt.Tooltip("high:Q", format=",.2f")])
    zero = alt.Chart().mark_rule(color="#444", strokeDash=[4, 3]).encode(y=alt.datum(0))
    layers: list[alt.Chart] = [band, line, zero]
    if chosen_share is not None:
        layers.append(alt.Chart().mark_rule(color="#e07a5f", strokeDash=[2, 2]).encode(
            x=alt.datum(float(chosen_share))))
    return alt.layer(*layers, title=_title(title, subtitle)).properties(width=_WIDTH, height=_HEIGHT)


def picked_by_group(frame: pl.DataFrame, *, title: str, subtitle: str | Sequence[str] | None = None
                    ) -> alt.Chart:
    """Share of each uplift group that each policy treats, as grouped bars.

    Parameters
    ----------
    frame
        Columns ``policy``, ``uplift_group`` and ``share_of_group`` (treated / customers of the group),
        plus ``customers`` for the tooltip.
    """
    policies = list(dict.fromkeys(frame["policy"].to_list()))
    groups = list(dict.fromkeys(frame["uplift_group"].to_list()))
    return alt.Chart(frame, title=_title(title, subtitle)).mark_bar().encode(
        x=alt.X("share_of_group:Q", title="share of the group treated", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("policy:N", title=None, sort=policies, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("policy:N", title=None, sort=policies, legend=None,
                        scale=alt.Scale(domain=policies, range=PALETTE[1:1 + len(policies)])),
        row=alt.Row("uplift_group:N", title=None, sort=groups,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
        tooltip=["uplift_group:N", "policy:N", alt.Tooltip("share_of_group:Q", format=".1%"),
                 alt.Tooltip("customers:Q", format=",")],
    ).properties(width=420, height=22 * len(policies))


def profit_by_delay(frame: pl.DataFrame, *, title: str, subtitle: str | Sequence[str] | None = None,
                    chosen_hours: float | None = None) -> alt.LayerChart:
    """True profit against the delay from the visit to the first touch.

    Parameters
    ----------
    frame
        Columns ``hours`` and ``profit`` (per 1,000 customers).
    chosen_hours
        Marks the scenario's delay.
    """
    base = alt.Chart(frame).encode(x=alt.X("hours:Q", title="hours from the visit to the first touch"))
    line = base.mark_line(point=True, color=PALETTE[1]).encode(
        y=alt.Y("profit:Q", title="true incremental profit per 1,000 customers ($)"),
        tooltip=[alt.Tooltip("hours:Q", format=",.0f"), alt.Tooltip("profit:Q", format=",.2f")])
    zero = alt.Chart().mark_rule(color="#444", strokeDash=[4, 3]).encode(y=alt.datum(0))
    layers: list[alt.Chart] = [line, zero]
    if chosen_hours is not None:
        layers.append(alt.Chart().mark_rule(color="#e07a5f", strokeDash=[2, 2]).encode(
            x=alt.datum(float(chosen_hours))))
    return alt.layer(*layers, title=_title(title, subtitle)).properties(width=_WIDTH, height=260)


def budget_curve(frame: pl.DataFrame, *, title: str, subtitle: str | Sequence[str] | None = None,
                 chosen_budget: float | None = None,
                 x_title: str = "budget: spend per 1,000 customers ($)") -> alt.LayerChart:
    """Profit of the best-offer policy as the budget grows: estimated (95% band), true, and the oracle's.

    Parameters
    ----------
    frame
        Columns ``budget``, ``estimate``, ``ci_low``, ``ci_high`` and, on simulated data, ``truth`` and
        ``oracle`` (per 1,000); the lines of absent columns are left out.
    chosen_budget
        Draws a vertical rule at the scenario's budget.
    """
    none = (pl.lit(None, pl.Float64).alias("ci_low"), pl.lit(None, pl.Float64).alias("ci_high"))
    parts = [frame.select("budget", pl.lit("model policy, estimated").alias("line"),
                          pl.col("estimate").alias("profit"), "ci_low", "ci_high")]
    names = ["model policy, estimated"]
    for column, name in (("truth", "model policy, true"), ("oracle", "oracle, true")):
        if column in frame.columns:
            parts.append(frame.select("budget", pl.lit(name).alias("line"), pl.col(column).alias("profit"),
                                      *none))
            names.append(name)
    long = pl.concat(parts)
    scale = _color_scale(names)
    y_title = "incremental profit per 1,000 customers ($)"
    base = alt.Chart(long).encode(x=alt.X("budget:Q", title=x_title))
    band = base.transform_filter(alt.datum.line == names[0]).mark_area(opacity=0.15).encode(
        y=alt.Y("ci_low:Q", title=y_title), y2="ci_high:Q",
        color=alt.Color("line:N", scale=scale, title=None))
    line = base.mark_line().encode(
        y=alt.Y("profit:Q", title=y_title),
        color=alt.Color("line:N", title=None, scale=scale, sort=names, legend=alt.Legend(orient="bottom")),
        tooltip=["line:N", alt.Tooltip("budget:Q", format=",.0f"), alt.Tooltip("profit:Q", format=",.0f"),
                 alt.Tooltip("ci_low:Q", format=",.0f"), alt.Tooltip("ci_high:Q", format=",.0f")])
    layers: list[alt.Chart] = [band, line]
    if chosen_budget is not None:
        layers.append(alt.Chart().mark_rule(color="#e07a5f", strokeDash=[2, 2]).encode(
            x=alt.datum(float(chosen_budget))))
    return alt.layer(*layers, title=_title(title, subtitle)).properties(width=_WIDTH, height=_HEIGHT)
