"""Site funnel and remarketing audiences: visit → product view → cart → checkout → purchase.

Each customer's last session ends at a funnel *stage*; the audience follows from it:
browse abandoners left after browsing (no product view), product viewers viewed a product but added
nothing to the cart, cart abandoners added to the cart (some reached checkout) but did not buy (about
70% of carts are abandoned: Baymard Institute), past purchasers bought (cross-sell, up-sell), lapsed
visitors have not visited for 30 days or more (re-engagement). Mixes are assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.worlds import AUDIENCES, CampaignWorld

__all__ = [
    "AUDIENCE_MIX",
    "LIST_AUDIENCES",
    "STAGES",
    "Funnel",
    "draw_categories",
    "draw_funnel",
]

#: Funnel stages, in order.
STAGES: tuple[str, ...] = ("visit", "product_view", "cart", "checkout", "purchase")
#: Audiences a customer can belong to (``"all"`` is a mix of them).
LIST_AUDIENCES: tuple[str, ...] = AUDIENCES[:-1]
#: Audience mix when the scenario targets ``"all"`` (assumption).
AUDIENCE_MIX: tuple[float, ...] = (0.12, 0.30, 0.30, 0.13, 0.15)

# Stage of the last session given the audience (rows follow LIST_AUDIENCES, columns STAGES).
# Cart abandoners: of 100 carts, 55 reach checkout and 30 buy (70% abandoned, Baymard), so of the
# 70 abandoners 45 left at the cart and 25 at checkout. Lapsed visitors: assumption.
_STAGE_GIVEN_AUDIENCE = np.array(
    [
        [0.0, 0.0, 45 / 70, 25 / 70, 0.0],
        [1.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.0],
        [0.45, 0.40, 0.10, 0.05, 0.0],
    ]
)
_LAPSED = LIST_AUDIENCES.index("lapsed_visitors")


@dataclass(frozen=True)
class Funnel:
    """Audience and funnel position of a chunk of customers (codes index the tuples above)."""

    audience: np.ndarray  # uint8, index into LIST_AUDIENCES
    stage: np.ndarray  # uint8, index into STAGES
    days_since_visit: np.ndarray  # int16, days from the last visit to entering the campaign's flow


def draw_categories(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray | None = None,
                    n: int | None = None) -> np.ndarray:
    """Categorical codes (uint8) from a probability vector, or per row of a table indexed by ``rows``.

    A code is the number of cumulative probabilities (all but the last) at or below the customer's
    uniform draw, which is what ``np.searchsorted(cum[:-1], u, side="right")`` returns; counting with
    a few comparisons is much faster than a binary search for a handful of categories.
    """
    cum = np.cumsum(probs, axis=-1)
    cum = cum / cum[..., -1:]
    u = rng.random(n if rows is None else rows.shape[0])
    out = np.zeros(u.shape[0], dtype=np.uint8)
    for j in range(cum.shape[-1] - 1):
        edge = cum[j] if rows is None else np.take(cum[:, j], rows)
        out += u >= edge
    return out


def draw_funnel(rng: np.random.Generator, n: int, scenario: CampaignWorld) -> Funnel:
    """Draw the audience, last funnel stage and days since the last visit of ``n`` customers."""
    if scenario.audience == "all":
        audience = draw_categories(rng, np.asarray(AUDIENCE_MIX), n=n)
    else:
        audience = np.full(n, LIST_AUDIENCES.index(scenario.audience), dtype=np.uint8)
    stage = draw_categories(rng, _STAGE_GIVEN_AUDIENCE, rows=audience)
    # The flow is triggered by the visit: recent visitors enter it on the day of the visit (0 days;
    # the first touch follows ``first_touch_hours`` later). Lapsed visitors are picked up 30 to 180
    # days after their last visit (assumption).
    lapsed = 30 + np.floor(rng.random(n) * 151)
    days = np.where(audience == _LAPSED, lapsed, 0.0).astype(np.int16)
    return Funnel(audience=audience, stage=stage, days_since_visit=days)
