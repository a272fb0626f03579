"""Text from users (labels, column names, file names, parameter values) made safe for a report page.

HTML text and attributes are escaped with :func:`html.escape` where the markup is written. What this
module adds is for the two other places user text reaches:

- JSON inside a ``<script>`` element (chart specs, the index's data): ``<`` could end the element
  (``</script>``) or open an HTML comment (``<!--``) that swallows the rest of the page, and U+2028 and
  U+2029 end a line in older JavaScript. :func:`script_json` writes them as ``\\u003c`` and so on, which
  JavaScript and ``JSON.parse`` read back unchanged.
- Strings in a chart spec: Vega's expression language (used for custom sort orders) refuses U+2028 and
  U+2029 inside a string literal, so one label holding them stopped its chart from drawing.
  :func:`chart_spec` writes them as spaces.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["LINE_SEPARATORS", "ScriptSafeEncoder", "chart_spec", "script_json", "script_safe"]

#: Characters that must not appear raw in JSON inside a ``<script>`` element.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
#: Line and paragraph separators: line ends to JavaScript and Vega expressions, not to JSON.
LINE_SEPARATORS = ("\u2028", "\u2029")


def script_safe(json_text: str) -> str:
    """JSON text with ``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX`` escapes."""
    for raw, safe in _SCRIPT_ESCAPES.items():
        json_text = json_text.replace(raw, safe)
    return json_text


def script_json(obj: object) -> str:
    """``obj`` as JSON that is safe inside a ``<script>`` element: no user text can end the element,
    open an HTML comment or break a JavaScript line; ``JSON.parse`` and JavaScript read it unchanged."""
    return script_safe(json.dumps(obj, ensure_ascii=False, default=str))


class ScriptSafeEncoder(json.JSONEncoder):
    """A :class:`json.JSONEncoder` whose output is :func:`script_safe` (for ``json.dumps(cls=...)``)."""

    def encode(self, o: Any) -> str:
        """Encode as usual, then escape for a ``<script>`` element."""
        return script_safe(super().encode(o))


def chart_spec(spec: Any) -> Any:
    """A copy of a chart spec whose strings (keys too) hold no line or paragraph separator."""
    if isinstance(spec, str):
        return spec.replace("\u2028", " ").replace("\u2029", " ") if any(
            s in spec for s in LINE_SEPARATORS) else spec
    if isinstance(spec, dict):
        return {chart_spec(k): chart_spec(v) for k, v in spec.items()}
    if isinstance(spec, list | tuple):
        return [chart_spec(v) for v in spec]
    return spec
