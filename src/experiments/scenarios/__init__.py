"""Typed, validated parameters of each study (one module per study)."""

from __future__ import annotations

from experiments.scenarios.remarketing import DEFAULTS as REMARKETING_DEFAULTS
from experiments.scenarios.remarketing import RemarketingScenario

__all__ = ["REMARKETING_DEFAULTS", "RemarketingScenario"]
