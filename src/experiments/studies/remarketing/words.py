"""The remarketing study's words: its assumptions, data checks and headline figures, in sentences."""

from __future__ import annotations

from experiments.formatting import fmt
from experiments.studies.campaign_world import world_assumptions
from experiments.studies.remarketing.numbers import LeverAnalysis, RemarketingAnalysis

__all__ = ["assumptions", "audience_sentence", "data_checks", "headline_figures", "lever_details"]



def assumptions(scenario: object) -> list[str]:
    """The assumptions of a remarketing scenario, in words, for the report: those of its world, then its
    levers (cross-sell, subscriber value, burn pixel, peak-season response, pull forward)."""
    s = scenario
    world = world_assumptions(s)
    return [*world[:-1],
        f"Past purchasers are offered a complementary product (attach {s.attach_rate:.0%} without discount, "
        f"{s.cannibalisation:.0%} of it would happen anyway) at a {s.bundle_discount:.0%} bundle discount, "
        f"and an upgrade worth {s.upgrade_lift:.0%} more (assumptions).",
        f"Each unsubscribe loses ${s.subscriber_value:.2f} of future margin (an assumption built on Klaviyo "
        "2024's $3.65 per recipient per flow); the burn pixel is "
        + ("on: no impressions are bought after a purchase." if s.burn_pixel else
           "off: impressions after a purchase are bought and reported as waste."),
        f"Peak season multiplies the reminder's lift by {s.peak_response_multiplier:g} (assumption); an "
        f"incentive's extra purchases are {s.pull_forward:.0%} pulled forward from the {s.post_days} days "
        "after the window (forward buying: Anderson & Simester 2004; the share an assumption).",
        world[-1]]


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


def _money(x: float) -> str:
    return fmt(x, "money")


def audience_sentence(levers: LeverAnalysis, arm: str) -> str | None:
    """Which audience to grow and which to cut, in dollars per 1,000 targeted with intervals (None with
    one audience)."""
    rows = levers.audiences_of(arm)
    if len(rows) < 2:
        return None
    best, worst = rows[0], rows[-1]
    b, w = best.group.replace("_", " "), worst.group.replace("_", " ")
    money = f"{_money(best.estimate)} per 1,000 targeted (95% interval {_money(best.ci_low)} to "
    if best.ci_low > 0:
        grow = f"Grow {b}: the {arm} campaign earns {money}{_money(best.ci_high)})"
    else:
        grow = (f"{b.capitalize()} earn most, but not yet clearly more than zero: {money}"
                f"{_money(best.ci_high)})")
    spread = f"{_money(worst.estimate)} per 1,000 ({_money(worst.ci_low)} to {_money(worst.ci_high)})"
    if worst.ci_high < 0:
        cut = f"cut {w}: {spread}"
    elif worst.estimate < 0:
        cut = f"consider cutting {w}: {spread}, a loss we cannot yet tell from zero"
    else:
        cut = f"the least, {w}, earns {spread}"
    return f"{grow}; {cut}."


def lever_details(levers: LeverAnalysis, arm: str, *, best_cap: int | None = None,
                  best_messages: int | None = None, burn_saving: float | None = None) -> list[str]:
    """Sentences on the levers: audiences' spread, cross-sell, unsubscribes, waste, the dip, best settings."""
    def truth(g: object) -> str:
        t = getattr(g, "truth", None)
        return "" if t is None else f"; true value {_money(t) if g.unit == '$' else fmt(t, 'number', 1)}"

    out = []
    het = levers.heterogeneity_of(arm)
    if het is not None:
        differ = "differs" if het.p_value < 0.05 else "may not differ (we cannot tell apart)"
        out.append(f"Profit per 1,000 targeted {differ} across audiences: Cochran's Q = {het.q:.1f} on "
                   f"{het.df} degrees of freedom, p = {het.p_value:.3g}.")
    for g in levers.cross_sell:
        if g.arm == arm:
            out.append(f"Cross-sell and upgrade to past purchasers: {_money(g.estimate)} of margin per 1,000 "
                       f"targeted ({_money(g.ci_low)} to {_money(g.ci_high)}{truth(g)}), net of the bundle "
                       "discount paid on attaches that would have happened anyway.")
    for g in levers.subscriber_loss:
        if g.arm == arm and levers.subscriber_value > 0:
            out.append(f"Unsubscribes cost {_money(g.estimate)} per 1,000 targeted ({_money(g.ci_low)} to "
                       f"{_money(g.ci_high)}{truth(g)}) at {_money(levers.subscriber_value)} a subscriber; "
                       "the profit counts it.")
    waste = levers.wasted_cost_per_1000.get(arm, 0.0)
    if not levers.burn_pixel:
        out.append(f"Without a burn pixel, {_money(waste)} per 1,000 targeted buys impressions after the "
                   "customer has bought.")
    elif burn_saving is not None:
        out.append(f"The burn pixel saves {_money(burn_saving)} per 1,000 targeted of impressions after a "
                   "purchase (true value from the simulation).")
    for g in levers.post_window:
        if g.arm.endswith("_incentive"):
            out.append(f"After the offer window, {g.arm} changes purchases by "
                       f"{fmt(g.estimate, 'number', 1)} per 1,000 ({fmt(g.ci_low, 'number', 1)} to "
                       f"{fmt(g.ci_high, 'number', 1)}{truth(g)}): "
                       "the limited-time offer pulled purchases forward.")
    if best_cap is not None:
        out.append(f"Profit, counting unsubscribes, is highest at a frequency cap of {best_cap}"
                   + (f" and {best_messages} e-mails in the flow" if best_messages is not None else "")
                   + " among the settings tried (true curves, same customers at every setting).")
    return out
