"""Open a report in headless Chromium and read back what ran: scripts, charts, sections.

A copy of the page gets a guard script first in ``<head>`` (``alert``, ``confirm`` and ``prompt`` count
their calls instead of blocking) and a probe script last in ``<body>``; after the page's own scripts and
charts have run, the probe writes what it found into a ``<pre>`` that :func:`probe_page` reads back from
the dumped DOM. If hostile text swallowed the end of the page (an unclosed comment or script), the probe
never runs and :func:`probe_page` says so.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import dump_dom

__all__ = ["HOSTILE", "PAYLOADS", "Probe", "probe_page", "source_outline"]

#: Hostile pieces of text, each aimed at one way out of HTML text, an attribute, or JSON in a script.
PAYLOADS: dict[str, str] = {
    "end_script": "</script><script>window.__pwned=1</script>",
    "comment": "<!--",
    "img": '<img src=x onerror="window.__pwned=1">',
    "quotes": "'\"><svg onload=window.__pwned=1>",
    "alert": "<script>alert(1)</script>",
    "separators": "a\u2028b\u2029c",
    "entity": "&lt;b&gt;",
}
#: All of them in one label (no comma, no slash-free requirement: a label, not a file name).
HOSTILE = " ".join(PAYLOADS.values())

_GUARD = """<script>
window.__pwned = 0; window.__alerts = 0; window.__errors = [];
window.alert = window.confirm = window.prompt = function () { window.__alerts += 1; };
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
</script>"""

_PROBE = """<script>
(function () {
  function report() {
    var on = 0;
    document.querySelectorAll('*').forEach(function (el) {
      for (var i = 0; i < el.attributes.length; i++) {
        if (/^on/i.test(el.attributes[i].name)) { on += 1; } } });
    var out = {
      pwned: window.__pwned || 0, alerts: window.__alerts || 0, errors: window.__errors || [],
      headings: Array.prototype.map.call(document.querySelectorAll('h1, h2, h3'),
        function (h) { return h.textContent.trim(); }),
      marks: document.querySelectorAll('canvas.marks, svg.marks').length,
      chart_errors: document.querySelectorAll('.error').length,
      on_attributes: on,
      images: document.querySelectorAll('img[src="x"]').length,
      text: document.body.innerText
    };
    var pre = document.createElement('pre'); pre.id = '__probe'; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener('load', function () { setTimeout(report, 2500); });
})();
</script>"""


@dataclass(frozen=True)
class Probe:
    """What the browser saw."""

    pwned: int
    alerts: int
    errors: list[str]
    headings: list[str]
    marks: int
    chart_errors: int
    on_attributes: int
    images: int
    text: str
    dom: str


def probe_page(chromium: str, page: Path, *, budget_ms: int = 12000) -> Probe:
    """Load a guarded copy of ``page`` in headless Chromium and return what the probe found."""
    source = page.read_text(encoding="utf-8")
    head = re.search(r"<head\b[^>]*>", source, re.I)
    assert head is not None, f"{page.name}: no <head>"
    guarded = source[:head.end()] + _GUARD + source[head.end():]
    cut = guarded.lower().rfind("</body>")
    assert cut >= 0, f"{page.name}: no </body>"
    guarded = guarded[:cut] + _PROBE + guarded[cut:]
    copy = page.with_name(f".probe-{page.name}")
    copy.write_text(guarded, encoding="utf-8")
    try:
        dom = dump_dom(chromium, copy, budget_ms=budget_ms)
    finally:
        copy.unlink()
    found = re.search(r'<pre id="__probe">(.*?)</pre>', dom, re.S)
    assert found is not None, f"{page.name}: the probe at the end of the page never ran (page cut short)"
    out = json.loads(html.unescape(found.group(1)))
    return Probe(dom=dom, **out)


class _Outline(HTMLParser):
    """Headings and chart containers of a page's source, as an HTML parser (not a browser) reads it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[str] = []
        self.charts = 0
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in ("h1", "h2", "h3"):
            self._in, self._text = tag, []
        if tag == "div" and ((attr.get("id") or "").startswith("altair-viz-")
                             or "chart" in (attr.get("class") or "").split()):
            self.charts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self.headings.append(" ".join("".join(self._text).split()))
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)


def source_outline(page: Path) -> tuple[list[str], int]:
    """Headings (h1-h3 text) and the number of chart containers in the page's source."""
    parser = _Outline()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.headings, parser.charts
