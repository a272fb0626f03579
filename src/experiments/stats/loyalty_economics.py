"""Does a loyalty programme pay for itself? Incremental margin, rewards cost, pay-back, retention value.

Everything is per *offered* customer (intent to treat): the programme's net value is the randomised
difference, offer arm minus control, of each customer's net contribution

    margin x (revenue + referred customers' revenue) - rewards cost - message cost - referral bonuses

so its interval carries the uncertainty of revenue and costs together. A referred customer counts by
what she buys (``referred_revenue``: her purchases within the horizon, credited to the member who
referred her), not by a formula value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from experiments import net_value
from experiments.errors import DataError, ParameterError
from experiments.exact_sums import group_sums
from experiments.stats.retention import Estimate, itt_effect

__all__ = [
    "ProgrammeEconomics",
    "RetentionValue",
    "net_contribution",
    "payback_curve",
    "payback_period",
    "programme_economics",
    "retention_value",
]


def net_contribution(
    *,
    margin: float,
    referral_bonus: float,
    revenue: str = "revenue",
    rewards_cost: str = "rewards_cost",
    message_cost: str = "message_cost",
    referrals: str = "referrals",
    referred_revenue: str = "referred_revenue",
) -> pl.Expr:
    """Polars expression of each customer's net contribution (see the module docstring)."""
    if not 0 <= margin <= 1:
        raise ParameterError("margin", margin, "a number in [0, 1]")
    return net_value.net_contribution(pl.col(revenue), pl.col(rewards_cost), pl.col(message_cost),
                                      pl.col(referrals), pl.col(referred_revenue), margin=margin,
                                      referral_bonus=referral_bonus)


@dataclass(frozen=True)
class ProgrammeEconomics:
    """Per offered customer: incremental revenue and margin, programme costs, net value and ROI."""

    incremental_revenue: Estimate
    incremental_margin: float
    rewards_cost: float
    message_cost: float
    referral_bonus_cost: float
    referral_value: float
    net_value: Estimate
    return_on_cost: float
    margin: float

    @property
    def total_cost(self) -> float:
        return self.rewards_cost + self.message_cost + self.referral_bonus_cost

    @property
    def pays_for_itself(self) -> bool | None:
        """True if the whole interval of the net value is above 0, False if below, None if unclear."""
        if self.net_value.ci_low > 0:
            return True
        if self.net_value.ci_high < 0:
            return False
        return None

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["total_cost"] = self.total_cost
        d["pays_for_itself"] = self.pays_for_itself
        return d

    def to_frame(self) -> pl.DataFrame:
        rows = [
            (
                "incremental revenue",
                self.incremental_revenue.estimate,
                self.incremental_revenue.ci_low,
                self.incremental_revenue.ci_high,
            ),
            ("incremental margin", self.incremental_margin, None, None),
            ("rewards cost", -self.rewards_cost, None, None),
            ("relationship messages", -self.message_cost, None, None),
            ("referral bonuses", -self.referral_bonus_cost, None, None),
            ("margin on referred customers' purchases", self.referral_value, None, None),
            ("net value", self.net_value.estimate, self.net_value.ci_low, self.net_value.ci_high),
        ]
        return pl.DataFrame(rows, schema=["item", "per_offered_customer", "ci_low", "ci_high"], orient="row")

    def summary(self) -> str:
        n = self.net_value
        return (
            f"Net value per offered customer {n.estimate:.2f} (95% CI {n.ci_low:.2f} to {n.ci_high:.2f}); "
            f"incremental margin {self.incremental_margin:.2f}, programme cost {self.total_cost:.2f}, "
            f"return on cost {self.return_on_cost:.0%}"
        )


def programme_economics(
    customers: pl.DataFrame,
    *,
    margin: float,
    referral_bonus: float,
    arm: str = "arm",
    treatment: str = "offer",
    control: str = "control",
    alpha: float = 0.05,
) -> ProgrammeEconomics:
    """Randomised programme economics from a customer table with ``revenue``, ``rewards_cost``,
    ``message_cost``, ``referrals`` and ``referred_revenue`` columns (zero outside the programme)."""
    net = net_contribution(margin=margin, referral_bonus=referral_bonus)
    frame = customers.with_columns(net.alias("_net"))
    rev = itt_effect(frame, "revenue", arm=arm, treatment=treatment, control=control, alpha=alpha)
    netv = itt_effect(frame, "_net", arm=arm, treatment=treatment, control=control, alpha=alpha)
    netv = Estimate(
        "net value per offered customer",
        netv.estimate,
        netv.se,
        netv.ci_low,
        netv.ci_high,
        netv.p_value,
        netv.alpha,
        netv.method,
    )
    offered = frame.filter(pl.col(arm) == treatment)
    if offered.height == 0:
        raise DataError(f"no customer in arm {treatment!r}")
    means = offered.select(
        pl.col("rewards_cost").mean(),
        pl.col("message_cost").mean(),
        pl.col("referrals").cast(pl.Float64).mean(),
        pl.col("referred_revenue").mean(),
    ).row(0)
    rewards, messages, refs, referred = (float(x) for x in means)
    cost = rewards + messages + refs * referral_bonus
    return ProgrammeEconomics(
        incremental_revenue=rev,
        incremental_margin=rev.estimate * margin,
        rewards_cost=rewards,
        message_cost=messages,
        referral_bonus_cost=refs * referral_bonus,
        referral_value=referred * margin,
        net_value=netv,
        return_on_cost=netv.estimate / cost if cost > 0 else math.inf,
        margin=margin,
    )


def payback_curve(
    purchases: pl.DataFrame,
    customers: pl.DataFrame,
    *,
    margin: float,
    referral_bonus: float,
    n_periods: int,
    arm: str = "arm",
    treatment: str = "offer",
    control: str = "control",
) -> pl.DataFrame:
    """Cumulative net value per offered customer at the end of each period (tidy: period, value columns).

    Incremental margin is the offer-minus-control difference of revenue per customer so far; costs
    are those of the offer arm so far (rewards and referrals when they happen, the offer arm's message
    cost spread evenly over the periods); referred customers' margin counts from the period of the
    referral.
    """
    for c in ("customer_id", "period", "revenue", "rewards_cost", "referrals", "referred_revenue"):
        if c not in purchases.columns:
            raise DataError(f"purchases table lacks column {c!r}")
    sizes = dict(customers.group_by(arm).agg(pl.len()).iter_rows())
    if treatment not in sizes or control not in sizes:
        raise DataError(f"arms {treatment!r} and {control!r} both needed in column {arm!r}")
    message_total = float(customers.filter(pl.col(arm) == treatment)["message_cost"].mean())
    per = group_sums(purchases.join(customers.select("customer_id", arm), on="customer_id"), [arm, "period"],
                     {c: pl.col(c).cast(pl.Float64) for c in ("revenue", "rewards_cost", "referred_revenue")},
                     aggs=[pl.col("referrals").sum()])
    grid = pl.DataFrame({"period": np.arange(n_periods, dtype=np.int32)})

    def arm_totals(name: str) -> pl.DataFrame:
        part = per.filter(pl.col(arm) == name).drop(arm).with_columns(pl.col("period").cast(pl.Int32))
        return grid.join(part, on="period", how="left").fill_null(0).sort("period")

    t, c = arm_totals(treatment), arm_totals(control)
    n1, n0 = sizes[treatment], sizes[control]
    inc_rev = (t["revenue"].cum_sum() / n1 - c["revenue"].cum_sum() / n0).to_numpy()
    rewards = (t["rewards_cost"].cum_sum() / n1).to_numpy()
    refs = (t["referrals"].cum_sum() / n1).to_numpy().astype(float)
    referred = (t["referred_revenue"].cum_sum() / n1).to_numpy()
    messages = message_total * np.arange(1, n_periods + 1) / n_periods
    cost = rewards + messages + refs * referral_bonus
    net = net_value.net_contribution(inc_rev, rewards, messages, refs, referred, margin=margin,
                                     referral_bonus=referral_bonus)
    return pl.DataFrame(
        {
            "period": np.arange(1, n_periods + 1),
            "incremental_margin": inc_rev * margin,
            "programme_cost": cost,
            "referral_value": referred * margin,
            "net_value": net,
        }
    )


def payback_period(curve: pl.DataFrame) -> int | None:
    """First period from which the cumulative net value stays at or above zero (None if never)."""
    net = curve["net_value"].to_numpy()
    below = np.flatnonzero(net < 0)
    if below.size == 0:
        return int(curve["period"][0])
    if below[-1] == net.size - 1:
        return None
    return int(curve["period"][int(below[-1]) + 1])


@dataclass(frozen=True)
class RetentionValue:
    """What keeping a customer is worth next to what winning one costs."""

    value_of_retained_customer: float
    acquisition_cost: float
    programme_cost_per_retained_customer: float
    value_to_acquisition_ratio: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([self.to_dict()])

    def summary(self) -> str:
        return (
            f"a retained customer is worth {self.value_of_retained_customer:.2f} in future margin, "
            f"acquiring one costs {self.acquisition_cost:.2f}; the programme spends "
            f"{self.programme_cost_per_retained_customer:.2f} per customer it keeps from churning"
        )


def retention_value(
    clv_of_active: float, *, acquisition_cost: float, programme_cost: float, churn_reduction: float
) -> RetentionValue:
    """Compare the future margin of a retained customer (e.g. mean BG/NBD x Gamma-Gamma CLV of the
    active customers) with the cost of acquiring one and the programme's cost per retained customer
    (cost per offered customer divided by the fall in churn rate; infinite if churn did not fall)."""
    if acquisition_cost < 0:
        raise ParameterError("acquisition_cost", acquisition_cost, "a number >= 0")
    per_retained = programme_cost / churn_reduction if churn_reduction > 0 else math.inf
    ratio = clv_of_active / acquisition_cost if acquisition_cost > 0 else math.inf
    return RetentionValue(float(clv_of_active), float(acquisition_cost), float(per_retained), float(ratio))

