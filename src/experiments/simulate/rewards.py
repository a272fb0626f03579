"""Shared response shapes of loyalty rewards, used by the loyalty and lifecycle worlds."""

from __future__ import annotations

import numpy as np

__all__ = ["reward_response"]


def reward_response(reward_rate: float, scale: float) -> float:
    """Share of the most behavioural lift that a reward rate buys: ``1 - exp(-reward_rate / scale)``.

    Zero with no reward, rising with diminishing returns and saturating at 1; ``scale`` is the reward
    rate that gets 63% of the most (so the value of a programme over its reward rate has an interior
    optimum once rewards cost money).

    Parameters
    ----------
    reward_rate
        Reward value earned per dollar spent (>= 0).
    scale
        Reward rate at which the response reaches ``1 - 1/e`` of its most (> 0).
    """
    return float(1.0 - np.exp(-reward_rate / scale))
