"""The weeks after the campaign window: a limited-time offer pulls purchases forward, then comes a dip.

Without the campaign a customer buys in the ``post_days`` after the window with the chance his window
rate implies over that span, times :data:`POST_INTEREST` (interest fades after the visit; assumption).
An incentive arm's offer is valid in the window only: a share ``pull_forward`` of its extra purchases in
the window are purchases the customer would have made in the weeks after (forward buying; Anderson &
Simester 2004 for the direction, the share an assumption), so its chance to buy after the window falls by
that much (never below zero). Reminder arms without an incentive pull nothing forward. One uniform draw
per customer, common to every arm, decides ``converted_post``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from experiments.simulate.campaign import Baseline, Outcomes
from experiments.worlds import CampaignWorld

__all__ = ["POST_INTEREST", "post_purchase_probability", "post_window"]

#: Interest left after the window, relative to the window's rate (assumption).
POST_INTEREST: float = 0.6


def post_purchase_probability(base: Baseline, scenario: CampaignWorld) -> np.ndarray:
    """Chance to buy in the ``post_days`` after the window without the campaign."""
    p = np.minimum(base.converted, 1 - 1e-12)
    return POST_INTEREST * -np.expm1(np.log1p(-p) * (scenario.post_days / scenario.days))


def post_window(outcomes: dict[str, Outcomes], draws: dict[str, np.ndarray], base: Baseline,
                scenario: CampaignWorld) -> dict[str, Outcomes]:
    """``outcomes`` with ``converted_post`` set for every arm. Uses the draw ``post`` (uniform)."""
    p_post = post_purchase_probability(base, scenario)
    out = {}
    for arm, o in outcomes.items():
        p = p_post
        if arm.endswith("_incentive"):
            pulled = scenario.pull_forward * np.maximum(o.p_converted - base.converted, 0.0)
            p = np.maximum(p_post - pulled, 0.0)
        out[arm] = replace(o, converted_post=(draws["post"] < p).astype(np.int8))
    return out
