"""Uplift statistics on per-arm sufficient statistics; knows nothing of how a table was made."""

from __future__ import annotations

from importlib import import_module
from typing import Any

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

_HOME = {
    "ArmStatistics": "sufficient", "SampleStats": "sufficient", "gather": "sufficient",
    "CampaignEconomics": "economics", "campaign_economics": "economics",
    "Effect": "results", "SRMResult": "results", "effects_frame": "results",
    "compare": "effects", "mean_effect": "effects", "proportion_effect": "effects",
    "relative_lift_delta": "effects", "srm_test": "srm",
}


def __getattr__(name: str) -> Any:
    """Import a name's module on first use, so ``import experiments.stats.x`` loads only ``x``."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"experiments.stats.{_HOME[name]}"), name)
    globals()[name] = value
    return value
