"""The loyalty programme's net contribution of a customer: one formula for the truth and the estimate.

    margin x revenue - rewards cost - message cost - referral bonuses + referrals x acquisition cost

A referred customer is valued at the acquisition cost she saves (an assumption the report states).
The simulator computes the true net value with it and the statistics estimate it with it, so the two
cannot drift apart. It is plain arithmetic, so it works on floats, numpy arrays and polars expressions
alike; it imports nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["net_contribution"]


def net_contribution(revenue: Any, rewards_cost: Any, message_cost: Any, referrals: Any, *, margin: float,
                     acquisition_cost: float, referral_bonus: float) -> Any:
    """Net contribution: ``margin * revenue - rewards_cost - message_cost + referrals * (acq - bonus)``.

    Parameters
    ----------
    revenue, rewards_cost, message_cost, referrals
        Per customer (or per customer and period, or means): floats, arrays or polars expressions.
    margin
        Gross margin rate on revenue.
    acquisition_cost, referral_bonus
        Dollars a referred customer saves in acquisition, and dollars paid for her.
    """
    return (revenue * margin - rewards_cost - message_cost - referrals * referral_bonus
            + referrals * acquisition_cost)
