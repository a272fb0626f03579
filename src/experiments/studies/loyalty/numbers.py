"""What the loyalty study computes: the simulated offer's effects on revenue, churn and CLV, its economics
and payback, each with the truth beside it (:func:`measure`); the words are in
:mod:`experiments.studies.loyalty.words`, the report's tables and charts in
:mod:`experiments.studies.loyalty.result`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from experiments.models import clv as clv_models
from experiments.models import survival
from experiments.simulate.loyalty import LoyaltySimulation, simulate_loyalty
from experiments.stats import loyalty_economics as econ
from experiments.stats import retention
from experiments.stats.factorial import FactorialContrast, cell_statistics, weighted_contrast
from experiments.studies.loyalty.scenario import LoyaltyScenario

__all__ = ["LoyaltyNumbers", "lever_effects", "measure", "simulate"]

N = TypeVar("N", bound="LoyaltyNumbers")


@dataclass(frozen=True)
class LoyaltyNumbers:
    """The loyalty study's numbers: estimated from the simulated tables, with the truth beside them."""

    scenario: LoyaltyScenario
    truth: dict[str, float]
    economics: econ.ProgrammeEconomics
    itt: retention.Estimate
    members: retention.Estimate
    naive: retention.Estimate
    churn: retention.Estimate
    curves: survival.RetentionCurves
    cox: survival.CoxResult
    clv_fits: tuple[clv_models.GroupCLV, ...]
    clv_customers: pl.DataFrame
    payback: pl.DataFrame
    keep_value: econ.RetentionValue
    arm_measures: pl.DataFrame
    cumulative: pl.DataFrame
    levers: tuple[FactorialContrast, ...]
    cell_sizes: dict[str, int]


def simulate(scenario: LoyaltyScenario, **options: Any) -> LoyaltySimulation:
    """The scenario's customers and purchases, with their truth (``options``: ``block_size``, ``workers``)."""
    return simulate_loyalty(scenario, **options)


def lever_effects(customers: pl.DataFrame, *, margin: float, referral_bonus: float, alpha: float = 0.05
                  ) -> tuple[FactorialContrast, ...]:
    """Main effects of rewards and messages and their interaction on the net value (offered customers)."""
    offered = customers.lazy().filter(pl.col("offered")).select(
        rewards=pl.col("cell").is_in(["rewards", "both"]),
        messages=pl.col("cell").is_in(["messages", "both"]),
        net=econ.net_contribution(margin=margin, referral_bonus=referral_bonus),
    )
    cells = cell_statistics(offered, factors=("rewards", "messages"), metrics=("net",))
    none, rewards, messages, both = (frozenset(g) for g in ((), ("rewards",), ("messages",),
                                                            ("rewards", "messages")))
    weights = {"rewards": {none: -0.5, rewards: 0.5, messages: -0.5, both: 0.5},
               "messages": {none: -0.5, rewards: -0.5, messages: 0.5, both: 0.5},
               "rewards x messages": {none: 1.0, rewards: -1.0, messages: -1.0, both: 1.0}}
    return tuple(weighted_contrast(cells, w, metric="net", term=term, kind="interaction" if " x " in term
                                   else "main", alpha=alpha) for term, w in weights.items())


def measure(scenario: LoyaltyScenario, into: type[N]) -> N:
    """Simulate the factorial programme offer and estimate everything the report states, as ``into`` (the
    numbers, or the result class that adds the report's words, tables and charts to them).

    Each lever's main effect and their interaction come from all offered customers (the 2 x 2); the
    programme's other figures compare the customers offered both levers with the control.
    """
    s = scenario
    sim = simulate(s)
    everyone = sim.customers
    programme = sim.programme()
    customers, purchases = programme.customers, programme.purchases
    economics = econ.programme_economics(customers, margin=s.margin, referral_bonus=s.referral_bonus)
    churn = retention.itt_effect(customers, "lapsed")
    fits, clv_customers = clv_models.clv_by_group(
        customers, group="arm", holdout_length=s.horizon - s.calibration_periods, horizon=s.periods_per_year,
        margin=s.margin, discount_rate=s.discount_per_period)
    durations, events = customers["duration"].to_numpy(), customers["lapsed"].to_numpy()
    return into(
        scenario=s, truth=sim.truth(), economics=economics,
        itt=retention.itt_effect(customers, "revenue"), members=retention.member_effect(customers, "revenue"),
        naive=retention.naive_member_gap(customers, "revenue"), churn=churn,
        curves=survival.retention_curves(durations, events, customers["arm"].to_numpy()),
        cox=survival.cox_ph(durations, events, {"offer": (customers["arm"] == "offer").to_numpy()}),
        clv_fits=tuple(fits), clv_customers=clv_customers,
        payback=econ.payback_curve(purchases, customers, margin=s.margin, referral_bonus=s.referral_bonus,
                                   n_periods=s.horizon),
        keep_value=econ.retention_value(fits[0].mean_clv, acquisition_cost=s.acquisition_cost,
                                        programme_cost=economics.total_cost, churn_reduction=-churn.estimate),
        arm_measures=retention.arm_measures(customers),
        cumulative=retention.cumulative_by_period(purchases, customers, n_periods=s.horizon),
        levers=lever_effects(everyone, margin=s.margin, referral_bonus=s.referral_bonus),
        cell_sizes=dict(everyone.group_by("cell").agg(pl.len()).sort("cell").iter_rows()),
    )
