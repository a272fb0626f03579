"""Omnichannel journeys: customers with latent intent meet channels over weeks; the truth by re-running.

The world
    Customer ``i`` has a base purchase hazard ``h_i`` per day (log-normal across customers, times a
    region effect) and an exponential threshold ``E_i``. Her own site sessions arrive at
    ``sessions_per_purchase * h_i`` per day; each multiplies the hazard by
    ``1 + session_lift * 2**(-age / session_half_life)`` (intent rises down the funnel), and every touch
    of channel ``c`` adds ``lift_c * 2**(-age / half_life_c)`` to the multiplier in the same way. Channels
    work together: a touch of a ``synergy_channels`` channel (search, e-mail) that one of the plan's
    scheduled display touches preceded within ``synergy_window_days`` adds ``display_synergy`` times its
    lift (Lewis & Nguyen 2015: display raised brand searches by 30-45%); 1 makes the channels add up. The
    cumulative hazard is in closed form; she buys at the first time it reaches ``E_i`` within the
    window, or never. The base hazard is scaled so that ``base_conversion`` of customers would buy with
    no marketing at all (:func:`base_hazard_scale`). A purchase happens in a store with probability
    ``store_share``: real, but invisible to the online log.
Who meets which channel
    Each channel has an audience: the customers whose score ``tilt * z_i + sqrt(1 - tilt**2) * e_ic``
    (``z`` the standardised intent) falls in the top ``reach`` share. ``push`` channels touch their
    audience on their own calendar (``frequency`` per week); ``retarget`` channels only in the window
    after one of the customer's sessions (so mostly the likely buyers); every channel also *captures*
    a share ``capture`` of its audience's sessions, the purchase session included (the visit arrives
    through a click on it: brand search, a coupon site, typing the address, an e-mail link). A
    purchase session's touches follow from the purchase and carry no effect on it.
Devices
    Two-device customers split their touches between devices; unless their identity is matched, the
    log holds two journeys (ids ``2 * customer`` and ``2 * customer + 1``), and the purchase lands in
    the journey of the device it was made on.
Truth by common random numbers
    Every candidate touch is drawn once, scheduled touches at ``max_budget_multiplier`` times their
    frequency, each with a uniform mark; a plan with budget multiplier ``m`` keeps the scheduled touches
    whose mark is below ``m / max_budget_multiplier`` and the captures whose mark is below
    ``min(1, m * capture)``. Switching a channel off (``m = 0``), changing its budget or reallocating
    budgets re-runs the same world with the same customers, thresholds and touches: differences are due
    to the plan alone. A plan keeps a synergy touch's raised response exactly when it keeps one of the
    display touches before it in the window (the smallest of their marks, found once per world), so
    every subset of channels switched off has its own truth (:func:`subsets_off`, :func:`interaction_truth`).

All randomness comes from block-seeded streams (stream 3, see :mod:`experiments.simulate.blocks`):
customer chunk ``i`` draws from ``chunk_rng(seed, i, 3)``, each channel from its own child stream, so
the world is identical whatever the number of workers; region-level draws (region effects, geo-test
assignment) come from one reserved key of the same stream.

The code is split by what it does: the world's data and the touches a plan keeps
(:mod:`~experiments.simulate.journey_world`), drawing the world (:mod:`~experiments.simulate.journey_draw`),
playing a plan and its touch log (:mod:`~experiments.simulate.journey_play`), and the truth and the
holdout tables (:mod:`~experiments.simulate.journey_truth`); this module gathers their public names.
"""

from __future__ import annotations

from experiments.simulate.journey_draw import STREAM, base_hazard_scale, draw_world
from experiments.simulate.journey_play import observed_log, play
from experiments.simulate.journey_truth import (
    budget_response,
    channel_truth,
    factorial_holdout_table,
    geo_holdout_table,
    interaction_truth,
    subsets_off,
    switched_off,
    user_holdout_table,
)
from experiments.simulate.journey_world import DEVICES, PURCHASES, SESSION_STEP, JourneyWorld, Outcome

__all__ = [
    "DEVICES",
    "PURCHASES",
    "SESSION_STEP",
    "STREAM",
    "JourneyWorld",
    "Outcome",
    "base_hazard_scale",
    "budget_response",
    "channel_truth",
    "draw_world",
    "factorial_holdout_table",
    "geo_holdout_table",
    "interaction_truth",
    "observed_log",
    "play",
    "subsets_off",
    "switched_off",
    "user_holdout_table",
]
