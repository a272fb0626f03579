"""Cross-sell and up-sell to past purchasers: what a buyer adds to the order when the campaign suggests it.

Past purchasers who see the campaign are offered a complementary product (an accessory worth
:data:`COMPLEMENT_SHARE` of their usual order, assumption) at a ``bundle_discount``, and an upgrade that
lifts the order's value by ``upgrade_lift``. Whether they buy at all is the reminder's business
(:func:`experiments.simulate.campaign.respond`); this module decides what a buyer's basket holds, so order
value responds to the offer instead of being a fixed trait.

- Attach: a buyer who saw the offer adds the complement with probability
  ``attach_rate * (1 + ATTACH_PER_DISCOUNT * bundle_discount)`` (the discount lifts it; assumption).
- Cannibalisation: a share ``cannibalisation`` of ``attach_rate`` would have added the complement anyway,
  at full price: those buyers attach in the holdout too (one uniform draw per customer, common to every
  arm), so the bundle discount paid on their attach is a subsidy to a sure thing.
- Upgrade: a buyer who saw the offer takes the upgrade with probability
  ``UPGRADE_TAKE * exp(-upgrade_lift / UPGRADE_SCALE)``: bigger upgrades are taken up less, so the
  expected value added, ``upgrade_lift`` times the take-up, peaks at ``UPGRADE_SCALE`` (assumptions).

With margin rate ``m`` and bundle discount ``d``, the expected margin a buyer adds through the complement
is ``c * (a(d) * (m - d) - o * m)`` against the holdout (``c`` the complement's price, ``a`` the attach
probability, ``o = attach_rate * cannibalisation``): it has an interior best discount
``d* = (ATTACH_PER_DISCOUNT * m - 1) / (2 * ATTACH_PER_DISCOUNT)`` (0.11 at a 35% margin).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from experiments.simulate.campaign import Delivery, Outcomes
from experiments.simulate.funnel import LIST_AUDIENCES, Funnel
from experiments.simulate.population import Population
from experiments.worlds import CampaignWorld

__all__ = [
    "ATTACH_PER_DISCOUNT",
    "COMPLEMENT_SHARE",
    "UPGRADE_SCALE",
    "UPGRADE_TAKE",
    "add_basket",
    "attach_probability",
    "organic_attach",
    "upgrade_take",
]

#: Price of the complementary product relative to the buyer's order (assumption).
COMPLEMENT_SHARE: float = 0.4
#: Relative rise of the attach probability per unit of bundle discount (assumption: 10% off lifts it 80%).
ATTACH_PER_DISCOUNT: float = 8.0
#: Take-up of an upgrade that costs nothing more (assumption).
UPGRADE_TAKE: float = 0.3
#: Upgrade size at which take-up has fallen by 1/e, and where the upgrade's expected value peaks (assumption).
UPGRADE_SCALE: float = 0.5
_PAST = LIST_AUDIENCES.index("past_purchasers")


def attach_probability(scenario: CampaignWorld) -> float:
    """Chance that a buyer who saw the offer adds the complement."""
    return min(1.0, scenario.attach_rate * (1.0 + ATTACH_PER_DISCOUNT * scenario.bundle_discount))


def organic_attach(scenario: CampaignWorld) -> float:
    """Chance that a buyer adds the complement without the offer (at full price)."""
    return scenario.attach_rate * scenario.cannibalisation


def upgrade_take(scenario: CampaignWorld) -> float:
    """Chance that a buyer who saw the offer takes the upgrade."""
    return UPGRADE_TAKE * float(np.exp(-scenario.upgrade_lift / UPGRADE_SCALE))


def add_basket(outcomes: dict[str, Outcomes], draws: dict[str, np.ndarray], pop: Population, funnel: Funnel,
               delivery: Delivery, scenario: CampaignWorld) -> dict[str, Outcomes]:
    """``outcomes`` with each past purchaser's complement and upgrade added to revenue and margin.

    Sets ``addon_margin`` of every arm (the margin of the complement and the upgrade, net of the bundle
    discount, zero for every other audience) and adds its expectation to ``expected_margin``. Uses the
    draws ``attach`` and ``upgrade`` (uniform) and ``order_noise``.
    """
    n = funnel.audience.shape[0]
    past = np.flatnonzero(funnel.audience == _PAST)
    m, d, lift = scenario.margin, scenario.bundle_discount, scenario.upgrade_lift
    a, o, take = attach_probability(scenario), organic_attach(scenario), upgrade_take(scenario)
    gross = pop.order_value[past] * draws["order_noise"][past]
    complement = COMPLEMENT_SHARE * gross
    seen = delivery.exposures[past] > 0
    u_attach, u_upgrade = draws["attach"][past], draws["upgrade"][past]
    mean_complement = COMPLEMENT_SHARE * pop.order_value[past]
    out = {}
    for arm, o_arm in outcomes.items():
        offered = seen & (arm != "holdout")
        attach = u_attach < np.where(offered, a, o)
        upgrade = offered & (u_upgrade < take)
        paid_discount = np.where(offered, d, 0.0)
        buys = o_arm.converted[past].astype(bool)
        extra = upgrade * gross * lift
        revenue = np.round(np.where(buys, attach * complement * (1 - paid_discount) + extra, 0.0), 2)
        margin = np.round(np.where(buys, attach * complement * (m - paid_discount) + extra * m, 0.0), 2)
        per_buyer = (mean_complement * np.where(offered, a * (m - d), o * m)
                     + np.where(offered, take * lift * m * pop.order_value[past], 0.0))
        addon = np.zeros(n)
        addon[past] = margin
        total_revenue, total_margin = o_arm.revenue.copy(), o_arm.margin.copy()
        total_revenue[past] += revenue
        total_margin[past] += margin
        expected = o_arm.expected_margin.copy()
        expected[past] += o_arm.p_converted[past] * per_buyer
        out[arm] = replace(o_arm, revenue=total_revenue, margin=total_margin, expected_margin=expected,
                           addon_margin=addon)
    return out
