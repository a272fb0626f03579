"""What ``experiments analyze`` says about any experiment file: the verdict, the text tables, the HTML page.

The HTML page (and its altair chart) is built only when asked for: importing this module does not import
altair or the report machinery.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from experiments.formatting import number, p_value
from experiments.studies.base import Verdict

if TYPE_CHECKING:
    from experiments.stats.bootstrap import BootstrapEffect
    from experiments.stats.results import Effect
    from experiments.stats.runner import AnalysisResult

__all__ = [
    "BOOTSTRAP_HEAD",
    "TABLE_HEAD",
    "adjustment_lines",
    "bootstrap_row",
    "bootstrap_table",
    "effect_row",
    "headline",
    "quality_lines",
    "render_html",
    "text_table",
    "verdict",
]

#: Columns of the printed (and HTML) table of effects.
TABLE_HEAD = ["metric", "arm", "segment", "n_arm", "mean_arm", "mean_ctrl", "diff", "CI", "lift", "p",
              "p_adj", "method"]
#: Columns of the printed (and HTML) table of bootstrap intervals.
BOOTSTRAP_HEAD = ["metric", "arm", "n_arm", "diff", "bootstrap CI", "p", "resamples"]


def _best(result: AnalysisResult) -> Effect | None:
    pool = result.adjusted_results or tuple(result.overall())
    pool = tuple(e for e in pool if e.segment is None and not math.isnan(e.p_value))
    if not pool:
        return None
    return min(pool, key=lambda e: (e.p_value_adjusted if e.p_value_adjusted is not None else e.p_value))


def headline(result: AnalysisResult) -> str:
    """The verdict in one plain sentence (the strongest effect, its interval and corrected p-value)."""
    e = _best(result)
    if e is None:
        return "No effect could be tested."
    level = round(100 * (1 - e.alpha))
    p = e.p_value_adjusted if e.p_value_adjusted is not None else e.p_value
    ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    kind = result.metrics.get(e.metric, "continuous")
    if kind == "binary":
        num = f"{100 * e.estimate:.2f} pp ({level}% CI {100 * e.ci_low:.2f} to {100 * e.ci_high:.2f})"
    else:
        num = f"{e.estimate:.4g} per unit ({level}% CI {e.ci_low:.4g} to {e.ci_high:.4g})"
    if e.significant:
        verb = "raised" if e.estimate > 0 else "lowered"
        return f"{e.arm} {verb} {e.metric} by {num.lstrip('-')}, {ptxt}."
    return f"No clear effect: {e.arm} changed {e.metric} by {num}, {ptxt} (not significant)."


def srm_sentence(result: AnalysisResult) -> str:
    """The sample-ratio check in one sentence."""
    return (
        f"Sample ratio: chi-square {result.srm.chi2:.2f}, p = {result.srm.p_value:.3g} — "
        + ("MISMATCH: the arm sizes are not what was intended; treat every effect with suspicion."
           if result.srm.mismatch else "arm sizes are consistent with the intended shares.")
    )


def verdict(result: AnalysisResult, *, source: str) -> Verdict:
    """Headline, tone (bad on a sample-ratio mismatch) and supporting sentences."""
    best = [e for e in result.results if e.segment is None]
    tone = "good" if any(e.significant and e.estimate > 0 for e in best) else "neutral"
    details = (srm_sentence(result), f"{result.n_rows:,} rows from {source}; arms: "
               + ", ".join(f"{a} {n:,}" for a, n in result.arms.items()))
    return Verdict(headline(result), "bad" if result.srm.mismatch else tone, details)  # type: ignore[arg-type]


def effect_row(e: Effect) -> list[str]:
    """One effect as the cells of :data:`TABLE_HEAD`."""
    return [
        e.metric, e.arm, e.segment or "", f"{e.n_arm:,}", number(e.mean_arm, ".4g"),
        number(e.mean_control, ".4g"), number(e.estimate, "+.4g"),
        f"[{number(e.ci_low, '+.4g')}, {number(e.ci_high, '+.4g')}]", number(e.rel_lift, "+.1%"),
        p_value(e.p_value), p_value(e.p_value_adjusted), e.method.split(" (")[0],
    ]


def _text(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [head, *rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def text_table(result: AnalysisResult) -> str:
    """The readable table printed by the command: effects, adjusted effects, ratio metrics, effects on
    the exposed."""
    rows = [effect_row(e) for e in [*result.results, *result.adjusted_results, *result.ratio_results,
                                    *result.exposed_results]]
    return _text(TABLE_HEAD, rows)


def _amount(e: Effect, kind: str) -> str:
    level = round(100 * (1 - e.alpha))
    if kind == "binary":
        return (f"{100 * e.estimate:+.2f} pp ({level}% CI {100 * e.ci_low:+.2f} to {100 * e.ci_high:+.2f} "
                "pp)")
    return f"{e.estimate:+.4g} per unit ({level}% CI {e.ci_low:+.4g} to {e.ci_high:+.4g})"


def adjustment_lines(result: AnalysisResult) -> list[str]:
    """Covariate-adjusted effects and effects on the exposed, one sentence each (empty when neither)."""
    lines: list[str] = []
    for e in result.adjusted_results:
        how = "Lin 2013, HC1" if e.method.startswith("Lin") else "CUPED"
        ratio = result.width_ratio(e)
        change = None if ratio is None else 100 * abs(1 - ratio)
        width = "" if change is None else (
            f", interval {change:.{1 if change < 10 else 0}f}% {'narrower' if ratio <= 1 else 'wider'}")
        lines.append(f"{e.metric}, {e.arm}: Adjusted for {', '.join(result.covariates)} ({how}): "
                     f"{_amount(e, result.metrics.get(e.metric, 'continuous'))}{width}.")
    if result.exposure is not None:
        reach = result.exposure
        lines.append(reach.summary())
        for e in result.exposed_results:
            lines.append(f"{e.metric}, {e.arm}: On the exposed ({reach.rate[e.arm]:.0%} of the treatment arm "
                         f"was reached, {reach.rate[reach.control]:.0%} of the control): "
                         f"{_amount(e, result.metrics.get(e.metric, 'continuous'))} (2SLS).")
    return lines


def bootstrap_row(b: BootstrapEffect) -> list[str]:
    """One bootstrap interval as the cells of :data:`BOOTSTRAP_HEAD`."""
    return [b.metric, b.arm, f"{b.n_arm:,}", number(b.estimate, "+.4g"),
            f"[{number(b.ci_low, '+.4g')}, {number(b.ci_high, '+.4g')}]", p_value(b.p_value),
            f"{b.n_resamples:,}"]


def bootstrap_table(result: AnalysisResult) -> str:
    """The printed table of bootstrap intervals (empty text when none was asked for)."""
    if not result.bootstrap:
        return ""
    return _text(BOOTSTRAP_HEAD, [bootstrap_row(b) for b in result.bootstrap])


def quality_lines(result: AnalysisResult) -> list[str]:
    """The data-quality findings as sentences, then the counts per column (for the HTML page)."""
    q = result.data_quality
    lines = list(q.issues) or ["No data-quality issue found."]
    lines.append("Missing values per column: " + ", ".join(f"{c} {n:,}" for c, n in q.missing.items()))
    odd = {c: (q.nan.get(c, 0), q.infinite.get(c, 0)) for c in q.nan}
    if any(a or b for a, b in odd.values()):
        done = "dropped like missing values" if q.nonfinite == "drop" else "refused"
        lines.append(f"NaN / infinite values per column ({done}): "
                     + ", ".join(f"{c} {a:,} / {b:,}" for c, (a, b) in odd.items()))
    else:
        lines.append("No NaN or infinite value in any metric or covariate.")
    if q.unit is not None:
        lines.append(f"Duplicated units: {q.duplicate_units:,}; units in several arms: "
                     f"{q.units_in_several_arms:,}")
    return lines


def _html_rows(head: list[str], rows: list[list[str]], caption: str) -> str:
    import polars as pl

    from experiments.report.display import table

    frame = pl.DataFrame([dict(zip(head, r, strict=True)) for r in rows], schema={h: pl.String for h in head})
    return table(frame, caption=caption).data


def _html_table(effects: list[Effect], caption: str) -> str:
    """Effects as an escaped HTML table with the same formatting as the printed one."""
    head = [h for h in TABLE_HEAD if h != "segment"] if not any(e.segment for e in effects) else TABLE_HEAD
    rows = [dict(zip(TABLE_HEAD, effect_row(e), strict=True)) for e in effects]
    return _html_rows(head, [[r[h] for h in head] for r in rows], caption)


def render_html(result: AnalysisResult, *, source: str) -> str:
    """The one-page offline report: verdict first, results table, SRM and data quality, effects chart."""
    from experiments.charts.analysis import effects_chart
    from experiments.report.display import assumptions, verdict_box
    from experiments.report.standalone import render_page

    level = round(100 * (1 - result.alpha))
    overall = [e for e in result.results if e.segment is None]
    by_segment = [e for e in result.results if e.segment is not None]
    correction = f"{level}% intervals; p_adj: {result.correction} correction"
    tables = [_html_table(overall, f"Effects against {result.control} ({correction})")]
    if result.adjusted_results:
        how = ("Lin 2013 interacted regression, HC1 robust errors" if len(result.covariates) > 1 else "CUPED")
        tables.append(_html_table(list(result.adjusted_results),
                                  f"Adjusted for pre-period covariates {', '.join(result.covariates)} "
                                  f"({how}; {correction})"))
    if result.exposed_results:
        tables.append(_html_table(list(result.exposed_results),
                                  "Effect on the exposed: 2SLS with assignment as the instrument for "
                                  f"exposure, robust HC0 errors ({correction}, a family of its own)"))
    if result.ratio_results:
        tables.append(_html_table(list(result.ratio_results),
                                  f"Ratio metrics: sum(numerator) / sum(denominator) per arm, delta method "
                                  f"({correction}, in one family with the effects above)"))
    if result.bootstrap:
        b = result.bootstrap[0]
        tables.append(_html_rows(BOOTSTRAP_HEAD, [bootstrap_row(x) for x in result.bootstrap],
                                 f"Percentile bootstrap of the difference of means ({level}% intervals, "
                                 f"{b.n_resamples:,} resamples, seed {result.seed})"))
    if by_segment:
        tables.append(_html_table(by_segment, f"Effects by {result.segment} ({correction})"))
    quality = quality_lines(result)
    chart = effects_chart([*overall, *result.adjusted_results, *result.ratio_results])
    blocks: list[Any] = [f"<h1>Experiment analysis: {html.escape(source)}</h1>",
                         verdict_box(verdict(result, source=source)), tables[0], chart, *tables[1:],
                         *([assumptions(adjustment_lines(result),
                                        title="Adjusted and on the exposed").data]
                           if adjustment_lines(result) else []),
                         assumptions([srm_sentence(result)], title="Sample-ratio check").data,
                         assumptions(quality, title="Data quality").data]
    if result.heterogeneity:
        blocks.append(assumptions([h.summary() for h in result.heterogeneity],
                                  title="Does the effect differ across segments?").data)
    if result.sequential:
        blocks.append(assumptions([f"{s.metric}: {s.arm}: {s.summary()}" for s in result.sequential],
                                  title="Always-valid sequential monitoring (mSPRT)").data)
    return render_page(f"Experiment analysis: {source}", blocks)
