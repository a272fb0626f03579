"""Typed, validated parameters of the omnichannel journey world (attribution against incrementality).

Customers with a latent purchase intent meet eight channels over a few weeks; each channel has an
audience (who it reaches, and how that relates to intent), a frequency, a cost per touch and a true
effect on the purchase hazard that fades with time. Per-channel settings are written as
``channel:value`` pairs (``"display:0.05,social:0.4"``); channels not named keep their default.

Published figures behind the defaults (see ``REFERENCES.md``):

- Johnson, Lewis & Nubbemeyer (2017, *JMR*, "Ghost Ads"): retargeting lifted purchases about 10% among
  users who would have seen the ads: the display (retargeting) ``lift`` is set so that its exposed
  customers buy about 10% more (checked in the tests).
- Sahni, Narayanan & Kalyanam (2019, *JMR*): the reminder effect is front-loaded and fades over days
  (short ``half_life`` of display, SMS and e-mail).
- Blake, Nosko & Tadelis (2015, *Econometrica*): brand-keyword ads had no measurable short-term effect
  and mostly reached people who came anyway: ``search_brand`` has lift 0 and rides on the customer's own
  site sessions; frequent (high-intent) users are unmoved.
- Chan, Yuan, Koehler & Kumar (2011, Google): most non-brand paid-search clicks are incremental:
  ``search_nonbrand`` has the strongest per-touch lift.
- MineThatData's Hillstrom test (2008): one e-mail raised two-week conversion from 0.57% to 0.88-1.25%
  among recent buyers (a relative lift of 50-120%): the e-mail ``lift`` and ``half_life`` give a
  relative lift of that order over two weeks.
- Unit costs (vendor price lists, weak): display CPM about $2 (DataBeat 2024), Meta CPM $8.6-12.2
  (Right Side Up / Varos), e-mail about $0.0001 per send plus tooling, Twilio US SMS $0.011-0.014.

Every other default (search cost per click, affiliate commission, store share, device and identity
rates, intent spread, sessions per purchase, audiences and frequencies) is an assumption and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios.base import Scenario
from experiments.validation import as_choice, as_choices, as_float, as_int, as_probability

__all__ = [
    "CHANNELS",
    "DEFAULTS",
    "DESIGNS",
    "PER_CHANNEL",
    "TARGETING",
    "OmnichannelScenario",
    "format_per_channel",
    "parse_per_channel",
]

#: Channels of the world, in the order touches of one site session are logged.
CHANNELS: tuple[str, ...] = (
    "display", "social", "search_nonbrand", "search_brand", "email", "sms", "affiliate", "direct",
)
#: How a channel schedules touches: ``push`` on its own calendar, ``retarget`` only in the window after
#: one of the customer's site sessions, ``session`` none (it only catches sessions, see ``capture``).
TARGETING: tuple[str, ...] = ("push", "retarget", "session")
#: Experiment design per channel: user-level holdout, geo-level holdout, or none (cannot be switched off).
DESIGNS: tuple[str, ...] = ("user", "geo", "none")


def _pairs(**values: object) -> str:
    return ",".join(f"{c}:{values[c]}" for c in CHANNELS)


#: Defaults of every parameter, as plain literals (what a notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {
    "n_customers": 300_000,
    "seed": 20261201,
    "weeks": 4,  # assumption: a month-long media plan
    "base_conversion": 0.04,  # assumption: share who would buy within the window with no marketing
    "intent_sigma": 1.4,  # assumption: log-sd of purchase intent (a few customers hold most intent)
    "sessions_per_purchase": 8.0,  # assumption: own site sessions per unit of purchase hazard
    "session_lift": 3.0,  # assumption: a site visit raises the purchase hazard (intent down the funnel)
    "session_half_life": 1.0,  # assumption: days for a visit's effect to halve
    "retarget_window_days": 7.0,  # assumption: retargeting window after a visit
    "store_share": 0.3,  # assumption: share of purchases made in a store (invisible online)
    "multi_device_share": 0.45,  # assumption: customers who use a second device
    "secondary_device_share": 0.4,  # assumption: share of a two-device customer's touches on the second
    "identity_match_rate": 0.5,  # assumption: two-device customers whose devices are stitched together
    "mobile_share": 0.6,  # assumption: customers whose main device is a phone
    "mean_order_value": 90.0,  # assumption, dollars
    "order_value_sigma": 0.8,  # assumption, log-sd of order value across customers
    "margin": 0.35,  # assumption: gross margin rate
    "affiliate_commission": 0.06,  # assumption: share of the order paid on coupon-site sales
    "max_budget_multiplier": 2.0,  # largest budget change a plan may make (touches drawn up to it)
    "budget_change": 0.2,  # the +-20% budget re-runs
    "budget_channels": "display,social,search_nonbrand",
    "plan_channels": "display,social,search_nonbrand,search_brand,affiliate",
    "reallocation_strength": 1.0,  # 1: budget in proportion to credited conversions
    "user_holdout_share": 0.1,  # assumption: share of users held out in a user-level test
    "n_geos": 200,  # assumption: regions of the geo-level tests
    "geo_holdout_share": 0.5,  # half of the regions held out in a geo-level test
    "geo_sigma": 0.1,  # assumption: log-sd of purchase intent across regions
    "targeting": _pairs(display="retarget", social="push", search_nonbrand="push", search_brand="session",
                        email="push", sms="push", affiliate="session", direct="session"),
    # assumptions: share of customers in each channel's audience
    "reach": _pairs(display=0.7, social=0.5, search_nonbrand=0.2, search_brand=0.4, email=0.45, sms=0.12,
                    affiliate=0.2, direct=1.0),
    # assumptions: correlation of a channel's audience with purchase intent (negative: the cold)
    "audience_tilt": _pairs(display=0.0, social=-0.5, search_nonbrand=0.5, search_brand=0.3, email=0.5,
                            sms=0.5, affiliate=0.4, direct=0.0),
    # assumptions: scheduled touches per member-week (push) or per week inside a retargeting window
    # (retarget); 0 for session channels
    "frequency": _pairs(display=28.0, social=2.0, search_nonbrand=0.25, search_brand=0.0, email=1.0,
                        sms=0.5, affiliate=0.0, direct=0.0),
    # assumptions: share of an audience member's own site sessions (the purchase session included) that
    # arrive through a click on the channel
    "capture": _pairs(display=0.5, social=0.02, search_nonbrand=0.0, search_brand=0.4, email=0.1, sms=0.05,
                      affiliate=0.4, direct=0.3),
    # relative purchase-hazard lift right after one touch (see the module docstring for sources)
    "lift": _pairs(display=0.05, social=0.15, search_nonbrand=3.0, search_brand=0.0, email=0.5, sms=1.0,
                   affiliate=0.1, direct=0.0),
    # days for a touch's lift to halve (Sahni et al. 2019: front-loaded reminders)
    "half_life": _pairs(display=2.0, social=5.0, search_nonbrand=2.0, search_brand=1.0, email=2.0, sms=1.0,
                        affiliate=1.0, direct=1.0),
    # dollars per touch: CPM/1000 for display and social, cost per click for search, per message
    "unit_cost": _pairs(display=0.002, social=0.01, search_nonbrand=0.8, search_brand=0.4, email=0.001,
                        sms=0.012, affiliate=0.0, direct=0.0),
    "experiment_design": _pairs(display="user", social="user", search_nonbrand="geo", search_brand="geo",
                                email="user", sms="user", affiliate="geo", direct="none"),
}

#: Per-channel parameters: name → (value checker, help).
PER_CHANNEL: dict[str, str] = {
    "targeting": "push, retarget or session",
    "reach": "a share in [0, 1]",
    "audience_tilt": "a correlation in [-1, 1]",
    "frequency": "a number >= 0 (0 for session channels)",
    "capture": "a share in [0, 1]",
    "lift": "a number in [0, 50]",
    "half_life": "days, a number > 0 and <= 365",
    "unit_cost": "dollars, a number >= 0",
    "experiment_design": "user, geo or none",
}


def parse_per_channel(
    name: str, value: object, default: Mapping[str, Any], check: Callable[[str, str], Any]
) -> dict[str, Any]:
    """``"channel:value,..."`` (or a mapping) over ``default``; every value through ``check``.

    Raises
    ------
    ParameterError
        An unknown channel, a pair without ``:``, a channel named twice or a bad value.
    """
    rule = "channel:value pairs (e.g. display:0.1,social:0.5) with channels from " + ", ".join(CHANNELS)
    if isinstance(value, Mapping):
        items = [(str(k).strip(), v) for k, v in value.items()]
    elif isinstance(value, str):
        items = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            channel, sep, text = part.partition(":")
            if not sep:
                raise ParameterError(name, value, rule)
            items.append((channel.strip(), text.strip()))
    else:
        raise ParameterError(name, value, rule)
    out = dict(default)
    seen: set[str] = set()
    for channel, text in items:
        if channel not in CHANNELS:
            raise ParameterError(name, channel, "a channel from " + ", ".join(CHANNELS))
        if channel in seen:
            raise ParameterError(name, value, rule + "; each channel once")
        seen.add(channel)
        out[channel] = check(f"{name}[{channel}]", text)
    return {c: out[c] for c in CHANNELS}


def format_per_channel(values: Mapping[str, Any]) -> str:
    """The ``channel:value`` text that :func:`parse_per_channel` reads back."""
    return ",".join(f"{c}:{values[c]!r}" if isinstance(values[c], float) else f"{c}:{values[c]}"
                    for c in CHANNELS)


def _default_map(name: str) -> dict[str, Any]:
    return {c: v for c, _, v in (p.partition(":") for p in DEFAULTS[name].split(","))}


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "targeting": lambda n, v: as_choice(n, v, TARGETING),
    "reach": as_probability,
    "audience_tilt": lambda n, v: as_float(n, v, low=-1.0, high=1.0),
    "frequency": lambda n, v: as_float(n, v, low=0.0, high=1000.0),
    "capture": as_probability,
    "lift": lambda n, v: as_float(n, v, low=0.0, high=50.0),
    "half_life": lambda n, v: as_float(n, v, low=0.0, high=365.0, low_open=True),
    "unit_cost": lambda n, v: as_float(n, v, low=0.0, high=1e6),
    "experiment_design": lambda n, v: as_choice(n, v, DESIGNS),
}


@dataclass(frozen=True)
class OmnichannelScenario(Scenario):
    """One omnichannel world: population, channels, devices, stores, experiments and budget plans.

    Build it with :meth:`from_params`, which validates every value; :meth:`to_params` gives the plain
    literals back (round-trips). Per-channel settings are dicts keyed by channel, in :data:`CHANNELS`
    order.
    """

    defaults = DEFAULTS

    n_customers: int
    seed: int
    weeks: int
    base_conversion: float
    intent_sigma: float
    sessions_per_purchase: float
    session_lift: float
    session_half_life: float
    retarget_window_days: float
    store_share: float
    multi_device_share: float
    secondary_device_share: float
    identity_match_rate: float
    mobile_share: float
    mean_order_value: float
    order_value_sigma: float
    margin: float
    affiliate_commission: float
    max_budget_multiplier: float
    budget_change: float
    budget_channels: tuple[str, ...]
    plan_channels: tuple[str, ...]
    reallocation_strength: float
    user_holdout_share: float
    n_geos: int
    geo_holdout_share: float
    geo_sigma: float
    targeting: dict[str, str]
    reach: dict[str, float]
    audience_tilt: dict[str, float]
    frequency: dict[str, float]
    capture: dict[str, float]
    lift: dict[str, float]
    half_life: dict[str, float]
    unit_cost: dict[str, float]
    experiment_design: dict[str, str]

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, str(v)) for k, v in self.to_params().items())))

    @classmethod
    def from_params(cls, params: Mapping[str, object] | None = None) -> OmnichannelScenario:
        """Validate ``params`` (missing names take :data:`DEFAULTS`) and build the scenario.

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is allowed.
        """
        p = cls.merged(params)
        per = {name: parse_per_channel(name, p[name], {c: _CHECKS[name](f"{name}[{c}]", v) for c, v in
                                                         _default_map(name).items()}, _CHECKS[name])
               for name in PER_CHANNEL}
        max_mult = as_float("max_budget_multiplier", p["max_budget_multiplier"], low=1.0, high=10.0)
        change = as_float("budget_change", p["budget_change"], low=0.0, high=1.0, low_open=True,
                          high_open=True)
        if 1.0 + change > max_mult:
            raise ParameterError("budget_change", p["budget_change"],
                                 f"at most max_budget_multiplier - 1 ({max_mult - 1:g})")
        for c in CHANNELS:
            if per["targeting"][c] == "session" and per["frequency"][c] > 0.0:
                raise ParameterError(f"frequency[{c}]", per["frequency"][c],
                                     "0 for a session channel (it schedules no touches; see capture)")
        budget = as_choices("budget_channels", p["budget_channels"], CHANNELS, min_count=0)
        plan = as_choices("plan_channels", p["plan_channels"], CHANNELS)
        return cls(
            n_customers=as_int("n_customers", p["n_customers"], low=100, high=50_000_000),
            seed=as_int("seed", p["seed"], low=0),
            weeks=as_int("weeks", p["weeks"], low=1, high=26),
            base_conversion=as_float("base_conversion", p["base_conversion"], low=0.0, high=0.9,
                                     low_open=True),
            intent_sigma=as_float("intent_sigma", p["intent_sigma"], low=0.0, high=3.0),
            sessions_per_purchase=as_float("sessions_per_purchase", p["sessions_per_purchase"], low=0.0,
                                           high=1000.0),
            session_lift=as_float("session_lift", p["session_lift"], low=0.0, high=50.0),
            session_half_life=as_float("session_half_life", p["session_half_life"], low=0.0, high=365.0,
                                       low_open=True),
            retarget_window_days=as_float("retarget_window_days", p["retarget_window_days"], low=0.0,
                                          high=365.0, low_open=True),
            store_share=as_probability("store_share", p["store_share"]),
            multi_device_share=as_probability("multi_device_share", p["multi_device_share"]),
            secondary_device_share=as_probability("secondary_device_share", p["secondary_device_share"]),
            identity_match_rate=as_probability("identity_match_rate", p["identity_match_rate"]),
            mobile_share=as_probability("mobile_share", p["mobile_share"]),
            mean_order_value=as_float("mean_order_value", p["mean_order_value"], low=0.0, low_open=True),
            order_value_sigma=as_float("order_value_sigma", p["order_value_sigma"], low=0.0, high=3.0),
            margin=as_probability("margin", p["margin"]),
            affiliate_commission=as_probability("affiliate_commission", p["affiliate_commission"]),
            max_budget_multiplier=max_mult,
            budget_change=change,
            budget_channels=tuple(c for c in CHANNELS if c in budget),
            plan_channels=tuple(c for c in CHANNELS if c in plan),
            reallocation_strength=as_float("reallocation_strength", p["reallocation_strength"], low=0.0,
                                           high=5.0),
            user_holdout_share=as_float("user_holdout_share", p["user_holdout_share"], low=0.0, high=1.0,
                                        low_open=True, high_open=True),
            n_geos=as_int("n_geos", p["n_geos"], low=4, high=100_000),
            geo_holdout_share=as_float("geo_holdout_share", p["geo_holdout_share"], low=0.0, high=1.0,
                                       low_open=True, high_open=True),
            geo_sigma=as_float("geo_sigma", p["geo_sigma"], low=0.0, high=2.0),
            **per,
        )

    def to_params(self) -> dict[str, Any]:
        """Plain literals (ints, floats, strings) that :meth:`from_params` turns back into ``self``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in PER_CHANNEL:
                value = format_per_channel(value)
            elif f.name in ("budget_channels", "plan_channels"):
                value = ",".join(value)
            out[f.name] = value
        return out

    @property
    def days(self) -> float:
        """Length of the window in days."""
        return 7.0 * self.weeks

    @property
    def paid_channels(self) -> tuple[str, ...]:
        """Channels that cost money (a unit cost, or the affiliate commission)."""
        return tuple(c for c in CHANNELS if self.unit_cost[c] > 0
                     or (c == "affiliate" and self.affiliate_commission > 0))
