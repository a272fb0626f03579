"""Synthetic customers: segments, pre-period purchase history, demographics and reachability.

A latent purchase propensity (gamma, mean 1) drives both the pre-period orders and the campaign-window
purchase, and a customer-level mean order value (log-normal, heavy-tailed: Lewis & Rao 2015 report a
per-person sales coefficient of variation near 10) drives both pre-period and outcome revenue, so
``pre_revenue`` is a useful CUPED covariate. Segment mixes, demographics and rates are assumptions.

The value of the last session's cart is observed (a noisy view of the customer's mean order value).
Price sensitivity is a customer feature the retailer observes (a score with mean about 1, as a CRM
estimates it from past coupon use and price-filter clicks; assumption), stored as float32 so the
simulator reads the same number the table shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.simulate.funnel import LIST_AUDIENCES, draw_categories
from experiments.worlds import CampaignWorld

__all__ = ["AGE_BANDS", "DEVICES", "REGIONS", "SEGMENTS", "Population", "draw_population"]

SEGMENTS: tuple[str, ...] = ("new", "returning", "loyal", "lapsed")
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
REGIONS: tuple[str, ...] = ("northeast", "midwest", "south", "west")
DEVICES: tuple[str, ...] = ("mobile", "desktop")

_AGE_MIX = np.array([0.12, 0.22, 0.20, 0.18, 0.15, 0.13])  # assumption
_REGION_MIX = np.array([0.17, 0.21, 0.38, 0.24])  # roughly US census shares
_MOBILE_SHARE = 0.6  # assumption
# Segment given audience (rows follow LIST_AUDIENCES, columns SEGMENTS); assumption.
_SEGMENT_GIVEN_AUDIENCE = np.array(
    [
        [0.35, 0.40, 0.20, 0.05],
        [0.50, 0.30, 0.10, 0.10],
        [0.40, 0.35, 0.15, 0.10],
        [0.25, 0.40, 0.35, 0.00],
        [0.10, 0.20, 0.05, 0.65],
    ]
)
assert _SEGMENT_GIVEN_AUDIENCE.shape[0] == len(LIST_AUDIENCES)
#: Pre-period (365-day) orders of a customer of average propensity, per segment (assumption).
PRE_ORDER_RATE = np.array([0.0, 1.5, 6.0, 1.2])
#: Price sensitivity multiplier per segment (assumption: loyal buyers care least).
PRICE_SENSITIVITY = np.array([1.2, 1.0, 0.6, 1.1])
# Mean days between purchases per segment (lapsed customers are drawn apart; assumption).
_MEAN_GAP = np.array([60.0, 75.0, 20.0, 1.0])


@dataclass(frozen=True)
class Population:
    """Customer attributes of one chunk (codes index the tuples of this module)."""

    segment: np.ndarray  # uint8
    age_band: np.ndarray  # uint8
    region: np.ndarray  # uint8
    device: np.ndarray  # uint8
    email_opt_in: np.ndarray  # bool
    sms_opt_in: np.ndarray  # bool
    social_account: np.ndarray  # bool
    cookie_matched: np.ndarray  # bool
    propensity: np.ndarray  # float64, mean 1
    price_sensitivity: np.ndarray  # float32, mean about 1 (an observed feature)
    activity: np.ndarray  # float64, mean 1: how much the customer browses (ad delivery)
    order_value: np.ndarray  # float64, the customer's mean order value in dollars
    cart_value: np.ndarray  # float32, dollars in the cart (or product) of the last session: observed
    recency_days: np.ndarray  # int16, days since the last purchase (365 if none in the year)
    pre_orders: np.ndarray  # int16, orders in the 365 days before
    pre_revenue: np.ndarray  # float64, revenue in the 365 days before


def draw_population(
    rng: np.random.Generator, audience: np.ndarray, scenario: CampaignWorld
) -> Population:
    """Draw the customers of one chunk given their audience codes."""
    n = audience.shape[0]
    segment = draw_categories(rng, _SEGMENT_GIVEN_AUDIENCE, rows=audience)
    age_band = draw_categories(rng, _AGE_MIX, n=n)
    region = draw_categories(rng, _REGION_MIX, n=n)
    device = (rng.random(n) >= _MOBILE_SHARE).astype(np.uint8)
    email_opt_in = rng.random(n) < scenario.email_opt_in_rate
    sms_opt_in = rng.random(n) < scenario.sms_opt_in_rate
    social_account = rng.random(n) < scenario.social_account_rate
    cookie_matched = rng.random(n) < scenario.cookie_match_rate
    # Gamma(2, 1/2) as half the sum of two standard exponentials (the same law, drawn faster).
    propensity = 0.5 * (rng.standard_exponential(n) + rng.standard_exponential(n))
    price_sensitivity = (rng.gamma(4.0, 0.25, n) * np.take(PRICE_SENSITIVITY, segment)).astype(np.float32)
    activity = 0.5 * (rng.standard_exponential(n) + rng.standard_exponential(n))
    sigma = scenario.order_value_sigma
    order_value = scenario.mean_order_value * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)
    pre_orders = rng.poisson(np.take(PRE_ORDER_RATE, segment) * propensity).astype(np.int16)
    # Each order's value is gamma around the customer's mean (CV 0.5): the sum is gamma too.
    buyers = np.flatnonzero(pre_orders > 0)
    pre_revenue = np.zeros(n)
    pre_revenue[buyers] = np.round(
        order_value[buyers] * rng.gamma(4.0 * pre_orders[buyers], 0.25), 2)
    # Days since the last purchase (assumption): loyal ~ 20, returning ~ 75, lapsed 180-365.
    mean_gap = np.take(_MEAN_GAP, segment)
    gap = 1 + np.floor(rng.exponential(1.0, n) * mean_gap)
    gap = np.where(segment == SEGMENTS.index("lapsed"), 180 + np.floor(rng.random(n) * 186), gap)
    recency = np.where(pre_orders > 0, np.minimum(gap, 365), 365).astype(np.int16)
    # What the last session's cart (or viewed product) was worth: the retailer sees it, and it tracks
    # what the customer would spend (log-sd 0.25 around the customer's mean; assumption).
    cart_value = np.round(order_value * np.exp(0.25 * rng.standard_normal(n) - 0.03125), 2)
    return Population(
        segment=segment,
        age_band=age_band,
        region=region,
        device=device,
        email_opt_in=email_opt_in,
        sms_opt_in=sms_opt_in,
        social_account=social_account,
        cookie_matched=cookie_matched,
        propensity=propensity,
        price_sensitivity=price_sensitivity,
        activity=activity,
        order_value=order_value,
        cart_value=cart_value.astype(np.float32),
        recency_days=recency,
        pre_orders=pre_orders,
        pre_revenue=pre_revenue,
    )
