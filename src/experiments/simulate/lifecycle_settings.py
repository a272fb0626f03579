"""Settings of the lifecycle world: acquisition sources, buying and dropout, and the six levers.

Every default that a published figure supports cites it beside the field; every other default is marked
``assumption``. Time is in weeks: the world runs ``horizon_weeks``; customers are acquired in weeks
``0 .. acquisition_weeks - 1``; every lever acts in the campaign window ``campaign_start ..
campaign_start + campaign_weeks - 1`` (the *short* horizon) and is read again ``long_weeks`` after the
window ends (the *long* horizon, from the window's first week).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from experiments.errors import ParameterError

__all__ = ["LEVERS", "SIDES", "LifecycleSettings", "Source", "default_sources"]

#: The levers, each switched on for its randomised arm and off for its holdout, independently.
LEVERS: tuple[str, ...] = ("discount", "win_back", "messages", "loyalty", "recovery", "referral")
#: The two sides of a lever in the truth columns (``value_long__loyalty_on``).
SIDES: tuple[str, ...] = ("on", "off")


@dataclass(frozen=True)
class Source:
    """An acquisition source: its share of acquired customers, cost per acquired customer, and how
    its customers differ from the CDNOW population (multipliers of the purchase rate, of the dropout
    probability, of the order value, and of deal proneness). All assumptions: no published
    per-source figures were found (REFERENCES.md)."""

    name: str
    share: float
    cost: float
    rate: float = 1.0
    dropout: float = 1.0
    spend: float = 1.0
    deal: float = 1.0


def default_sources() -> tuple[Source, ...]:
    """Paid search, social, affiliate/coupon sites and organic (all assumptions): coupon sites bring
    cheap, deal-prone, short-lived customers; organic ones cost least and stay longest."""
    return (
        Source("paid_search", 0.35, 40.0, rate=1.0, dropout=1.0, spend=1.0, deal=1.0),
        Source("social", 0.25, 30.0, rate=0.8, dropout=1.25, spend=0.9, deal=1.0),
        Source("affiliate", 0.15, 20.0, rate=0.7, dropout=1.4, spend=0.85, deal=2.0),
        Source("organic", 0.25, 5.0, rate=1.15, dropout=0.9, spend=1.05, deal=0.8),
    )


@dataclass(frozen=True)
class LifecycleSettings:
    """Parameters of :func:`~experiments.simulate.lifecycle.simulate_lifecycle` (frozen; validated).

    Buying follows BG/NBD and spend Gamma-Gamma with the CDNOW fits of Fader, Hardie & Lee (2005,
    *Marketing Science* 24(2)): weekly purchase rate ``Gamma(r, alpha)``, dropout after each repeat
    purchase ``Beta(a, b)``, order value ``Gamma(p, nu)`` with ``nu ~ Gamma(q, gamma)``.
    """

    # -- population and time -------------------------------------------------------------------
    n_customers: int = 100_000  # acquired customers (referred ones come on top); assumption
    horizon_weeks: int = 104  # weeks simulated; assumption
    acquisition_weeks: int = 52  # customers acquired uniformly over weeks 0..51; assumption
    campaign_start: int = 26  # first week of every lever; assumption
    campaign_weeks: int = 26  # the levers' window, the short horizon; assumption
    long_weeks: int = 52  # the long horizon runs this many weeks past the window; assumption
    sources: tuple[Source, ...] = field(default_factory=default_sources)  # assumptions (default_sources)
    gross_margin: float = 0.30  # margin on full-price revenue; assumption
    # -- BG/NBD and Gamma-Gamma (CDNOW, Fader, Hardie & Lee 2005; weeks) ---------------------------
    bgnbd_r: float = 0.243  # Fader, Hardie & Lee 2005
    bgnbd_alpha: float = 4.414  # Fader, Hardie & Lee 2005 (weeks)
    bgnbd_a: float = 0.793  # Fader, Hardie & Lee 2005
    bgnbd_b: float = 2.426  # Fader, Hardie & Lee 2005
    gg_p: float = 6.25  # Fader & Hardie's Gamma-Gamma note on CDNOW
    gg_q: float = 3.74  # Fader & Hardie's Gamma-Gamma note on CDNOW
    gg_gamma: float = 15.44  # Fader & Hardie's Gamma-Gamma note on CDNOW ($)
    deal_shape: float = 2.0  # deal proneness ~ Gamma(shape, 1/shape), mean 1; assumption
    # -- 1. discount promotions (Anderson & Simester 2004; Mela, Gupta & Lehmann 1997) -------------
    discount_share: float = 0.5  # share of customers in the discount arm; assumption
    discount_depth: float = 0.20  # price cut in promotion weeks; assumption
    promo_weeks: tuple[int, ...] = (4, 5, 17, 18)  # promotion weeks, offsets into the window; assumption
    promo_lift: float = 4.0  # purchase-rate lift per unit of depth x deal proneness; assumption
    forward_share: float = 0.5  # share of the promotion's extra purchases taken from later weeks
    # (forward buying, Anderson & Simester 2004: short-run metrics overstate the gain); assumption
    dip_limit: float = 0.7  # most of a week's purchase rate the stockpile can take; assumption
    deal_learning: float = 1.0  # log full-price rate lost per promotion week x depth x deal proneness,
    # for established customers (Mela et al. 1997: promotions make buyers more deal-sensitive); assumption
    new_customer_gain: float = 2.0  # log full-price rate gained per promotion purchase x depth by new
    # customers (Anderson & Simester 2004: deeper discounts raised first-time buyers' later purchases)
    tenure_half: float = 13.0  # weeks of tenure at which a customer counts half as established; assumption
    # -- 2. win-back offers --------------------------------------------------------------------
    win_back_share: float = 0.5  # assumption
    lapse_weeks: int = 16  # weeks without a purchase after which a customer is offered; assumption
    win_back_cost: float = 1.0  # cost of sending an offer; assumption
    win_back_discount: float = 0.15  # coupon's price cut; assumption
    coupon_weeks: int = 4  # weeks a coupon is valid; assumption
    win_back_lift: float = 3.0  # purchase-rate lift of a dormant (alive) customer at the lapse; assumption
    win_back_revival: float = 0.25  # chance that a customer who left after a service failure comes
    # back at the lapse; customers who silently dropped out are unreachable; assumption
    win_back_decay: float = 26.0  # weeks over which both fall by e: the longer ago, the harder; assumption
    # -- 3. lifecycle messages -------------------------------------------------------------------
    messages_share: float = 0.5  # assumption
    messages_per_month: float = 2.0  # cadence of regular messages; assumption
    message_cost: float = 0.01  # per message, with tooling and content; assumption (sending an e-mail
    # costs about $0.0001, Amazon SES, REFERENCES unit costs)
    message_lift: float = 0.6  # purchase-rate lift of the week's first message; Hillstrom's one e-mail
    # raised two-week conversion 54-119% (MineThatData 2008)
    message_diminishing: float = 0.5  # each further message that week adds this share of the last's
    # lift; assumption
    checkin_lift: float = 0.4  # lift of the after-sale check-in, the week after a purchase; assumption
    birthday_lift: float = 0.6  # lift of a birthday or acquisition-anniversary message; assumption
    trigger_decay: float = 0.5  # a triggered message's lift kept the next week; assumption
    fatigue_decay: float = 0.7  # fatigue kept from one week to the next; assumption
    fatigue_free: float = 3.0  # fatigue (decayed messages) tolerated without harm; assumption
    fatigue_penalty: float = 0.15  # log purchase rate lost per unit of fatigue above that; assumption
    unsubscribe_rate: float = 0.003  # unsubscribe chance per message at no fatigue, rising with the
    # square of fatigue over fatigue_free (a week's chance: that times its messages); assumption
    # -- 4. loyalty rewards (Kivetz, Urminsky & Zheng 2006; Liu 2007; Gopalakrishnan et al. 2021) -----
    loyalty_share: float = 0.5  # share *offered* the programme; assumption
    join_rate: float = 0.3  # enrolment of a typical offered customer; assumption
    join_selection: float = 1.0  # log-odds of joining per s.d. of loyalty (rate up, dropout down):
    # heavier buyers join, so members vs non-members overstates the effect (Leenheer et al. 2007)
    reward_rate: float = 0.04  # points earned per dollar spent, in dollars; assumption
    reward_scale: float = 0.03  # reward rate at which behaviour gets 63% of its most; assumption
    loyalty_rate_lift: float = 0.15  # most purchase-rate lift of a member; assumption
    loyalty_dropout_cut: float = 0.5  # most cut in dropout: over 80% of the value comes through lower
    # attrition (Gopalakrishnan et al. 2021)
    heavy_rate: float = 0.2  # weekly rate at which the response halves: heavy buyers do not respond
    # (Liu 2007)
    reward_threshold: float = 10.0  # points that make a reward ($); assumption
    goal_lift: float = 0.5  # purchase-rate lift at the threshold, rising with progress cubed
    # (Kivetz, Urminsky & Zheng 2006: purchases accelerate near a reward); assumption on its size
    redemption_rate: float = 0.7  # share of rewards redeemed (their cost); assumption
    # -- 5. service failures and recovery ----------------------------------------------------------
    failure_rate: float = 0.05  # chance that a purchase goes wrong; assumption
    failure_dropout: float = 0.3  # extra chance of leaving after a failure; assumption
    recovery_share: float = 0.5  # assumption
    recovery_effect: float = 0.6  # share of the failure's extra dropout the recovery removes; assumption
    recovery_cost: float = 5.0  # apology and voucher per failure; assumption
    # -- 6. referrals (Schmitt, Skiera & Van den Bulte 2011) ----------------------------------------
    referral_rate: float = 0.02  # chance that a week with a purchase brings a referred customer; assumption
    referral_share: float = 0.5  # assumption
    referral_reward: float = 10.0  # paid to the referrer per referred customer; assumption
    referral_response: float = 1.0  # most relative rise of referrals from a reward; assumption
    referral_half: float = 10.0  # reward at which half of that rise is reached; assumption
    referred_dropout: float = 0.75  # referred customers' dropout multiplier: higher retention that
    # persists (Schmitt, Skiera & Van den Bulte 2011); size an assumption
    referred_spend: float = 0.15  # referred customers' extra order value, eroding: higher margins whose
    # advantage erodes (Schmitt, Skiera & Van den Bulte 2011); size an assumption
    referred_spend_half_life: float = 26.0  # weeks for that premium to halve; assumption
    max_referrals: int = 4  # referred customers simulated per customer (more are not); assumption

    def __post_init__(self) -> None:
        _check(self)

    @property
    def campaign_end(self) -> int:
        """First week after the levers' window (end of the short horizon)."""
        return self.campaign_start + self.campaign_weeks

    @property
    def long_end(self) -> int:
        """First week after the long horizon."""
        return self.campaign_end + self.long_weeks

    @property
    def source_names(self) -> tuple[str, ...]:
        """Names of the acquisition sources, then ``"referral"`` (referred customers)."""
        return (*(s.name for s in self.sources), "referral")

    def shares(self) -> dict[str, float]:
        """Arm share of every lever."""
        return {lever: getattr(self, f"{lever}_share") for lever in LEVERS}

    def to_dict(self) -> dict[str, object]:
        """Plain values (sources as dicts)."""
        out: dict[str, object] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = [vars(s).copy() for s in v] if f.name == "sources" else v
        return out


_UNIT = ("gross_margin", "discount_depth", "forward_share", "dip_limit", "win_back_discount",
         "win_back_revival", "message_diminishing", "trigger_decay", "fatigue_decay", "unsubscribe_rate",
         "join_rate", "redemption_rate", "failure_rate", "failure_dropout", "recovery_effect",
         "referral_rate", "loyalty_dropout_cut", *(f"{lever}_share" for lever in LEVERS))
_POSITIVE = ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "gg_p", "gg_q", "gg_gamma", "deal_shape",
             "tenure_half", "win_back_decay", "reward_scale", "heavy_rate", "reward_threshold",
             "referral_half", "referred_spend_half_life", "fatigue_free")
_NON_NEGATIVE = ("promo_lift", "deal_learning", "new_customer_gain", "win_back_cost", "win_back_lift",
                 "messages_per_month", "message_cost", "message_lift", "checkin_lift", "birthday_lift",
                 "fatigue_penalty", "join_selection", "reward_rate", "loyalty_rate_lift", "goal_lift",
                 "recovery_cost", "referral_reward", "referral_response", "referred_spend")


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(name, value, "a finite number")
    return float(value)


def _integer(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParameterError(name, value, f"an integer >= {low}")
    return value


def _check(s: LifecycleSettings) -> None:
    for name in _UNIT:
        if not 0.0 <= _number(name, getattr(s, name)) <= 1.0:
            raise ParameterError(name, getattr(s, name), "a number from 0 to 1")
    for name in _POSITIVE:
        if _number(name, getattr(s, name)) <= 0:
            raise ParameterError(name, getattr(s, name), "a number > 0")
    for name in _NON_NEGATIVE:
        if _number(name, getattr(s, name)) < 0:
            raise ParameterError(name, getattr(s, name), "a number >= 0")
    if s.gg_q <= 1:
        raise ParameterError("gg_q", s.gg_q, "a number > 1 (the mean order value is finite)")
    if _number("referred_dropout", s.referred_dropout) <= 0:
        raise ParameterError("referred_dropout", s.referred_dropout, "a number > 0")
    _integer("n_customers", s.n_customers, 1)
    _integer("horizon_weeks", s.horizon_weeks, 2)
    _integer("acquisition_weeks", s.acquisition_weeks, 1)
    _integer("campaign_weeks", s.campaign_weeks, 1)
    _integer("long_weeks", s.long_weeks, 0)
    _integer("lapse_weeks", s.lapse_weeks, 1)
    _integer("coupon_weeks", s.coupon_weeks, 1)
    _integer("max_referrals", s.max_referrals, 1)
    if s.acquisition_weeks > s.horizon_weeks:
        raise ParameterError("acquisition_weeks", s.acquisition_weeks,
                             f"an integer from 1 to horizon_weeks ({s.horizon_weeks})")
    _integer("campaign_start", s.campaign_start, 1)
    if s.long_end > s.horizon_weeks:
        raise ParameterError("long_weeks", s.long_weeks,
                             f"at most horizon_weeks - campaign_start - campaign_weeks "
                             f"({s.horizon_weeks - s.campaign_end})")
    weeks = s.promo_weeks
    if (not isinstance(weeks, tuple) or any(isinstance(w, bool) or not isinstance(w, int) for w in weeks)
            or any(not 0 <= w < s.campaign_weeks for w in weeks) or len(set(weeks)) != len(weeks)):
        raise ParameterError("promo_weeks", weeks, "a tuple of distinct week offsets from 0 to "
                             f"campaign_weeks - 1 ({s.campaign_weeks - 1})")
    sources = s.sources
    if not isinstance(sources, tuple) or not sources or not all(isinstance(x, Source) for x in sources):
        raise ParameterError("sources", sources, "a non-empty tuple of Source")
    names = [x.name for x in sources]
    named = all(isinstance(n, str) and n for n in names)
    if len(set(names)) != len(names) or "referral" in names or not named:
        raise ParameterError("sources", names, "distinct non-empty names other than 'referral'")
    for x in sources:
        for attr in ("share", "cost", "rate", "dropout", "spend", "deal"):
            v = _number(f"sources[{x.name}].{attr}", getattr(x, attr))
            if v < 0 or (attr in ("rate", "spend", "deal", "dropout") and v <= 0):
                raise ParameterError(f"sources[{x.name}].{attr}", v, "a number > 0" if attr != "share"
                                     and attr != "cost" else "a number >= 0")
    if sum(x.share for x in sources) <= 0:
        raise ParameterError("sources", [x.share for x in sources], "shares with a positive sum")
