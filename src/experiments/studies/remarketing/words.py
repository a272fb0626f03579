"""The remarketing study's words: its assumptions, data checks and headline figures, in sentences."""

from __future__ import annotations

from experiments.formatting import fmt
from experiments.studies.campaign_world import world_assumptions
from experiments.studies.remarketing.numbers import RemarketingAnalysis

__all__ = ["assumptions", "data_checks", "headline_figures"]

#: The assumptions of a remarketing scenario, in words, for the report (those of its world).
assumptions = world_assumptions


def headline_figures(analysis: RemarketingAnalysis) -> str:
    """The headline numbers, rounded so that the same seed always prints the same text."""
    parts = []
    for arm in analysis.treatment_arms:
        e = analysis.economics_of(arm)
        parts.append(
            f"{arm}: {e.incremental_conversions:+.0f} purchases [{e.incremental_conversions_low:.0f}, "
            f"{e.incremental_conversions_high:.0f}]; profit {e.incremental_profit:+.0f} "
            f"[{e.incremental_profit_low:.0f}, {e.incremental_profit_high:.0f}]; {e.verdict}"
        )
    return "\n".join(parts)


def data_checks(analysis: RemarketingAnalysis) -> list[str]:
    """Sample-ratio and reach checks in words."""
    srm = analysis.srm
    status = "ARM SIZES DO NOT MATCH the shares" if srm.mismatch else "arm sizes match the intended shares"
    lines = [f"Sample ratio: {status} (chi-square {srm.chi2:.2f}, p = {srm.p_value:.3f})."]
    lines += [
        f"{arm}: {srm.observed[arm]:,} customers, {fmt(analysis.exposed_share[arm], 'pct')} "
        + ("would have been exposed (ghost ads)" if arm == analysis.control else "exposed at least once")
        for arm in analysis.arms
    ]
    return lines
