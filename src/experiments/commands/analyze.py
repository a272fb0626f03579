"""``experiments analyze FILE``: the full test battery on an experiment file (rows or summary statistics).

Everything is validated and computed before anything is written; ``--json PATH`` and ``--html PATH``
are written atomically (temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from experiments.errors import DataError, ParameterError

__all__ = ["analyze_file", "register", "render_html", "run", "text_table", "write_atomic"]


def register(subparsers: Any) -> None:
    """Add the ``analyze`` parser."""
    p = subparsers.add_parser(
        "analyze", help="test an experiment file (CSV or parquet)",
        description="Effects of every treatment arm against the control on every metric, with intervals, "
        "multiple-testing correction, sample-ratio and data-quality checks. FILE holds one row per unit, "
        "or per-arm summary statistics (columns metric, count, mean, variance, optionally look).",
    )
    p.add_argument("file", metavar="FILE", help="CSV or parquet file")
    p.add_argument("--arm", required=True, metavar="COLUMN", help="column with the arm label")
    p.add_argument("--control", required=True, metavar="LABEL", help="label of the control arm")
    p.add_argument("--metric", action="append", metavar="COLUMN",
                   help="metric column (repeat for several); required for row input")
    p.add_argument("--covariate", action="append", default=[], metavar="COLUMN",
                   help="pre-period covariate for CUPED adjustment (repeatable)")
    p.add_argument("--segment", metavar="COLUMN", help="column to split the effects by")
    p.add_argument("--unit", metavar="COLUMN", help="unit id column (duplicate and cross-arm checks)")
    p.add_argument("--shares", metavar="A:0.5,B:0.5", help="intended arm shares for the SRM test")
    p.add_argument("--alpha", default="0.05", help="significance level, in (0, 1) (0.05)")
    p.add_argument("--correction", choices=["holm", "bh", "none"], default="holm",
                   help="multiple-testing correction (holm)")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' = stdout only)")
    p.add_argument("--html", metavar="PATH", help="write a one-page offline HTML report")
    p.set_defaults(func=run)


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _check_output(name: str, value: str | None) -> None:
    if value is None or (value == "-" and name == "json"):
        return
    parent = Path(value).resolve().parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ParameterError(name, value, "a path in an existing, writable folder")
    if Path(value).is_dir():
        raise ParameterError(name, value, "a file path, not a folder")


def analyze_file(path: str, **options: Any):  # type: ignore[no-untyped-def]
    """Scan ``path`` lazily and run :func:`analyze` (rows) or :func:`analyze_summary` (summary statistics)."""
    import polars as pl

    from experiments.datasets import scan_table
    from experiments.stats.runner import analyze
    from experiments.stats.summary_input import analyze_summary, is_summary_frame

    lf = scan_table(path)
    columns = list(lf.collect_schema())
    if is_summary_frame(columns) and options.get("arm") in columns:
        for key in ("covariates", "segment", "unit"):
            if options.get(key):
                raise ParameterError(key, options[key], "nothing: summary-statistics input has no rows")
        options = {k: v for k, v in options.items() if k not in ("covariates", "segment", "unit")}
        return analyze_summary(lf, **options)
    if not options.get("metrics"):
        raise ParameterError("metric", None, "at least one --metric COLUMN for a table of rows")
    for attempt in (0, 1):
        try:
            return analyze(lf, **options)
        except pl.exceptions.ComputeError as exc:
            if attempt:
                first = str(exc).strip().splitlines()[0]
                raise DataError(f"cannot read {path!r}: {first}") from None
            lf = scan_table(path, infer_schema_length=None)  # a late value did not fit the guessed type
    raise AssertionError("unreachable")


def _fmt(x: float | None, spec: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return format(x, spec)


def _p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


_HEAD = ["metric", "arm", "segment", "n_arm", "mean_arm", "mean_ctrl", "diff", "CI", "lift", "p", "p_adj",
         "method"]


def _row(e: Any) -> list[str]:
    return [
        e.metric, e.arm, e.segment or "", f"{e.n_arm:,}", _fmt(e.mean_arm, ".4g"),
        _fmt(e.mean_control, ".4g"),
        _fmt(e.diff, "+.4g"), f"[{_fmt(e.ci_low, '+.4g')}, {_fmt(e.ci_high, '+.4g')}]",
        _fmt(e.rel_lift, "+.1%"), _p(e.p_value), _p(e.p_value_adjusted), e.method.split(" (")[0],
    ]


def text_table(result: Any) -> str:
    """The readable table printed by the command."""
    rows = [_row(e) for e in [*result.results, *result.adjusted_results]]
    widths = [max(len(str(r[i])) for r in [_HEAD, *rows]) for i in range(len(_HEAD))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [_HEAD, *rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def _html_table(effects: list[Any], caption: str) -> str:
    """Effects as an escaped HTML table with the same formatting as the printed one."""
    import polars as pl

    from experiments.report.display import table

    head = [h for h in _HEAD if h != "segment"] if not any(e.segment for e in effects) else _HEAD
    rows = [dict(zip(_HEAD, _row(e), strict=True)) for e in effects]
    frame = pl.DataFrame([{h: r[h] for h in head} for r in rows], schema={h: pl.String for h in head})
    return table(frame, caption=caption).data


def render_html(result: Any, *, source: str) -> str:
    """The one-page offline report: verdict first, results table, SRM and data quality, effects chart."""
    from experiments.charts.analysis import effects_chart
    from experiments.report.display import assumptions, verdict
    from experiments.report.standalone import render_page
    from experiments.stats.runner import headline

    best = [e for e in result.results if e.segment is None]
    tone = "good" if any(e.significant and e.diff > 0 for e in best) else "neutral"
    srm_line = (
        f"Sample ratio: chi-square {result.srm.chi2:.2f}, p = {result.srm.p_value:.3g} — "
        + ("MISMATCH: the arm sizes are not what was intended; treat every effect with suspicion."
           if result.srm.mismatch else "arm sizes are consistent with the intended shares.")
    )
    details = [srm_line, f"{result.n_rows:,} rows from {source}; arms: "
               + ", ".join(f"{a} {n:,}" for a, n in result.arms.items())]
    box = verdict(headline(result), details=details, tone="bad" if result.srm.mismatch else tone).data
    level = round(100 * (1 - result.alpha))
    overall = [e for e in result.results if e.segment is None]
    by_segment = [e for e in result.results if e.segment is not None]
    correction = f"{level}% intervals; p_adj: {result.correction} correction"
    tables = [_html_table(overall, f"Effects against {result.control} ({correction})")]
    if result.adjusted_results:
        tables.append(_html_table(list(result.adjusted_results),
                                  f"Adjusted for pre-period covariates (CUPED; {correction})"))
    if by_segment:
        tables.append(_html_table(by_segment, f"Effects by {result.segment} ({correction})"))
    quality = list(result.data_quality.issues) or ["No data-quality issue found."]
    quality.append("Missing values per column: "
                   + ", ".join(f"{c} {n:,}" for c, n in result.data_quality.missing.items()))
    if result.data_quality.unit is not None:
        quality.append(f"Duplicated units: {result.data_quality.duplicate_units:,}; units in several arms: "
                       f"{result.data_quality.units_in_several_arms:,}")
    chart = effects_chart([*overall, *result.adjusted_results])
    blocks: list[Any] = [f"<h1>Experiment analysis: {html.escape(source)}</h1>", box, tables[0], chart,
                         *tables[1:], assumptions([srm_line], title="Sample-ratio check").data,
                         assumptions(quality, title="Data quality").data]
    if result.heterogeneity:
        blocks.append(assumptions([h.summary() for h in result.heterogeneity],
                                  title="Does the effect differ across segments?").data)
    if result.sequential:
        blocks.append(assumptions([f"{s.metric}: {s.arm}: {s.summary()}" for s in result.sequential],
                                  title="Always-valid sequential monitoring (mSPRT)").data)
    return render_page(f"Experiment analysis: {source}", blocks)


def run(args: argparse.Namespace) -> int:
    """Handler of ``experiments analyze``."""
    from experiments.stats.runner import check_options

    alpha, correction, shares = check_options(args.alpha, args.correction, args.shares)
    _check_output("json", args.json)
    _check_output("html", args.html)
    result = analyze_file(
        args.file, arm=args.arm, control=args.control, metrics=args.metric or None,
        covariates=args.covariate, segment=args.segment, unit=args.unit, shares=shares, alpha=alpha,
        correction=correction,
    )
    text = json.dumps(result.to_dict(), indent=2, default=str)
    page = render_html(result, source=Path(args.file).name) if args.html else None
    if args.json and args.json != "-":
        write_atomic(args.json, text + "\n")
    if page is not None:
        write_atomic(args.html, page)
    if args.json == "-":
        print(text)
        return 0
    from experiments.stats.runner import headline

    print(headline(result))
    print()
    print(f"{result.n_rows:,} rows; arms: " + ", ".join(f"{a} {n:,}" for a, n in result.arms.items()))
    print(result.srm.summary())
    print(result.data_quality.summary())
    print()
    print(text_table(result))
    for h in result.heterogeneity:
        print(h.summary())
    for s in result.sequential:
        print(f"{s.metric}: {s.arm} vs {s.control}: {s.summary()}")
    return 0
