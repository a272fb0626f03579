"""What ``experiments analyze`` says about any experiment file: the verdict, the text tables, the HTML page.

The HTML page (and its altair chart) is built only when asked for: importing this module does not import
altair or the report machinery.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import polars as pl

from experiments.charts.analysis import effects_chart
from experiments.formatting import chance, currency_amount, number, p_value
from experiments.studies.base import Verdict
from experiments.studies.pages import Heading, Notes, Page, Table

if TYPE_CHECKING:
    from experiments.stats.bayesian import BayesianEffect
    from experiments.stats.bootstrap import BootstrapEffect
    from experiments.stats.results import Effect
    from experiments.stats.row_analysis import AnalysisResult
    from experiments.stats.tails import CappedEffect, QuantileEffect

__all__ = [
    "BOOTSTRAP_HEAD",
    "QUANTILE_HEAD",
    "TABLE_HEAD",
    "adjustment_lines",
    "bayesian_lines",
    "bayesian_sentence",
    "bootstrap_row",
    "bootstrap_table",
    "capped_sentence",
    "effect_row",
    "headline",
    "page",
    "quality_lines",
    "quantile_name",
    "quantile_row",
    "quantile_sentence",
    "tail_lines",
    "text_table",
    "verdict",
]

#: Columns of the printed (and HTML) table of effects.
TABLE_HEAD = ["metric", "arm", "segment", "n_arm", "mean_arm", "mean_ctrl", "diff", "CI", "lift", "p",
              "p_adj", "method"]
#: Columns of the printed (and HTML) table of bootstrap intervals.
BOOTSTRAP_HEAD = ["metric", "arm", "n_arm", "diff", "bootstrap CI", "p", "resamples"]
#: Columns of the HTML table of quantile differences.
QUANTILE_HEAD = ["metric", "arm", "quantile", "n_arm", "q_arm", "q_ctrl", "diff", "CI", "p", "p_adj"]


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


def bayesian_sentence(b: BayesianEffect) -> str:
    """'Chance to beat control 97.3%; expected loss if shipped: $0.02 per customer' and the interval."""
    if math.isnan(b.chance_to_beat_control):
        return ("Chance to beat control: not available (the control's mean is not positive, or an arm "
                "has no variation), as gbstats reports none")
    loss = f"{b.expected_loss:.2g} {b.metric} per customer"
    if b.value is not None and b.expected_loss_money is not None:
        loss = f"{currency_amount(b.expected_loss_money, b.value.currency)} per customer ({loss})"
    level = round(100 * (1 - b.alpha))
    return (f"Chance to beat control {chance(b.chance_to_beat_control)}; expected loss if shipped: {loss}; "
            f"{level}% credible interval of the lift {b.credible_low:+.1%} to {b.credible_high:+.1%}")


def bayesian_lines(result: AnalysisResult) -> list[str]:
    """The Bayesian results as a title line and one sentence per effect (empty when not asked for)."""
    if not result.bayesian:
        return []
    sd = result.bayesian[0].prior_sd
    prior = "flat prior" if sd is None else f"normal prior on the relative lift, mean 0, sd {sd:g}"
    lines = [f"Bayesian results (GrowthBook's model, {prior}):"]
    for b in result.bayesian:
        seg = f" [{b.segment}]" if b.segment is not None else ""
        lines.append(f"{b.metric}{seg}: {b.arm} vs {b.control}: {bayesian_sentence(b)}")
    return lines


def _p_words(p: float, p_adjusted: float | None) -> str:
    if p_adjusted is None:
        return "p = n/a" if math.isnan(p) else f"p = {p_value(p)}".replace("= <", "< ")
    return "p_adj = n/a" if math.isnan(p_adjusted) else f"p_adj = {p_value(p_adjusted)}".replace("= <", "< ")


def _interval_words(estimate: float, low: float, high: float, level: int) -> str:
    return f"{number(estimate, '+,.4g')} ({level}% CI {number(low, '+,.4g')} to {number(high, '+,.4g')})"


def capped_sentence(c: CappedEffect, uncapped: Effect | None = None) -> str:
    """One capped effect in words, with the cap, how many values it capped and the uncapped effect."""
    e, cap = c.effect, c.cap
    level = round(100 * (1 - e.alpha))
    how = f"p{cap.percentile:g} of all arms" if cap.percentile is not None else "an absolute cap"
    total = sum(cap.n_capped.values())
    text = (f"{e.metric} capped at {number(cap.value, ',.6g')} ({how}; {total:,} values capped: {e.arm} "
            f"{c.n_capped_arm:,}, {e.control} {c.n_capped_control:,}): {e.arm} vs {e.control} "
            f"{_interval_words(e.estimate, e.ci_low, e.ci_high, level)} per unit, "
            f"{_p_words(e.p_value, e.p_value_adjusted)}")
    if uncapped is not None:
        text += f"; uncapped {_interval_words(uncapped.estimate, uncapped.ci_low, uncapped.ci_high, level)}"
    if min(e.n_arm, e.n_control) < 2:
        text += " (an arm with one unit has no variance: no interval)"
    elif not e.se > 0:
        text += " (once capped, no value varies: the cap is too low; choose a higher one)"
    return text + "."


def quantile_name(q: float) -> str:
    """``median`` for 0.5, ``90th percentile`` for 0.9, ``99.9th percentile`` for 0.999."""
    if q == 0.5:
        return "median"
    pct = round(100 * q, 10)
    whole = int(pct) if float(pct).is_integer() else None
    suffix = "th"
    if whole is not None and whole % 100 not in (11, 12, 13):
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{pct:g}{suffix} percentile"


def quantile_sentence(e: QuantileEffect) -> str:
    """One quantile difference in words."""
    level = round(100 * (1 - e.alpha))
    return (f"{e.metric}, {quantile_name(e.quantile)}: {e.arm} {number(e.quantile_arm, ',.4g')} vs "
            f"{e.control} {number(e.quantile_control, ',.4g')}, difference "
            f"{_interval_words(e.estimate, e.ci_low, e.ci_high, level)}, "
            f"{_p_words(e.p_value, e.p_value_adjusted)}.")


def quantile_row(e: QuantileEffect) -> list[str]:
    """One quantile difference as the cells of :data:`QUANTILE_HEAD`."""
    return [e.metric, e.arm, f"{e.quantile:g}", f"{e.n_arm:,}", number(e.quantile_arm, ".4g"),
            number(e.quantile_control, ".4g"), number(e.estimate, "+.4g"),
            f"[{number(e.ci_low, '+.4g')}, {number(e.ci_high, '+.4g')}]", p_value(e.p_value),
            p_value(e.p_value_adjusted)]


def _uncapped(result: AnalysisResult, c: CappedEffect) -> Effect | None:
    return next((e for e in result.overall() if (e.metric, e.arm) == (c.effect.metric, c.effect.arm)), None)


def _tail_captions(result: AnalysisResult) -> tuple[str, str]:
    level = round(100 * (1 - result.alpha))
    family = f"{level}% intervals; p_adj: {result.correction} correction within this family"
    return (f"Capped metrics: values above the cap set to the cap, Welch t ({family})",
            f"Quantiles: difference of each arm's quantile from the control's, order-statistic standard "
            f"errors ({family})")


def tail_lines(result: AnalysisResult) -> list[str]:
    """The capped effects and quantile differences as printed lines (none when neither was asked for)."""
    capped_title, quantile_title = _tail_captions(result)
    lines: list[str] = []
    if result.capped_results:
        lines += ["", capped_title + ":", *[capped_sentence(c, _uncapped(result, c))
                                            for c in result.capped_results]]
    if result.quantile_results:
        lines += ["", quantile_title + ":", *[quantile_sentence(e) for e in result.quantile_results]]
    return lines


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


def _table_rows(head: list[str], rows: list[list[str]], caption: str) -> Table:
    frame = pl.DataFrame([dict(zip(head, r, strict=True)) for r in rows], schema={h: pl.String for h in head})
    return Table(frame, caption)


def _effects_table(effects: list[Effect], caption: str) -> Table:
    """Effects as a table of text with the same formatting as the printed one."""
    head = [h for h in TABLE_HEAD if h != "segment"] if not any(e.segment for e in effects) else TABLE_HEAD
    rows = [dict(zip(TABLE_HEAD, effect_row(e), strict=True)) for e in effects]
    return _table_rows(head, [[r[h] for h in head] for r in rows], caption)


def page(result: AnalysisResult, *, source: str) -> Page:
    """The one-page report: verdict first, results table, SRM and data quality, effects chart."""
    level = round(100 * (1 - result.alpha))
    overall = [e for e in result.results if e.segment is None]
    by_segment = [e for e in result.results if e.segment is not None]
    correction = f"{level}% intervals; p_adj: {result.correction} correction"
    tables = [_effects_table(overall, f"Effects against {result.control} ({correction})")]
    if result.adjusted_results:
        how = ("Lin 2013 interacted regression, HC1 robust errors" if len(result.covariates) > 1 else "CUPED")
        tables.append(_effects_table(list(result.adjusted_results),
                                     f"Adjusted for pre-period covariates {', '.join(result.covariates)} "
                                     f"({how}; {correction})"))
    if result.exposed_results:
        tables.append(_effects_table(list(result.exposed_results),
                                     "Effect on the exposed: 2SLS with assignment as the instrument for "
                                     f"exposure, robust HC0 errors ({correction}, a family of its own)"))
    if result.ratio_results:
        tables.append(_effects_table(
            list(result.ratio_results), f"Ratio metrics: sum(numerator) / sum(denominator) per arm, delta "
            f"method ({correction}, in one family with the effects above)"))
    if result.bootstrap:
        b = result.bootstrap[0]
        tables.append(_table_rows(BOOTSTRAP_HEAD, [bootstrap_row(x) for x in result.bootstrap],
                                  f"Percentile bootstrap of the difference of means ({level}% intervals, "
                                  f"{b.n_resamples:,} resamples, seed {result.seed})"))
    capped_title, quantile_title = _tail_captions(result)
    if result.capped_results:
        tables.append(_effects_table([c.effect for c in result.capped_results], capped_title))
        tables.append(Notes([capped_sentence(c, _uncapped(result, c)) for c in result.capped_results],
                            title="Capped metrics in words"))
    if result.quantile_results:
        tables.append(_table_rows(QUANTILE_HEAD, [quantile_row(e) for e in result.quantile_results],
                                  quantile_title))
        tables.append(Notes([quantile_sentence(e) for e in result.quantile_results],
                            title="Quantiles in words"))
    if by_segment:
        tables.append(_effects_table(by_segment, f"Effects by {result.segment} ({correction})"))
    quality = quality_lines(result)
    chart = effects_chart([*overall, *result.adjusted_results, *result.ratio_results])
    blocks: list[Any] = [Heading(f"Experiment analysis: {source}"), verdict(result, source=source), tables[0],
                         chart, *tables[1:],
                         *([Notes(adjustment_lines(result), title="Adjusted and on the exposed")]
                           if adjustment_lines(result) else []),
                         Notes([srm_sentence(result)], title="Sample-ratio check"),
                         Notes(quality, title="Data quality")]
    if result.bayesian:
        head, *lines = bayesian_lines(result)
        blocks.insert(4, Notes(lines, title=head.rstrip(":")))
    if result.heterogeneity:
        blocks.append(Notes([h.summary() for h in result.heterogeneity],
                            title="Does the effect differ across segments?"))
    if result.sequential:
        blocks.append(Notes([line for s in result.sequential for line in (
            f"{s.metric}: {s.arm} vs {s.control}: {s.summary()}",
            f"{s.metric}: {s.arm} vs {s.control}: {s.cs_summary()}")],
            title="Always-valid sequential monitoring (mSPRT and confidence sequence)"))
    return Page(f"Experiment analysis: {source}", blocks)
