"""Altair chart builders: one function per chart, taking tidy (aggregated) frames, returning a chart.

The house style is one registered theme (:func:`enable_theme`); study modules
(:mod:`experiments.charts.remarketing`, ...) hold the charts of each study. Charts shown in a notebook go
through :func:`safe_html_renderer`: altair's own HTML, with the chart's JSON made safe to sit inside a
``<script>`` element, so labels from a data file (``</script>``, ``<!--``, U+2028) stay data.
"""

from __future__ import annotations

from typing import Any

import altair as alt
from altair.vegalite.v6.display import html_renderer

from experiments.escaping import ScriptSafeEncoder, chart_spec

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


#: altair's loader shows a failure by writing the error message into the page as HTML; the message can
#: quote chart data, so it is written as text instead.
_ALTAIR_SHOW_ERROR = 'outputDiv.innerHTML = `<div class="error" style="color:red;">${err}</div>`;'
_TEXT_SHOW_ERROR = ('var box = document.createElement("div"); box.className = "error"; '
                    'box.style.color = "red"; box.textContent = String(err); outputDiv.replaceChildren(box);')


def safe_html_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """altair's default HTML, with the spec's JSON escaped for a ``<script>`` element.

    altair writes ``json.dumps(spec)`` into a script, where a ``</script>`` or ``<!--`` inside a label
    ends the script or opens a comment. Here the JSON is written by
    :class:`~experiments.escaping.ScriptSafeEncoder` (``<``, ``>``, ``&``, U+2028 and U+2029 as
    ``\\uXXXX``, which mean the same to JavaScript), the spec's strings hold no line separator (which
    stops Vega's expressions), and a chart that fails to draw shows its error as text, not HTML.
    """
    json_kwds = {**metadata.pop("json_kwds", {}), "cls": ScriptSafeEncoder}
    bundle = dict(html_renderer(chart_spec(spec), json_kwds=json_kwds, **metadata))
    bundle["text/html"] = bundle.get("text/html", "").replace(_ALTAIR_SHOW_ERROR, _TEXT_SHOW_ERROR)
    return bundle


def enable_theme() -> None:
    """Use the house theme (and the safe HTML renderer) for every chart made after this call."""
    alt.theme.enable("experiments")
    if "experiments" not in alt.renderers.names():
        alt.renderers.register("experiments", safe_html_renderer)
    alt.renderers.enable("experiments")


enable_theme()
