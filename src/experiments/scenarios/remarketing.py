"""Typed, validated parameters of the remarketing study.

Published figures behind the defaults (see ``REFERENCES.md``):

- Johnson, Lewis & Nubbemeyer (2017, *JMR*, "Ghost Ads"): +10.5% purchases and +17.2% site visits
  among users who would have seen the retargeting ads (``purchase_lift``, ``visit_lift``).
- Sahni, Narayanan & Kalyanam (2019, *JMR*): +14.6% return within four weeks; the effect falls with
  time since the visit, a third of week one's effect on day one (``reminder_decay``).
- Lambrecht & Tucker (2013, *JMR*): dynamic ads help only users whose preferences have formed.
- Blake, Nosko & Tadelis (2015, *Econometrica*): frequent users are unmoved by ads.
- Lewis & Rao (2015, *QJE*): per-person sales have a coefficient of variation near 10
  (``order_value_sigma``).
- Unit costs: Meta CPM $8.6-12.2 (``cpm_social``), US programmatic display CPM about $1.7-1.8
  (``cpm_display``), Amazon SES e-mail $0.10 per 1,000 (``cost_email``), Twilio US SMS about
  $0.011-0.014 per segment (``cost_sms``); native CPM is an assumption.

Every other default is an assumption and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios.base import Scenario
from experiments.validation import (
    as_choice,
    as_choices,
    as_float,
    as_int,
    as_probability,
    as_shares,
)

__all__ = [
    "ARMS",
    "AUDIENCES",
    "CHANNELS",
    "DEFAULTS",
    "INCENTIVES",
    "RemarketingScenario",
]

#: Arm vocabulary, holdout first (the holdout sees no ads; ghost-ad flag records would-be exposure).
ARMS: tuple[str, ...] = ("holdout", "generic", "dynamic", "generic_incentive", "dynamic_incentive")
AUDIENCES: tuple[str, ...] = (
    "cart_abandoners",
    "browse_abandoners",
    "product_viewers",
    "past_purchasers",
    "lapsed_visitors",
    "all",
)
CHANNELS: tuple[str, ...] = ("display", "social", "email", "sms", "native")
INCENTIVES: tuple[str, ...] = ("none", "discount", "free_shipping")

#: Defaults of every parameter, as plain literals (what a notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {
    "n_customers": 200_000,
    "seed": 20261124,
    "audience": "cart_abandoners",
    "channels": "display,social,email",
    "frequency_cap": 8,  # assumption
    "days": 14,  # assumption (typical retargeting window)
    "incentive": "discount",
    "discount": 0.10,  # assumption
    "shipping_cost": 6.0,  # assumption, dollars per order
    "arm_shares": "holdout:0.2,dynamic:0.4,dynamic_incentive:0.4",
    "cpm_display": 2.0,  # DataBeat 2024: US programmatic display CPM ~ $1.7-1.8
    "cpm_social": 10.0,  # Right Side Up / Varos: Meta CPM $8.6-12.2
    "cpm_native": 4.0,  # assumption (no credible figure)
    "cost_email": 0.001,  # SES $0.10/1000 plus tooling (assumption for the tooling)
    "cost_sms": 0.012,  # Twilio US SMS ~ $0.011-0.014 per segment
    "margin": 0.35,  # assumption: gross margin rate
    "cookie_match_rate": 0.75,  # assumption
    "email_opt_in_rate": 0.55,  # assumption
    "sms_opt_in_rate": 0.15,  # assumption
    "social_account_rate": 0.70,  # assumption
    "purchase_lift": 0.10,  # Johnson et al. 2017: +10.5% purchases among would-be exposed
    "visit_lift": 0.17,  # Johnson et al. 2017: +17.2% visits; Sahni et al. 2019: +14.6%
    "reminder_decay": 0.69,  # Sahni et al. 2019: a third of week one's effect on day one
    "annoyance_threshold": 10,  # assumption: exposures after which each one annoys
    "annoyance_penalty": 0.015,  # assumption: relative conversion loss per exposure past threshold
    "unsubscribe_rate": 0.002,  # assumption: per e-mail/SMS message
    "unsubscribe_per_excess": 0.01,  # assumption: per exposure past the threshold
    "incentive_lift": 0.25,  # assumption: relative conversion lift of the incentive, average buyer
    "mean_order_value": 90.0,  # assumption, dollars
    "order_value_sigma": 1.0,  # assumption, log-sd across customers (Lewis & Rao 2015: CV ~ 10)
}


@dataclass(frozen=True)
class RemarketingScenario(Scenario):
    """One remarketing experiment: audience, channels, arms, costs and response knobs.

    Build it with :meth:`from_params`, which validates every value; :meth:`to_params` gives the
    plain literals back (round-trips).
    """

    defaults = DEFAULTS

    n_customers: int
    seed: int
    audience: str
    channels: tuple[str, ...]
    frequency_cap: int
    days: int
    incentive: str
    discount: float
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

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None = None) -> RemarketingScenario:
        """Validate ``params`` (missing names take :data:`DEFAULTS`) and build the scenario.

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is allowed.
        """
        p = cls.merged(params)
        incentive = as_choice("incentive", _text(p["incentive"]), INCENTIVES)
        shares = as_shares("arm_shares", p["arm_shares"], allowed=ARMS)
        if "holdout" not in shares:
            raise ParameterError("arm_shares", p["arm_shares"], "must include a holdout arm")
        if len(shares) < 2:
            raise ParameterError("arm_shares", p["arm_shares"], "holdout and at least one more arm")
        if incentive == "none":
            for arm in shares:
                if arm.endswith("_incentive"):
                    raise ParameterError(
                        "arm_shares", p["arm_shares"], f"no {arm} arm when incentive is 'none'"
                    )
        ordered = tuple((arm, float(shares[arm])) for arm in ARMS if arm in shares)
        money = {"low": 0.0}
        return cls(
            n_customers=as_int("n_customers", p["n_customers"], low=1),
            seed=as_int("seed", p["seed"], low=0),
            audience=as_choice("audience", _text(p["audience"]), AUDIENCES),
            channels=tuple(c for c in CHANNELS if c in as_choices("channels", p["channels"], CHANNELS)),
            frequency_cap=as_int("frequency_cap", p["frequency_cap"], low=1, high=1000),
            days=as_int("days", p["days"], low=1, high=90),
            incentive=incentive,
            discount=as_probability("discount", p["discount"]),
            shipping_cost=as_float("shipping_cost", p["shipping_cost"], **money),
            arm_shares=ordered,
            cpm_display=as_float("cpm_display", p["cpm_display"], **money),
            cpm_social=as_float("cpm_social", p["cpm_social"], **money),
            cpm_native=as_float("cpm_native", p["cpm_native"], **money),
            cost_email=as_float("cost_email", p["cost_email"], **money),
            cost_sms=as_float("cost_sms", p["cost_sms"], **money),
            margin=as_probability("margin", p["margin"]),
            cookie_match_rate=as_probability("cookie_match_rate", p["cookie_match_rate"]),
            email_opt_in_rate=as_probability("email_opt_in_rate", p["email_opt_in_rate"]),
            sms_opt_in_rate=as_probability("sms_opt_in_rate", p["sms_opt_in_rate"]),
            social_account_rate=as_probability("social_account_rate", p["social_account_rate"]),
            purchase_lift=as_float("purchase_lift", p["purchase_lift"], low=0.0, high=5.0),
            visit_lift=as_float("visit_lift", p["visit_lift"], low=0.0, high=5.0),
            reminder_decay=as_float(
                "reminder_decay", p["reminder_decay"], low=0.0, high=1.0, low_open=True
            ),
            annoyance_threshold=as_int("annoyance_threshold", p["annoyance_threshold"], low=0),
            annoyance_penalty=as_probability("annoyance_penalty", p["annoyance_penalty"]),
            unsubscribe_rate=as_probability("unsubscribe_rate", p["unsubscribe_rate"]),
            unsubscribe_per_excess=as_probability(
                "unsubscribe_per_excess", p["unsubscribe_per_excess"]
            ),
            incentive_lift=as_float("incentive_lift", p["incentive_lift"], low=0.0, high=5.0),
            mean_order_value=as_float(
                "mean_order_value", p["mean_order_value"], low=0.0, low_open=True
            ),
            order_value_sigma=as_float(
                "order_value_sigma", p["order_value_sigma"], low=0.0, high=3.0
            ),
        )

    def to_params(self) -> dict[str, Any]:
        """Plain literals (ints, floats, strings) that :meth:`from_params` turns back into ``self``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "channels":
                value = ",".join(value)
            elif f.name == "arm_shares":
                value = ",".join(f"{arm}:{share!r}" for arm, share in value)
            out[f.name] = value
        return out

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
    def unit_costs(self) -> dict[str, float]:
        """Dollars per impression (display, social, native) or per message (email, sms)."""
        return {
            "display": self.cpm_display / 1000.0,
            "social": self.cpm_social / 1000.0,
            "email": self.cost_email,
            "sms": self.cost_sms,
            "native": self.cpm_native / 1000.0,
        }


def _text(value: object) -> object:
    return value.strip() if isinstance(value, str) else value
