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
from experiments.studies.loyalty.scenario import LoyaltyScenario

__all__ = ["LoyaltyNumbers", "measure", "simulate"]

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


def simulate(scenario: LoyaltyScenario, **options: Any) -> LoyaltySimulation:
    """The scenario's customers and purchases, with their truth (``options``: ``block_size``, ``workers``)."""
    return simulate_loyalty(scenario, **options)


def measure(scenario: LoyaltyScenario, into: type[N]) -> N:
    """Simulate the programme offer and estimate everything the report states, as ``into`` (the numbers,
    or the result class that adds the report's words, tables and charts to them)."""
    s = scenario
    sim = simulate(s)
    customers, purchases = sim.customers, sim.purchases
    economics = econ.programme_economics(customers, margin=s.margin, acquisition_cost=s.acquisition_cost,
                                         referral_bonus=s.referral_bonus)
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
        payback=econ.payback_curve(purchases, customers, margin=s.margin, acquisition_cost=s.acquisition_cost,
                                   referral_bonus=s.referral_bonus,
                                   message_cost_per_period=s.message_cost * s.weeks_per_period,
                                   n_periods=s.horizon),
        keep_value=econ.retention_value(fits[0].mean_clv, acquisition_cost=s.acquisition_cost,
                                        programme_cost=economics.total_cost, churn_reduction=-churn.estimate),
        arm_measures=retention.arm_measures(customers),
        cumulative=retention.cumulative_by_period(purchases, customers, n_periods=s.horizon),
    )
