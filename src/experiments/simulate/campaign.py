"""Campaign delivery (reach, frequency cap, cost) and response (potential outcomes under each arm).

Mechanisms and their sources:

- Reach: display and native need a matched cookie; social needs a matched cookie and a social
  account; e-mail and SMS need an opt-in. Lost cookies and missing opt-ins make intent-to-treat differ
  from exposed.
- Delivery: paid impressions arrive at a steady daily rate times the customer's activity; e-mail and
  SMS follow a fixed flow (assumption). Impressions interleave in time, and the frequency cap stops
  delivery after ``frequency_cap`` exposures, so each channel keeps a hypergeometric share of them.
- Reminder: the effect of an exposure decays with days since the visit by ``reminder_decay`` a day;
  0.69 puts a third of week one's effect on day one (Sahni, Narayanan & Kalyanam 2019).
- Familiarity grows with exposures with diminishing returns; past ``annoyance_threshold`` each
  further exposure lowers conversion by ``annoyance_penalty`` and may make the customer unsubscribe
  (assumption).
- Personalisation: dynamic ads beat generic ones only further down the funnel (Lambrecht & Tucker 2013).
- Segments: loyal customers are barely moved, new ones most (Blake, Nosko & Tadelis 2015).
- Size: ``purchase_lift`` (10%) and ``visit_lift`` (17%) among exposed (Johnson, Lewis & Nubbemeyer 2017).
- Incentives: a discount or free shipping lifts conversion of price-sensitive customers and costs on
  every redeemed order, including those that would have happened anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.scenarios.remarketing import CHANNELS, RemarketingScenario
from experiments.simulate.funnel import LIST_AUDIENCES, Funnel
from experiments.simulate.population import Population

__all__ = [
    "AD_DAILY_RATE",
    "MESSAGE_DAYS",
    "Delivery",
    "Outcomes",
    "baseline_rates",
    "deliver",
    "order_noise",
    "respond",
]

#: Paid impressions a day for a customer of average activity when uncapped (assumption).
AD_DAILY_RATE: dict[str, float] = {"display": 0.8, "social": 0.4, "native": 0.3}
#: Campaign days on which the e-mail and SMS flows send a message (assumption).
MESSAGE_DAYS: dict[str, tuple[int, ...]] = {"email": (0, 1, 3, 7, 14, 21, 28), "sms": (0, 5, 20)}

# 14-day baseline conversion and return-visit rates by audience (assumption, cart abandoners ~7%:
# Klaviyo's 3-5% "recovered" carts are attributed, not incremental), stage and segment multipliers.
_BASE_CONVERSION = np.array([0.075, 0.012, 0.030, 0.045, 0.012])
_BASE_RETURN = np.array([0.30, 0.12, 0.20, 0.25, 0.06])
_STAGE_INTENT = np.array([1.0, 1.0, 0.85, 1.3, 1.0])
_SEGMENT_CONVERSION = np.array([0.8, 1.0, 1.6, 0.6])
# Responsiveness to ads per segment (Blake et al. 2015: frequent users unmoved; levels assumption).
_SEGMENT_RESPONSE = np.array([1.5, 1.0, 0.1, 0.8])
# Dynamic-ad multiplier per last funnel stage (Lambrecht & Tucker 2013; levels assumption).
_DYNAMIC_BY_STAGE = np.array([0.6, 0.8, 1.4, 1.5, 1.2])
_LAPSED = LIST_AUDIENCES.index("lapsed_visitors")
_FAMILIARITY_SCALE = 3.0  # exposures; 1 - exp(-E / 3) (assumption)
_REFERENCE_EXPOSURES = 8
_SCALE = 1.25  # calibrates the mean lift among exposed to ``purchase_lift`` at defaults
_ORDER_NOISE_SD = 0.35  # log-sd of one order around the customer's mean (assumption)


@dataclass(frozen=True)
class Delivery:
    """What a treatment arm delivers to each customer (the holdout's ghost counts)."""

    reachable: np.ndarray  # bool: reachable on at least one chosen channel
    counts: dict[str, np.ndarray]  # exposures per chosen channel after the cap (int16)
    exposures: np.ndarray  # int16, total after the cap
    messages: np.ndarray  # int16, e-mail + SMS messages after the cap
    cost: np.ndarray  # float64, media cost in dollars
    timing: np.ndarray  # float64, mean reminder weight of the exposures relative to a reference


@dataclass(frozen=True)
class Outcomes:
    """Potential outcomes of one arm."""

    converted: np.ndarray  # int8
    revenue: np.ndarray  # float64
    margin: np.ndarray  # float64
    returned: np.ndarray  # int8
    unsubscribed: np.ndarray  # int8
    cost: np.ndarray  # float64
    exposures: np.ndarray  # int16


def _reach(channel: str, pop: Population) -> np.ndarray:
    if channel in ("display", "native"):
        return pop.cookie_matched
    if channel == "social":
        return pop.cookie_matched & pop.social_account
    if channel == "email":
        return pop.email_opt_in
    return pop.sms_opt_in


def _mean_weight(start: np.ndarray, length: np.ndarray, r: float) -> np.ndarray:
    """Mean of ``r ** t`` for ``t`` uniform on ``[start, start + length]`` (closed form)."""
    k = -np.log(r)
    if k == 0.0:
        return np.ones_like(length)
    safe = np.maximum(length, 1e-9)
    return np.where(length > 1e-9, r**start * (1 - r**safe) / (safe * k), r**start)


def deliver(rng: np.random.Generator, pop: Population, funnel: Funnel,
            scenario: RemarketingScenario) -> Delivery:
    """Exposures, cost and timing of a treatment arm for one chunk.

    Draws the uncapped counts first and the cap's split last, so runs that differ only in
    ``frequency_cap`` share every other random number.
    """
    n = pop.segment.shape[0]
    days = scenario.days
    uncapped: dict[str, np.ndarray] = {}
    reachable = np.zeros(n, dtype=bool)
    for channel in CHANNELS:
        reach = _reach(channel, pop)
        if channel in AD_DAILY_RATE:
            lam = AD_DAILY_RATE[channel] * days * pop.activity
            draw = rng.poisson(lam)
        else:
            draw = np.full(n, sum(d < days for d in MESSAGE_DAYS[channel]), dtype=np.int64)
        if channel in scenario.channels:
            uncapped[channel] = np.where(reach, draw, 0)
            reachable |= reach
    total = sum(uncapped.values(), np.zeros(n, dtype=np.int64))
    cap = scenario.frequency_cap
    exposures = np.minimum(total, cap)
    # Split the first ``cap`` exposures among channels (random interleaving in time).
    counts: dict[str, np.ndarray] = {}
    left_n, left_total = exposures.copy(), total.copy()
    for channel, count in uncapped.items():
        others = left_total - count
        take = np.where(others > 0, rng.hypergeometric(np.maximum(count, 0),
                        np.maximum(others, 1), np.maximum(np.minimum(left_n, left_total), 0)), 0)
        take = np.where(others > 0, take, left_n)
        take = np.minimum(take, count)
        counts[channel] = take.astype(np.int16)
        left_n = left_n - take
        left_total = others
    unit = scenario.unit_costs
    cost = np.zeros(n)
    for channel, count in counts.items():
        cost += count * unit[channel]
    messages = np.zeros(n, dtype=np.int16)
    for channel in ("email", "sms"):
        if channel in counts:
            messages += counts[channel]
    # Exposures spread evenly until the cap stops delivery (day ``days * cap / total``).
    length = days * np.minimum(1.0, cap / np.maximum(total, 1))
    r = scenario.reminder_decay
    ref = _mean_weight(np.array(1.0), np.array(7.0), r)
    timing = _mean_weight(funnel.days_since_visit.astype(np.float64), length, r) / ref
    return Delivery(reachable=reachable, counts=counts, exposures=exposures.astype(np.int16),
                    messages=messages, cost=cost, timing=timing)


def baseline_rates(pop: Population, funnel: Funnel,
                   scenario: RemarketingScenario) -> tuple[np.ndarray, np.ndarray]:
    """Conversion and return-visit probabilities over the campaign window without ads."""
    aud, dsv = funnel.audience, funnel.days_since_visit
    intent = np.where(aud == _LAPSED, 0.5, 0.4 + 0.6 * np.exp(-dsv / 5.0))
    p14 = (_BASE_CONVERSION[aud] * _STAGE_INTENT[funnel.stage] * _SEGMENT_CONVERSION[pop.segment]
           * pop.propensity * intent)
    q14 = _BASE_RETURN[aud] * _SEGMENT_CONVERSION[pop.segment] ** 0.5 * np.sqrt(pop.propensity) * intent
    window = scenario.days / 14.0
    p = 1 - (1 - np.minimum(p14, 0.9)) ** window
    q = 1 - (1 - np.minimum(q14, 0.9)) ** window
    return p, q


def respond(arm: str, rng_draws: dict[str, np.ndarray], pop: Population, funnel: Funnel,
            delivery: Delivery, base: tuple[np.ndarray, np.ndarray],
            scenario: RemarketingScenario) -> Outcomes:
    """Potential outcomes of ``arm`` from common random numbers ``rng_draws``."""
    p0, q0 = base
    e = delivery.exposures.astype(np.float64)
    gross = pop.order_value * rng_draws["order_noise"]
    if arm == "holdout":
        p, q = p0, q0
        unsub_p = np.zeros_like(p0)
        cost = np.zeros_like(p0)
        incentive = False
    else:
        dynamic = arm.startswith("dynamic")
        incentive = arm.endswith("_incentive")
        familiarity = (1 - np.exp(-e / _FAMILIARITY_SCALE)) / (
            1 - np.exp(-_REFERENCE_EXPOSURES / _FAMILIARITY_SCALE))
        personal = (np.where(funnel.audience == _LAPSED, 0.7, 1.0) * _DYNAMIC_BY_STAGE[funnel.stage]
                    if dynamic else 1.0)
        reminder = (_SCALE * _SEGMENT_RESPONSE[pop.segment] * personal * familiarity
                    * delivery.timing)
        excess = np.maximum(e - scenario.annoyance_threshold, 0.0)
        annoy = scenario.annoyance_penalty * excess
        lift = scenario.purchase_lift * reminder - annoy
        if incentive:
            size = scenario.discount / 0.10 if scenario.incentive == "discount" else 1.0
            lift = lift + np.where(e > 0, scenario.incentive_lift * size * pop.price_sensitivity, 0.0)
        visit = scenario.visit_lift * reminder - annoy
        p = np.clip(p0 * (1 + lift), 0.0, 1.0)
        q = np.clip(q0 * (1 + visit), 0.0, 1.0)
        m = delivery.messages.astype(np.float64)
        opted = m > 0
        keep = (1 - scenario.unsubscribe_rate) ** m * (1 - scenario.unsubscribe_per_excess) ** excess
        unsub_p = np.where(opted, 1 - keep, 0.0)
        cost = delivery.cost
    converted = rng_draws["conversion"] < p
    returned = (rng_draws["return"] < q) | converted
    unsubscribed = rng_draws["unsubscribe"] < unsub_p
    paid = gross
    margin = gross * scenario.margin
    if incentive:
        redeemed = delivery.exposures > 0
        if scenario.incentive == "discount":
            paid = np.where(redeemed, gross * (1 - scenario.discount), gross)
            margin = margin - np.where(redeemed, gross * scenario.discount, 0.0)
        else:
            margin = margin - np.where(redeemed, scenario.shipping_cost, 0.0)
    revenue = np.where(converted, np.round(paid, 2), 0.0)
    margin = np.where(converted, np.round(margin, 2), 0.0)
    return Outcomes(
        converted=converted.astype(np.int8),
        revenue=revenue,
        margin=margin,
        returned=returned.astype(np.int8),
        unsubscribed=unsubscribed.astype(np.int8),
        cost=np.asarray(cost, dtype=np.float64),
        exposures=delivery.exposures,
    )


def order_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Multiplier of one order around the customer's mean order value (log-normal, mean 1)."""
    s = _ORDER_NOISE_SD
    return np.exp(s * rng.standard_normal(n) - s * s / 2)

