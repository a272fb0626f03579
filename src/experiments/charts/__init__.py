"""Altair chart builders: one function per chart, taking tidy (aggregated) frames, returning a chart.

The house style is one registered theme (:func:`enable_theme`); study modules
(:mod:`experiments.charts.remarketing`, ...) hold the charts of each study. Charts shown in a notebook go
through :func:`safe_html_renderer`: altair's own HTML, with the chart's JSON made safe to sit inside a
``<script>`` element, so labels from a data file (``</script>``, ``<!--``) stay data.
"""

from __future__ import annotations

import json
from typing import Any

import altair as alt

__all__ = ["ARM_COLORS", "PALETTE", "enable_theme", "safe_html_renderer"]

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


def safe_html_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """altair's default HTML, with the spec's JSON escaped for a ``<script>`` element.

    altair writes ``json.dumps(spec)`` into a script, where a ``</script>`` or ``<!--`` inside a label
    ends the script or opens a comment. The same JSON with ``<``, ``>`` and ``&`` written as ``\\u003c``,
    ``\\u003e`` and ``\\u0026`` means the same to JavaScript and cannot do either.
    """
    from altair.vegalite.v6.display import html_renderer

    bundle = dict(html_renderer(spec, **metadata))
    raw = json.dumps(spec)
    safe = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    page = bundle.get("text/html", "")
    if raw != safe and raw in page:
        bundle["text/html"] = page.replace(raw, safe)
    return bundle


def enable_theme() -> None:
    """Use the house theme (and the safe HTML renderer) for every chart made after this call."""
    alt.theme.enable("experiments")
    if "experiments" not in alt.renderers.names():
        alt.renderers.register("experiments", safe_html_renderer)
    alt.renderers.enable("experiments")


enable_theme()
