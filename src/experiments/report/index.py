"""``<reports_dir>/index.html``: the first page a strategist opens.

One row per run, newest first: when it ran, the study, the verdict's first sentence in the verdict's
tone, only the parameters that differ from the defaults (every parameter one click away) and the link
to the report. Buttons filter by study (showing the study's question); ticking runs of one study
compares their headline figures side by side. The page is static HTML with a little inline
JavaScript: it opens offline, and every user-supplied text is escaped (HTML text and attributes, and
the JSON the script reads).

The index is rebuilt from the ``run.json`` of every run folder, so it always matches what is on disk
(a failed run, which leaves no folder, never appears) and is written atomically.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from experiments.outputs import atomic_write_text
from experiments.report.standalone import script_json

__all__ = ["collect_runs", "render_index", "write_index"]


def collect_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """``run.json`` of every run under ``reports_dir``, newest first, with ``html`` relative to it."""
    runs = []
    for meta_file in reports_dir.glob("*/*/run.json"):
        if meta_file.parent.name.startswith("."):
            continue
        try:
            meta = json.loads(meta_file.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(meta, dict) or "study" not in meta or "run_id" not in meta:
            continue
        meta["html"] = f"{meta_file.parent.parent.name}/{meta_file.parent.name}/{meta['study']}.html"
        runs.append(meta)
    return sorted(runs, key=lambda m: (str(m.get("started", "")), str(m.get("run_id", ""))), reverse=True)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _value(v: object) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _first_sentence(text: str) -> str:
    from experiments.studies.base import first_sentence

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
    sweep = f"<div class='muted'>sweep {_e(m['sweep_id'])}</div>" if m.get("sweep_id") else ""
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




def render_index(runs: list[dict[str, Any]], questions: dict[str, str] | None = None) -> str:
    """The index page for ``runs`` (as :func:`collect_runs` returns them)."""
    questions = dict(questions or {})
    for m in runs:
        questions.setdefault(m["study"], str(m.get("question", "")))
    counts: dict[str, int] = {}
    for m in runs:
        counts[m["study"]] = counts.get(m["study"], 0) + 1
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
        f"<div class='muted'>{len(runs)} run{'s' if len(runs) != 1 else ''}, newest first. Green: act; "
        "red: do not; grey: not yet clear. Each report opens offline; its folder also holds the executed "
        "notebook and the run's parameters, seed, package versions and git revision.</div>"
        f"<div class='bar'>{buttons}</div><div id='question'></div><div id='compare'></div>{table}"
        f"<h2 style='font-size:16px;margin-top:26px'>The studies</h2><ul class='legend'>{legend}</ul>"
        f"<script type='application/json' id='runs-data'>{script_json(data)}</script>"
        f"<script type='application/json' id='questions-data'>{script_json(questions)}</script>"
        f"<script>{_asset('index.js')}</script>\n</body>\n</html>\n"
    )


def write_index(reports_dir: Path) -> Path:
    """(Re)write ``reports_dir/index.html`` atomically and return its path."""
    page = render_index(collect_runs(reports_dir))
    reports_dir.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(reports_dir / "index.html", page)
