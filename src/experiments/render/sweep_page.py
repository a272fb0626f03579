"""The sweep report, ``sweep.html``: one offline page that states the best point first.

From the top: the verdict (the best point by the study's sweep figure, with its interval and truth, in
the tone of that run's own verdict), then for each swept parameter one chart of every headline figure
against it (estimate, 95% interval and, for simulated studies, the truth; one colour per group, one
column per value of the other swept parameters), the grid as a table with a link to each run's report,
and the sweep's settings. Everything is built from ``sweep.json`` (the runs' records), escaped, and drawn
with :func:`~experiments.render.page.render_page` (vega inlined once, no network).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

import experiments.charts  # noqa: F401 (the house theme)
from experiments.formatting import unit_value_or_na as num
from experiments.render.page import render_page
from experiments.studies.base import first_sentence

__all__ = ["best_sentence", "figure_rows", "render_sweep", "sweep_chart"]

_TONES = {"good": ("#e8f5e9", "#2e7d32"), "bad": ("#fdecea", "#c62828"), "neutral": ("#eef2f7", "#37474f")}
#: Most columns (combinations of the other swept values) a chart facets into (what fits the page's width);
#: beyond, the combinations share one panel, one line each.
_MAX_COLUMNS = 3


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _v(value: Any) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, bool) else f"{value:g}" if (
        isinstance(value, float)) else str(value)


def _title(f: Mapping[str, Any]) -> str:
    """A figure's label without its group: ``Incremental profit (dynamic)`` → ``Incremental profit``."""
    label, group = str(f.get("label") or f.get("name")), str(f.get("group") or "")
    suffix = f" ({group})"
    return label[: -len(suffix)] if group and label.endswith(suffix) else label


def _point_words(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {_v(v)}" for k, v in point.items())


def best_sentence(best: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """One sentence naming the best point, its figure, interval and truth."""
    f = best["figure"]
    unit = str(f.get("unit") or "")
    interval = ""
    if f.get("ci_low") is not None and f.get("ci_high") is not None:
        interval = f" (95% interval {num(f['ci_low'], unit)} to {num(f['ci_high'], unit)})"
    truth = f"; truth {num(f['truth'], unit)}" if f.get("truth") is not None else ""
    n = len(meta.get("points") or [])
    points = f"{n} point{'s' if n != 1 else ''}"
    ranked = best.get("ranked_words") or _ranked_words(meta) or _title(f).lower()
    return (f"Best of {points} by {ranked}: {_point_words(best['point'])}, "
            f"with {f.get('label')} {num(f.get('estimate'), unit)}{interval}{truth}.")


def _ranked_words(meta: Mapping[str, Any]) -> str:
    """What the sweep ranks by, in words (the study's sweep figure: label, name and group)."""
    words = meta.get("ranked_by")
    if isinstance(words, str) and words:
        return words
    figure = meta.get("sweep_figure")
    if isinstance(figure, Mapping):
        return str(figure.get("label") or figure.get("name") or "")
    return str(figure or "")


def _ranked_name(meta: Mapping[str, Any]) -> str | None:
    """The ranked figure's name: the best point's, else the study's declaration."""
    best = (meta.get("best") or {}).get("figure") or {}
    if best.get("name"):
        return str(best["name"])
    figure = meta.get("sweep_figure")
    return str(figure.get("name")) if isinstance(figure, Mapping) else figure


def figure_rows(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (finished point, figure): the swept values, the figure's numbers and labels."""
    rows = []
    axes = list((meta.get("grid") or {}).keys())
    for p in meta.get("points") or []:
        if p.get("error"):
            continue
        for f in (p.get("headline") or {}).get("figures") or []:
            row = {f"axis:{a}": p["point"].get(a) for a in axes}
            row.update({"figure": _title(f) + (f" ({f['unit']})" if f.get("unit") else ""),
                        "name": f.get("name"), "group": f.get("group") or "all",
                        "estimate": f.get("estimate"), "ci_low": f.get("ci_low"), "ci_high": f.get("ci_high"),
                        "truth": f.get("truth"), "point": _point_words(p["point"])})
            rows.append(row)
    return rows


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def sweep_chart(meta: Mapping[str, Any], axis: str) -> Any:
    """Every headline figure against the swept parameter ``axis``: estimate, interval and truth.

    One row per figure (own y scale), one colour per group, one column per combination of the other
    swept values (up to three; beyond, all combinations share a panel, one line each).
    """
    grid = meta.get("grid") or {}
    others = [a for a in grid if a != axis]
    rows = figure_rows(meta)
    combos = 1
    for a in others:
        combos *= len(grid[a])
    for r in rows:
        r["x"] = r[f"axis:{axis}"] if _numeric(grid[axis]) else _v(r[f"axis:{axis}"])
        r["others"] = ", ".join(f"{a} = {_v(r[f'axis:{a}'])}" for a in others) or "all"
    data = alt.Data(values=[{k: v for k, v in r.items() if not k.startswith("axis:")} for r in rows])
    kind = "Q" if _numeric(grid[axis]) else "O"
    x = alt.X(f"x:{kind}", title=axis, sort=[_v(v) for v in grid[axis]] if kind == "O" else None,
              scale=alt.Scale(zero=False, nice=False, padding=12) if kind == "Q" else alt.Undefined)
    color = alt.Color("group:N", title="group")
    tooltip = [alt.Tooltip("point:N", title="point"), alt.Tooltip("group:N"),
               alt.Tooltip("estimate:Q", format=",.4g"),
               alt.Tooltip("ci_low:Q", format=",.4g", title="95% low"),
               alt.Tooltip("ci_high:Q", format=",.4g", title="95% high"),
               alt.Tooltip("truth:Q", format=",.4g")]
    base = alt.Chart(data)
    bars = base.mark_rule(opacity=0.6).encode(x=x, y=alt.Y("ci_low:Q", title=None), y2="ci_high:Q",
                                              color=color)
    line = base.mark_line(opacity=0.5).encode(x=x, y="estimate:Q", color=color,
                                              detail="others:N" if combos > _MAX_COLUMNS else alt.Undefined)
    dots = base.mark_point(filled=True, size=45).encode(x=x, y="estimate:Q", color=color, tooltip=tooltip)
    truth = base.mark_point(shape="cross", size=55, color="black", opacity=0.7, strokeWidth=1)
    truth = truth.transform_filter("isValid(datum.truth)").encode(x=x, y="truth:Q", tooltip=tooltip)
    width = 360 if combos == 1 or combos > _MAX_COLUMNS else {2: 230, 3: 170}[combos]
    layer = alt.layer(bars, line, dots, truth).properties(width=width, height=130)
    order = list(dict.fromkeys(r["figure"] for r in rows))  # as the study lists them, the ranked one first
    ranked = _ranked_name(meta)
    order.sort(key=lambda label: 0 if any(r["figure"] == label and r["name"] == ranked for r in rows) else 1)
    facet = {"row": alt.Row("figure:N", title=None, sort=order,
                            header=alt.Header(labelAngle=0, labelAlign="left"))}
    if others and combos <= _MAX_COLUMNS:
        columns = [", ".join(f"{a} = {_v(v)}" for a, v in zip(others, values, strict=True))
                   for values in itertools.product(*(grid[a] for a in others))]
        facet["column"] = alt.Column("others:N", title=None, sort=columns)
    chart = layer.facet(**facet).resolve_scale(y="independent")
    return chart.properties(title=_chart_title(meta, axis))


def _chart_title(meta: Mapping[str, Any], axis: str) -> str:
    """The finding: where the sweep figure is highest along ``axis`` (its mean over the other points)."""
    best = meta.get("best")
    if not best:
        return f"Headline figures against {axis}"
    name = best["figure"]["name"]
    sums: dict[Any, list[float]] = {}
    for p in meta.get("points") or []:
        for f in (p.get("headline") or {}).get("figures") or [] if not p.get("error") else []:
            if f.get("name") == name and isinstance(f.get("estimate"), (int, float)):
                sums.setdefault(p["point"][axis], []).append(float(f["estimate"]))
    if not sums:
        return f"Headline figures against {axis}"
    top = max(sums, key=lambda v: sum(sums[v]) / len(sums[v]))
    label = _title(best["figure"]).lower()
    return f"On average over the other points, {label} is highest at {axis} = {_v(top)}"


def _verdict_box(meta: Mapping[str, Any]) -> str:
    best = meta.get("best")
    n, failed = len(meta.get("points") or []), int(meta.get("failed") or 0)
    if best is None:
        bg, fg = _TONES["bad"]
        head, details = "No point of the sweep finished.", []
    else:
        bg, fg = _TONES.get(best.get("tone"), _TONES["neutral"])
        head = best.get("sentence") or best_sentence(best, meta)
        details = []
        name = best["figure"]["name"]
        pairs = [f for p in meta["points"] if not p.get("error")
                 for f in (p.get("headline") or {}).get("figures") or [] if f.get("name") == name]
        with_truth = [f for f in pairs if f.get("truth") is not None and f.get("ci_low") is not None]
        if with_truth:
            covered = sum(1 for f in with_truth if f["ci_low"] <= f["truth"] <= f["ci_high"])
            details.append(f"The 95% intervals of {_title(best['figure']).lower()} held the true value at "
                           f"{covered} of {len(with_truth)} points and groups.")
        run = (best.get("headline_text") or "").strip()
        if run:
            details.append(run)
    if failed:
        details.append(f"{failed} of {n} points failed; they are listed in the table.")
    items = "".join(f"<li>{_e(d)}</li>" for d in details)
    return (f'<div class="verdict" style="background:{bg};border-left:6px solid {fg};padding:14px 18px;'
            f'margin:6px 0 14px 0;border-radius:4px;font-size:16px;line-height:1.45">'
            f'<div style="font-size:19px;font-weight:600;color:{fg}">{_e(head)}</div>'
            + (f"<ul style='margin:8px 0 0 0'>{items}</ul>" if items else "") + "</div>")


def _table(meta: Mapping[str, Any]) -> str:
    axes = list((meta.get("grid") or {}).keys())
    best = meta.get("best") or {}
    name = _ranked_name(meta)
    groups: list[str] = []
    for p in meta.get("points") or []:
        for f in (p.get("headline") or {}).get("figures") or []:
            if f.get("name") == name and (f.get("group") or "") not in groups:
                groups.append(f.get("group") or "")
    title = _title(best["figure"]) if best.get("figure") else str(name or "")
    head = "".join(f"<th>{_e(a)}</th>" for a in axes) + "".join(
        f"<th>{_e(title)}{(' (' + _e(g) + ')') if g else ''}</th>" for g in groups)
    head += "<th>verdict</th><th></th>"
    body = []

    for p in meta.get("points") or []:
        cells = "".join(f"<td>{_e(_v(p['point'].get(a)))}</td>" for a in axes)
        mark = " class='best'" if p.get("index") == best.get("index") else ""
        if p.get("error"):
            cells += f"<td colspan='{len(groups) + 2}' class='failed'>failed: {_e(p['error'])}</td>"
            body.append(f"<tr{mark}>{cells}</tr>")
            continue
        figs = {(f.get("group") or ""): f for f in (p.get("headline") or {}).get("figures") or []
                if f.get("name") == name}
        for g in groups:
            f = figs.get(g)
            if f is None:
                cells += "<td>-</td>"
                continue
            unit = str(f.get("unit") or "")
            low, high = _e(num(f.get("ci_low"), unit)), _e(num(f.get("ci_high"), unit))
            truth = f"; truth {_e(num(f['truth'], unit))}" if f.get("truth") is not None else ""
            ci = f"<div class='muted'>{low} to {high}{truth}</div>"
            cells += f"<td>{_e(num(f.get('estimate'), unit))}{ci}</td>"
        verdict = first_sentence(str((p.get("headline") or {}).get("headline") or ""))
        href = "../../../" + str(p.get("html") or "")
        cells += f"<td class='verdict-cell'>{_e(verdict)}</td><td><a href='{_e(href)}'>report</a></td>"
        body.append(f"<tr{mark}>{cells}</tr>")
    return (f"<table class='result-table sweep-grid'><caption>The grid: {_e(title)} at each point (95% "
            f"interval and truth below each estimate); the best point is highlighted</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


_CSS = """<style>
table.sweep-grid td { vertical-align: top; } table.sweep-grid tr.best td { background: #fff8e1; }
table.sweep-grid td.verdict-cell { white-space: normal; text-align: left; max-width: 360px; font-size: 12px; }
table.sweep-grid td.failed { color: #b71c1c; text-align: left; white-space: normal; }
dl.settings dt { font-weight: 600; } dl.settings dd { margin: 0 0 6px 14px; word-break: break-all; }
</style>"""


def render_sweep(meta: Mapping[str, Any]) -> str:
    """The whole ``sweep.html`` page for a sweep's ``sweep.json``."""
    study = str(meta.get("study", ""))
    grid = meta.get("grid") or {}
    axes_words = " × ".join(grid) or "nothing"
    blocks: list[Any] = [
        _CSS,
        f"<h1>{_e(study.replace('_', ' ').title())} sweep: {_e(axes_words)}</h1>",
        f"<div class='muted'>{_e(meta.get('question', ''))}</div>",
        _verdict_box(meta),
    ]
    finished = [p for p in meta.get("points") or [] if not p.get("error")]
    if finished:
        blocks.append("<h2>Headline figures against each swept parameter</h2><p class='muted'>Dots: "
                      "estimates; bars: 95% intervals; black crosses: the true values the simulation "
                      "knows.</p>")
        for axis in grid:
            blocks.append(sweep_chart(meta, axis))
    blocks.append("<h2>The grid</h2>")
    blocks.append(_table(meta))
    fixed = meta.get("fixed") or {}
    settings = {
        "swept": "; ".join(f"{k}: {', '.join(_v(v) for v in vals)}" for k, vals in grid.items()),
        "fixed": ", ".join(f"{k} = {_v(v)}" for k, v in fixed.items()) or "defaults",
        "ranked by": _ranked_words(meta) or "the first figure",
        "engine": str(meta.get("engine", "")),
        "time": f"{meta.get('seconds', 0)} s from {meta.get('started', '')}",
        "sweep id": str(meta.get("sweep_id", "")),
        "command": str(meta.get("command", "")),
    }
    blocks.append("<h2>Settings</h2><dl class='settings'>"
                  + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in settings.items()) + "</dl>")
    return render_page(f"{study} sweep", blocks)
