"""The loyalty study's words: the verdict on the programme's net value, in one sentence and a tone."""

from __future__ import annotations

from experiments.formatting import money
from experiments.stats import loyalty_economics as econ

__all__ = ["verdict_text"]


def verdict_text(economics: econ.ProgrammeEconomics, *, unit: str = "offered customer") -> tuple[str, str]:
    """Headline sentence and tone (good / bad / neutral) of the programme's verdict."""
    n = economics.net_value
    interval = f"(95% CI {money(n.ci_low)} to {money(n.ci_high)})"
    if economics.pays_for_itself:
        return (f"The programme pays for itself: it adds {money(n.estimate)} net per {unit} {interval}.",
                "good")
    if economics.pays_for_itself is False:
        return (f"The programme does not pay for itself: it loses {money(-n.estimate)} per {unit} "
                f"{interval}.", "bad")
    verb = "adds" if n.estimate >= 0 else "loses"
    return (f"Not proven that the programme pays for itself: it {verb} {money(abs(n.estimate))} net per "
            f"{unit} {interval}, an interval that includes zero.", "neutral")
