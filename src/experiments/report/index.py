"""``<reports_dir>/index.html``: every successful run with its study, time, key parameters and headline.

The index is rebuilt from the ``run.json`` of every run folder, so it always matches what is on disk
(a failed run, which leaves no folder, never appears) and is written atomically.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from experiments.report.standalone import render_page

__all__ = ["KEY_PARAMS", "collect_runs", "write_index"]

#: Parameters shown in the index when a run has them (overrides are always shown).
KEY_PARAMS: tuple[str, ...] = ("n_customers", "seed", "audience", "channels", "arm_shares", "horizon_weeks")


def collect_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """``run.json`` of every run under ``reports_dir``, newest first."""
    runs = []
    for meta_file in reports_dir.glob("*/*/run.json"):
        if meta_file.parent.name.startswith("."):
            continue
        try:
            meta = json.loads(meta_file.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        meta["_html"] = f"{meta_file.parent.parent.name}/{meta_file.parent.name}/{meta['study']}.html"
        runs.append(meta)
    return sorted(runs, key=lambda m: m.get("run_id", ""), reverse=True)


def _params_text(meta: dict[str, Any]) -> str:
    params, overrides = meta.get("params", {}), meta.get("overrides", {})
    keys = [k for k in KEY_PARAMS if k in params] + [k for k in overrides if k not in KEY_PARAMS]
    return "; ".join(f"{k}={params.get(k)}" for k in keys)


def write_index(reports_dir: Path) -> Path:
    """(Re)write ``reports_dir/index.html`` atomically and return its path."""
    runs = collect_runs(reports_dir)
    rows = []
    for m in runs:
        headline = (m.get("headline") or {}).get("headline", "")
        rows.append(
            "<tr>"
            f"<td>{html.escape(m['study'])}</td>"
            f"<td>{html.escape(m.get('started', ''))}</td>"
            f"<td>{html.escape(_params_text(m))}</td>"
            f"<td style='text-align:left'>{html.escape(headline)}</td>"
            f"<td><a href=\"{html.escape(m['_html'])}\">report</a></td>"
            "</tr>"
        )
    table = (
        "<table class='result-table'><thead><tr><th>study</th><th>time (UTC)</th><th>key parameters</th>"
        "<th style='text-align:left'>headline</th><th></th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>"
    )
    intro = (
        "<h1>Experiment reports</h1>"
        f"<p class='muted'>{len(runs)} run{'s' if len(runs) != 1 else ''}, newest first. "
        "Each report opens offline; its folder also holds the executed notebook and the run's "
        "parameters, seed, package versions and git revision.</p>"
    )
    page = render_page("Experiment reports", [intro, table if runs else "<p>No runs yet.</p>"])
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / "index.html"
    fd, tmp = tempfile.mkstemp(dir=reports_dir, prefix=".index-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(tmp, target)
    return target
