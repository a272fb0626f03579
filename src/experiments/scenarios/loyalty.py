"""Typed, validated parameters of the loyalty and retention study.

Published figures behind the defaults (see ``REFERENCES.md``):

- Purchase and dropout heterogeneity and order values: BG/NBD and Gamma-Gamma fits on CDNOW
  (Fader, Hardie & Lee 2005, *Marketing Science* 24(2); Fader & Hardie 2013): r = 0.243,
  alpha = 4.414 weeks, a = 0.793, b = 2.426; p = 6.25, q = 3.74, v = 15.44.
- Self-selection: the true effect of membership is about seven times smaller than the naive
  member vs non-member gap (Leenheer et al. 2007, *IJRM* 24(1)); ``join_selection`` is set so that the
  default simulation shows a gap of that order.
- Effect mostly through retention: a programme launch raised customer value almost 30% over five
  years, over 80% of it through lower attrition (Gopalakrishnan et al. 2021, *Marketing Science*
  40(3)): ``dropout_reduction`` carries most of the effect, ``purchase_lift`` little.
- Light and moderate buyers respond, heavy buyers do not (Liu 2007, *Journal of Marketing*): the effect
  on a customer is scaled by ``1 / (1 + rate / heavy_rate)``.
- Purchases accelerate near a reward (Kivetz, Urminsky & Zheng 2006, *JMR*): ``tier_lift``.
- Acquisition versus retention cost: a parameter (``acquisition_cost``), not the "5 to 25 times"
  slogan (Gallo 2014) that no study supports.

Every other default is an assumption and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios.base import Scenario
from experiments.validation import as_choice, as_float, as_int, as_probability

__all__ = ["DEFAULTS", "PERIODS", "LoyaltyScenario"]

PERIODS: tuple[str, ...] = ("week", "day")

#: Defaults of every parameter as plain literals (what the notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {
    "n_customers": 30_000,  # assumption: big enough for a clear test, fast enough for a report
    "seed": 20261124,
    "period": "week",
    "horizon": 52,  # periods simulated after the first purchase (assumption: one year)
    "calibration_periods": 26,  # periods used to fit the purchase model; the rest is the holdout
    "offer_share": 0.5,  # share of customers randomly offered the programme
    "join_rate": 0.35,  # assumption: share of offered customers who join (at average loyalty)
    "join_selection": 2.5,  # log-odds per s.d. of loyalty; naive gap ~6x the effect (Leenheer: ~7x)
    "purchase_lift": 0.05,  # members' purchase-rate lift for light buyers (Gopalakrishnan: small)
    "dropout_reduction": 0.35,  # members' relative cut in dropout for light buyers (Gopalakrishnan)
    "heavy_rate": 0.5,  # purchases per week at which the effect is halved (Liu 2007)
    "reward_rate": 0.03,  # assumption: reward value earned per dollar spent
    "redemption_rate": 0.7,  # assumption: share of rewards redeemed (30% breakage)
    "silver_threshold": 100.0,  # assumption: dollars spent as a member to reach silver
    "gold_threshold": 300.0,  # assumption: dollars spent as a member to reach gold
    "tier_reward_boost": 0.5,  # assumption: extra reward rate per tier level (silver 1.5x, gold 2x)
    "tier_lift": 0.05,  # purchase-rate lift per tier level (Kivetz et al. 2006 goal gradient)
    "message_cost": 0.01,  # assumption: relationship messages, dollars per member per week
    "message_lift": 0.02,  # assumption: purchase-rate lift of after-sale/birthday messages
    "referral_rate": 0.02,  # assumption: referred new customers per member purchase
    "referral_bonus": 5.0,  # assumption: dollars paid per referral
    "acquisition_cost": 40.0,  # assumption: dollars to acquire a customer by advertising
    "margin": 0.3,  # assumption: gross margin on revenue
    "annual_discount_rate": 0.1,  # assumption: for lifetime value
    "lapse_periods": 13,  # a customer with no purchase for this many periods counts as churned
    "bgnbd_r": 0.243,  # CDNOW, Fader, Hardie & Lee 2005
    "bgnbd_alpha": 4.414,  # CDNOW, in weeks
    "bgnbd_a": 0.793,  # CDNOW
    "bgnbd_b": 2.426,  # CDNOW
    "gg_p": 6.25,  # CDNOW, Fader & Hardie 2013
    "gg_q": 3.74,  # CDNOW
    "gg_v": 15.44,  # CDNOW
}


@dataclass(frozen=True)
class LoyaltyScenario(Scenario):
    """A validated loyalty-programme experiment. Build it with :meth:`from_params`."""

    defaults = DEFAULTS

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
    redemption_rate: float
    silver_threshold: float
    gold_threshold: float
    tier_reward_boost: float
    tier_lift: float
    message_cost: float
    message_lift: float
    referral_rate: float
    referral_bonus: float
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
    def from_params(cls, params: Mapping[str, object] | None = None) -> LoyaltyScenario:
        """Validate ``params`` (missing names take :data:`DEFAULTS`) and build the scenario.

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is allowed.
        """
        p = cls.merged(params)
        money = {"low": 0.0}
        pos = {"low": 0.0, "low_open": True}
        horizon = as_int("horizon", p["horizon"], low=2, high=3650)
        cal = as_int("calibration_periods", p["calibration_periods"], low=1)
        if cal >= horizon:
            raise ParameterError(
                "calibration_periods", p["calibration_periods"], f"an integer >= 1 and < horizon ({horizon})"
            )
        silver = as_float("silver_threshold", p["silver_threshold"], **pos)
        gold = as_float("gold_threshold", p["gold_threshold"], **pos)
        if gold < silver:
            raise ParameterError(
                "gold_threshold", p["gold_threshold"], f"a number >= silver_threshold ({silver:g})"
            )
        offer = as_float("offer_share", p["offer_share"], low=0.0, high=1.0, low_open=True, high_open=True)
        return cls(
            n_customers=as_int("n_customers", p["n_customers"], low=100, high=100_000_000),
            seed=as_int("seed", p["seed"], low=0),
            period=as_choice("period", p["period"], PERIODS),
            horizon=horizon,
            calibration_periods=cal,
            offer_share=offer,
            join_rate=as_float("join_rate", p["join_rate"], low=0.0, high=1.0, low_open=True, high_open=True),
            join_selection=as_float("join_selection", p["join_selection"], low=-5.0, high=5.0),
            purchase_lift=as_float("purchase_lift", p["purchase_lift"], low=0.0, high=5.0),
            dropout_reduction=as_probability("dropout_reduction", p["dropout_reduction"]),
            heavy_rate=as_float("heavy_rate", p["heavy_rate"], **pos),
            reward_rate=as_probability("reward_rate", p["reward_rate"]),
            redemption_rate=as_probability("redemption_rate", p["redemption_rate"]),
            silver_threshold=silver,
            gold_threshold=gold,
            tier_reward_boost=as_float("tier_reward_boost", p["tier_reward_boost"], low=0.0, high=10.0),
            tier_lift=as_float("tier_lift", p["tier_lift"], low=0.0, high=5.0),
            message_cost=as_float("message_cost", p["message_cost"], **money),
            message_lift=as_float("message_lift", p["message_lift"], low=0.0, high=5.0),
            referral_rate=as_float("referral_rate", p["referral_rate"], low=0.0, high=10.0),
            referral_bonus=as_float("referral_bonus", p["referral_bonus"], **money),
            acquisition_cost=as_float("acquisition_cost", p["acquisition_cost"], **money),
            margin=as_probability("margin", p["margin"]),
            annual_discount_rate=as_float(
                "annual_discount_rate", p["annual_discount_rate"], low=0.0, high=1.0
            ),
            lapse_periods=as_int("lapse_periods", p["lapse_periods"], low=1, high=horizon - 1),
            bgnbd_r=as_float("bgnbd_r", p["bgnbd_r"], low=0.001, high=1000.0),
            bgnbd_alpha=as_float("bgnbd_alpha", p["bgnbd_alpha"], low=0.001, high=1e6),
            bgnbd_a=as_float("bgnbd_a", p["bgnbd_a"], low=0.001, high=1000.0),
            bgnbd_b=as_float("bgnbd_b", p["bgnbd_b"], low=0.001, high=1000.0),
            gg_p=as_float("gg_p", p["gg_p"], low=0.01, high=1000.0),
            gg_q=as_float("gg_q", p["gg_q"], low=0.01, high=1000.0),
            gg_v=as_float("gg_v", p["gg_v"], low=0.001, high=1e6),
        )

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
