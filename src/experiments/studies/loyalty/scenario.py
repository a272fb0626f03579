"""Typed, validated parameters of the loyalty and retention study.

Published figures behind the defaults (each parameter also names its source):

- Purchase and dropout heterogeneity and order values: BG/NBD and Gamma-Gamma fits on CDNOW
  (Fader, Hardie & Lee 2005, *Marketing Science* 24(2); Fader & Hardie 2013): r = 0.243,
  alpha = 4.414 weeks, a = 0.793, b = 2.426; p = 6.25, q = 3.74, v = 15.44.
- Self-selection: the true effect of membership is about seven times smaller than the naive
  member vs non-member gap (Leenheer et al. 2007, *IJRM* 24(1)); ``join_selection`` is set so that the
  default simulation shows a gap several times the effect (about 3.5 times with both levers, since the
  messages add to the effect; the gap barely moves with ``join_selection`` past 2.5).
- Effect mostly through retention: a programme launch raised customer value almost 30% over five
  years, over 80% of it through lower attrition (Gopalakrishnan et al. 2021, *Marketing Science*
  40(3)): ``dropout_reduction`` carries most of the effect, ``purchase_lift`` little; both are the
  most that generous rewards buy, set so that saturated rewards raise members' revenue by about 28%.
- Rewards buy behaviour with diminishing returns: the lifts are their most times
  ``1 - exp(-reward_rate / reward_scale)`` (the lifecycle world's shape; ``reward_scale`` an
  assumption), so no reward gives no lift and the net value has an interior optimum over the reward
  rate, near the default.
- Light and moderate buyers respond, heavy buyers do not (Liu 2007, *Journal of Marketing*): the effect
  on a customer is scaled by ``1 / (1 + rate / heavy_rate)``.
- Purchases accelerate near a reward (Kivetz, Urminsky & Zheng 2006, *JMR*): ``tier_lift``.
- Relationship messages are a lever of their own (the factorial's second factor): a cadence with
  diminishing returns and fatigue, birthday and after-sale messages with short-lived lifts, unsubscribes
  that end them; their sizes are assumptions (Hillstrom's e-mail test, MineThatData 2008, bounds the lift).
- Referred customers are simulated: lower dropout and larger orders, so that they are at least 16% more
  valuable than comparable customers (Schmitt, Skiera & Van den Bulte 2011).
- Acquisition versus retention cost: a parameter (``acquisition_cost``), not the "5 to 25 times"
  slogan (Gallo 2014) that no study supports.

Every other default is an assumption and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios import params as P
from experiments.scenarios.base import Scenario

__all__ = ["DEFAULTS", "PARAMETERS", "PERIODS", "LoyaltyScenario"]

PERIODS: tuple[str, ...] = ("week", "day")

_A = "assumption"
_CDNOW = "CDNOW fit, Fader, Hardie & Lee 2005"
#: Every parameter, declared once: default, rule, help and source.
PARAMETERS: tuple[P.Param, ...] = (
    P.integer("n_customers", 30000, "customers in the experiment (at least 100)", low=100,
              high=100_000_000, source="assumption: big enough for a clear test, fast enough for a report"),
    P.integer("seed", 20261124, "random seed; same seed, same numbers", low=0),
    P.choice("period", "week", "time unit of the simulation: week or day", PERIODS),
    P.integer("horizon", 52, "periods observed after each customer's first purchase", low=2, high=3650,
              source="assumption: one year"),
    P.integer("calibration_periods", 26, "periods used to fit the purchase model; the rest is the holdout",
              low=1),
    P.number("offer_share", 0.8, "share of customers randomly offered the programme (then split at random "
             "into four equal cells: neither lever, rewards, messages, both)", low=0.0, high=1.0,
             low_open=True, high_open=True,
             source="assumption: 0.8 gives both levers against the control the precision of an even split "
             "and each lever's effect a larger sample"),
    P.number("join_rate", 0.35, "share of offered customers of average loyalty who join", low=0.0,
             high=1.0, low_open=True, high_open=True, source=_A),
    P.number("join_selection", 2.5, "how much more loyal customers join (log-odds per s.d. of loyalty)",
             low=-5.0, high=5.0,
             source="set so the naive member gap is several times the effect (Leenheer et al. 2007: ~7x)"),
    P.number("purchase_lift", 0.1, "members' most purchase-rate lift (light buyers, generous rewards)",
             low=0.0, high=5.0,
             source="Gopalakrishnan et al. 2021: small, most of the effect is retention; size an assumption"),
    P.probability("dropout_reduction", 0.6, "members' most relative cut in dropout (light buyers, generous "
                  "rewards)",
                  source="Gopalakrishnan et al. 2021: almost 30% more customer value, over 80% of it through "
                  "lower attrition (members' revenue +28% at saturation, +16% at the default reward_rate)"),
    P.number("heavy_rate", 0.5, "purchases per week at which the programme's effect is halved", low=0.0,
             low_open=True, source="Liu 2007: heavy buyers do not respond"),
    P.probability("reward_rate", 0.03, "reward value earned per dollar spent", source=_A),
    P.number("reward_scale", 0.03, "reward rate that buys 63% of members' most lifts (diminishing returns)",
             low=0.0, low_open=True, high=1.0,
             source="assumption (the lifecycle world's reward_scale; no published figure)"),
    P.probability("redemption_rate", 0.7, "share of earned rewards that is redeemed",
                  source="assumption (30% breakage)"),
    P.number("silver_threshold", 100.0, "member spend to reach silver ($)", low=0.0, low_open=True,
             source=_A),
    P.number("gold_threshold", 300.0, "member spend to reach gold ($)", low=0.0, low_open=True, source=_A),
    P.number("tier_reward_boost", 0.5, "extra reward rate per tier level", low=0.0, high=10.0, source=_A),
    P.number("tier_lift", 0.05, "most purchase-rate lift per tier level (generous rewards)", low=0.0,
             high=5.0,
             source="Kivetz, Urminsky & Zheng 2006: purchases accelerate near a reward"),
    P.number("messages_per_month", 2.0, "relationship messages a month to each subscribed member (the "
             "messages lever's cadence)", low=0.0, high=60.0, source=_A),
    P.number("message_cost", 0.01, "$ per relationship message sent (content and tooling)", low=0.0,
             source="assumption (sending an e-mail costs about $0.0001, Amazon SES; the rest is content)"),
    P.number("message_lift", 0.08, "purchase-rate lift of the month's first regular message", low=0.0,
             high=5.0,
             source="assumption, below Hillstrom's one e-mail (+54% to +119% conversion over two weeks, "
             "MineThatData 2008) spread over a month"),
    P.number("message_diminishing", 0.5, "share of the previous message's lift that the next one adds",
             low=0.0, high=1.0, source=_A),
    P.number("fatigue_free", 4.0, "messages a month tolerated before fatigue cuts the purchase rate",
             low=0.0, low_open=True, high=60.0, source=_A),
    P.number("fatigue_penalty", 0.1, "log purchase rate lost per message a month above fatigue_free",
             low=0.0, high=5.0, source=_A),
    P.probability("unsubscribe_rate", 0.005, "chance that a message makes its member unsubscribe (rising "
                  "with the square of the cadence over fatigue_free)", source=_A),
    P.number("unsubscribe_cost", 3.0, "$ lost per unsubscribed member (her address's value beyond the "
             "horizon)", low=0.0, source=_A),
    P.number("trigger_weeks", 2.0, "weeks that a birthday or after-sale message's lift lasts", low=0.0,
             low_open=True, high=52.0, source=_A),
    P.number("birthday_lift", 0.5, "purchase-rate lift in the weeks after a birthday message", low=0.0,
             high=20.0, source=_A),
    P.number("checkin_lift", 0.2, "purchase-rate lift in the weeks after an after-sale message", low=0.0,
             high=20.0, source=_A),
    P.number("referral_rate", 0.02, "referred new customers per member purchase", low=0.0, high=10.0,
             source=_A),
    P.number("referral_bonus", 5.0, "$ paid per referral", low=0.0, source=_A),
    P.number("referred_dropout", 0.75, "referred customers' dropout, times a comparable customer's",
             low=0.0, high=1.0,
             source="Schmitt, Skiera & Van den Bulte 2011: higher retention that persists; size an "
             "assumption"),
    P.number("referred_spend", 1.12, "referred customers' order values, times a comparable customer's",
             low=0.0, low_open=True, high=10.0,
             source="Schmitt, Skiera & Van den Bulte 2011: higher margins; with referred_dropout, referred "
             "customers are at least 16% more valuable"),
    P.number("acquisition_cost", 40.0, "$ to acquire a customer by advertising (set against the value of "
             "keeping one)", low=0.0,
             source="assumption (a parameter, not the unsupported '5 to 25 times' slogan)"),
    P.probability("margin", 0.3, "gross margin on revenue", source=_A),
    P.number("annual_discount_rate", 0.1, "discount rate for lifetime value", low=0.0, high=1.0,
             source=_A),
    P.integer("lapse_periods", 13, "periods without a purchase after which a customer counts as churned",
              low=1),
    P.number("bgnbd_r", 0.243, "BG/NBD purchase heterogeneity, shape r", low=0.001, high=1000.0,
             source=_CDNOW),
    P.number("bgnbd_alpha", 4.414, "BG/NBD purchase heterogeneity, scale alpha (weeks)", low=0.001,
             high=1e6, source=_CDNOW),
    P.number("bgnbd_a", 0.793, "BG/NBD dropout heterogeneity, a", low=0.001, high=1000.0, source=_CDNOW),
    P.number("bgnbd_b", 2.426, "BG/NBD dropout heterogeneity, b", low=0.001, high=1000.0, source=_CDNOW),
    P.number("gg_p", 6.25, "Gamma-Gamma order value shape p", low=0.01, high=1000.0,
             source="CDNOW fit, Fader & Hardie 2013"),
    P.number("gg_q", 3.74, "Gamma-Gamma heterogeneity shape q", low=0.01, high=1000.0,
             source="CDNOW fit, Fader & Hardie 2013"),
    P.number("gg_v", 15.44, "Gamma-Gamma heterogeneity scale v", low=0.001, high=1e6,
             source="CDNOW fit, Fader & Hardie 2013"),
)

#: Defaults of every parameter as plain literals (what the notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}


@dataclass(frozen=True)
class LoyaltyScenario(Scenario):
    """A validated loyalty-programme experiment. Build it with :meth:`from_params`."""

    parameters = PARAMETERS
    #: In memory, the peak of a run grows by about 650 bytes per customer (measured at 0.1 to 1 million).
    memory = (("n_customers",), 1_000)

    n_customers: int
    seed: int
    period: str
    horizon: int
    calibration_periods: int
    offer_share: float
    join_rate: float
    join_selection: float
    purchase_lift: float
    dropout_reduction: float
    heavy_rate: float
    reward_rate: float
    reward_scale: float
    redemption_rate: float
    silver_threshold: float
    gold_threshold: float
    tier_reward_boost: float
    tier_lift: float
    messages_per_month: float
    message_cost: float
    message_lift: float
    message_diminishing: float
    fatigue_free: float
    fatigue_penalty: float
    unsubscribe_rate: float
    unsubscribe_cost: float
    trigger_weeks: float
    birthday_lift: float
    checkin_lift: float
    referral_rate: float
    referral_bonus: float
    referred_dropout: float
    referred_spend: float
    acquisition_cost: float
    margin: float
    annual_discount_rate: float
    lapse_periods: int
    bgnbd_r: float
    bgnbd_alpha: float
    bgnbd_a: float
    bgnbd_b: float
    gg_p: float
    gg_q: float
    gg_v: float

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """Calibration inside the horizon, gold above silver, lapse shorter than the horizon."""
        horizon = typed["horizon"]
        if typed["calibration_periods"] >= horizon:
            raise ParameterError("calibration_periods", typed["calibration_periods"],
                                 f"an integer >= 1 and < horizon ({horizon})")
        if typed["gold_threshold"] < typed["silver_threshold"]:
            raise ParameterError("gold_threshold", typed["gold_threshold"],
                                 f"a number >= silver_threshold ({typed['silver_threshold']:g})")
        if typed["lapse_periods"] > horizon - 1:
            raise ParameterError("lapse_periods", typed["lapse_periods"],
                                 f"an integer >= 1 and <= {horizon - 1} (horizon - 1)")
        return typed

    @property
    def weeks_per_period(self) -> float:
        return 1.0 if self.period == "week" else 1.0 / 7.0

    @property
    def periods_per_year(self) -> float:
        return 52.0 if self.period == "week" else 365.0

    @property
    def alpha_per_period(self) -> float:
        """BG/NBD alpha in periods (alpha is given in weeks): rates per period are rates per week x weeks."""
        return self.bgnbd_alpha / self.weeks_per_period

    @property
    def discount_per_period(self) -> float:
        """Discount rate per period equivalent to :attr:`annual_discount_rate`."""
        return (1.0 + self.annual_discount_rate) ** (1.0 / self.periods_per_year) - 1.0
