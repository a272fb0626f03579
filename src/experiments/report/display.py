"""What notebooks show a strategist: the verdict box, tables and lists, all HTML-escaped.

When a run is made by ``experiments run``, the environment variable ``EXPERIMENTS_RUN_DIR`` names the
run folder and :func:`verdict` also writes ``headline.json`` there, which the report index lists.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import polars as pl
from IPython.display import HTML

from experiments.formatting import money

__all__ = ["RUN_DIR_ENV", "assumptions", "fmt", "table", "verdict"]

RUN_DIR_ENV = "EXPERIMENTS_RUN_DIR"
_TONES = {"good": ("#e8f5e9", "#2e7d32"), "bad": ("#fdecea", "#c62828"), "neutral": ("#eef2f7", "#37474f")}


def fmt(x: float | int | None, kind: str = "number", digits: int = 1) -> str:
    """Format a number for prose: ``kind`` is number, int, pct (a fraction shown as %), pp, money."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "unbounded" if x > 0 else "-unbounded"
    if kind == "int":
        return f"{round(x):,}"
    if kind == "pct":
        return f"{100 * x:.{digits}f}%"
    if kind == "pp":
        return f"{100 * x:+.{digits}f} pp"
    if kind == "money":
        return money(x, max(digits, 2) if abs(x) < 100 else 0)
    return f"{x:,.{digits}f}"


def verdict(
    headline: str,
    *,
    details: Sequence[str] = (),
    tone: Literal["good", "bad", "neutral"] = "neutral",
    numbers: Mapping[str, object] | None = None,
) -> HTML:
    """The verdict box at the top of a report; also records it for the report index.

    Parameters
    ----------
    headline
        One plain sentence with the decision and its main number and interval.
    details
        Short supporting sentences, shown as a list.
    tone
        ``good`` (act), ``bad`` (do not), ``neutral`` (inconclusive).
    numbers
        Key figures recorded beside the headline in ``headline.json``.
    """
    bg, fg = _TONES[tone]
    items = "".join(f"<li>{html.escape(d)}</li>" for d in details)
    box = (
        f'<div class="verdict" style="background:{bg};border-left:6px solid {fg};'
        'padding:14px 18px;margin:6px 0 14px 0;border-radius:4px;font-size:16px;line-height:1.45">'
        f'<div style="font-size:19px;font-weight:600;color:{fg}">{html.escape(headline)}</div>'
        + (f"<ul style='margin:8px 0 0 0'>{items}</ul>" if items else "")
        + "</div>"
    )
    run_dir = os.environ.get(RUN_DIR_ENV)
    if run_dir:
        record = {"headline": headline, "tone": tone, "numbers": dict(numbers or {})}
        Path(run_dir, "headline.json").write_text(json.dumps(record, indent=2, default=str))
    return HTML(box)


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
