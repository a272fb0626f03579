"""The loyalty programme's net contribution of a customer: one formula for the truth and the estimate.

    margin x (revenue + referred customers' revenue) - rewards cost - message cost - referral bonuses

A referred customer is simulated (her own purchases and dropout); what she brings is the margin on what
she buys within the horizon, not a formula value. The message cost includes the value of subscribers
lost to unsubscribes. The simulator computes the true net value with it and the statistics estimate it
with it, so the two cannot drift apart. It is plain arithmetic, so it works on floats, numpy arrays and
polars expressions alike; it imports nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["net_contribution"]


def net_contribution(revenue: Any, rewards_cost: Any, message_cost: Any, referrals: Any,
                     referred_revenue: Any, *, margin: float, referral_bonus: float) -> Any:
    """Net contribution: ``margin * (revenue + referred_revenue) - rewards - messages - referrals * bonus``.

    Parameters
    ----------
    revenue, rewards_cost, message_cost, referrals, referred_revenue
        Per customer (or per customer and period, or means): floats, arrays or polars expressions.
    margin
        Gross margin rate on revenue.
    referral_bonus
        Dollars paid per referral.
    """
    return (revenue + referred_revenue) * margin - rewards_cost - message_cost - referrals * referral_bonus
