"""What the simulators read of a world: its vocabulary and its settings (a leaf module, below `simulate`).

A simulator takes the world's settings (any object with these attributes: a study's scenario is one, a
test may pass its own) and a seed among them, never a study's scenario class, so ``simulate`` imports
nothing above it; the scenarios (:mod:`experiments.scenarios`) import the vocabulary from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, Self

from experiments.errors import ParameterError

__all__ = ["ARMS", "AUDIENCES", "CAMPAIGN_CHANNELS", "JOURNEY_CHANNELS", "CampaignWorld", "JourneySettings",
           "LoyaltyWorld", "targeting_scenario"]

#: Arm vocabulary, holdout first (the holdout sees no ads; ghost-ad flag records would-be exposure).
ARMS: tuple[str, ...] = ("holdout", "generic", "dynamic", "generic_incentive", "dynamic_incentive")
#: Remarketing audiences.
AUDIENCES: tuple[str, ...] = (
    "cart_abandoners",
    "browse_abandoners",
    "product_viewers",
    "past_purchasers",
    "lapsed_visitors",
    "all",
)
#: Channels of a remarketing campaign.
CAMPAIGN_CHANNELS: tuple[str, ...] = ("display", "social", "email", "sms", "native")
#: Channels of the journey world, in the order the touches of one site session are logged.
JOURNEY_CHANNELS: tuple[str, ...] = (
    "display", "social", "search_nonbrand", "search_brand", "email", "sms", "affiliate", "direct",
)


class CampaignWorld(Protocol):
    """The settings of a remarketing campaign's world that the simulators read (seed included)."""

    annoyance_penalty: float
    annoyance_threshold: int
    arm_shares: tuple[tuple[str, float], ...]
    attach_rate: float
    audience: str
    bundle_discount: float
    burn_pixel: bool
    cannibalisation: float
    channels: tuple[str, ...]
    cookie_match_rate: float
    days: int
    discount: float
    email_messages: int
    email_opt_in_rate: float
    first_touch_hours: float
    frequency_cap: int
    incentive: str
    incentive_lift: float
    margin: float
    mean_order_value: float
    message_spacing_hours: float
    n_customers: int
    order_value_sigma: float
    peak_conversion_multiplier: float
    peak_season: bool
    post_days: int
    pull_forward: float
    purchase_lift: float
    reactance: float
    reminder_decay: float
    seed: int
    shipping_cost: float
    sms_messages: int
    sms_opt_in_rate: float
    social_account_rate: float
    subscriber_value: float
    unsubscribe_per_excess: float
    unsubscribe_rate: float
    upgrade_lift: float
    visit_lift: float

    @property
    def reminder_lift(self) -> float:
        """The reminder's purchase lift in this season."""
        ...

    @property
    def arms(self) -> tuple[str, ...]:
        """Arms in :data:`ARMS` order."""
        ...

    @property
    def treatment_arms(self) -> tuple[str, ...]:
        """Every arm but the holdout."""
        ...

    @property
    def main_arm(self) -> str:
        """The treatment arm the headline compares with the holdout."""
        ...

    @property
    def unit_costs(self) -> dict[str, float]:
        """Cost per impression or message of each channel."""
        ...

    def replace(self, **changes: object) -> Self:
        """A validated copy with some settings changed (the counterfactual worlds of the truth)."""
        ...


class JourneySettings(Protocol):
    """The settings of the omnichannel journey world that the simulators read (seed included)."""

    affiliate_commission: float
    audience_tilt: Mapping[str, float]
    base_conversion: float
    budget_change: float
    budget_channels: tuple[str, ...]
    capture: Mapping[str, float]
    display_synergy: float
    frequency: Mapping[str, float]
    geo_holdout_share: float
    geo_sigma: float
    half_life: Mapping[str, float]
    identity_match_rate: float
    intent_sigma: float
    lift: Mapping[str, float]
    margin: float
    max_budget_multiplier: float
    mean_order_value: float
    mobile_share: float
    multi_device_share: float
    n_customers: int
    n_geos: int
    order_value_sigma: float
    reach: Mapping[str, float]
    retarget_window_days: float
    secondary_device_share: float
    seed: int
    session_half_life: float
    session_lift: float
    sessions_per_purchase: float
    store_share: float
    synergy_channels: tuple[str, ...]
    synergy_window_days: float
    targeting: Mapping[str, str]
    unit_cost: Mapping[str, float]
    user_holdout_share: float

    @property
    def days(self) -> float:
        """Length of the window, days."""
        ...


class LoyaltyWorld(Protocol):
    """The settings of the loyalty world that the simulator reads (seed included)."""

    acquisition_cost: float
    bgnbd_a: float
    bgnbd_alpha: float
    bgnbd_b: float
    bgnbd_r: float
    birthday_lift: float
    calibration_periods: int
    checkin_lift: float
    dropout_reduction: float
    fatigue_free: float
    fatigue_penalty: float
    gg_p: float
    gg_q: float
    gg_v: float
    gold_threshold: float
    heavy_rate: float
    horizon: int
    join_rate: float
    join_selection: float
    lapse_periods: int
    margin: float
    message_cost: float
    message_diminishing: float
    message_lift: float
    messages_per_month: float
    n_customers: int
    offer_share: float
    purchase_lift: float
    redemption_rate: float
    referral_bonus: float
    referral_rate: float
    referred_dropout: float
    referred_spend: float
    reward_rate: float
    reward_scale: float
    seed: int
    silver_threshold: float
    tier_lift: float
    tier_reward_boost: float
    trigger_weeks: float
    unsubscribe_cost: float
    unsubscribe_rate: float

    @property
    def alpha_per_period(self) -> float:
        """BG/NBD scale per calibration period."""
        ...

    @property
    def weeks_per_period(self) -> float:
        """Weeks in one period."""
        ...


def targeting_scenario(
    scenario: CampaignWorld, *, arm: str | None = None, treated_share: float = 0.5
) -> CampaignWorld:
    """``scenario`` as a two-arm test: ``holdout`` against ``arm`` (default ``scenario.main_arm``)."""
    arm = scenario.main_arm if arm is None else arm
    if arm not in ARMS or arm == "holdout":
        raise ParameterError("arm", arm, "a treatment arm: " + ", ".join(ARMS[1:]))
    if not 0.0 < float(treated_share) < 1.0:
        raise ParameterError("treated_share", treated_share, "a number > 0 and < 1")
    share = float(treated_share)
    return scenario.replace(arm_shares=f"holdout:{1.0 - share!r},{arm}:{share!r}")
