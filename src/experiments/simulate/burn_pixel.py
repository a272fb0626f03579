"""The burn pixel: once a customer buys, the retailer stops buying impressions for that customer.

Paid impressions arrive evenly from the first touch until the frequency cap stops delivery
(``Delivery.ad_until``). A buyer buys on day ``t`` of the window, drawn front-loaded (density falling
linearly to zero at the window's end, the reminder's fading: assumption), so the impressions after ``t``
are bought after the purchase: they can no longer change it (the first impression is always bought).
With ``burn_pixel`` on they are not bought (the campaign's cost falls); with it off they are bought and
reported as ``wasted_cost``, in dollars.
Messages are unchanged (flows already exit on a purchase in the model's cost of one message each).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from experiments.simulate.campaign import Delivery, Outcomes
from experiments.worlds import CampaignWorld

__all__ = ["after_purchase_share", "burn", "expected_after_share", "purchase_day"]


def purchase_day(u: np.ndarray, days: float) -> np.ndarray:
    """Day of the window on which a buyer buys, from a uniform ``u``: density ``2 (1 - t/days) / days``."""
    return days * (1.0 - np.sqrt(1.0 - u))


def after_purchase_share(day: np.ndarray, delivery: Delivery, first_touch_days: float) -> np.ndarray:
    """Share of a customer's paid impressions that come after a purchase on ``day``."""
    span = np.maximum(delivery.ad_until - first_touch_days, 1e-9)
    share = (delivery.ad_until - day) / span
    np.maximum(share, 0.0, out=share)  # np.clip's values, in place (np.clip allocates and is slower)
    return np.minimum(share, 1.0, out=share)


def expected_after_share(delivery: Delivery, days: float, first_touch_days: float) -> np.ndarray:
    """Expected :func:`after_purchase_share` over the purchase day (closed form).

    With ``F`` the first touch, ``U`` the last impression, ``S = U - F`` and ``D`` the window, it is
    ``1 + D / (3 S) * ((1 - U/D)**3 - (1 - F/D)**3)``, and ``1 - (1 - F/D)**2`` (the chance to buy before
    the first impression) as ``S`` goes to 0.
    """
    u, f = delivery.ad_until / days, first_touch_days / days
    span = delivery.ad_until - first_touch_days
    safe = np.maximum(span, 1e-9)
    full = 1.0 + days / (3.0 * safe) * ((1.0 - u) ** 3 - (1.0 - f) ** 3)
    return np.where(span > 1e-6, full, 1.0 - (1.0 - f) ** 2)


def burn(outcomes: dict[str, Outcomes], draws: dict[str, np.ndarray], delivery: Delivery,
         scenario: CampaignWorld) -> dict[str, Outcomes]:
    """``outcomes`` with the media cost of impressions after each buyer's purchase removed (burn pixel on)
    or kept and reported as ``wasted_cost`` (off); ``expected_cost`` is the cost's expectation over the
    purchase draw. Uses the draw ``purchase_time`` (uniform)."""
    after = after_purchase_share(purchase_day(draws["purchase_time"], float(scenario.days)), delivery,
                                 scenario.first_touch_hours / 24.0)
    mean_after = expected_after_share(delivery, float(scenario.days), scenario.first_touch_hours / 24.0)
    # The first impression is always bought: a buyer the campaign has not yet reached is not its buyer.
    ads = (delivery.exposures - delivery.messages).astype(np.float64)
    most = np.where(ads > 0, (ads - 1) / np.maximum(ads, 1), 0.0)
    after, mean_after = np.minimum(after, most), np.minimum(mean_after, most)
    out = {}
    after_cost = delivery.ad_cost * after  # a buyer's cost after the purchase, whatever the arm
    zero = np.zeros(after_cost.shape[0])  # shared by every arm: read, never written
    for arm, o in outcomes.items():
        if arm == "holdout":
            out[arm] = replace(o, wasted_cost=zero, expected_cost=zero)
            continue
        waste = np.where(o.converted.astype(bool), after_cost, 0.0)
        expected_waste = o.p_converted * delivery.ad_cost * mean_after
        if scenario.burn_pixel:
            out[arm] = replace(o, cost=o.cost - waste, wasted_cost=zero,
                               expected_cost=o.cost - expected_waste)
        else:
            out[arm] = replace(o, wasted_cost=waste, expected_cost=o.cost)
    return out
