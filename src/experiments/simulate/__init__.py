"""Synthetic customers whose true response is known: block-seeded streams and the simulators."""

from __future__ import annotations

from experiments.simulate.lifecycle import LifecycleSettings, simulate_lifecycle
from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.targeting import (
    FEATURES,
    TruePolicyValue,
    oracle_policy,
    picked_by_group,
    policy_value,
    profit_by_share,
    simulate_targeting,
    top_share,
)
from experiments.simulate.truth import (
    delivery_curve,
    first_touch_curve,
    frequency_curve,
    funnel_summary,
    true_effects,
)

__all__ = [
    "FEATURES",
    "LifecycleSettings",
    "TruePolicyValue",
    "delivery_curve",
    "first_touch_curve",
    "frequency_curve",
    "funnel_summary",
    "oracle_policy",
    "picked_by_group",
    "policy_value",
    "profit_by_share",
    "simulate_lifecycle",
    "simulate_remarketing",
    "simulate_targeting",
    "top_share",
    "true_effects",
]
