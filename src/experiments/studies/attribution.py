"""What ``experiments attribute`` says about any journey file: summary sentences, text table, HTML page.

Numbers come from :mod:`experiments.models.attribution`; the words are here.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from experiments.charts.omnichannel import credit_shares
from experiments.formatting import fmt
from experiments.models.attribution import AttributionResult
from experiments.studies.base import Verdict
from experiments.studies.pages import Heading, Notes, Page, Table

__all__ = ["page", "summary_lines", "text_table", "verdict"]


def _name(model: str) -> str:
    return model.replace("_", " ")


def summary_lines(result: AttributionResult) -> list[str]:
    """Plain sentences for the top of the report: what was read and where the models disagree."""
    n_ch = len(result.channels)
    lines = [f"{result.n_journeys:,.0f} journeys, {result.n_conversions:,.0f} conversions, {n_ch} channels; "
             f"{len(result.models)} models."]
    if result.n_conversions <= 0:
        return [*lines, "Nothing converted: every model credits 0 to every channel."]
    spread = []
    for c in result.channels:
        shares = {m: result.shares(m)[c] for m in result.models}
        lo, hi = min(shares, key=shares.__getitem__), max(shares, key=shares.__getitem__)
        spread.append((shares[hi] - shares[lo], c, lo, shares[lo], hi, shares[hi]))
    _, c, lo, slo, hi, shi = max(spread)
    if len(result.models) > 1:
        lines.insert(0, f"The models disagree most on {c}: from {fmt(slo, 'pct')} of the credit "
                        f"({_name(lo)}) to {fmt(shi, 'pct')} ({_name(hi)}).")
    for m in ("last_touch", "markov"):
        if m in result.credits:
            top = max(result.channels, key=result.shares(m).__getitem__)
            lines.append(f"{_name(m).capitalize()} gives the most credit to {top} "
                         f"({fmt(result.shares(m)[top], 'pct')}).")
    if result.removal_effects:
        top = max(result.channels, key=result.removal_effects.__getitem__)
        lines.append(f"Largest removal effect: {top} (the chain converts "
                     f"{fmt(result.removal_effects[top], 'pct')} less without it).")
    lines.extend(f"Skipped {m}: {why}." for m, why in result.skipped.items())
    return lines


def text_table(result: AttributionResult) -> str:
    """Credited conversions per channel (rows) and model (columns), as printed by the command."""
    head = ["channel", *result.models, "removal_effect"]
    rows = [[c, *(f"{result.credits[m][c]:,.2f}" for m in result.models),
             f"{result.removal_effects[c]:.4f}"] for c in result.channels]
    rows.append(["total", *(f"{sum(result.credits[m].values()):,.2f}" for m in result.models), ""])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths,
                                                                                           strict=True)))
             for r in [head, *rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def page(result: AttributionResult, *, source: str) -> Page:
    """The one-page report: summary first, credit shares per model, tables, removal effects."""
    frame = result.to_frame()
    wide = frame.pivot(on="model", index="channel", values="share").select(["channel", *result.models])
    credits = frame.pivot(on="model", index="channel", values="credit").select(["channel", *result.models])
    removal = pl.DataFrame({"channel": list(result.channels),
                            "removal_effect": [result.removal_effects[c] for c in result.channels]})
    blocks: list[Any] = [
        Heading(f"Attribution: {source}"), verdict(result),
        credit_shares(frame, title="Share of the credit each model gives each channel"),
        Table(wide, "Share of credit", dict.fromkeys(result.models, "pct")),
        Table(credits, "Credited conversions", {m: "number" for m in result.models}),
        Table(removal, f"Markov removal effects (order {result.order})", {"removal_effect": "pct"}),
    ]
    if result.credits_value is not None:
        values = pl.DataFrame([{"channel": c, **{m: result.credits_value[m][c] for m in result.credits_value}}
                               for c in result.channels])
        blocks.append(Table(values, "Credited conversion value", {m: "money" for m in result.credits_value}))
    blocks.append(Notes([
        "Credits of each model sum to the number of conversions; they say who was there, not what "
        "caused the sale: only a randomised holdout measures incrementality.",
        f"Time decay: a touch's weight halves every {result.half_life:g} days before the journey's last "
        "touch. Position based: 40% first, 40% last, 20% shared by the touches between.",
        f"Markov: removal effects of the order-{result.order} absorbing chain, solved exactly. Shapley: "
        "coalition value = conversions of the journeys whose channels all lie in the coalition.",
    ], title="How to read it"))
    return Page(f"Attribution: {source}", blocks)


def verdict(result: AttributionResult) -> Verdict:
    """The summary as a verdict: the widest disagreement first, the rest as details (neutral tone)."""
    lines = summary_lines(result)
    return Verdict(lines[0], "neutral", tuple(lines[1:]))
