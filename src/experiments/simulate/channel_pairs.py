"""True interaction of every pair of a campaign's channels, summed over the customers of a simulation.

The simulated table carries each channel's true effect per customer; a pair's interaction needs the
two channels switched together, so it is computed here, on the very customers and draws of the table
(the same seed and chunks), and summed: see :mod:`experiments.simulate.channel_truth`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.campaign import draw_impressions
from experiments.simulate.channel_truth import pair_contrasts, pairs
from experiments.simulate.channels import holdout_share
from experiments.simulate.remarketing import STREAM, draw_world
from experiments.worlds import CampaignWorld

__all__ = ["channel_pair_truth"]


def channel_pair_truth(scenario: CampaignWorld, *, block_size: int = 1_048_576,
                       workers: int = 1) -> pl.DataFrame:
    """Mean true interaction of each pair of channels over the customers of the treatment arms.

    Returns
    -------
    polars.DataFrame
        One row per pair (``first``, ``second`` in the campaign's channel order): ``customers`` (of the
        treatment arms), ``interaction_converted`` (purchase probability) and ``interaction_profit``
        (dollars of expected margin net of the incentive and of media cost), per customer.
    """
    if holdout_share(scenario) <= 0.0:
        raise ParameterError("channel_holdout", holdout_share(scenario), "more than 0 for channel pairs")
    pair_list = pairs(scenario.channels)

    def chunk(rng: np.random.Generator, start: int, stop: int) -> pl.DataFrame:
        world = draw_world(scenario, rng, stop - start)
        impressions = draw_impressions(world.delivery_seed, world.pop, scenario)
        contrasts = pair_contrasts(world, scenario, impressions)
        sums = [float((world.arm != 0).sum())]
        for pair in pair_list:
            sums += [float(contrasts[pair][0].sum()), float(contrasts[pair][1].sum())]
        return pl.DataFrame([sums], schema=[f"s{j}" for j in range(len(sums))], orient="row")

    parts = simulate_in_blocks(chunk, n=scenario.n_customers, seed=scenario.seed, stream=STREAM,
                               block_size=block_size, workers=workers)
    totals = parts.to_numpy().sum(axis=0)
    n = totals[0]
    rows = [{"first": a, "second": b, "customers": int(n),
             "interaction_converted": totals[1 + 2 * k] / n if n else float("nan"),
             "interaction_profit": totals[2 + 2 * k] / n if n else float("nan")}
            for k, (a, b) in enumerate(pair_list)]
    return pl.DataFrame(rows, schema={"first": pl.String, "second": pl.String, "customers": pl.Int64,
                                      "interaction_converted": pl.Float64, "interaction_profit": pl.Float64})
