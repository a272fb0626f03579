"""The loyalty study's words: the verdict on the programme's net value, in one sentence and a tone."""

from __future__ import annotations

from experiments.formatting import money
from experiments.stats import loyalty_economics as econ

__all__ = ["lever_advice", "lever_verdict", "verdict_text"]

_NAMES = {"rewards": "the rewards", "messages": "the relationship messages"}


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


def lever_advice(lever: str, estimate: float, ci_low: float, ci_high: float, *,
                 unit: str = "offered customer") -> str:
    """Grow, cut or hold one lever, from its main effect on the net value, in one clause."""
    name = _NAMES.get(lever, lever)
    interval = f"(95% CI {money(ci_low)} to {money(ci_high)})"
    if ci_low > 0:
        return f"grow {name}: they add {money(estimate)} net per {unit} {interval}"
    if ci_high < 0:
        return f"cut {name}: they lose {money(-estimate)} net per {unit} {interval}"
    verb = "add" if estimate >= 0 else "lose"
    return (f"hold {name} and test again: they {verb} {money(abs(estimate))} net per {unit} {interval}, "
            "not proven")


def lever_verdict(effects: dict[str, tuple[float, float, float]]) -> tuple[str, str]:
    """Headline and tone of the factorial read: which lever to grow or cut (largest effect first).

    ``effects`` maps each lever to its main effect ``(estimate, ci_low, ci_high)`` on the net value.
    """
    order = sorted(effects, key=lambda k: -effects[k][0])
    clauses = [lever_advice(k, *effects[k]) for k in order]
    head = "; ".join(clauses)
    head = head[0].upper() + head[1:] + "."
    lows = [effects[k][1] for k in order]
    highs = [effects[k][2] for k in order]
    tone = "good" if any(v > 0 for v in lows) else "bad" if all(v < 0 for v in highs) else "neutral"
    return head, tone
