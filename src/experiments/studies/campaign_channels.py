"""What each channel of a remarketing campaign earns, measured by the factorial channel holdout, against
the truth.

Among the customers of the treatment arms, each was held out of each channel independently
(``channel_holdout``). A channel's effect per customer is the difference between those who had it and
those held out of it (:func:`experiments.stats.factorial.pooled_effect`); times the customers who
had it, it is the purchases and profit (margin net of the incentive and of all media cost) the channel
added to the campaign as run; over the channel's own spend, the profit per dollar. Pairs of channels:
the 2 × 2 interaction per 1,000 customers. The truth is the simulator's per-customer channel effect
(summed the same way) and the pair interactions computed on the same customers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import polars as pl

from experiments.charts import remarketing as rc
from experiments.formatting import fmt
from experiments.simulate.channels import SYNERGY_SOURCE, traits_of
from experiments.stats.factorial import FactorialCells, cell_statistics, pooled_effect, weighted_contrast
from experiments.studies.base import Figure

if TYPE_CHECKING:
    import altair as alt

__all__ = ["ChannelAnalysis", "ChannelRow", "PairRow", "channel_assumptions", "measure_channels"]

_PAIR = "×"


@dataclass(frozen=True)
class ChannelRow:
    """One channel's contribution to the campaign as run, estimated and true."""

    channel: str
    customers: int  # treatment-arm customers who had the channel
    held_out: int  # treatment-arm customers held out of it
    spend: float  # media spend on the channel, dollars
    conversions: float
    conversions_low: float
    conversions_high: float
    profit: float
    profit_low: float
    profit_high: float
    true_conversions: float | None = None
    true_profit: float | None = None

    def per_dollar(self, value: float | None) -> float | None:
        """``value`` (profit) per dollar of the channel's spend (None without spend)."""
        return None if value is None or self.spend <= 0 else value / self.spend

    @property
    def per_1000(self) -> float:
        """Incremental profit per 1,000 customers who had the channel."""
        return 1000 * self.profit / self.customers


@dataclass(frozen=True)
class PairRow:
    """The interaction of two channels per 1,000 treatment-arm customers, estimated and true."""

    first: str
    second: str
    conversions: float
    conversions_low: float
    conversions_high: float
    profit: float
    profit_low: float
    profit_high: float
    true_conversions: float | None = None
    true_profit: float | None = None

    @property
    def label(self) -> str:
        """``"display×email"``."""
        return f"{self.first}{_PAIR}{self.second}"


@dataclass(frozen=True)
class ChannelAnalysis:
    """Every channel's and channel pair's contribution, with intervals and the truth."""

    factorial: FactorialCells
    channels: tuple[ChannelRow, ...]
    pairs: tuple[PairRow, ...]
    holdout: float
    alpha: float = 0.05

    def row(self, channel: str) -> ChannelRow:
        """The row of ``channel``."""
        return next(r for r in self.channels if r.channel == channel)

    # ----- what the report says ------------------------------------------------------------------
    def advice(self) -> tuple[str, str]:
        """``(sentence, tone)``: the channel to grow or cut, in money, with intervals."""
        level = f"{round(100 * (1 - self.alpha))}%"

        def money(r: ChannelRow) -> str:
            each = r.per_dollar(r.profit)
            return (f"{fmt(r.profit, 'money')} of profit ({level} interval {fmt(r.profit_low, 'money')} to "
                    f"{fmt(r.profit_high, 'money')})"
                    + (f", {fmt(each, 'money')} per dollar spent on it" if each is not None else ""))

        ranked = sorted(self.channels, key=lambda r: r.profit)
        losers = [r for r in ranked if r.profit_high < 0]
        winners = [r for r in reversed(ranked) if r.profit_low > 0]
        parts = []
        if losers:
            parts.append(f"Cut {losers[0].channel}: it cost {money(losers[0])} after its own media")
        if winners:
            parts.append(f"grow {winners[0].channel}: it added {money(winners[0])}")
        if not parts:
            worst, best = ranked[0], ranked[-1]
            return (f"No channel is clearly making or losing money yet: {best.channel} did best, "
                    f"{money(best)}; {worst.channel} worst, {money(worst)}."), "neutral"
        sentence = "; ".join(parts) + "."
        sentence = sentence[0].upper() + sentence[1:]
        tone = "bad" if losers and not winners else "good" if winners and not losers else "neutral"
        return sentence, tone

    def details(self) -> list[str]:
        """One sentence per channel and per pair."""
        level = f"{round(100 * (1 - self.alpha))}%"
        out = []
        for r in self.channels:
            truth = (f"; true {fmt(r.true_conversions, 'number')} and {fmt(r.true_profit, 'money')}"
                     if r.true_conversions is not None and r.true_profit is not None else "")
            out.append(
                f"{r.channel} ({fmt(r.spend, 'money')} spend, {r.held_out:,} customers held out of it): "
                f"{fmt(r.conversions, 'number')} purchases ({level} interval "
                f"{fmt(r.conversions_low, 'number')} to {fmt(r.conversions_high, 'number')}), "
                f"profit {fmt(r.profit, 'money')} "
                f"({fmt(r.profit_low, 'money')} to {fmt(r.profit_high, 'money')}){truth}."
            )
        for p in self.pairs:
            truth = "" if p.true_conversions is None else f"; true {fmt(p.true_conversions, 'number', 2)}"
            out.append(
                f"{p.first} and {p.second} together: {fmt(p.conversions, 'number', 2)} purchases per 1,000 "
                f"customers beyond their separate effects ({level} interval "
                f"{fmt(p.conversions_low, 'number', 2)} to {fmt(p.conversions_high, 'number', 2)}){truth}."
            )
        return out

    def figures(self) -> tuple[Figure, ...]:
        """Per channel: incremental purchases, profit and profit per dollar; per pair: the interaction."""
        out = []
        for r in self.channels:
            out += [
                Figure("channel_incremental_conversions", f"Purchases added by {r.channel}", r.conversions,
                       r.conversions_low, r.conversions_high, r.true_conversions, "orders", group=r.channel),
                Figure("channel_incremental_profit", f"Profit added by {r.channel}", r.profit, r.profit_low,
                       r.profit_high, r.true_profit, "$", group=r.channel),
            ]
            if r.spend > 0:
                out.append(Figure("channel_profit_per_dollar", f"Profit per dollar of {r.channel}",
                                  r.per_dollar(r.profit), r.per_dollar(r.profit_low),  # type: ignore[arg-type]
                                  r.per_dollar(r.profit_high), r.per_dollar(r.true_profit), "x",
                                  group=r.channel))
        for p in self.pairs:
            out += [
                Figure("channel_pair_interaction_conversions",
                       f"Interaction of {p.first} and {p.second}, purchases per 1,000", p.conversions,
                       p.conversions_low, p.conversions_high, p.true_conversions, "", group=p.label),
                Figure("channel_pair_interaction_profit",
                       f"Interaction of {p.first} and {p.second}, profit per 1,000", p.profit, p.profit_low,
                       p.profit_high, p.true_profit, "$", group=p.label),
            ]
        return tuple(out)

    def table(self) -> pl.DataFrame:
        """Per channel and pair: estimate, interval and truth, formatted for the report."""
        level = f"{round(100 * (1 - self.alpha))}% interval"
        rows = []
        for r in self.channels:
            each = [r.per_dollar(v) for v in (r.profit, r.profit_low, r.profit_high, r.true_profit)]
            rows.append({
                "channel": r.channel, "spend": fmt(r.spend, "money"),
                "incremental purchases": fmt(r.conversions, "number"),
                f"purchases {level}": f"{fmt(r.conversions_low, 'number')} to "
                                      f"{fmt(r.conversions_high, 'number')}",
                "true purchases": fmt(r.true_conversions, "number") if r.true_conversions is not None else "",
                "incremental profit": fmt(r.profit, "money"),
                f"profit {level}": f"{fmt(r.profit_low, 'money')} to {fmt(r.profit_high, 'money')}",
                "true profit": fmt(r.true_profit, "money") if r.true_profit is not None else "",
                "profit per 1,000 with it": fmt(r.per_1000, "money"),
                "profit per $": "n/a" if each[0] is None else fmt(each[0], "number", 2),
                "true profit per $": "n/a" if each[3] is None else fmt(each[3], "number", 2),
            })
        for p in self.pairs:
            rows.append({
                "channel": f"{p.label} (interaction, per 1,000)", "spend": "",
                "incremental purchases": fmt(p.conversions, "number", 2),
                f"purchases {level}": f"{fmt(p.conversions_low, 'number', 2)} to "
                                      f"{fmt(p.conversions_high, 'number', 2)}",
                "true purchases": "" if p.true_conversions is None else fmt(p.true_conversions, "number", 2),
                "incremental profit": fmt(p.profit, "money"),
                f"profit {level}": f"{fmt(p.profit_low, 'money')} to {fmt(p.profit_high, 'money')}",
                "true profit": fmt(p.true_profit, "money") if p.true_profit is not None else "",
                "profit per 1,000 with it": "", "profit per $": "", "true profit per $": "",
            })
        return pl.DataFrame(rows)

    def chart(self) -> alt.LayerChart:
        """Each channel's incremental profit, estimate and interval against the truth."""
        data = pl.DataFrame({
            "arm": [r.channel for r in self.channels],
            "measure": ["incremental profit added by the channel ($)"] * len(self.channels),
            "estimate": [r.profit for r in self.channels],
            "low": [r.profit_low for r in self.channels],
            "high": [r.profit_high for r in self.channels],
            "truth": [float("nan") if r.true_profit is None else r.true_profit for r in self.channels],
        }).with_columns(covered=(pl.col("low") <= pl.col("truth")) & (pl.col("truth") <= pl.col("high")))
        best = max(self.channels, key=lambda r: r.profit)
        worst = min(self.channels, key=lambda r: r.profit)
        title = (f"Profit added by each channel: {best.channel} most ({fmt(best.profit, 'money')}), "
                 f"{worst.channel} least ({fmt(worst.profit, 'money')})")
        return rc.estimate_vs_truth(data, title=title)


def measure_channels(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    channels: Sequence[str],
    unit_costs: Mapping[str, float],
    holdout: float,
    control: str = "holdout",
    alpha: float = 0.05,
    pair_truth: pl.DataFrame | None = None,
) -> ChannelAnalysis:
    """Each channel's and pair's contribution among the treatment arms' customers.

    Parameters
    ----------
    frame
        The simulated table: ``arm``, ``converted``, ``margin``, ``cost``, ``held_out_<channel>`` and
        ``exposures_<channel>``; the ``cate_channel_*__<channel>`` truth columns when simulated.
    channels, unit_costs
        The campaign's channels and their prices (per impression or message).
    holdout
        The share held out of each channel (for the words).
    pair_truth
        :func:`experiments.simulate.channel_pairs.channel_pair_truth` (optional).
    """
    lf = frame.lazy().filter(pl.col("arm") != control)
    on = {c: f"_on_{c}" for c in channels}
    names = set(frame.collect_schema().names()) if isinstance(frame, pl.LazyFrame) else set(frame.columns)
    lf = lf.with_columns(
        *[(~pl.col(f"held_out_{c}")).alias(on[c]) for c in channels],
        (pl.col("margin") - pl.col("cost")).alias("_profit"),
    )
    factorial = cell_statistics(lf, factors=on, metrics=["converted", "_profit"])
    sums = [pl.col(on[c]).sum().alias(f"n_{c}") for c in channels]
    sums += [(pl.col(f"exposures_{c}").cast(pl.Float64) * unit_costs[c]).filter(pl.col(on[c])).sum()
             .alias(f"spend_{c}") for c in channels]
    truth = all(f"cate_channel_converted__{c}" in names for c in channels)
    if truth:
        sums += [pl.col(f"cate_channel_{m}__{c}").cast(pl.Float64).filter(pl.col(on[c])).sum()
                 .alias(f"true_{m}_{c}") for c in channels for m in ("converted", "profit")]
    totals = lf.select(sums).collect().row(0, named=True)
    rows = []
    for c in channels:
        n_on = int(totals[f"n_{c}"])
        conv, prof = (pooled_effect(factorial, c, metric=m, alpha=alpha)
                      for m in ("converted", "_profit"))
        rows.append(ChannelRow(
            channel=c, customers=n_on, held_out=factorial.units(c, on=False),
            spend=float(totals[f"spend_{c}"]),
            conversions=n_on * conv.estimate, conversions_low=n_on * conv.ci_low,
            conversions_high=n_on * conv.ci_high,
            profit=n_on * prof.estimate, profit_low=n_on * prof.ci_low, profit_high=n_on * prof.ci_high,
            true_conversions=float(totals[f"true_converted_{c}"]) if truth else None,
            true_profit=float(totals[f"true_profit_{c}"]) if truth else None,
        ))
    pair_true = {} if pair_truth is None else {(r["first"], r["second"]): r
                                               for r in pair_truth.iter_rows(named=True)}
    pairs = []
    for a, b in combinations(channels, 2):
        pooled = factorial.pooled((a, b))
        weights = {frozenset((a, b)): 1.0, frozenset((a,)): -1.0, frozenset((b,)): -1.0, frozenset(): 1.0}
        i_conv, i_prof = (weighted_contrast(pooled, weights, metric=m, term=f"{a} x {b}", kind="pair",
                                            alpha=alpha) for m in ("converted", "_profit"))
        t = pair_true.get((a, b))
        pairs.append(PairRow(
            first=a, second=b,
            conversions=1000 * i_conv.estimate, conversions_low=1000 * i_conv.ci_low,
            conversions_high=1000 * i_conv.ci_high,
            profit=1000 * i_prof.estimate, profit_low=1000 * i_prof.ci_low, profit_high=1000 * i_prof.ci_high,
            true_conversions=None if t is None else 1000 * t["interaction_converted"],
            true_profit=None if t is None else 1000 * t["interaction_profit"],
        ))
    return ChannelAnalysis(factorial, tuple(rows), tuple(pairs), holdout, alpha)


def channel_assumptions(scenario: object) -> list[str]:
    """The channel traits, the display synergy and the channel holdout, in words, each marked as assumed
    or cited."""
    s = scenario
    traits = traits_of(s)
    parts = [f"{c} strength {traits[c].strength:g}, intrusiveness {traits[c].intrusiveness:g}"
             + (f", unsubscribes x{traits[c].unsubscribe:g}" if traits[c].unsubscribe else "")
             + f", half-life x{traits[c].half_life:g}" for c in s.channels]  # type: ignore[attr-defined]
    out = [
        "Channels differ (relative to display; all assumptions, no published per-channel ranking exists): "
        + "; ".join(parts)
        + f". Native does not interrupt (intrusiveness {traits['native'].intrusiveness:g}).",
        f"Display lifts an e-mail or SMS that follows within {s.synergy_window_days:g} days by "  # type: ignore[attr-defined]
        f"{s.display_synergy:.0%} ({SYNERGY_SOURCE}); channels also compete for the "  # type: ignore[attr-defined]
        "frequency cap, so a pair's net interaction can be negative.",
    ]
    h = getattr(s, "channel_holdout", 0.0)
    if h > 0:
        out.append(f"Factorial channel holdout: {h:.0%} of customers held out of each channel, independently "
                   "per channel, so every channel and channel pair is measured within the treatment arms.")
    return out
