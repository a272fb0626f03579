"""Typed, validated parameters of the omnichannel journey world (attribution against incrementality).

Customers with a latent purchase intent meet eight channels over a few weeks; each channel has an
audience (who it reaches, and how that relates to intent), a frequency, a cost per touch and a true
effect on the purchase hazard that fades with time. Per-channel settings are written as
``channel:value`` pairs (``"display:0.05,social:0.15"``); channels not named keep their default.

Published figures behind the defaults (each parameter also names its source):

- Johnson, Lewis & Nubbemeyer (2017, *JMR*, "Ghost Ads"): retargeting lifted purchases by 10.5% among
  users who would have seen the ads. The display (retargeting) ``lift`` gives its exposed customers
  about 8% more purchases in the default world (a test checks 5-12%).
- Sahni, Narayanan & Kalyanam (2019, *JMR*): the reminder effect is front-loaded and fades within days
  (short ``half_life`` of display, SMS and e-mail).
- Blake, Nosko & Tadelis (2015, *Econometrica*): brand-keyword ads had no measurable short-term effect;
  the traffic came anyway. ``search_brand`` has lift 0 and only catches the customer's own sessions.
- Chan, Yuan, Koehler & Kumar (2011, Google, "Incremental Clicks"): most non-brand paid-search clicks
  are incremental: ``search_nonbrand`` has the strongest per-touch lift.
- MineThatData's Hillstrom e-mail test (2008): one e-mail raised two-week conversion among recent buyers
  from 0.57% to 0.88-1.25%; e-mail is a cheap channel with a real effect here too (an assumption sets
  its size lower, about +10% among recipients, for weekly sends).
- Lewis & Nguyen (2015, *Quantitative Marketing and Economics*): display ads raised searches for the
  advertised brand by 30-45%: ``display_synergy`` 1.4 multiplies the lift of a search or e-mail touch
  that a display touch preceded within ``synergy_window_days`` (an assumption, 7 days; e-mail among the
  synergy channels is an assumption too).
- Unit costs (vendor price lists, weak): Meta CPM $8.6-12.2 (Right Side Up / Varos), Twilio US SMS
  $0.011-0.014, e-mail about $0.0001 per send plus tooling; retargeting is priced above the average
  programmatic display CPM of $1.7-1.8 (DataBeat 2024) at an assumed $8.

Every other default (search cost per click, affiliate commission, store share, devices and identity,
intent spread, sessions, audiences, frequencies, captures) is an assumption and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios import params as P
from experiments.scenarios.base import Scenario
from experiments.validation import as_choice, as_float, as_probability
from experiments.worlds import JOURNEY_CHANNELS

__all__ = [
    "CHANNELS",
    "DEFAULTS",
    "DESIGNS",
    "EXPERIMENT_PLAN",
    "PARAMETERS",
    "PER_CHANNEL",
    "TARGETING",
    "TRUTH_PLAN",
    "ChannelValues",
    "OmnichannelScenario",
    "per_channel",
]

#: Channels of the world, in the order the touches of one site session are logged (the simulator's own).
CHANNELS: tuple[str, ...] = JOURNEY_CHANNELS
#: Name of the plan that follows the channel experiments' estimates (the one a sweep ranks points by).
EXPERIMENT_PLAN = "channel experiments"
#: Name of the plan that follows the true incremental purchases (known only to the simulation).
TRUTH_PLAN = "true incrementality"
#: How a channel schedules touches: ``push`` on its own calendar, ``retarget`` only in the window after
#: one of the customer's site sessions, ``session`` none (it only catches sessions, see ``capture``).
TARGETING: tuple[str, ...] = ("push", "retarget", "session")
#: Experiment design per channel: user-level holdout, geo-level holdout, or none (cannot be switched off).
DESIGNS: tuple[str, ...] = ("user", "geo", "none")


class ChannelValues(Mapping[str, Any]):
    """An immutable, hashable ``{channel: value}`` in :data:`CHANNELS` order."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = tuple(values[c] for c in CHANNELS)

    def __getitem__(self, channel: str) -> Any:
        try:
            return self._values[CHANNELS.index(channel)]
        except ValueError:
            raise KeyError(channel) from None

    def __iter__(self) -> Iterator[str]:
        return iter(CHANNELS)

    def __len__(self) -> int:
        return len(CHANNELS)

    def __hash__(self) -> int:
        return hash(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ChannelValues):
            return self._values == other._values
        return isinstance(other, Mapping) and dict(self) == dict(other)

    def __repr__(self) -> str:
        return f"ChannelValues({dict(self)!r})"

    def render(self) -> str:
        """``"display:0.05,social:0.15,..."``: the literal that :func:`per_channel` parses back."""
        return ",".join(f"{c}:{v!r}" if isinstance(v, float) else f"{c}:{v}" for c, v in self.items())


def _pairs(**values: object) -> str:
    return ",".join(f"{c}:{values[c]}" for c in CHANNELS)


def per_channel(name: str, default: str, help: str, check: Callable[[str, Any], Any], allowed: str, *,
                source: str = "") -> P.Param:
    """A per-channel parameter: ``channel:value`` pairs over the defaults, each value through ``check``."""
    rule = f"channel:value pairs with channels from {', '.join(CHANNELS)}; each value {allowed}"

    def parse_pairs(value: Any) -> dict[str, Any]:
        if isinstance(value, Mapping):
            return {str(k).strip(): v for k, v in value.items()}
        if not isinstance(value, str):
            raise ParameterError(name, value, rule)
        out: dict[str, Any] = {}
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            channel, sep, text = part.partition(":")
            if not sep:
                raise ParameterError(name, value, rule)
            if channel.strip() in out:
                raise ParameterError(name, value, rule + "; each channel once")
            out[channel.strip()] = text.strip()
        return out

    base = parse_pairs(default)

    def parse(value: Any) -> ChannelValues:
        if isinstance(value, ChannelValues):
            return value
        given = parse_pairs(value)
        for channel in given:
            if channel not in CHANNELS:
                raise ParameterError(name, channel, "a channel from " + ", ".join(CHANNELS))
        merged = {**base, **given}
        return ChannelValues({c: check(f"{name}[{c}]", merged[c]) for c in CHANNELS})

    return P.Param(name, default, help, rule, "str", source, parse=parse, render=lambda v: v.render())


_A = "assumption"
_NUMBER = "a number >= 0"
#: Per-channel parameters.
PER_CHANNEL: tuple[str, ...] = ("targeting", "reach", "audience_tilt", "frequency", "capture", "lift",
                                "half_life", "unit_cost", "experiment_design")

#: Every parameter, declared once: default, rule, help and source.
PARAMETERS: tuple[P.Param, ...] = (
    P.integer("n_customers", 200_000, "customers in the market", low=100, high=50_000_000),
    P.integer("seed", 20261201, "random seed; same seed and parameters, same numbers", low=0),
    P.integer("weeks", 4, "length of the media plan in weeks", low=1, high=26,
              source="assumption (a month-long plan)"),
    P.number("base_conversion", 0.04, "share who would buy within the window with no marketing", low=0.0,
             high=0.9, low_open=True, source=_A),
    P.number("intent_sigma", 1.4, "log-scale spread of purchase intent across customers", low=0.0, high=3.0,
             source=_A),
    P.number("sessions_per_purchase", 8.0, "own site sessions per unit of purchase hazard", low=0.0,
             high=1000.0, source=_A),
    P.number("session_lift", 3.0, "relative purchase-hazard lift right after a site session", low=0.0,
             high=50.0, source="assumption (intent is higher further down the funnel)"),
    P.number("session_half_life", 1.0, "days for a session's lift to halve", low=0.0, high=365.0,
             low_open=True, source=_A),
    P.number("retarget_window_days", 7.0, "days after a site session in which retargeting runs", low=0.0,
             high=365.0, low_open=True, source=_A),
    P.probability("store_share", 0.3, "share of purchases made in a store (invisible online)", source=_A),
    P.probability("multi_device_share", 0.45, "share of customers with a second device", source=_A),
    P.probability("secondary_device_share", 0.4, "share of a two-device customer's touches on the second",
                  source=_A),
    P.probability("identity_match_rate", 0.5, "share of two-device customers whose devices are stitched",
                  source=_A),
    P.probability("mobile_share", 0.6, "share of customers whose main device is a phone", source=_A),
    P.number("mean_order_value", 90.0, "mean order value, dollars", low=0.0, low_open=True, source=_A),
    P.number("order_value_sigma", 0.8, "log-scale spread of order values across customers", low=0.0,
             high=3.0, source=_A),
    P.probability("margin", 0.35, "gross margin rate on revenue", source=_A),
    P.probability("affiliate_commission", 0.06, "share of the order paid on coupon-site sales", source=_A),
    P.number("max_budget_multiplier", 2.0, "largest budget multiplier a plan may use", low=1.0, high=10.0,
             source=_A),
    P.number("budget_change", 0.2, "budget change of the re-runs that measure marginal returns", low=0.0,
             high=1.0, low_open=True, high_open=True, source="the +-20% of the question"),
    P.choices("budget_channels", "display,social,search_nonbrand", "channels re-run with budget +-change",
              CHANNELS, min_count=0),
    P.choices("plan_channels", "display,social,search_nonbrand,search_brand,affiliate",
              "channels whose budgets a plan may move", CHANNELS),
    P.number("reallocation_strength", 1.0, "how far a plan follows credited cost per conversion (1: budget "
             "in proportion to credit)", low=0.0, high=5.0, source=_A),
    P.number("user_holdout_share", 0.1, "share of users held out in a user-level test", low=0.0, high=1.0,
             low_open=True, high_open=True, source=_A),
    P.integer("n_geos", 200, "regions of the geo-level tests", low=4, high=100_000, source=_A),
    P.number("geo_holdout_share", 0.5, "share of regions held out in a geo-level test", low=0.0, high=1.0,
             low_open=True, high_open=True, source=_A),
    P.number("geo_sigma", 0.1, "log-scale spread of purchase intent across regions", low=0.0, high=2.0,
             source=_A),
    P.number("display_synergy", 1.4, "multiplier on the hazard lift of a synergy channel's touch (search, "
             "e-mail) when a display touch came within the synergy window before it (1: channels add up)",
             low=0.0, high=10.0,
             source="Lewis & Nguyen 2015 (display ads raised searches for the brand by 30-45%)"),
    P.number("synergy_window_days", 7.0, "days after a display touch in which it raises the synergy "
             "channels' response", low=0.0, high=28.0, low_open=True,
             source="assumption (about one retargeting window)"),
    P.choices("synergy_channels", "search_nonbrand,search_brand,email",
              "channels whose touches respond more after display", CHANNELS, min_count=0,
              source="Lewis & Nguyen 2015 (search); e-mail an assumption"),
    P.choices("factorial_channels", "display,search_nonbrand,email",
              "channels of the factorial user holdout (at most 4; each pair's interaction is measured)",
              CHANNELS, min_count=0),
    P.number("factorial_holdout_share", 0.25, "share of customers held out of each factorial channel, "
             "independently per channel (0 turns the factorial holdout off)", low=0.0, high=1.0,
             high_open=True, source="assumption"),
    per_channel("targeting", _pairs(display="retarget", social="push", search_nonbrand="push",
                                    search_brand="session", email="push", sms="push", affiliate="session",
                                    direct="session"),
                "how each channel schedules touches: push, retarget or session",
                lambda n, v: as_choice(n, v, TARGETING), "one of " + ", ".join(TARGETING),
                source="assumption (retargeting follows visits; brand search, coupons and direct ride on "
                "the customer's own sessions: Blake, Nosko & Tadelis 2015)"),
    per_channel("reach", _pairs(display=0.7, social=0.5, search_nonbrand=0.2, search_brand=0.4, email=0.45,
                                sms=0.12, affiliate=0.2, direct=1.0),
                "share of customers in each channel's audience", as_probability, "in [0, 1]", source=_A),
    per_channel("audience_tilt", _pairs(display=0.0, social=-0.5, search_nonbrand=0.5, search_brand=0.3,
                                        email=0.5, sms=0.5, affiliate=0.4, direct=0.0),
                "correlation of each audience with purchase intent (negative: the cold)",
                lambda n, v: as_float(n, v, low=-1.0, high=1.0), "in [-1, 1]",
                source="assumption (prospecting reaches the cold; lists and search the warm)"),
    per_channel("frequency", _pairs(display=28.0, social=2.0, search_nonbrand=0.25, search_brand=0.0,
                                    email=1.0, sms=0.5, affiliate=0.0, direct=0.0),
                "scheduled touches per member-week (push) or per week in a retargeting window; 0 for "
                "session channels", lambda n, v: as_float(n, v, low=0.0, high=1000.0), _NUMBER, source=_A),
    per_channel("capture", _pairs(display=0.5, social=0.02, search_nonbrand=0.0, search_brand=0.4, email=0.1,
                                  sms=0.05, affiliate=0.4, direct=0.3),
                "share of a member's own site sessions (the purchase one included) arriving through a "
                "click on the channel", as_probability, "in [0, 1]", source=_A),
    per_channel("lift", _pairs(display=0.05, social=0.15, search_nonbrand=3.0, search_brand=0.0, email=0.5,
                               sms=1.0, affiliate=0.1, direct=0.0),
                "relative purchase-hazard lift right after one touch",
                lambda n, v: as_float(n, v, low=0.0, high=50.0), "in [0, 50]",
                source="Johnson et al. 2017 (display: about +8% purchases among the exposed here); Blake, "
                "Nosko & Tadelis 2015 (brand search 0); Chan et al. 2011 (non-brand search); the rest "
                "assumptions"),
    per_channel("half_life", _pairs(display=2.0, social=5.0, search_nonbrand=2.0, search_brand=1.0,
                                    email=2.0, sms=1.0, affiliate=1.0, direct=1.0),
                "days for a touch's lift to halve",
                lambda n, v: as_float(n, v, low=0.0, high=365.0, low_open=True), "> 0 and <= 365",
                source="Sahni, Narayanan & Kalyanam 2019 (front-loaded reminders); values assumptions"),
    per_channel("unit_cost", _pairs(display=0.008, social=0.01, search_nonbrand=0.5, search_brand=0.4,
                                    email=0.001, sms=0.012, affiliate=0.0, direct=0.0),
                "dollars per scheduled touch (per captured session for session channels)",
                lambda n, v: as_float(n, v, low=0.0, high=1e6), _NUMBER,
                source="Meta CPM ~$10 (Right Side Up / Varos), Twilio SMS $0.012; assumptions: retargeting "
                "CPM $8 (above the $1.7-1.8 average programmatic CPM of DataBeat 2024), search costs per "
                "click, e-mail tooling"),
    per_channel("experiment_design", _pairs(display="user", social="user", search_nonbrand="geo",
                                            search_brand="geo", email="user", sms="user", affiliate="geo",
                                            direct="none"),
                "holdout test of each channel: user, geo or none",
                lambda n, v: as_choice(n, v, DESIGNS), "one of " + ", ".join(DESIGNS),
                source="addressable channels are tested user by user, the rest by region"),
)

#: Defaults of every parameter, as plain literals (what a notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}


@dataclass(frozen=True)
class OmnichannelScenario(Scenario):
    """One omnichannel world: population, channels, devices, stores, experiments and budget plans.

    Build it with :meth:`from_params`, which validates every value; :meth:`to_params` gives the plain
    literals back (round-trips). Per-channel settings are :class:`ChannelValues` keyed by channel.
    """

    parameters = PARAMETERS
    #: In memory, the peak of a run grows by about 3,750 bytes per customer (measured at 0.1 to 1 million).
    memory = (("n_customers",), 5_000)

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
    display_synergy: float
    synergy_window_days: float
    synergy_channels: tuple[str, ...]
    factorial_channels: tuple[str, ...]
    factorial_holdout_share: float
    targeting: ChannelValues
    reach: ChannelValues
    audience_tilt: ChannelValues
    frequency: ChannelValues
    capture: ChannelValues
    lift: ChannelValues
    half_life: ChannelValues
    unit_cost: ChannelValues
    experiment_design: ChannelValues

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """Budget changes within the largest multiplier; session channels schedule nothing."""
        top = typed["max_budget_multiplier"]
        if 1.0 + typed["budget_change"] > top + 1e-12:
            raise ParameterError("budget_change", typed["budget_change"],
                                 f"at most max_budget_multiplier - 1 ({top - 1:g})")
        for c in CHANNELS:
            if typed["targeting"][c] == "session" and typed["frequency"][c] > 0:
                raise ParameterError(f"frequency[{c}]", typed["frequency"][c],
                                     "0 for a session channel (it schedules no touches; see capture)")
        if len(typed["factorial_channels"]) > 4:
            raise ParameterError("factorial_channels", ",".join(typed["factorial_channels"]),
                                 "at most 4 channels (the truth re-runs the world 2**channels times)")
        if "display" in typed["synergy_channels"]:
            raise ParameterError("synergy_channels", ",".join(typed["synergy_channels"]),
                                 "channels other than display (display is the one that raises them)")
        return typed

    @property
    def days(self) -> float:
        """Length of the window in days."""
        return 7.0 * self.weeks

    @property
    def paid_channels(self) -> tuple[str, ...]:
        """Channels that cost money (a unit cost, or the affiliate commission)."""
        return tuple(c for c in CHANNELS if self.unit_cost[c] > 0
                     or (c == "affiliate" and self.affiliate_commission > 0))
