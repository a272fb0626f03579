"""Campaign economics of one treatment arm from its intent-to-treat effects.

All totals scale the per-customer difference by the number of customers assigned to the arm
(intent-to-treat): ``incremental X = n_arm * (mean_arm - mean_control)``, with the interval scaled the
same way. Media cost is the arm's observed spend and is treated as known, so
``incremental profit = incremental margin - cost`` shifts the margin interval by the cost.
Cost per incremental conversion and incremental ROAS are monotone in one estimate, so their intervals
are the images of that estimate's interval (an interval touching zero conversions gives an unbounded
cost per conversion).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import polars as pl

from experiments.errors import ParameterError
from experiments.formatting import money
from experiments.plain import plain
from experiments.stats.results import Effect

__all__ = ["CampaignEconomics", "campaign_economics"]

Verdict = Literal["pays back", "does not pay back", "inconclusive"]


@dataclass(frozen=True)
class CampaignEconomics:
    """Incremental totals of one arm with intervals at level ``1 - alpha``."""

    arm: str
    control: str
    n_arm: int
    cost: float
    incremental_conversions: float
    incremental_conversions_low: float
    incremental_conversions_high: float
    incremental_revenue: float
    incremental_revenue_low: float
    incremental_revenue_high: float
    incremental_profit: float
    incremental_profit_low: float
    incremental_profit_high: float
    cost_per_incremental_conversion: float
    cost_per_incremental_conversion_low: float
    cost_per_incremental_conversion_high: float
    iroas: float
    iroas_low: float
    iroas_high: float
    alpha: float = 0.05

    @property
    def verdict(self) -> Verdict:
        """``pays back`` when the whole profit interval is above zero, ``does not`` when below."""
        if self.incremental_profit_low > 0:
            return "pays back"
        if self.incremental_profit_high < 0:
            return "does not pay back"
        return "inconclusive"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (non-finite numbers become ``None``)."""
        return {k: plain(v) for k, v in asdict(self).items()} | {"verdict": self.verdict}

    def to_frame(self) -> pl.DataFrame:
        """Long frame: one row per measure with estimate, low, high."""
        rows = []
        for m in ("incremental_conversions", "incremental_revenue", "incremental_profit",
                  "cost_per_incremental_conversion", "iroas"):
            rows.append({"arm": self.arm, "measure": m, "estimate": getattr(self, m),
                         "low": getattr(self, f"{m}_low"), "high": getattr(self, f"{m}_high")})
        return pl.DataFrame(rows)

    def summary(self) -> str:
        """One readable line."""
        return (
            f"{self.arm}: {self.incremental_conversions:,.0f} incremental conversions "
            f"({self.incremental_conversions_low:,.0f} to {self.incremental_conversions_high:,.0f}), "
            f"profit {money(self.incremental_profit, 0)} ({money(self.incremental_profit_low, 0)} to "
            f"{money(self.incremental_profit_high, 0)}) on {money(self.cost, 0)} spend: {self.verdict}"
        )


def _cost_per(cost: float, x: float) -> float:
    return cost / x if x > 0 else math.inf


def campaign_economics(
    conversion: Effect, revenue: Effect, margin: Effect, *, cost: float
) -> CampaignEconomics:
    """Incremental conversions, revenue, profit, cost per incremental conversion and iROAS.

    Parameters
    ----------
    conversion, revenue, margin
        Per-customer intent-to-treat effects of the same arm against the same control; ``margin``
        is the per-customer gross margin after incentive costs, before media cost.
    cost
        Media cost spent on the arm (dollars, >= 0).
    """
    if not (math.isfinite(cost) and cost >= 0):
        raise ParameterError("cost", cost, "a finite number >= 0")
    if len({(e.arm, e.control, e.n_arm) for e in (conversion, revenue, margin)}) != 1:
        raise ParameterError("effects", (conversion.arm, revenue.arm, margin.arm),
                             "effects of the same arm, control and sample")
    n = conversion.n_arm
    conv = (n * conversion.estimate, n * conversion.ci_low, n * conversion.ci_high)
    rev = (n * revenue.estimate, n * revenue.ci_low, n * revenue.ci_high)
    prof = (n * margin.estimate - cost, n * margin.ci_low - cost, n * margin.ci_high - cost)
    cpic = (_cost_per(cost, conv[0]), _cost_per(cost, conv[2]), _cost_per(cost, conv[1]))
    roas = tuple(r / cost if cost > 0 else math.nan for r in rev)
    return CampaignEconomics(
        arm=conversion.arm, control=conversion.control, n_arm=n, cost=cost,
        incremental_conversions=conv[0], incremental_conversions_low=conv[1],
        incremental_conversions_high=conv[2],
        incremental_revenue=rev[0], incremental_revenue_low=rev[1], incremental_revenue_high=rev[2],
        incremental_profit=prof[0], incremental_profit_low=prof[1], incremental_profit_high=prof[2],
        cost_per_incremental_conversion=cpic[0], cost_per_incremental_conversion_low=cpic[1],
        cost_per_incremental_conversion_high=cpic[2],
        iroas=roas[0], iroas_low=roas[1], iroas_high=roas[2], alpha=conversion.alpha,
    )
