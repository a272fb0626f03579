"""``<reports_dir>/index.html``: the first page a strategist opens.

One row per run, newest first: when it ran, the study, the verdict's first sentence in the verdict's
tone, only the parameters that differ from the defaults (every parameter one click away) and the link
to the report. Buttons filter by study (showing the study's question); ticking runs of one study
compares their headline figures side by side. The page is static HTML with a little inline
JavaScript: it opens offline, and every user-supplied text is escaped (HTML text and attributes, and
the JSON the script reads).

Sweeps are listed below the runs: when, the study, the grid, the best point and the link to the sweep
report; the study buttons filter them too.

This module draws the page from the records it is given; :mod:`experiments.runs.index_file` reads
them from the run registry and writes the page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from experiments.render.page import script_json
from experiments.studies.base import first_sentence

__all__ = ["render_index"]

def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _value(v: object) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _first_sentence(text: str) -> str:
    return first_sentence(text)


def _row(m: dict[str, Any], index: int) -> str:
    head = m.get("headline") or {}
    headline = head.get("headline") or "(no verdict recorded)"
    tone = head.get("tone") if head.get("tone") in ("good", "bad", "neutral") else "neutral"
    changed = m.get("changed")
    if changed is None:
        changed = m.get("overrides") or {}
    params = m.get("params") or {}
    chips = "".join(f"<span class='chip'>{_e(k)} = {_e(_value(v))}</span>" for k, v in changed.items())
    chips = chips or "<span class='muted'>defaults</span>"
    everything = "".join(f"<tr><td>{_e(k)}</td><td>{_e(_value(v))}</td></tr>" for k, v in params.items())
    started = str(m.get("started", "")).replace("T", " ").replace("+00:00", " UTC")
    sweep = ""
    if m.get("sweep_id"):
        href = f"{m['study']}/sweeps/{m['sweep_id']}/sweep.html"
        sweep = (f"<div class='muted'><a href='{_e(href)}' title='sweep {_e(m['sweep_id'])}'>in a sweep</a>"
                 "</div>")
    return (
        f"<tr class='run tone-{tone}' data-study='{_e(m['study'])}' data-index='{index}'>"
        f"<td class='pick'><input type='checkbox' aria-label='compare this run' data-index='{index}'></td>"
        f"<td class='when'>{_e(started)}{sweep}</td>"
        f"<td class='study' title='{_e(m.get('question', ''))}'>{_e(m['study'].replace('_', ' '))}</td>"
        f"<td class='verdict'><span class='dot'></span>{_e(_first_sentence(headline))}</td>"
        f"<td class='params'>{chips}<details><summary>all {len(params)} parameters</summary>"
        f"<table class='all'>{everything}</table></details></td>"
        f"<td class='link'><a href='{_e(m['html'])}'>Open report</a></td></tr>"
    )


_ASSETS = Path(__file__).resolve().parent / "templates" / "index"


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")




def _grid_words(grid: dict[str, Any]) -> str:
    parts = []
    for name, values in grid.items():
        values = list(values) if isinstance(values, list) else [values]
        parts.append(f"{name}: " + ", ".join(_value(v) for v in values))
    return " × ".join(parts)


def _sweep_row(s: dict[str, Any]) -> str:
    best = s.get("best") or {}
    tone = best.get("tone") if best.get("tone") in ("good", "bad", "neutral") else "neutral"
    started = str(s.get("started", "")).replace("T", " ").replace("+00:00", " UTC")
    n, failed = len(s.get("points") or []), int(s.get("failed") or 0)
    count = f"{n} point{'s' if n != 1 else ''}" + (f", {failed} failed" if failed else "")
    fixed = s.get("fixed") or {}
    fixed_chips = "".join(f"<span class='chip'>{_e(k)} = {_e(_value(v))}</span>" for k, v in fixed.items())
    return (
        f"<tr class='sweep tone-{tone}' data-study='{_e(s['study'])}'>"
        f"<td class='when'>{_e(started)}</td>"
        f"<td class='study' title='{_e(s.get('question', ''))}'>{_e(str(s['study']).replace('_', ' '))}</td>"
        f"<td class='verdict'><span class='dot'></span>{_e(best.get('sentence') or 'no point finished')}</td>"
        f"<td class='params'>{_e(_grid_words(s.get('grid') or {}))}<div class='muted'>{_e(count)}</div>"
        f"{fixed_chips}</td>"
        f"<td class='link'><a href='{_e(s['html'])}'>Open sweep</a></td></tr>"
    )


def _sweeps_table(sweeps: list[dict[str, Any]]) -> str:
    if not sweeps:
        return ""
    rows = "".join(_sweep_row(s) for s in sweeps)
    return (
        "<h2 id='sweeps' style='font-size:16px;margin-top:26px'>Sweeps</h2>"
        "<div class='muted'>Each sweep runs one study over a grid of parameter values; its report plots the "
        "headline figures against each swept parameter and names the best point.</div>"
        "<table class='runs sweeps'><colgroup><col class='when'><col class='study'><col class='verdict'>"
        "<col class='params'><col class='link'></colgroup><thead><tr><th>ran (UTC)</th><th>study</th>"
        f"<th>best point</th><th>grid</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_index(runs: list[dict[str, Any]], questions: dict[str, str] | None = None,
                 sweeps: list[dict[str, Any]] | None = None) -> str:
    """The index page for ``runs`` and ``sweeps`` (as :func:`collect_runs` and :func:`collect_sweeps`
    return them)."""
    questions = dict(questions or {})
    sweeps = list(sweeps or [])
    for m in [*runs, *sweeps]:
        questions.setdefault(m["study"], str(m.get("question", "")))
    counts: dict[str, int] = {}
    for m in runs:
        counts[m["study"]] = counts.get(m["study"], 0) + 1
    for m in sweeps:
        counts.setdefault(m["study"], 0)
    buttons = f"<button data-study='all'>All studies ({len(runs)})</button>" + "".join(
        f"<button data-study='{_e(s)}' title='{_e(questions.get(s, ''))}'>{_e(s.replace('_', ' '))} "
        f"({n})</button>" for s, n in counts.items())
    rows = "".join(_row(m, i) for i, m in enumerate(runs))
    data = [{"study": m["study"], "started": str(m.get("started", "")).replace("T", " ")[:16],
             "changed": ", ".join(f"{k}={_value(v)}" for k, v in (m.get("changed") or {}).items())
             or "defaults",
             "figures": (m.get("headline") or {}).get("figures") or []} for m in runs]
    legend = "".join(f"<li><b>{_e(s.replace('_', ' '))}</b>: {_e(q)}</li>" for s, q in questions.items())
    table = (
        "<table class='runs'><colgroup><col class='pick'><col class='when'><col class='study'>"
        "<col class='verdict'><col class='params'><col class='link'></colgroup><thead><tr><th></th>"
        "<th>ran (UTC)</th><th>study</th><th>verdict</th><th>changed from the defaults</th><th></th></tr>"
        f"</thead><tbody>{rows}</tbody></table>" if runs
        else "<p>No runs yet: <code>experiments run --all</code>.</p>"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1.0'>\n"
        f"<title>Experiment reports</title>\n<style>{_asset('index.css')}</style>\n</head>\n<body>\n"
        "<h1>Experiment reports</h1>"
        f"<div class='muted'>{len(runs)} run{'s' if len(runs) != 1 else ''}, newest first"
        + (f" ({len(sweeps)} sweep{'s' if len(sweeps) != 1 else ''} <a href='#sweeps'>below</a>)"
           if sweeps else "")
        + ". Green: act; "
        "red: do not; grey: not yet clear. Each report opens offline; its folder also holds the executed "
        "notebook and the run's parameters, seed, package versions and git revision.</div>"
        f"<div class='bar'>{buttons}</div><div id='question'></div><div id='compare'></div>{table}"
        f"{_sweeps_table(sweeps)}"
        f"<h2 style='font-size:16px;margin-top:26px'>The studies</h2><ul class='legend'>{legend}</ul>"
        f"<script type='application/json' id='runs-data'>{script_json(data)}</script>"
        f"<script type='application/json' id='questions-data'>{script_json(questions)}</script>"
        f"<script>{_asset('index.js')}</script>\n</body>\n</html>\n"
    )
