"""What notebooks show a strategist: the verdict box, tables and lists, all HTML-escaped.

:func:`verdict` shows the verdict box and leaves the run record (study, verdict, figures, parameters)
in the executed notebook as a display output of its own mimetype, where ``experiments run``, the index
and sweeps read it back (nothing travels through environment variables or side files).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from IPython.display import HTML

from experiments.formatting import fmt
from experiments.studies.base import RECORD_MIME, Verdict, record

if TYPE_CHECKING:
    import polars as pl

    from experiments.scenarios.base import Scenario
    from experiments.studies.base import Study, StudyResult

__all__ = ["Shown", "assumptions", "table", "verdict", "verdict_box"]

_TONES = {"good": ("#e8f5e9", "#2e7d32"), "bad": ("#fdecea", "#c62828"), "neutral": ("#eef2f7", "#37474f")}


def verdict_box(v: Verdict) -> str:
    """The verdict as an escaped HTML box: the headline in the tone's colour, details as a list."""
    bg, fg = _TONES[v.tone]
    items = "".join(f"<li>{html.escape(d)}</li>" for d in v.details)
    return (
        f'<div class="verdict" data-tone="{v.tone}" style="background:{bg};border-left:6px solid {fg};'
        'padding:14px 18px;margin:6px 0 14px 0;border-radius:4px;font-size:16px;line-height:1.45">'
        f'<div style="font-size:19px;font-weight:600;color:{fg}">{html.escape(v.headline)}</div>'
        + (f"<ul style='margin:8px 0 0 0'>{items}</ul>" if items else "")
        + "</div>"
    )


class Shown:
    """A display output with the verdict box as HTML and the run record under its own mimetype."""

    def __init__(self, box: str, data: Mapping[str, Any]) -> None:
        self.box, self.data = box, dict(data)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/html": self.box, "text/plain": "verdict", RECORD_MIME: self.data}


def verdict(study: Study, result: StudyResult, scenario: Scenario | None = None) -> Shown:
    """The verdict box at the top of a report, carrying the run record for the runner and the index."""
    return Shown(verdict_box(result.verdict()), record(study.name, result, scenario))


def table(
    frame: pl.DataFrame, *, caption: str | None = None, formats: Mapping[str, str] | None = None
) -> HTML:
    """A small frame as an HTML table; ``formats`` maps a column to a :func:`fmt` kind."""
    formats = dict(formats or {})
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for col, value in row.items():
            text = fmt(value, formats[col]) if col in formats else (
                fmt(value, "number", 3) if isinstance(value, float) else str(value)
            )
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return HTML(
        f'<table class="result-table">{cap}<thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
    )


def assumptions(items: Sequence[str], *, title: str = "Assumptions") -> HTML:
    """A titled bullet list (assumptions, caveats, data checks)."""
    lis = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    return HTML(f"<h3>{html.escape(title)}</h3><ul>{lis}</ul>")
