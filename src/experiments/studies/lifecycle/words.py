"""The lifecycle study's words: the verdict, its sentences and the assumptions, from the numbers."""

from __future__ import annotations

import polars as pl

from experiments.formatting import fmt, money
from experiments.studies.base import Tone
from experiments.studies.lifecycle.numbers import MarginalReturn

__all__ = ["ROUTE_WORDS", "assumptions", "best_route_sentence", "route_label", "timing", "timing_sentences",
           "verdict_text"]

#: How each route of the next budget is named in prose.
ROUTE_WORDS: dict[str, str] = {"acquisition": "acquisition", "retention": "retention", "win_back": "win-back"}


def _ci(low: float, high: float, unit: str = "money", digits: int = 1) -> str:
    return f"95% CI {fmt(low, unit, digits)} to {fmt(high, unit, digits)}"


def route_label(m: MarginalReturn) -> str:
    """``acquisition (organic)``; a route that is one lever is named once."""
    lever = m.lever.replace("_", " ")
    word = ROUTE_WORDS[m.route]
    return word if lever == word.replace("-", " ") else f"{word} ({lever})"


def best_route_sentence(returns: tuple[MarginalReturn, ...], long_label: str) -> tuple[str, Tone]:
    """Where the next budget earns most (by estimate), and whether its interval clears the others'."""
    ranked = sorted(returns, key=lambda m: m.estimate, reverse=True)
    best, rest = ranked[0], ranked[1:]
    clear = best.ci_low > max(m.ci_high for m in rest) and best.ci_low > best.budget
    others = " and ".join(f"{money(m.estimate, 0)} in {route_label(m)}" for m in rest)
    head = (f"The next {money(best.budget, 0)} earns most in {route_label(best)}: "
            f"{money(best.estimate, 0)} of margin over {long_label} "
            f"({_ci(best.ci_low, best.ci_high, digits=0)}), against {others}")
    if clear:
        return head + ".", "good"
    if best.ci_low <= best.budget:
        return head + "; not proven that it even brings the budget back.", "neutral"
    rivals = [m for m in rest if m.ci_high >= best.ci_low]
    names = " and of ".join(f"{route_label(m)}, {_ci(m.ci_low, m.ci_high, digits=0)}," for m in rivals)
    return head + f"; the lead is not proven: the interval of {names} reaches it.", "neutral"


def timing(reads: pl.DataFrame) -> pl.DataFrame:
    """Which levers move purchases in time: per lever, the purchase effect during the campaign, after it
    and over the long run, and ``kind``: ``only in time`` (fewer purchases after the campaign and no
    lasting gain), ``partly in time`` (fewer after, a lasting gain), ``lasting`` (no fall after)."""
    p = reads.filter(pl.col("measure") == "purchases")
    wide = (p.filter(pl.col("horizon") == "short").select("lever", during="estimate")
            .join(p.filter(pl.col("horizon") == "after").select("lever", after="estimate", after_low="ci_low",
                                                                 after_high="ci_high", after_truth="truth"),
                  on="lever", maintain_order="left")
            .join(p.filter(pl.col("horizon") == "long").select("lever", long="estimate", long_low="ci_low",
                                                                long_truth="truth"),
                  on="lever", maintain_order="left"))
    return wide.with_columns(kind=pl.when(pl.col("after_high") >= 0).then(pl.lit("lasting"))
                             .when(pl.col("long_low") <= 0).then(pl.lit("only in time"))
                             .otherwise(pl.lit("partly in time")))


def timing_sentences(table: pl.DataFrame, long_weeks: int) -> list[str]:
    """One sentence per lever that moves purchases in time."""
    out = []
    for r in table.filter(pl.col("kind") != "lasting").iter_rows(named=True):
        lever = r["lever"].replace("_", " ")
        lead = ("only moves purchases in time" if r["kind"] == "only in time"
                else "moves part of its purchases in time")
        out.append(f"The {lever} lever {lead}: {fmt(r['during'], 'number', 3)} purchases per customer "
                   f"during the campaign, {fmt(r['after'], 'number', 3)} in the {long_weeks} weeks after "
                   f"({_ci(r['after_low'], r['after_high'], 'number', 3)}; truth "
                   f"{fmt(r['after_truth'], 'number', 3)}).")
    return out


def verdict_text(returns: tuple[MarginalReturn, ...], timing_table: pl.DataFrame, *, long_label: str,
                 long_weeks: int) -> tuple[str, Tone, list[str]]:
    """Headline, tone and the sentences that follow."""
    head, tone = best_route_sentence(returns, long_label)
    moved = timing_table.filter(pl.col("kind") != "lasting")["lever"].to_list()
    if moved:
        names = ", ".join(x.replace("_", " ") for x in moved)
        head += f" Campaigns that move purchases in time rather than add them: {names}."
    else:
        head += " No campaign is seen only moving purchases in time."
    return head, tone, timing_sentences(timing_table, long_weeks)


def assumptions(costs: dict[str, float]) -> list[str]:
    """What the numbers rest on; every default that is not cited is an assumption."""
    sources = ", ".join(f"{k.replace('_', ' ')} ${v:,.0f}" for k, v in costs.items())
    return [
        "Customers buy and silently drop out as BG/NBD customers with CDNOW's parameters, and spend as "
        "Gamma-Gamma (Fader, Hardie & Lee 2005; Fader & Hardie 2013).",
        f"Cost per acquired customer (assumptions): {sources}; the next budget buys customers at that same "
        "cost (marginal cost equals average cost) and of the same quality; how sources differ in rate, "
        "dropout, order value and deal proneness is assumed (no published per-source figures).",
        "An acquired customer's value is her margin over her first weeks, the same span as the long read; "
        "margin of the customers she refers is left out. Its truth is her expected margin given her drawn "
        "traits in the world without levers (service failures included), so the levers' own effect on new "
        "customers separates it from the estimate.",
        "A lever's return on the next budget scales its tested spend per customer: the budget reaches more "
        "customers at the tested dose, so each gets what the test gave (messages past the tested cadence "
        "would meet fatigue: the figure is the tested dose's average, an upper bound on the next dollar).",
        "Retention is the best of messages, loyalty and service recovery by estimated return; values are "
        "margin after discounts less each lever's costs, plus the margin of referred customers.",
        "Forward buying takes half of a promotion's extra purchases from later weeks (Anderson & Simester "
        "2004: short-run metrics overstate the gain); promotions make established buyers more "
        "deal-sensitive (Mela, Gupta & Lehmann 1997) and new ones more loyal (Anderson & Simester 2004); "
        "the sizes are assumptions.",
        "Messages lift buying (Hillstrom's e-mail raised two-week conversion 54-119%, MineThatData 2008), "
        "with fatigue and unsubscribes whose sizes are assumptions; loyalty works mostly through lower "
        "dropout (Gopalakrishnan et al. 2021), less for heavy buyers (Liu 2007), faster near a reward "
        "(Kivetz, Urminsky & Zheng 2006); referred customers stay longer (Schmitt, Skiera & Van den Bulte "
        "2011); service failure, recovery, win-back and referral figures are assumptions.",
        "Each lever is randomised per customer independently of the others (a factorial design), so each "
        "read averages over the other levers as assigned; the truth is each customer's value with the "
        "lever on minus off on the same random draws.",
        "The projection fits BG/NBD per arm on each customer's purchases up to the campaign's end and one "
        "Gamma-Gamma on full-price order values; it assumes the campaign's buying rates go on unchanged.",
    ]
