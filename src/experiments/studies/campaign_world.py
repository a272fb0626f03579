"""Words shared by the studies of the remarketing campaign's world (remarketing, targeting): what the
world assumes, read from its settings."""

from __future__ import annotations

__all__ = ["world_assumptions"]


def world_assumptions(scenario: object) -> list[str]:
    """The assumptions of a remarketing campaign's world (a scenario's settings), in words, for a report."""
    s = scenario
    inc = {"none": "no incentive", "discount": f"a {getattr(s, 'discount', 0):.0%} discount",
           "free_shipping": f"free shipping costing ${getattr(s, 'shipping_cost', 0):.2f} per order"}
    return [
        f"{s.n_customers:,} simulated {s.audience.replace('_', ' ')}, seed {s.seed}; arms "
        + ", ".join(f"{a} {share:.0%}" for a, share in s.arm_shares) + ".",
        f"Campaign over {s.days} days on {', '.join(s.channels)}, at most {s.frequency_cap} exposures "
        f"per customer; incentive arms get {inc[s.incentive]}.",
        f"The visit triggers the campaign: first touch {s.first_touch_hours:g} hours later; the e-mail "
        f"flow sends {s.email_messages} and the SMS flow {s.sms_messages} message(s), "
        f"{s.message_spacing_hours:g} hours apart.",
        f"Costs: display ${s.cpm_display:.2f}, social ${s.cpm_social:.2f}, native ${s.cpm_native:.2f} per "
        f"1,000 impressions; e-mail ${s.cost_email:.4f}, SMS ${s.cost_sms:.3f} per message"
        + (f"; peak season: impression prices x{s.peak_cpm_multiplier:g} and baseline conversion "
           f"x{s.peak_conversion_multiplier:g}." if s.peak_season else "; off-peak season."),
        f"Gross margin {s.margin:.0%} of revenue; incentive costs are charged on every redeemed order, "
        "including orders that would have happened anyway.",
        f"True response: purchase lift among exposed about {s.purchase_lift:.0%} and visits "
        f"{s.visit_lift:.0%} (Johnson, Lewis & Nubbemeyer 2017), fading with days since the visit "
        "(Sahni et al. 2019); annoyance past "
        f"{s.annoyance_threshold} exposures (an assumption).",
        "Who responds: customers who would come back anyway (frequent and recent buyers) gain least "
        "(Blake, Nosko & Tadelis 2015), and each exposure puts off some would-be buyers, more so "
        f"habitual and older ones ({s.reactance:.2%} per exposure for a typical customer, an "
        "assumption); the discount also pays buyers who would have bought anyway.",
        f"Reach: cookie matched for {s.cookie_match_rate:.0%}, e-mail opt-in {s.email_opt_in_rate:.0%}, "
        f"SMS opt-in {s.sms_opt_in_rate:.0%}, social account {s.social_account_rate:.0%}: "
        "not every assigned customer can be reached, so effects are shown per assigned customer "
        "(intent-to-treat) and among the exposed.",
        "Media cost is the observed spend, treated as known; every interval is 95%.",
    ]
