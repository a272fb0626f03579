"""Channels that work together: the coordinated plan against one channel at a time.

Display raises the response of search and e-mail within a window (``display_synergy``, see
:mod:`experiments.simulate.journeys`), so a channel's worth depends on which others run. Three readings
of the same plan are held against the truth (the world re-run with every subset of the factorial
channels switched off, :func:`~experiments.simulate.journeys.subsets_off`):

- the one-channel holdouts (the study's channel experiments) summed: each measures its channel with the
  others on, so a pair that helps each other is counted in both;
- every attribution model's credit, in purchases and in profit (margin on credited revenue less the
  channel's spend);
- a factorial user holdout (each customer held out of each channel independently), read with
  :func:`experiments.stats.factorial_contrasts.factorial_contrasts`: each channel's effect and each
  pair's interaction with intervals, and the whole plan's total.

Profit of a channel (or the plan) is the margin on its extra revenue less the spend it saves when off;
the spend is the advertiser's own bill (known, not estimated), so a profit interval is the revenue
interval times the margin, shifted by the spend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from experiments.models.attribution import AttributionResult
from experiments.simulate.journeys import (
    JourneyWorld,
    Outcome,
    factorial_holdout_table,
    interaction_truth,
    subsets_off,
)
from experiments.stats import gather
from experiments.stats.factorial_contrasts import factorial_contrasts
from experiments.stats.special import ndtri

__all__ = ["FactorialAnalysis", "coordination", "measure_factorial"]


@dataclass(frozen=True)
class FactorialAnalysis:
    """The factorial holdout and the one-channel readings of the factorial channels, beside the truth.

    ``terms``: one row per channel, pair and the total: ``term, kind``, the estimates
    ``conversions, conversions_low, conversions_high, profit, profit_low, profit_high`` and the truth
    ``true_conversions, true_profit``, with ``covered`` (the conversions interval holds the truth) and
    ``profit_covered``. ``holdouts``: the one-channel holdouts of the same channels (``channel,
    conversions, conversions_low, conversions_high, profit, profit_low, profit_high, true_conversions,
    true_profit``). ``credits``: ``model, channel, conversions, profit`` (what each model credits).
    ``units``: customers per cell (the channels held out, ``none`` for none).
    """

    channels: tuple[str, ...]
    share: float
    terms: pl.DataFrame
    holdouts: pl.DataFrame
    credits: pl.DataFrame
    units: dict[str, int]

    def term(self, name: str) -> dict[str, Any]:
        """The row of one term (a channel, ``"a x b"`` or ``"total"``)."""
        rows = self.terms.filter(pl.col("term") == name)
        if rows.height == 0:
            raise KeyError(name)
        return rows.row(0, named=True)

    def one_at_a_time(self) -> dict[str, float]:
        """The one-channel holdouts summed (independent tests: variances add), with the truth."""
        h = self.holdouts
        z = float(ndtri(0.975))
        out: dict[str, float] = {}
        for col in ("conversions", "profit"):
            se = math.sqrt(float((((h[f"{col}_high"] - h[f"{col}_low"]) / (2 * z)) ** 2).sum()))
            est = float(h[col].sum())
            out |= {col: est, f"{col}_low": est - z * se, f"{col}_high": est + z * se,
                    f"true_{col}": float(h[f"true_{col}"].sum())}
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers."""
        return {"channels": list(self.channels), "share": self.share, "terms": self.terms.to_dicts(),
                "holdouts": self.holdouts.to_dicts(), "one_at_a_time": self.one_at_a_time(),
                "credits": self.credits.to_dicts(), "units": self.units}


def _spend_saved(truth: pl.DataFrame, margin: float) -> dict[str, float]:
    """Spend each term saves (its true ``margin * revenue - profit``), the advertiser's own bill."""
    return {t: margin * r - p for t, r, p in truth.select("term", "revenue", "profit").iter_rows()}


def measure_factorial(
    world: JourneyWorld, base: Outcome, *, channels: Sequence[str], share: float,
    experiments: pl.DataFrame, attribution: AttributionResult, off: Mapping[str, Outcome] | None = None,
    alpha: float = 0.05,
) -> FactorialAnalysis | None:
    """Run the factorial user holdout of ``channels`` and hold every reading against the truth; ``None``
    when a cell of the design holds fewer than 2 customers (no variance to estimate).

    ``experiments`` are the study's one-channel holdouts (``channel_experiments`` of
    :mod:`experiments.studies.omnichannel.numbers`); ``off`` the world re-run with each channel off
    (re-used for the truth).
    """
    s = world.scenario
    channels = tuple(channels)
    known = {frozenset(): base} | {frozenset((c,)): off[c] for c in channels if off and c in off}
    outcomes = subsets_off(world, channels, known)
    truth = interaction_truth(outcomes, channels)
    saved = _spend_saved(truth, s.margin)
    table = factorial_holdout_table(world, channels, share, outcomes)
    stats = gather(table, arm="cell", metrics=["purchased", "revenue"])
    counts = stats.counts()
    if len(counts) < 2 ** len(channels) or min(counts.values()) < 2:
        return None  # a cell too small for a variance: no estimate (a tiny world)
    cells = {label: frozenset() if label == "none" else frozenset(label.split("+")) for label in stats.arms}
    n = world.n_customers
    conv = factorial_contrasts({g: stats.stats(label, "purchased") for label, g in cells.items()}, channels,
                               alpha=alpha, scale=n)
    rev = factorial_contrasts({g: stats.stats(label, "revenue") for label, g in cells.items()}, channels,
                              alpha=alpha, scale=n)
    true = {r["term"]: r for r in truth.iter_rows(named=True)}
    rows = []
    for c, r in zip(conv, rev, strict=True):
        spend = saved[c.term]
        t = true[c.term]
        rows.append({"term": c.term, "kind": c.kind, "conversions": c.estimate, "conversions_low": c.ci_low,
                     "conversions_high": c.ci_high, "profit": s.margin * r.estimate - spend,
                     "profit_low": s.margin * r.ci_low - spend, "profit_high": s.margin * r.ci_high - spend,
                     "true_conversions": t["conversions"], "true_profit": t["profit"]})
    terms = pl.DataFrame(rows).with_columns(
        covered=pl.col("true_conversions").is_between("conversions_low", "conversions_high"),
        profit_covered=pl.col("true_profit").is_between("profit_low", "profit_high"))
    exp = {r["channel"]: r for r in experiments.iter_rows(named=True)}
    holdouts = pl.DataFrame([{
        "channel": c, "conversions": exp[c]["estimate"], "conversions_low": exp[c]["ci_low"],
        "conversions_high": exp[c]["ci_high"],
        "profit": s.margin * exp[c]["revenue_estimate"] - saved[c],
        "profit_low": s.margin * exp[c]["revenue_ci_low"] - saved[c],
        "profit_high": s.margin * exp[c]["revenue_ci_high"] - saved[c],
        "true_conversions": true[c]["conversions"], "true_profit": true[c]["profit"],
    } for c in channels], schema_overrides={k: pl.Float64 for k in ("conversions", "conversions_low",
                                                                   "conversions_high")})
    values = attribution.credits_value or {}
    codes = {c: k for k, c in enumerate(world.channels)}
    credits = pl.DataFrame([{
        "model": m, "channel": c, "conversions": float(attribution.credits[m].get(c, 0.0)),
        "profit": s.margin * float(values.get(m, {}).get(c, 0.0)) - float(base.spend[codes[c]]),
    } for m in attribution.models for c in channels])
    units = {label: counts[label] for label in stats.arms}
    return FactorialAnalysis(channels=channels, share=share, terms=terms, holdouts=holdouts, credits=credits,
                             units=units)


def coordination(f: FactorialAnalysis) -> pl.DataFrame:
    """The whole plan read four ways, beside the truth: the factorial's total (the coordinated plan), the
    one-channel holdouts summed, the factorial's channel effects summed, and each model's credit summed.

    Returns
    -------
    polars.DataFrame
        ``reading, conversions, conversions_low, conversions_high, profit, profit_low, profit_high,
        true_conversions, true_profit`` (intervals null where a reading has none).
    """
    total = f.term("total") if len(f.channels) > 1 else f.term(f.channels[0])
    one = f.one_at_a_time()
    cols = ("conversions", "conversions_low", "conversions_high", "profit", "profit_low", "profit_high")
    rows = [
        {"reading": "factorial holdout: the coordinated plan", **{k: total[k] for k in cols},
         "true_conversions": total["true_conversions"], "true_profit": total["true_profit"]},
        {"reading": "one-channel holdouts, summed", **{k: one[k] for k in cols},
         "true_conversions": one["true_conversions"], "true_profit": one["true_profit"]},
    ]
    for (m,), part in f.credits.group_by("model", maintain_order=True):
        rows.append({"reading": f"{m} credit, summed", "conversions": float(part["conversions"].sum()),
                     "conversions_low": None, "conversions_high": None, "profit": float(part["profit"].sum()),
                     "profit_low": None, "profit_high": None, "true_conversions": total["true_conversions"],
                     "true_profit": total["true_profit"]})
    return pl.DataFrame(rows, schema={k: (pl.String if k == "reading" else pl.Float64) for k in
                                      ("reading", *cols, "true_conversions", "true_profit")})
