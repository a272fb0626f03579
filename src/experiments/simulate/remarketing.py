"""Entry point of the remarketing simulator: one table with observed and potential outcomes.

Each chunk of customers draws its funnel, population, arm, delivery and outcomes from independent
child streams of the chunk's generator, so the table is byte-identical whatever the block size or the
number of workers, and runs that differ only in the frequency cap share every other random number.
Every customer carries its outcomes under every arm (common random numbers), so differences between
``<outcome>__<arm>`` columns are due to the treatment alone.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import polars as pl

from experiments.scenarios.remarketing import RemarketingScenario
from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.campaign import baseline_rates, deliver, order_noise, respond
from experiments.simulate.funnel import LIST_AUDIENCES, STAGES, draw_funnel
from experiments.simulate.population import (
    AGE_BANDS,
    DEVICES,
    REGIONS,
    SEGMENTS,
    draw_population,
)

__all__ = ["OUTCOMES", "POTENTIAL", "STREAM", "potential_column", "simulate_remarketing"]

#: Random stream number of this simulator (see :mod:`experiments.simulate.blocks`).
STREAM: int = 1
#: Observed outcome columns.
OUTCOMES: tuple[str, ...] = ("converted", "revenue", "margin", "returned", "unsubscribed")
#: Quantities stored per arm as ``<name>__<arm>``.
POTENTIAL: tuple[str, ...] = (*OUTCOMES, "cost", "exposures")

_DTYPES = {
    "converted": pl.Int8,
    "revenue": pl.Float64,
    "margin": pl.Float64,
    "returned": pl.Int8,
    "unsubscribed": pl.Int8,
    "cost": pl.Float64,
    "exposures": pl.Int16,
}


def potential_column(name: str, arm: str) -> str:
    """Column holding ``name`` (e.g. ``"revenue"``) under ``arm``: ``"revenue__holdout"``."""
    return f"{name}__{arm}"


def _enum(codes: np.ndarray, categories: tuple[str, ...]) -> pl.Series:
    return pl.Series(codes.astype(np.uint32)).cat.to(pl.Enum(categories))


def _chunk(scenario: RemarketingScenario, rng: np.random.Generator, start: int, stop: int) -> pl.DataFrame:
    n = stop - start
    r_funnel, r_pop, r_assign, r_deliver, r_outcome = rng.spawn(5)
    funnel = draw_funnel(r_funnel, n, scenario)
    pop = draw_population(r_pop, funnel.audience, scenario)
    arms = scenario.arms
    cum = np.cumsum([share for _, share in scenario.arm_shares])
    arm = np.minimum(np.searchsorted(cum[:-1] / cum[-1], r_assign.random(n), side="right"),
                     len(arms) - 1)
    delivery = deliver(r_deliver, pop, funnel, scenario)
    draws = {
        "conversion": r_outcome.random(n),
        "return": r_outcome.random(n),
        "unsubscribe": r_outcome.random(n),
        "order_noise": order_noise(r_outcome, n),
    }
    base = baseline_rates(pop, funnel, scenario)
    potential = {a: respond(a, draws, pop, funnel, delivery, base, scenario) for a in arms}

    columns: dict[str, pl.Series | np.ndarray] = {
        "customer_id": pl.Series(np.arange(start, stop, dtype=np.int64)),
        "arm": _enum(arm, arms),
        "segment": _enum(pop.segment, SEGMENTS),
        "audience": _enum(funnel.audience, LIST_AUDIENCES),
        "funnel_stage": _enum(funnel.stage, STAGES),
        "age_band": _enum(pop.age_band, AGE_BANDS),
        "region": _enum(pop.region, REGIONS),
        "device": _enum(pop.device, DEVICES),
        "email_opt_in": pop.email_opt_in,
        "sms_opt_in": pop.sms_opt_in,
        "social_account": pop.social_account,
        "cookie_matched": pop.cookie_matched,
        "reachable": delivery.reachable,
        "exposed": delivery.exposures > 0,
    }
    observed: dict[str, np.ndarray] = {}
    for name in ("exposures", "cost"):
        observed[name] = _pick(arm, [getattr(potential[a], name) for a in arms])
    columns["exposures"] = observed["exposures"]
    columns["cost"] = observed["cost"]
    columns["recency_days"] = pop.recency_days
    columns["pre_orders"] = pop.pre_orders
    columns["pre_revenue"] = pop.pre_revenue
    columns["days_since_visit"] = funnel.days_since_visit
    for name in OUTCOMES:
        columns[name] = _pick(arm, [getattr(potential[a], name) for a in arms])
    for a in arms:
        for name in POTENTIAL:
            columns[potential_column(name, a)] = getattr(potential[a], name)
    frame = pl.DataFrame(columns)
    return frame.with_columns(
        [pl.col(c).cast(_DTYPES[c.split("__")[0]]) for c in frame.columns
         if c.split("__")[0] in _DTYPES]
    )


def _pick(arm: np.ndarray, values: list[np.ndarray]) -> np.ndarray:
    out = values[0].copy()
    for k in range(1, len(values)):
        np.copyto(out, values[k], where=arm == k)
    return out


def simulate_remarketing(
    scenario: RemarketingScenario,
    *,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
) -> pl.DataFrame:
    """Simulate the remarketing experiment of ``scenario``.

    Parameters
    ----------
    scenario
        Validated parameters (:class:`~experiments.scenarios.remarketing.RemarketingScenario`).
    block_size, workers, executor
        How the work is cut and run (see :func:`~experiments.simulate.blocks.simulate_in_blocks`);
        none of them changes the result.

    Returns
    -------
    polars.DataFrame
        One row per customer: attributes, assigned ``arm``, ``exposed`` (the ghost-ad flag for the
        holdout), observed outcomes, and ``<outcome>__<arm>`` potential outcomes for every arm.
    """
    return simulate_in_blocks(
        lambda rng, start, stop: _chunk(scenario, rng, start, stop),
        n=scenario.n_customers,
        seed=scenario.seed,
        stream=STREAM,
        block_size=block_size,
        workers=workers,
        executor=executor,
    )
