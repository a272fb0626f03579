"""Entry point of the remarketing simulator: one table with observed and potential outcomes.

Each chunk of customers draws its funnel, population, arm, delivery and outcomes from independent
child streams of the chunk's generator, so the table is byte-identical whatever the block size or the
number of workers, and runs that differ only in the frequency cap share every other random number.
Every customer carries its outcomes under every arm (common random numbers), so differences between
``<outcome>__<arm>`` columns are due to the treatment alone.

With channel holdouts on (``channel_holdout`` > 0), each customer is also held out of each channel
independently (``held_out_<channel>``), and the table carries each channel's true effect on the
customer (:mod:`experiments.simulate.channel_truth`).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import polars as pl

from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.burn_pixel import burn
from experiments.simulate.campaign import (
    UPLIFT_GROUPS,
    Baseline,
    Delivery,
    Outcomes,
    baseline_rates,
    child_seed,
    deliver_from,
    draw_impressions,
    order_noise,
    respond,
    response_factors,
    uplift_groups,
)
from experiments.simulate.channel_truth import channel_effects, held_out_column
from experiments.simulate.channels import draw_holdouts, holdout_share
from experiments.simulate.cross_sell import add_basket
from experiments.simulate.funnel import LIST_AUDIENCES, STAGES, Funnel, draw_funnel
from experiments.simulate.population import (
    AGE_BANDS,
    DEVICES,
    REGIONS,
    SEGMENTS,
    Population,
    draw_population,
)
from experiments.simulate.post_window import post_window
from experiments.worlds import CampaignWorld

__all__ = [
    "BASELINE",
    "CATE",
    "OUTCOMES",
    "POTENTIAL",
    "STREAM",
    "World",
    "arm_outcomes",
    "cate_column",
    "draw_world",
    "exposures_column",
    "potential_column",
    "simulate_remarketing",
    "with_levers",
]

#: Random stream number of this simulator (see :mod:`experiments.simulate.blocks`).
STREAM: int = 1
#: Observed outcome columns.
OUTCOMES: tuple[str, ...] = ("converted", "revenue", "margin", "returned", "unsubscribed", "addon_margin",
                             "converted_post")
#: Quantities stored per arm as ``<name>__<arm>``.
POTENTIAL: tuple[str, ...] = (*OUTCOMES, "cost", "exposures")
#: True purchase probability without the campaign (float32); add ``cate_converted__<arm>`` for an arm's.
BASELINE: str = "p_converted__holdout"
#: True effects stored per treatment arm as ``cate_<name>__<arm>`` (float32): the change in purchase
#: probability, in expected margin net of the incentive and of media cost, in dollars, and in the
#: probability of an unsubscribe.
CATE: tuple[str, ...] = ("converted", "margin", "unsubscribed")

_DTYPES = {
    "converted": pl.Int8,
    "revenue": pl.Float64,
    "margin": pl.Float64,
    "returned": pl.Int8,
    "unsubscribed": pl.Int8,
    "cost": pl.Float64,
    "exposures": pl.Int16,
    "addon_margin": pl.Float64,
    "converted_post": pl.Int8,
    "wasted_cost": pl.Float64,
}


_NUMPY = {pl.Int8: np.int8, pl.Int16: np.int16, pl.Float64: np.float64}


def potential_column(name: str, arm: str) -> str:
    """Column holding ``name`` (e.g. ``"revenue"``) under ``arm``: ``"revenue__holdout"``."""
    return f"{name}__{arm}"


def exposures_column(channel: str) -> str:
    """Column holding the exposures a customer got (or, in the holdout, would have got) on ``channel``."""
    return f"exposures_{channel}"


def cate_column(name: str, arm: str) -> str:
    """Column holding the true effect of ``arm`` on ``name``: ``"cate_margin__dynamic"``."""
    return f"cate_{name}__{arm}"


@dataclass(frozen=True)
class World:
    """Everything about a chunk of customers that the campaign's delivery settings do not change.

    :func:`arm_outcomes` turns it into outcomes under a scenario, so curves over the frequency cap or
    the first-touch delay evaluate the same customers and draws (common random numbers).
    """

    funnel: Funnel
    pop: Population
    arm: np.ndarray  # uint8 codes into scenario.arms
    draws: dict[str, np.ndarray]
    base: Baseline
    delivery_seed: np.random.SeedSequence
    off: dict[str, np.ndarray] | None = None  # customers held out of each channel (None: no holdouts)


def draw_world(scenario: CampaignWorld, rng: np.random.Generator, n: int) -> World:
    """Draw the customers, assignment and outcome draws of one chunk from its generator ``rng``."""
    root = rng.bit_generator.seed_seq
    r_funnel, r_pop, r_assign, r_outcome = (
        np.random.Generator(np.random.PCG64(child_seed(root, k))) for k in (0, 1, 2, 4)
    )
    funnel = draw_funnel(r_funnel, n, scenario)
    pop = draw_population(r_pop, funnel.audience, scenario)
    cum = np.cumsum([share for _, share in scenario.arm_shares])
    arm = np.minimum(np.searchsorted(cum[:-1] / cum[-1], r_assign.random(n), side="right"),
                     len(scenario.arms) - 1).astype(np.uint8)
    draws = {
        "conversion": r_outcome.random(n),
        "return": r_outcome.random(n),
        "unsubscribe": r_outcome.random(n),
        "order_noise": order_noise(r_outcome, n),
    }
    # The levers' draws (basket, purchase day, the weeks after) come from a stream of their own, so
    # the draws above stay what they were.
    r_levers = np.random.Generator(np.random.PCG64(child_seed(root, 8)))
    draws.update(attach=r_levers.random(n), upgrade=r_levers.random(n), purchase_time=r_levers.random(n),
                 post=r_levers.random(n))
    base = baseline_rates(pop, funnel, scenario)
    off = draw_holdouts(np.random.Generator(np.random.PCG64(child_seed(root, 5))), n, holdout_share(scenario))
    return World(funnel=funnel, pop=pop, arm=arm, draws=draws, base=base,
                 delivery_seed=child_seed(root, 3), off=off)


def arm_outcomes(world: World, scenario: CampaignWorld, *,
                 holdouts: bool = True) -> tuple[Delivery, dict[str, Outcomes]]:
    """Delivery and potential outcomes of every arm of ``scenario`` for the customers of ``world``.

    ``scenario`` may differ from the one that drew ``world`` in delivery settings (frequency cap,
    channels, flow, first-touch delay, costs, response knobs); the customers and draws stay the same.
    ``holdouts=False`` delivers every channel to everyone (the campaign without its channel holdouts).
    """
    impressions = draw_impressions(world.delivery_seed, world.pop, scenario)
    delivery = deliver_from(*impressions, world.delivery_seed, world.funnel, scenario,
                            world.off if holdouts else None)
    outcomes = respond(scenario.arms, world.draws, world.pop, world.funnel, delivery, world.base, scenario)
    return delivery, with_levers(outcomes, world, delivery, scenario)


def with_levers(outcomes: dict[str, Outcomes], world: World, delivery: Delivery,
                scenario: CampaignWorld) -> dict[str, Outcomes]:
    """``outcomes`` after the basket (cross-sell and upgrade), the burn pixel and the weeks after the
    window (:mod:`~experiments.simulate.cross_sell`, :mod:`~experiments.simulate.burn_pixel`,
    :mod:`~experiments.simulate.post_window`)."""
    outcomes = add_basket(outcomes, world.draws, world.pop, world.funnel, delivery, scenario)
    outcomes = burn(outcomes, world.draws, delivery, scenario)
    return post_window(outcomes, world.draws, world.base, scenario)


def _categories(scenario: CampaignWorld) -> dict[str, tuple[str, ...]]:
    """Categories of the table's enum columns (held as uint8 codes until a block is assembled)."""
    return {"arm": scenario.arms, "segment": SEGMENTS, "audience": LIST_AUDIENCES, "funnel_stage": STAGES,
            "age_band": AGE_BANDS, "region": REGIONS, "device": DEVICES, "uplift_group": UPLIFT_GROUPS}


def _chunk_columns(scenario: CampaignWorld, rng: np.random.Generator, start: int,
                   stop: int) -> dict[str, np.ndarray]:
    """The columns of rows ``start..stop-1`` as numpy arrays in the table's order (enum columns as
    uint8 codes into :func:`_categories`)."""
    world = draw_world(scenario, rng, stop - start)
    funnel, pop, arm = world.funnel, world.pop, world.arm
    impressions = draw_impressions(world.delivery_seed, world.pop, scenario)
    delivery = deliver_from(*impressions, world.delivery_seed, world.funnel, scenario, world.off)
    # what the response takes from the customer alone: once, for the response and the channels' truth
    treated_arms = [a for a in scenario.arms if a != "holdout"]
    factors = response_factors(treated_arms, pop, funnel, world.base, scenario)
    responded = respond(scenario.arms, world.draws, pop, funnel, delivery, world.base, scenario, factors)
    potential = with_levers(responded, world, delivery, scenario)
    arms = scenario.arms
    columns: dict[str, np.ndarray] = {
        "customer_id": np.arange(start, stop, dtype=np.int64),
        "arm": arm,
        "segment": pop.segment,
        "audience": funnel.audience,
        "funnel_stage": funnel.stage,
        "age_band": pop.age_band,
        "region": pop.region,
        "device": pop.device,
        "email_opt_in": pop.email_opt_in,
        "sms_opt_in": pop.sms_opt_in,
        "social_account": pop.social_account,
        "cookie_matched": pop.cookie_matched,
        "reachable": delivery.reachable,
        "exposed": delivery.exposures > 0,
    }
    assigned = [np.flatnonzero(arm == k) for k in range(1, len(arms))]
    columns["exposures"] = _pick(assigned, [potential[a].exposures for a in arms])
    columns["cost"] = _pick(assigned, [potential[a].cost for a in arms])
    columns["wasted_cost"] = _pick(assigned, [potential[a].wasted_cost for a in arms])
    for channel, count in delivery.counts.items():
        columns[exposures_column(channel)] = count
    columns["recency_days"] = pop.recency_days
    columns["pre_orders"] = pop.pre_orders
    columns["pre_revenue"] = pop.pre_revenue
    columns["days_since_visit"] = funnel.days_since_visit
    columns["price_sensitivity"] = pop.price_sensitivity
    columns["cart_value"] = pop.cart_value
    for name in OUTCOMES:
        columns[name] = _pick(assigned, [getattr(potential[a], name) for a in arms])
    for a in arms:
        for name in POTENTIAL:
            columns[potential_column(name, a)] = getattr(potential[a], name)
    control = potential["holdout"]
    main = potential[scenario.main_arm]
    columns["uplift_group"] = uplift_groups(main.converted, control.converted)
    columns[BASELINE] = control.p_converted.astype(np.float32)
    for a in scenario.treatment_arms:
        out = potential[a]
        columns[cate_column("converted", a)] = (out.p_converted - control.p_converted).astype(np.float32)
        columns[cate_column("margin", a)] = (
            out.expected_margin - out.expected_cost - control.expected_margin).astype(np.float32)
        columns[cate_column("unsubscribed", a)] = (
            out.p_unsubscribed - control.p_unsubscribed).astype(np.float32)
    if world.off is not None:
        for channel in scenario.channels:
            columns[held_out_column(channel)] = world.off[channel]
        treated = arm != 0
        # the channels' truth is read from the response itself (before the levers), as its
        # counterfactuals are
        observed = (np.where(treated, _pick(assigned, [responded[a].p_converted for a in arms]), 0.0),
                    np.where(treated, _pick(assigned, [responded[a].expected_margin - responded[a].cost
                                                       for a in arms]), 0.0))
        columns.update(channel_effects(world, scenario, impressions, observed, factors))
    for c, column in columns.items():  # the numpy dtypes are the table's: no cast needed
        expected = _DTYPES.get(c.split("__")[0])
        if expected is not None:
            columns[c] = column.astype(_NUMPY[expected], copy=False)
    return columns


def _assemble(scenario: CampaignWorld, parts: list[dict[str, np.ndarray]]) -> pl.DataFrame:
    """One frame of the chunks' columns, stacked in order: a memory chunk per chunk of customers (the
    numpy arrays, not copied), enum columns made from their codes once per block."""
    frames = [pl.DataFrame([pl.Series(name, values) for name, values in part.items()]) for part in parts]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames)
    return frame.with_columns(pl.col(name).cat.to(pl.Enum(categories))
                              for name, categories in _categories(scenario).items())


def simulate_chunk(scenario: CampaignWorld, rng: np.random.Generator, start: int,
                   stop: int) -> pl.DataFrame:
    """The table's rows ``start..stop-1``."""
    return _assemble(scenario, [_chunk_columns(scenario, rng, start, stop)])


def _pick(assigned: list[np.ndarray], values: list[np.ndarray]) -> np.ndarray:
    """Each customer's value under the assigned arm (``assigned[k - 1]``: rows assigned to arm ``k``)."""
    out = values[0].copy()
    for rows, value in zip(assigned, values[1:], strict=True):
        out[rows] = value[rows]
    return out


def simulate_remarketing(
    scenario: CampaignWorld,
    *,
    block_size: int = 1_048_576,
    workers: int = 1,
    executor: Executor | None = None,
) -> pl.DataFrame:
    """Simulate the remarketing experiment of ``scenario``.

    Parameters
    ----------
    scenario
        The world's settings (:class:`~experiments.worlds.CampaignWorld`).
    block_size, workers, executor
        How the work is cut and run (see :func:`~experiments.simulate.blocks.simulate_in_blocks`);
        none of them changes the result.

    Returns
    -------
    polars.DataFrame
        One row per customer: features, assigned ``arm``, ``exposed`` (the ghost-ad flag for the
        holdout), observed outcomes, ``<outcome>__<arm>`` potential outcomes for every arm, the
        ``uplift_group`` of the customer for ``scenario.main_arm`` against the holdout, the true
        purchase probability without the campaign (``p_converted__holdout``), and the true
        effects ``cate_converted__<arm>`` (purchase probability) and ``cate_margin__<arm>`` (expected
        margin net of the incentive and of media cost, dollars) of every treatment arm.
    """
    return simulate_in_blocks(
        lambda rng, start, stop: _chunk_columns(scenario, rng, start, stop),
        n=scenario.n_customers,
        seed=scenario.seed,
        stream=STREAM,
        block_size=block_size,
        workers=workers,
        executor=executor,
        assemble=lambda parts: _assemble(scenario, parts),
    )
