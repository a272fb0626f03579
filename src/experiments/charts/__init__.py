"""Altair chart builders: one function per chart, taking tidy (aggregated) frames, returning a chart.

The house style is one registered theme (:func:`enable_theme`); study modules
(:mod:`experiments.charts.remarketing`, ...) hold the charts of each study.
"""

from __future__ import annotations

import altair as alt

__all__ = ["ARM_COLORS", "PALETTE", "enable_theme"]

PALETTE: list[str] = ["#4c566a", "#2e86ab", "#e07a5f", "#81b29a", "#f2cc8f", "#9c89b8", "#3d405b"]
ARM_COLORS: dict[str, str] = {"holdout": "#8d99ae", "control": "#8d99ae"}


@alt.theme.register("experiments", enable=False)
def _theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "view": {"continuousWidth": 520, "continuousHeight": 260, "stroke": None},
            "font": "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif",
            "title": {"fontSize": 15, "anchor": "start", "fontWeight": 600, "subtitleColor": "#555"},
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "gridColor": "#eee"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12},
            "range": {"category": PALETTE},
        }
    }


def enable_theme() -> None:
    """Use the house theme for every chart made after this call."""
    alt.theme.enable("experiments")


enable_theme()
