"""One-page offline HTML made of escaped HTML fragments and altair charts (vega inlined once)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from experiments.escaping import chart_spec, script_json
from experiments.render.display import assumptions, table, verdict_box
from experiments.render.offline import vega_bundle
from experiments.studies.base import Verdict
from experiments.studies.pages import Heading, Notes, Page, Section, Table

if TYPE_CHECKING:
    import altair as alt

__all__ = ["PAGE_CSS", "page_html", "render_page", "script_json"]

PAGE_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif; max-width: 1040px;
       margin: 0 auto; padding: 16px 28px 40px 28px; color: #222; font-size: 15px; line-height: 1.5; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 28px; }
table.result-table { border-collapse: collapse; margin: 6px 0 14px 0; font-size: 13px; }
table.result-table th, table.result-table td { border-bottom: 1px solid #ddd; padding: 4px 10px;
  text-align: right; white-space: nowrap; }
table.result-table th:first-child, table.result-table td:first-child { text-align: left; }
table.result-table caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 4px; }
.chart { margin: 10px 0 18px 0; }
.muted { color: #666; font-size: 12px; }
"""


def _chart_block(chart: alt.TopLevelMixin, index: int) -> str:
    """A chart's container and the script that draws it; a failure is shown as text, not HTML."""
    spec = script_json(chart_spec(chart.to_dict()))
    return (
        f'<div class="chart" id="chart-{index}"></div>\n'
        f'<script type="text/javascript">vegaEmbed("#chart-{index}", {spec}, {{"mode": "vega-lite"}})'
        '.catch(function (e) { var box = document.createElement("pre"); box.className = "error"; '
        'box.style.color = "red"; box.textContent = String(e); '
        f'document.getElementById("chart-{index}").replaceChildren(box); }});</script>'
    )


def render_page(title: str, blocks: Sequence[str | alt.TopLevelMixin]) -> str:
    """A complete HTML page that opens offline.

    Parameters
    ----------
    title
        Page title (escaped).
    blocks
        HTML fragments, inserted as given (escape user text before), and altair charts, in order;
        the vega bundle is inlined only when there is a chart.
    """
    body = []
    has_chart = any(not isinstance(b, str) for b in blocks)
    script = f"<script type=\"text/javascript\">{vega_bundle()}</script>\n" if has_chart else ""
    for i, block in enumerate(blocks):
        body.append(block if isinstance(block, str) else _chart_block(block, i))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{PAGE_CSS}</style>\n"
        f"{script}</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _block(block: object) -> str | alt.TopLevelMixin:
    if isinstance(block, Heading):
        return f"<h1>{html.escape(block.text)}</h1>"
    if isinstance(block, Section):
        return f"<h2>{html.escape(block.text)}</h2>"
    if isinstance(block, Verdict):
        return verdict_box(block)
    if isinstance(block, Table):
        return table(block.frame, caption=block.caption, formats=block.formats).data
    if isinstance(block, Notes):
        return assumptions(block.lines, title=block.title).data
    return block  # type: ignore[return-value]  # an altair chart


def page_html(page: Page) -> str:
    """The offline HTML of ``page``: headings and text escaped, tables formatted, charts drawn."""
    return render_page(page.title, [_block(b) for b in page.blocks])
