"""Typed, validated parameters of the remarketing study.

Published figures behind the defaults (each parameter also names its source):

- Johnson, Lewis & Nubbemeyer (2017, *JMR*, "Ghost Ads"): +10.5% purchases and +17.2% site visits
  among users who would have seen the retargeting ads (``purchase_lift``, ``visit_lift``).
- Sahni, Narayanan & Kalyanam (2019, *JMR*): +14.6% return within four weeks; the effect falls with
  time since the visit, a third of week one's effect on day one (``reminder_decay``).
- Lambrecht & Tucker (2013, *JMR*): dynamic ads help only users whose preferences have formed.
- Blake, Nosko & Tadelis (2015, *Econometrica*): frequent users are unmoved by ads.
- Lewis & Rao (2015, *QJE*): per-person sales have a coefficient of variation near 10
  (``order_value_sigma``).
- Sahni, Narayanan & Kalyanam (2019) again for timing: because the reminder fades with time since the
  visit, a touch an hour after abandonment is worth more than one a day later (``first_touch_hours``).
- Peak season: Meta CPMs ranged $8.6-12.2 through 2024 (Right Side Up / Varos), the top about 1.4 times
  the bottom (``peak_cpm_multiplier``; reading the range as seasonal is an assumption).
- Unit costs: Meta CPM $8.6-12.2 (``cpm_social``), US programmatic display CPM about $1.7-1.8
  (``cpm_display``), Amazon SES e-mail $0.10 per 1,000 (``cost_email``), Twilio US SMS about
  $0.011-0.014 per segment (``cost_sms``); native CPM is an assumption.
- A subscriber's worth (``subscriber_value``): Klaviyo's 2024 benchmark puts attributed revenue per
  abandoned-cart recipient at $3.65 per flow; what a subscriber earns over the flows of the coming year,
  at the margin and net of what would have come anyway, is an assumption built on it.
- Forward buying after a promotion (``pull_forward``): Anderson & Simester (2004, *Marketing Science*)
  found discounts shift established customers' purchases in time; the share is an assumption.

- Lewis & Nguyen (2015, *QME*): display ads raised searches for the advertised brand by 30-45%; Kireyev,
  Pauwels & Gupta (2016, *IJRM*): display lifts search. Read onto e-mail and SMS messages that follow a
  display impression (``display_synergy``; the transfer is an assumption).
- Channels differ in response strength, intrusiveness and reminder half-life
  (:data:`experiments.simulate.channels.TRAITS`): no published per-channel figure, all assumptions, which
  the factorial channel holdout (``channel_holdout``) measures. So they are levers a strategist pulls
  (``channel_strength``, ``channel_intrusiveness``, ``channel_half_life``, defaulting to that table, source
  ``assumption``); each channel's unsubscribe multiplier stays the table's.

Every other default is an assumption and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios import params as P
from experiments.scenarios.base import Scenario
from experiments.simulate.channels import TRAITS, ChannelTraits
from experiments.worlds import ARMS, AUDIENCES, CAMPAIGN_CHANNELS

__all__ = [
    "ARMS",
    "AUDIENCES",
    "CHANNELS",
    "CHANNEL_TRAIT_PARAMETERS",
    "DEFAULTS",
    "INCENTIVES",
    "LEVER_PARAMETERS",
    "PARAMETERS",
    "CampaignFields",
    "RemarketingScenario",
]

#: The world's vocabulary (arms, audiences, channels) is the simulator's own.
CHANNELS: tuple[str, ...] = CAMPAIGN_CHANNELS
INCENTIVES: tuple[str, ...] = ("none", "discount", "free_shipping")

_A = "assumption"
#: The levers on what a campaign sells, what it wastes and when its buyers buy, declared once: cross-sell
#: and up-sell to past purchasers, the price of an unsubscribe, the burn pixel, the response in peak
#: season and the purchases a limited-time offer pulls forward.
LEVER_PARAMETERS: tuple[P.Param, ...] = (
    P.probability("attach_rate", 0.1, "share of past purchasers' orders that add the suggested "
                  "complementary product when the offer carries no bundle discount, in [0, 1]", source=_A),
    P.probability("bundle_discount", 0.1, "discount on the complementary product bought with the order, "
                  "in [0, 1]: it lifts the attach rate and is paid on attaches that would have happened "
                  "anyway", source=_A),
    P.probability("cannibalisation", 0.3, "share of the offer's attaches that would have happened anyway "
                  "at full price (the bundle discount then subsidises a sure thing), in [0, 1]", source=_A),
    P.number("upgrade_lift", 0.25, "order-value lift of the suggested upgrade for past purchasers (0 to "
             "2): bigger upgrades are taken up less", low=0.0, high=2.0, source=_A),
    P.number("subscriber_value", 5.0, "future margin lost with each e-mail or SMS unsubscribe, dollars "
             "(counted in profit)", low=0.0,
             source="assumption (Klaviyo 2024: $3.65 attributed revenue per abandoned-cart recipient "
             "per flow; a year of flows at the margin, net of what comes anyway)"),
    P.boolean("burn_pixel", True, "stop buying impressions for a customer after a purchase (false "
              "keeps buying them: the waste is reported in dollars)",
              source="assumption (standard practice of retargeting platforms)"),
    P.number("peak_response_multiplier", 0.8, "multiplier of the reminder's purchase lift in peak season "
             "(more than 0, at most 5): crowded feeds, shoppers who buy anyway", low=0.0, high=5.0,
             low_open=True, source=_A),
    P.probability("pull_forward", 0.4, "share of an incentive arm's extra purchases in the window that "
                  "are pulled forward from the weeks after it (the limited-time offer's dip), in [0, 1]",
                  source="assumption (forward buying after promotions: Anderson & Simester 2004)"),
    P.integer("post_days", 14, "days after the campaign window in which purchases are observed for the "
              "dip (1-90)", low=1, high=90, source=_A),
)


def _table(trait: str) -> str:
    """One trait of :data:`TRAITS` for every channel, as ``display:1,social:0.8,...``."""
    return ",".join(f"{c}:{getattr(TRAITS[c], trait):g}" for c in CHANNELS)


_PARTIAL = "; naming only some channels changes only those"
#: The channel traits as levers: response strength, intrusiveness and reminder half-life per channel,
#: relative to display (:mod:`experiments.simulate.channels`; no published per-channel figure exists).
CHANNEL_TRAIT_PARAMETERS: tuple[P.Param, ...] = (
    P.mapping("channel_strength", _table("strength"), "reminder response per exposure of each channel, "
              "relative to display (channel:number, more than 0)" + _PARTIAL, CHANNELS, low_open=True,
              source=_A),
    P.mapping("channel_intrusiveness", _table("intrusiveness"), "multiplier of the reactance and "
              "annoyance of each exposure of each channel, relative to display (channel:number, 0 or "
              "more)" + _PARTIAL, CHANNELS, source=_A),
    P.mapping("channel_half_life", _table("half_life"), "multiplier of the reminder's half-life for each "
              "channel, relative to display (channel:number, more than 0)" + _PARTIAL, CHANNELS,
              low_open=True, source=_A),
)
#: Every parameter, declared once: default, rule, help and source.
PARAMETERS: tuple[P.Param, ...] = (
    P.integer("n_customers", 200_000, "customers in the experiment", low=1, high=200_000_000),
    P.integer("seed", 20261124, "random seed; same seed and parameters, same numbers", low=0),
    P.choice("audience", "cart_abandoners", "cart_abandoners, browse_abandoners, product_viewers, "
             "past_purchasers, lapsed_visitors or all", AUDIENCES),
    P.choices("channels", "display,social,email", "comma-separated: display, social, email, sms, native",
              CHANNELS),
    P.integer("frequency_cap", 8, "most paid impressions or messages per customer over the campaign",
              low=1, high=1000, source=_A),
    P.integer("days", 14, "campaign window in days (1-90)", low=1, high=90,
              source="assumption (a typical retargeting window)"),
    P.choice("incentive", "discount", "none, discount or free_shipping (given to the *_incentive arms)",
             INCENTIVES),
    P.probability("discount", 0.1, "discount rate of the incentive, in [0, 1]", source=_A),
    P.number("shipping_cost", 6.0, "cost to the retailer of free shipping, dollars per order", low=0.0,
             source=_A),
    P.shares("arm_shares", "holdout:0.2,dynamic:0.4,dynamic_incentive:0.4",
             "arm:share pairs summing to 1; arms: holdout, generic, dynamic, generic_incentive, "
             "dynamic_incentive", ARMS),
    P.number("cpm_display", 2.0, "display cost, dollars per 1,000 impressions", low=0.0,
             source="DataBeat 2024: US programmatic display CPM about $1.7-1.8"),
    P.number("cpm_social", 10.0, "social cost, dollars per 1,000 impressions", low=0.0,
             source="Right Side Up / Varos: Meta CPM $8.6-12.2 through 2024"),
    P.number("cpm_native", 4.0, "native cost, dollars per 1,000 impressions", low=0.0,
             source="assumption (no credible figure)"),
    P.number("cost_email", 0.001, "e-mail cost, dollars per message", low=0.0,
             source="Amazon SES $0.10 per 1,000 plus tooling (the tooling is an assumption)"),
    P.number("cost_sms", 0.012, "SMS cost, dollars per message", low=0.0,
             source="Twilio US SMS about $0.011-0.014 per segment"),
    P.probability("margin", 0.35, "gross margin rate on revenue, in [0, 1]", source=_A),
    P.probability("cookie_match_rate", 0.75, "share whose tracking cookie or pixel is matched "
                  "(display, native)", source=_A),
    P.probability("email_opt_in_rate", 0.55, "share opted in to e-mail", source=_A),
    P.probability("sms_opt_in_rate", 0.15, "share opted in to SMS", source=_A),
    P.probability("social_account_rate", 0.7, "share with a matched social account", source=_A),
    P.number("purchase_lift", 0.1, "true relative purchase lift among the exposed at full reminder "
             "strength", low=0.0, high=5.0,
             source="Johnson, Lewis & Nubbemeyer 2017: +10.5% purchases among would-be exposed users"),
    P.number("visit_lift", 0.17, "true relative lift in return visits among the exposed", low=0.0,
             high=5.0, source="Johnson et al. 2017: +17.2% visits; Sahni et al. 2019: +14.6%"),
    P.number("reminder_decay", 0.69, "daily decay of the reminder effect with days since the visit",
             low=0.0, high=1.0, low_open=True,
             source="Sahni, Narayanan & Kalyanam 2019: a third of week one's effect on day one"),
    P.integer("annoyance_threshold", 10, "exposures after which each further one annoys", low=0,
              source=_A),
    P.probability("annoyance_penalty", 0.015, "relative conversion loss per exposure past the "
                  "threshold", source=_A),
    P.probability("unsubscribe_rate", 0.002, "unsubscribe probability per e-mail or SMS message",
                  source=_A),
    P.probability("unsubscribe_per_excess", 0.01, "extra unsubscribe probability per exposure past the "
                  "threshold", source=_A),
    P.number("incentive_lift", 0.25, "true relative conversion lift of the incentive for the average "
             "buyer", low=0.0, high=5.0, source=_A),
    P.number("mean_order_value", 90.0, "mean order value, dollars", low=0.0, low_open=True, source=_A),
    P.number("order_value_sigma", 1.0, "log-scale spread of order values across customers", low=0.0,
             high=3.0, source="assumption (Lewis & Rao 2015: per-person sales have a CV near 10)"),
    P.number("first_touch_hours", 1.0, "hours from the visit (abandonment) to the first touch: 0 or more, "
             "less than the window", low=0.0,
             source="assumption (abandoned-cart flows commonly send within the hour); the fading reminder "
             "makes early touches worth more: Sahni, Narayanan & Kalyanam 2019"),
    P.integer("email_messages", 3, "messages in the e-mail flow (1-50), the first at the first touch",
              low=1, high=50, source="assumption (a three-message abandoned-cart flow)"),
    P.integer("sms_messages", 1, "messages in the SMS flow (1-50), the first at the first touch", low=1,
              high=50, source=_A),
    P.number("message_spacing_hours", 24.0, "hours between consecutive messages of a flow (more than 0)",
             low=0.0, high=24.0 * 90, low_open=True, source=_A),
    P.probability("reactance", 0.0025, "relative loss of a would-be buyer's purchase per exposure (more "
                  "for habitual and older customers), in [0, 1]", source=_A),
    P.number("channel_holdout", 0.2, "share of customers held out of each channel, independently per "
             "channel (a factorial design that measures every channel and channel pair); 0 turns it off",
             low=0.0, high=1.0, high_open=True,
             source="assumption (a fifth per channel measures each channel to a few purchases per 1,000 at "
             "200,000 customers while 80% of customers still get every channel)"),
    P.number("display_synergy", 0.35, "extra response to an e-mail or SMS that follows a display "
             "impression within synergy_window_days (0.35: 35% stronger; 0 turns it off)", low=0.0,
             high=5.0, source="Lewis & Nguyen 2015: display raised brand searches by 30-45% (applied to "
             "e-mail and SMS: assumption)"),
    P.number("synergy_window_days", 3.0, "days after a display impression during which it lifts a "
             "message (more than 0)", low=0.0, high=90.0, low_open=True, source=_A),
    P.boolean("peak_season", False, "peak season: baseline conversion and paid-media prices both rise",
              source=_A),
    P.number("peak_conversion_multiplier", 1.3, "baseline conversion multiplier in peak season (more "
             "than 0, at most 5)", low=0.0, high=5.0, low_open=True, source=_A),
    P.number("peak_cpm_multiplier", 1.4, "display, social and native price multiplier in peak season "
             "(more than 0, at most 10)", low=0.0, high=10.0, low_open=True,
             source="Right Side Up / Varos: Meta CPM $8.6-12.2 through 2024, top about 1.4 times the "
             "bottom (reading it as seasonal is an assumption)"),
    *LEVER_PARAMETERS,
    *CHANNEL_TRAIT_PARAMETERS,
)

#: Defaults of every parameter, as plain literals (what a notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}


@dataclass(frozen=True)
class CampaignFields(Scenario):
    """The first fields of a campaign in the remarketing world, shared by the remarketing and targeting
    scenarios (each declares its own ``parameters``): size, seed, audience, channels, frequency cap,
    length and incentive."""

    n_customers: int
    seed: int
    audience: str
    channels: tuple[str, ...]
    frequency_cap: int
    days: int
    incentive: str
    discount: float


@dataclass(frozen=True)
class RemarketingScenario(CampaignFields):
    """One remarketing experiment: audience, channels, arms, costs and response knobs.

    Build it with :meth:`from_params`, which validates every value; :meth:`to_params` gives the
    plain literals back (round-trips).
    """

    parameters = PARAMETERS
    #: In memory, the peak of a run grows by about 340 bytes per customer (measured at 0.1 to 2 million).
    memory = (("n_customers",), 600)

    shipping_cost: float
    arm_shares: tuple[tuple[str, float], ...]
    cpm_display: float
    cpm_social: float
    cpm_native: float
    cost_email: float
    cost_sms: float
    margin: float
    cookie_match_rate: float
    email_opt_in_rate: float
    sms_opt_in_rate: float
    social_account_rate: float
    purchase_lift: float
    visit_lift: float
    reminder_decay: float
    annoyance_threshold: int
    annoyance_penalty: float
    unsubscribe_rate: float
    unsubscribe_per_excess: float
    incentive_lift: float
    mean_order_value: float
    order_value_sigma: float
    first_touch_hours: float
    email_messages: int
    sms_messages: int
    message_spacing_hours: float
    reactance: float
    channel_holdout: float
    display_synergy: float
    synergy_window_days: float
    peak_season: bool
    peak_conversion_multiplier: float
    peak_cpm_multiplier: float
    attach_rate: float
    bundle_discount: float
    cannibalisation: float
    upgrade_lift: float
    subscriber_value: float
    burn_pixel: bool
    peak_response_multiplier: float
    pull_forward: float
    post_days: int
    channel_strength: tuple[tuple[str, float], ...]
    channel_intrusiveness: tuple[tuple[str, float], ...]
    channel_half_life: tuple[tuple[str, float], ...]

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """A holdout and at least one more arm; no incentive arm without an incentive; the first touch
        within the window."""
        shares = dict(typed["arm_shares"])
        raw = cls.param("arm_shares").render(typed["arm_shares"])
        if "holdout" not in shares:
            raise ParameterError("arm_shares", raw, "must include a holdout arm")
        if len(shares) < 2:
            raise ParameterError("arm_shares", raw, "holdout and at least one more arm")
        if typed["incentive"] == "none":
            for arm in shares:
                if arm.endswith("_incentive"):
                    raise ParameterError("arm_shares", raw, f"no {arm} arm when incentive is 'none'")
        days = typed["days"]
        if typed["first_touch_hours"] >= 24.0 * days:
            raise ParameterError("first_touch_hours", typed["first_touch_hours"],
                                 f"hours >= 0 and within the {days}-day window (< {24 * days})")
        return typed

    @property
    def arms(self) -> tuple[str, ...]:
        """Arms of the experiment, holdout first."""
        return tuple(arm for arm, _ in self.arm_shares)

    @property
    def treatment_arms(self) -> tuple[str, ...]:
        """Arms other than the holdout."""
        return self.arms[1:]

    @property
    def shares(self) -> dict[str, float]:
        """Share of customers randomised into each arm."""
        return dict(self.arm_shares)

    @property
    def main_arm(self) -> str:
        """The treatment arm with the largest share (the first in :data:`ARMS` order on a tie).

        ``uplift_group`` in the simulated table compares this arm with the holdout.
        """
        return max(self.treatment_arms, key=lambda arm: (self.shares[arm], -ARMS.index(arm)))

    @property
    def channel_traits(self) -> dict[str, ChannelTraits]:
        """Each channel's traits (what :func:`~experiments.simulate.channels.traits_of` reads): strength,
        intrusiveness and half-life from the parameters, the unsubscribe multiplier from
        :data:`~experiments.simulate.channels.TRAITS`."""
        strength, intrusive, half = (dict(self.channel_strength), dict(self.channel_intrusiveness),
                                     dict(self.channel_half_life))
        return {c: ChannelTraits(strength[c], intrusive[c], t.unsubscribe, half[c], t.source)
                for c, t in TRAITS.items()}

    @property
    def reminder_lift(self) -> float:
        """The reminder's purchase lift: ``purchase_lift``, times ``peak_response_multiplier`` in peak
        season."""
        return self.purchase_lift * (self.peak_response_multiplier if self.peak_season else 1.0)

    @property
    def cpm_factor(self) -> float:
        """Multiplier of the paid-media prices: ``peak_cpm_multiplier`` in peak season, else 1."""
        return self.peak_cpm_multiplier if self.peak_season else 1.0

    @property
    def unit_costs(self) -> dict[str, float]:
        """Dollars per impression (display, social, native) or per message (email, sms).

        Impression prices rise by ``peak_cpm_multiplier`` in peak season; message prices do not.
        """
        k = self.cpm_factor / 1000.0
        return {
            "display": self.cpm_display * k,
            "social": self.cpm_social * k,
            "email": self.cost_email,
            "sms": self.cost_sms,
            "native": self.cpm_native * k,
        }
