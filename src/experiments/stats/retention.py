"""Repeat purchase, churn, purchases and revenue per customer by arm; randomised vs naive comparisons.

All estimates come from per-group sufficient statistics (``n``, sums, sums of squares and
cross-products) gathered in one polars ``group_by``; intervals are normal (Wald) intervals, which
``tests/test_loyalty_stats.py`` checks against statsmodels' Welch comparison of means.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import polars as pl

from experiments.errors import DataError
from experiments.exact_sums import group_sums
from experiments.stats.special import ndtr, ndtri  # the normal cdf and quantile
from experiments.stats.sufficient import ArmStatistics, SampleStats, gather

__all__ = [
    "Estimate",
    "arm_measures",
    "comparison_frame",
    "cumulative_by_period",
    "itt_effect",
    "member_effect",
    "naive_member_gap",
]


@dataclass(frozen=True)
class Estimate:
    """One estimate with its standard error and two-sided interval."""

    measure: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    method: str

    def __iter__(self):
        return iter((self.estimate, self.p_value))

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval."""
        return self.ci_low <= value <= self.ci_high

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([self.to_dict()])

    def summary(self) -> str:
        level = round(100 * (1 - self.alpha))
        return (
            f"{self.measure}: {self.estimate:.4g} ({level}% CI {self.ci_low:.4g} to {self.ci_high:.4g}; "
            f"p={self.p_value:.3g}; {self.method})"
        )


def _estimate(measure: str, est: float, se: float, alpha: float, method: str) -> Estimate:
    z = ndtri(1 - alpha / 2)
    p = float(2 * ndtr(-abs(est / se))) if se > 0 else (0.0 if est != 0 else 1.0)
    return Estimate(
        measure, float(est), float(se), float(est - z * se), float(est + z * se), p, alpha, method
    )


def _check(frame: pl.DataFrame, *cols: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"columns not found: {', '.join(missing)}; available: {', '.join(frame.columns)}")


def _arm_stats(
    frame: pl.DataFrame, by: str, outcome: str, member: str | None = None
) -> tuple[ArmStatistics, set[str]]:
    """Sufficient statistics of ``outcome`` (and ``member``, with their cross-product) per ``by`` group."""
    metrics = [outcome] if member is None else [outcome, member]
    pairs = [] if member is None else [(outcome, member)]
    table = gather(frame, arm=by, metrics=metrics, pairs=pairs)
    return table, set(table.arms)


def _two_groups(
    table: ArmStatistics, present: set[str], first: str, second: str, outcome: str, message: str
) -> tuple[SampleStats, SampleStats]:
    """Statistics of ``outcome`` in two groups that must each hold at least 2 customers."""
    if not {first, second} <= present or min(table.stats(g, outcome).n for g in (first, second)) < 2:
        raise DataError(message)
    return table.stats(first, outcome), table.stats(second, outcome)


def _mean_gap(
    frame: pl.DataFrame, by: str, outcome: str, first: str, second: str, message: str, measure: str,
    alpha: float, method: str,
) -> Estimate:
    """Mean ``outcome`` in group ``first`` minus group ``second`` of column ``by`` (Welch standard error)."""
    table, present = _arm_stats(frame, by, outcome)
    t, c = _two_groups(table, present, first, second, outcome, message)
    return _estimate(measure, t.mean - c.mean, math.sqrt(t.variance / t.n + c.variance / c.n), alpha, method)


def arm_measures(
    customers: pl.DataFrame,
    *,
    arm: str = "arm",
    purchases: str = "purchases",
    revenue: str = "revenue",
    lapsed: str = "lapsed",
    alpha: float = 0.05,
) -> pl.DataFrame:
    """Per arm: repeat-purchase rate, churn rate, purchases and revenue per customer, with intervals.

    Returns a tidy frame ``arm, measure, estimate, ci_low, ci_high, n``.
    """
    _check(customers, arm, purchases, revenue, lapsed)
    z = ndtri(1 - alpha / 2)
    frame = customers.select(
        pl.col(arm).alias("arm"),
        (pl.col(purchases) > 0).cast(pl.Float64).alias("repeat_rate"),
        pl.col(lapsed).cast(pl.Float64).alias("churn_rate"),
        pl.col(purchases).cast(pl.Float64).alias("purchases_per_customer"),
        pl.col(revenue).cast(pl.Float64).alias("revenue_per_customer"),
    )
    measures = ["repeat_rate", "churn_rate", "purchases_per_customer", "revenue_per_customer"]
    table = gather(frame, arm="arm", metrics=measures)
    rows = []
    for a in table.arms:
        for m in measures:
            st = table.stats(a, m)
            mean, var = st.mean, st.variance
            se = math.sqrt(0.0 if math.isnan(var) else var) / math.sqrt(st.n)
            rows.append(
                {
                    "arm": a,
                    "measure": m,
                    "estimate": mean,
                    "ci_low": mean - z * se,
                    "ci_high": mean + z * se,
                    "n": st.n,
                }
            )
    return pl.DataFrame(rows)


def itt_effect(
    customers: pl.DataFrame,
    outcome: str,
    *,
    arm: str = "arm",
    treatment: str = "offer",
    control: str = "control",
    alpha: float = 0.05,
) -> Estimate:
    """Intent-to-treat effect of the offer: mean ``outcome`` in ``treatment`` minus ``control`` (Welch)."""
    _check(customers, arm, outcome)
    return _mean_gap(
        customers, arm, outcome, treatment, control,
        f"arms {treatment!r} and {control!r} need at least 2 customers each in column {arm!r}",
        f"ITT effect on {outcome}", alpha, "difference in means, randomised (Welch)",
    )


def member_effect(
    customers: pl.DataFrame,
    outcome: str,
    *,
    arm: str = "arm",
    member: str = "member",
    treatment: str = "offer",
    control: str = "control",
    alpha: float = 0.05,
) -> Estimate:
    """Effect of membership on those who join: ITT divided by the join share (Bloom / Wald estimator).

    Valid because no control customer can join; the standard error is the delta method, with the
    covariance of mean outcome and join share in the offer arm.
    """
    _check(customers, arm, outcome, member)
    table, present = _arm_stats(customers, arm, outcome, member)
    t, c = _two_groups(table, present, treatment, control, outcome,
                       f"arms {treatment!r} and {control!r} need at least 2 customers each")
    joined = table.stats(treatment, member)
    n1, n0 = t.n, c.n
    m1, v1, m0, v0 = t.mean, t.variance, c.mean, c.variance
    share, vs = joined.mean, joined.variance
    if share <= 0:
        raise DataError("no offered customer joined: the effect on members is not identified")
    cov = (table.cross(treatment, outcome, member) - n1 * m1 * share) / (n1 - 1) / n1
    itt = m1 - m0
    var_itt = v1 / n1 + v0 / n0
    est = itt / share
    var = var_itt / share**2 + itt**2 * (vs / n1) / share**4 - 2 * itt * cov / share**3
    return _estimate(
        f"effect of membership on {outcome} (members)",
        est,
        math.sqrt(max(var, 0.0)),
        alpha,
        "ITT / join share (Wald), delta method",
    )


def naive_member_gap(
    customers: pl.DataFrame,
    outcome: str,
    *,
    arm: str = "arm",
    member: str = "member",
    treatment: str = "offer",
    alpha: float = 0.05,
) -> Estimate:
    """Members minus non-members among offered customers: precise, and biased by self-selection."""
    _check(customers, arm, outcome, member)
    offered = customers.filter(pl.col(arm) == treatment).with_columns(pl.col(member).cast(pl.Boolean))
    return _mean_gap(
        offered, member, outcome, "true", "false",
        "the naive comparison needs at least 2 members and 2 non-members",
        f"member vs non-member gap in {outcome}", alpha, "naive comparison (self-selected)",
    )


def cumulative_by_period(
    purchases: pl.DataFrame,
    customers: pl.DataFrame,
    *,
    value: str = "revenue",
    arm: str = "arm",
    customer: str = "customer_id",
    period: str = "period",
    n_periods: int | None = None,
) -> pl.DataFrame:
    """Cumulative ``value`` per customer of each arm at the end of each period (tidy: arm, period, value).

    ``purchases`` has one row per customer-period with activity; customers without any count as zero.
    """
    _check(purchases, customer, period, value)
    _check(customers, customer, arm)
    sizes = customers.group_by(arm).agg(pl.len().alias("n"))
    last = int(purchases[period].max() or 0) if n_periods is None else n_periods - 1
    grid = sizes.select(arm).join(pl.DataFrame({period: list(range(last + 1))}), how="cross")
    per = group_sums(purchases.join(customers.select(customer, arm), on=customer, how="inner"),
                     [arm, period], {"total": pl.col(value).cast(pl.Float64)})
    return (
        grid.join(per, on=[arm, period], how="left")
        .with_columns(pl.col("total").fill_null(0.0))
        .sort(arm, period)
        .with_columns(pl.col("total").cum_sum().over(arm).alias("cumulative"))
        .join(sizes, on=arm, maintain_order="left")
        .select(
            pl.col(arm).alias("arm"),
            pl.col(period).cast(pl.Int64).alias("period"),
            (pl.col("cumulative") / pl.col("n")).alias(value),
        )
    )


def comparison_frame(
    naive: Estimate,
    itt: Estimate,
    members: Estimate,
    *,
    true_itt: float | None = None,
    true_member: float | None = None,
) -> pl.DataFrame:
    """The naive member gap next to the randomised estimates (and the truth, when known)."""
    return pl.DataFrame(
        {
            "comparison": [
                "members vs non-members (naive)",
                "offer vs control, per offered customer (randomised)",
                "effect on members (randomised, ITT / join share)",
            ],
            "estimate": [naive.estimate, itt.estimate, members.estimate],
            "ci_low": [naive.ci_low, itt.ci_low, members.ci_low],
            "ci_high": [naive.ci_high, itt.ci_high, members.ci_high],
            "truth": [true_member, true_itt, true_member],
        },
        schema_overrides={"truth": pl.Float64},
    )
