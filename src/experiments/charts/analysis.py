"""Charts of an analysis: effects with their intervals, by arm and metric."""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import polars as pl

from experiments.stats.results import Effect

__all__ = ["effects_chart", "effects_chart_frame"]


def effects_chart_frame(effects: Sequence[Effect], *, relative: bool = True) -> pl.DataFrame:
    """Tidy frame the chart draws: metric, arm, label, estimate, low, high, significant."""
    rows = []
    for e in effects:
        est, lo, hi = ((e.rel_lift, e.rel_ci_low, e.rel_ci_high) if relative
                       else (e.estimate, e.ci_low, e.ci_high))
        if not all(math.isfinite(v) for v in (est, lo, hi)):
            continue
        label = e.arm + (f" [{e.segment}]" if e.segment else "")
        label += " (adjusted)" if "CUPED" in e.method else ""
        rows.append({"metric": e.metric, "arm": e.arm, "label": label, "estimate": est, "low": lo,
                     "high": hi, "significant": "significant" if e.significant else "not significant"})
    schema = {"metric": pl.String, "arm": pl.String, "label": pl.String, "estimate": pl.Float64,
              "low": pl.Float64, "high": pl.Float64, "significant": pl.String}
    return pl.DataFrame(rows, schema=schema)


def effects_chart(
    effects: Sequence[Effect], *, relative: bool = True, title: str | None = None
) -> alt.FacetChart | alt.LayerChart:
    """Point estimate and interval of each effect, one row per arm, one panel per metric.

    ``relative=True`` plots the relative lift (comparable across metrics); otherwise the difference.
    The default title names the largest significant lift.
    """
    data = effects_chart_frame(effects, relative=relative)
    if title is None:
        sig = data.filter(pl.col("significant") == "significant")
        if sig.height:
            top = sig.sort("estimate", descending=True).row(0, named=True)
            amount = f"{top['estimate']:+.0%}" if relative else f"{top['estimate']:+.3g}"
            title = f"{top['label']} lifts {top['metric']} the most ({amount})"
        elif any(e.significant for e in effects):  # significant, but with no lift to draw (control mean 0)
            title = ("Significant effects have no relative lift to draw (control mean 0); see the table"
                     if relative else "Significant effects have no interval to draw; see the table")
        else:
            title = "No arm moved a metric beyond chance"
    fmt = ".0%" if relative else ".3g"
    axis_title = "relative lift vs control" if relative else "difference vs control"
    base = alt.Chart().encode(y=alt.Y("label:N", title=None, sort=None))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title=axis_title, axis=alt.Axis(format=fmt)), x2="high:Q",
        color=alt.Color("significant:N", title=None,
                        scale=alt.Scale(domain=["significant", "not significant"],
                                        range=["#2e86ab", "#8d99ae"])),
    )
    points = base.mark_point(filled=True, size=70).encode(
        x="estimate:Q", color="significant:N",
        tooltip=["metric", "label", alt.Tooltip("estimate:Q", format=fmt),
                 alt.Tooltip("low:Q", format=fmt), alt.Tooltip("high:Q", format=fmt)],
    )
    zero = alt.Chart().mark_rule(color="#444", strokeDash=[4, 3]).encode(x=alt.datum(0))
    layer = alt.layer(bars, points, zero).properties(width=420, height=alt.Step(26))
    if data["metric"].n_unique() > 1:
        return layer.facet(row=alt.Row("metric:N", title=None), data=data).resolve_scale(
            x="independent", y="independent").properties(title=title)
    return layer.properties(data=data, title=title)
