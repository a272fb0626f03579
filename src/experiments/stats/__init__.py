"""Uplift statistics on per-arm sufficient statistics; knows nothing of how a table was made."""

from __future__ import annotations

from experiments.stats.economics import CampaignEconomics, campaign_economics
from experiments.stats.effects import compare, mean_effect, proportion_effect, relative_lift_delta
from experiments.stats.results import Effect, SRMResult, effects_frame
from experiments.stats.srm import srm_test
from experiments.stats.sufficient import ArmStatistics, SampleStats, gather

__all__ = [
    "ArmStatistics",
    "CampaignEconomics",
    "Effect",
    "SRMResult",
    "SampleStats",
    "campaign_economics",
    "compare",
    "effects_frame",
    "gather",
    "mean_effect",
    "proportion_effect",
    "relative_lift_delta",
    "srm_test",
]
