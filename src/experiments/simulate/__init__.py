"""Synthetic customers whose true response is known: block-seeded streams and the simulators."""

from __future__ import annotations

from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.truth import frequency_curve, funnel_summary, true_effects

__all__ = ["frequency_curve", "funnel_summary", "simulate_remarketing", "true_effects"]
