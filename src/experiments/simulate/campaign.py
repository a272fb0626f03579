"""Campaign delivery (reach, flow, frequency cap, cost) and response (potential outcomes under each arm).

Mechanisms and their sources:

- Reach: display and native need a matched cookie; social needs a matched cookie and a social
  account; e-mail and SMS need an opt-in. Lost cookies and missing opt-ins make intent-to-treat differ
  from exposed.
- Delivery: the visit triggers the campaign. The first touch comes ``first_touch_hours`` later; from
  then to the end of the window, paid impressions arrive at a steady daily rate times the customer's
  activity, and the e-mail and SMS flows send ``email_messages`` and ``sms_messages`` messages
  ``message_spacing_hours`` apart (assumptions). Impressions interleave in time, and the frequency cap
  stops delivery after ``frequency_cap`` exposures, so each channel keeps a hypergeometric share.
- Baseline: the chance to buy unprompted is *interest* times *habit*. Interest rises down the funnel,
  on desktop, in the middle age bands, for cheaper carts and less price-sensitive customers, and in
  peak season; habit (the chance to come back unprompted) rises with pre-period frequency and recency
  (all levels assumptions).
- Reminder: an ad raises the chance to come back from ``h`` to ``h + (1 - h) * rho``, a relative lift of
  ``rho * (1 - h) / h``: frequent and recent buyers, the likeliest to buy, gain least (Blake, Nosko &
  Tadelis 2015: frequent users unmoved). Each exposure's weight fades as ``reminder_decay ** t`` with
  ``t`` days since the visit; 0.69 puts a third of week one's effect on day one (Sahni, Narayanan &
  Kalyanam 2019), so early touches are worth more. Familiarity grows with exposures with diminishing
  returns; reminders help mobile shoppers and pricier carts more (assumption).
- Personalisation: dynamic ads beat generic ones only further down the funnel (Lambrecht & Tucker 2013).
- Size: ``purchase_lift`` (10%) and ``visit_lift`` (17%) among exposed (Johnson, Lewis & Nubbemeyer 2017).
- Reactance: each exposure costs a would-be buyer ``reactance`` of the purchase, more for habitual and
  older customers (assumption): the do-not-disturbs. Past ``annoyance_threshold`` each further
  exposure lowers conversion by ``annoyance_penalty`` and may make the customer unsubscribe.
- Channels differ (:mod:`experiments.simulate.channels`): each has its own response strength,
  intrusiveness (reactance, annoyance, unsubscribes) and reminder half-life, and display lifts the
  e-mail and SMS messages that follow it within a window. Every exposure adds to familiarity; its punch is
  its channel's strength times its fading weight; it counts towards reactance and the annoyance
  threshold weighted by its channel's intrusiveness.
- Channel holdouts: ``off`` (customers held out of each channel, a factorial design) zeroes those
  channels' exposures before the cap, so the other channels fill the freed slots.
- Incentives: a discount or free shipping lifts conversion of price-sensitive customers through the
  same headroom and costs on every redeemed order, including those that would have happened anyway.

Conversion under every arm compares one uniform draw per customer with the arm's probability, so the
uplift groups follow from the potential outcomes: persuadable (0 → 1), sure thing (1 → 1), lost cause
(0 → 0), do-not-disturb (1 → 0). :class:`Outcomes` also keeps the probabilities and expected margin,
from which every customer's true effect (CATE) is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.simulate.channels import channel_drive
from experiments.simulate.funnel import LIST_AUDIENCES, Funnel
from experiments.simulate.population import Population
from experiments.worlds import CAMPAIGN_CHANNELS as CHANNELS
from experiments.worlds import CampaignWorld

__all__ = [
    "AD_DAILY_RATE",
    "UPLIFT_GROUPS",
    "Baseline",
    "Delivery",
    "Outcomes",
    "baseline_rates",
    "child_seed",
    "deliver",
    "deliver_from",
    "draw_impressions",
    "expected_value",
    "habit",
    "message_hours",
    "order_noise",
    "respond",
    "response_factors",
    "uplift_groups",
]

#: Paid impressions a day for a customer of average activity when uncapped (assumption).
AD_DAILY_RATE: dict[str, float] = {"display": 0.8, "social": 0.4, "native": 0.3}
#: Uplift groups by the customer's conversion without → with the campaign (codes 0..3).
UPLIFT_GROUPS: tuple[str, ...] = ("persuadable", "sure_thing", "lost_cause", "do_not_disturb")

# 14-day interest of a typical customer by audience (assumption, calibrated so cart abandoners convert
# about 7% in 14 days: Klaviyo's 3-5% "recovered" carts are attributed, not incremental).
_BASE_INTEREST = np.array([0.074, 0.012, 0.030, 0.045, 0.012])
_BASE_RETURN = np.array([0.30, 0.12, 0.20, 0.25, 0.06])
# Interest by last funnel stage, device (mobile, desktop) and age band (assumptions).
_STAGE_INTENT = np.array([1.0, 1.0, 0.85, 1.3, 1.0])
_DEVICE_INTENT = np.array([0.85, 1.25])
_AGE_INTENT = np.array([0.8, 1.0, 1.1, 1.1, 1.0, 0.9])
_PRICE_INTENT = 0.3  # interest * exp(-0.3 * (price_sensitivity - 1)) (assumption)
_VALUE_INTENT = -0.15  # interest * (order value / mean) ** -0.15: pricier carts are left more (assumption)
# Habit: H_MIN for a first-time buyer, towards H_MAX with pre-period orders and recency (assumption).
_H_MIN, _H_MAX, _H_ORDERS, _H_RECENCY = 0.15, 0.85, 3.0, 45.0
_H_REF = 0.35  # habit of a typical cart abandoner: baseline and headroom are relative to it
# Reminder response by device (mobile, desktop): interrupted mobile sessions forget more (assumption).
_DEVICE_RESPONSE = np.array([1.15, 0.8])
_VALUE_RESPONSE = 0.3  # reminder * (order value / mean) ** 0.3: considered purchases (assumption)
# Reactance by age band: older customers find being followed more intrusive (assumption).
_AGE_REACTANCE = np.array([0.5, 0.7, 0.9, 1.2, 1.6, 2.2])
_REACT_HABIT = 2.0  # reactance * (habit / typical) ** 2: habitual buyers resent being chased (assumption)
# Dynamic-ad multiplier per last funnel stage (Lambrecht & Tucker 2013; levels assumption).
_DYNAMIC_BY_STAGE = np.array([0.6, 0.8, 1.4, 1.5, 1.2])
_LAPSED = LIST_AUDIENCES.index("lapsed_visitors")
# Personalisation by audience and last funnel stage (rows LIST_AUDIENCES, columns stages): lapsed
# visitors' old carts are less relevant (0.7, assumption). Looked up by ``audience * stages + stage``.
_PERSONAL = (np.where(np.arange(len(LIST_AUDIENCES)) == _LAPSED, 0.7, 1.0)[:, None]
             * _DYNAMIC_BY_STAGE[None, :]).ravel()
_FAMILIARITY_SCALE = 3.0  # exposures; 1 - exp(-E / 3) (assumption)
_REFERENCE_EXPOSURES = 8
_SCALE = 0.693  # calibrates the mean purchase lift among exposed to ``purchase_lift`` at defaults
_VISIT_SCALE = 0.595  # the same for ``visit_lift``
_ORDER_NOISE_SD = 0.35  # log-sd of one order around the customer's mean (assumption)


@dataclass(frozen=True)
class Baseline:
    """What a customer does without the campaign."""

    converted: np.ndarray  # float64, probability of a purchase in the window
    returned: np.ndarray  # float64, probability of a return visit in the window
    habit: np.ndarray  # float64, chance of coming back unprompted (drives the headroom)


@dataclass(frozen=True)
class Delivery:
    """What a treatment arm delivers to each customer (the holdout's ghost counts)."""

    reachable: np.ndarray  # bool: reachable on at least one chosen channel
    counts: dict[str, np.ndarray]  # exposures per chosen channel after the cap (int16)
    exposures: np.ndarray  # int16, total after the cap
    messages: np.ndarray  # int16, e-mail + SMS messages after the cap
    cost: np.ndarray  # float64, media cost in dollars
    timing: np.ndarray  # float64, mean reminder weight of the exposures relative to a reference, each
    # weighted by its channel's strength (and display's lift)
    intrusive: np.ndarray  # float64, exposures weighted by each channel's intrusiveness
    keep_log: np.ndarray  # float64, log of the chance that no message makes the customer unsubscribe
    ad_cost: np.ndarray | None = None  # float64, the part of ``cost`` spent on paid impressions
    ad_until: np.ndarray | None = None  # float64, days from entering the flow to the last paid impression


@dataclass(frozen=True)
class Outcomes:
    """Potential outcomes of one arm, and the expectations behind them."""

    converted: np.ndarray  # int8
    revenue: np.ndarray  # float64
    margin: np.ndarray  # float64
    returned: np.ndarray  # int8
    unsubscribed: np.ndarray  # int8
    cost: np.ndarray  # float64
    exposures: np.ndarray  # int16
    p_converted: np.ndarray  # float64, probability of a purchase
    expected_margin: np.ndarray  # float64, expected margin net of the incentive, before media cost
    addon_margin: np.ndarray | None = None  # float64, margin of the cross-sell and upgrade (in ``margin``)
    converted_post: np.ndarray | None = None  # int8, a purchase in the weeks after the window
    wasted_cost: np.ndarray | None = None  # float64, media cost of impressions bought after the purchase
    expected_cost: np.ndarray | None = None  # float64, expected media cost (``cost`` before the purchase)
    p_unsubscribed: np.ndarray | None = None  # float64, probability of an unsubscribe


def child_seed(seq: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """Child ``k`` of ``seq`` (what ``seq.spawn`` gives as its ``k``-th child), without mutating ``seq``."""
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, k), pool_size=seq.pool_size)


def _generator(seq: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seq))


def _reach(channel: str, pop: Population) -> np.ndarray:
    if channel in ("display", "native"):
        return pop.cookie_matched
    if channel == "social":
        return pop.cookie_matched & pop.social_account
    if channel == "email":
        return pop.email_opt_in
    return pop.sms_opt_in


def message_hours(scenario: CampaignWorld, channel: str) -> np.ndarray:
    """Hours after the visit at which the ``channel`` flow (``"email"`` or ``"sms"``) sends, in the window."""
    count = scenario.email_messages if channel == "email" else scenario.sms_messages
    hours = scenario.first_touch_hours + scenario.message_spacing_hours * np.arange(count)
    return hours[hours < 24.0 * scenario.days]


def draw_impressions(seed: np.random.SeedSequence, pop: Population,
                     scenario: CampaignWorld) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Exposures per chosen channel before the cap and any holdout, and who is reachable at all.

    Each paid channel draws its impressions from its own child of ``seed``, so runs that differ in the
    frequency cap, the channels or the first-touch delay share every other random number.
    """
    n = pop.segment.shape[0]
    active = float(scenario.days) - scenario.first_touch_hours / 24.0  # days of delivery in the window
    uncapped: dict[str, np.ndarray] = {}
    reachable = np.zeros(n, dtype=bool)
    for channel in scenario.channels:
        reach = _reach(channel, pop)
        if channel in AD_DAILY_RATE:
            # Drawn for reachable customers only: who is reachable does not depend on delivery.
            rng = _generator(child_seed(seed, 1 + CHANNELS.index(channel)))
            who = np.flatnonzero(reach)
            draw = np.zeros(n, dtype=np.int32)
            draw[who] = rng.poisson(AD_DAILY_RATE[channel] * active * pop.activity[who])
        else:
            draw = np.where(reach, np.int32(len(message_hours(scenario, channel))), np.int32(0))
        uncapped[channel] = draw
        reachable |= reach
    return uncapped, reachable


def deliver(seed: np.random.SeedSequence, pop: Population, funnel: Funnel, scenario: CampaignWorld,
            off: dict[str, np.ndarray] | None = None) -> Delivery:
    """Exposures, cost and timing of a treatment arm for one chunk (``off``: customers held out of each
    channel, or None)."""
    uncapped, reachable = draw_impressions(seed, pop, scenario)
    return deliver_from(uncapped, reachable, seed, funnel, scenario, off)


def deliver_from(uncapped: dict[str, np.ndarray], reachable: np.ndarray, seed: np.random.SeedSequence,
                 funnel: Funnel, scenario: CampaignWorld,
                 off: dict[str, np.ndarray] | None = None, *, full: bool = True) -> Delivery:
    """:func:`deliver` from the drawn impressions (:func:`draw_impressions`): holdouts, cap, cost, timing.

    ``full=False`` leaves out what only the observed delivery needs (``messages`` and ``keep_log`` come
    back as zeros, ``ad_cost`` and ``ad_until`` as None): enough for :func:`expected_value`.

    The cap's split draws from child 0 of ``seed``, so the counterfactual deliveries of the channel
    truth (one channel switched on or off) reuse every impression draw.
    """
    n = reachable.shape[0]
    days = float(scenario.days)
    first = scenario.first_touch_hours / 24.0
    active = days - first  # days of delivery in the window
    if off is not None:
        uncapped = {c: np.where(off[c], np.int32(0), draw) for c, draw in uncapped.items()}
    total = np.zeros(n, dtype=np.int32)
    for draw in uncapped.values():
        total += draw
    cap = scenario.frequency_cap
    exposures = np.minimum(total, cap)
    # Split the first ``cap`` exposures among channels (random interleaving in time); only customers
    # over the cap need a draw, and the last channel takes what is left.
    over = np.flatnonzero(total > cap)
    split = _generator(child_seed(seed, 0))
    counts: dict[str, np.ndarray] = {}
    left_n, left_total = exposures[over], total[over]
    channels = list(uncapped)
    for k, channel in enumerate(channels):
        count = uncapped[channel].astype(np.int16)
        if over.size:
            c = count[over].astype(np.int64)
            if k == len(channels) - 1:
                take = left_n
            else:
                others = left_total - c
                take = np.where(others > 0, split.hypergeometric(c, np.maximum(others, 1), left_n), left_n)
                take = np.minimum(take, c)
                left_total = others
            left_n = left_n - take
            count[over] = take
        counts[channel] = count
    unit = scenario.unit_costs
    cost = np.zeros(n)
    ad_cost = np.zeros(n) if full else None
    messages = np.zeros(n, dtype=np.int16)
    for channel, count in counts.items():
        cost += count * unit[channel]
        if not full:
            continue
        if channel in AD_DAILY_RATE:
            ad_cost += count * unit[channel]
        else:
            messages += count
    # Reminder weight of the exposures: impressions spread evenly from the first touch until the cap
    # stops delivery; messages are the first ones of their flow.
    # share of the window's delivery before the cap stopped it: one value per total, looked up
    fracs = np.minimum(1.0, cap / np.maximum(np.arange(int(total.max(initial=0)) + 1), 1))
    frac = fracs[total]
    drive = channel_drive(counts, visit_days=funnel.days_since_visit, first_touch=first, flight=active * frac,
                          paid=set(AD_DAILY_RATE), settings=scenario, flight_code=(active * fracs, total),
                          unsubscribes=full)
    timing = drive.drive / np.maximum(exposures, 1)
    return Delivery(reachable=reachable, counts=counts, exposures=exposures.astype(np.int16),
                    messages=messages, cost=cost, timing=timing,
                    intrusive=drive.intrusive, keep_log=drive.keep_log, ad_cost=ad_cost,
                    ad_until=first + active * frac if full else None)


def habit(pop: Population) -> np.ndarray:
    """Chance of coming back unprompted: rises with pre-period orders and falls with days since the last."""
    orders = 1 - np.exp(-pop.pre_orders / _H_ORDERS)
    recent = 0.4 + 0.6 * np.exp(-pop.recency_days / _H_RECENCY)
    return _H_MIN + (_H_MAX - _H_MIN) * orders * recent


def baseline_rates(pop: Population, funnel: Funnel, scenario: CampaignWorld) -> Baseline:
    """Conversion and return-visit probabilities over the campaign window without the campaign."""
    aud, dsv = funnel.audience, funnel.days_since_visit
    h = habit(pop)
    intent = np.where(aud == _LAPSED, 0.5, 0.4 + 0.6 * np.exp(-dsv / 5.0))
    value = pop.order_value / scenario.mean_order_value
    interest = (
        np.take(_BASE_INTEREST, aud) * np.take(_STAGE_INTENT, funnel.stage)
        * np.take(_DEVICE_INTENT, pop.device) * np.take(_AGE_INTENT, pop.age_band)
        * np.exp(-_PRICE_INTENT * (pop.price_sensitivity - 1.0))
        * np.exp(_VALUE_INTENT * np.log(value)) * np.sqrt(pop.propensity) * intent
    )
    if scenario.peak_season:
        interest = interest * scenario.peak_conversion_multiplier
    p14 = interest * (h / _H_REF)
    q14 = np.take(_BASE_RETURN, aud) * np.sqrt(h / _H_REF * pop.propensity) * intent
    window = scenario.days / 14.0
    p, q = np.minimum(p14, 0.9), np.minimum(q14, 0.9)
    if window != 1.0:
        p, q = 1 - (1 - p) ** window, 1 - (1 - q) ** window
    return Baseline(converted=p, returned=q, habit=h)


def response_factors(arms: Sequence[str], pop: Population, funnel: Funnel, base: Baseline,
                     scenario: CampaignWorld) -> dict[str, np.ndarray]:
    """What the treatment ``arms``' purchase probabilities take from the customer alone, whatever the
    delivery: computed once per chunk and shared by the response and the channels' truth (each customer's
    values are the same whether computed for all customers or for some)."""
    h = base.habit
    value = pop.order_value / scenario.mean_order_value
    factors = {
        "device_response": np.take(_DEVICE_RESPONSE, pop.device),
        "value_response": np.exp(_VALUE_RESPONSE * np.log(value)),
        "headroom": (1 - h) / h * (_H_REF / (1 - _H_REF)),
        "reactance": (scenario.reactance * np.take(_AGE_REACTANCE, pop.age_band)
                      * (h / _H_REF) ** _REACT_HABIT),
    }
    if any(a.startswith("dynamic") for a in arms):
        code = funnel.audience * np.uint8(_DYNAMIC_BY_STAGE.size) + funnel.stage
        factors["personal"] = np.take(_PERSONAL, code)
    if any(a.endswith("_incentive") for a in arms):
        size = scenario.discount / 0.10 if scenario.incentive == "discount" else 1.0
        factors["incentive_push"] = scenario.incentive_lift * size * pop.price_sensitivity
    return factors


def _core(arms: Sequence[str], pop: Population, funnel: Funnel, delivery: Delivery, base: Baseline,
          scenario: CampaignWorld, factors: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """What every treatment arm's purchase probability shares: the reminder, the headroom, how much
    the exposures put off, personalisation and the incentive's push (when an arm has one).
    ``factors``: :func:`response_factors` of these customers, when already computed."""
    if factors is None:
        factors = response_factors(arms, pop, funnel, base, scenario)
    exposures = np.arange(int(delivery.exposures.max(initial=0)) + 1, dtype=delivery.exposures.dtype)
    familiarity = ((1 - np.exp(-exposures / _FAMILIARITY_SCALE)) / (
        1 - np.exp(-_REFERENCE_EXPOSURES / _FAMILIARITY_SCALE)))[delivery.exposures]  # few counts: a lookup
    reminder = familiarity * delivery.timing * factors["device_response"] * factors["value_response"]
    intrusive = delivery.intrusive
    excess = np.maximum(intrusive - scenario.annoyance_threshold, 0.0)
    react = factors["reactance"] * intrusive
    core = {"reminder": reminder, "headroom": factors["headroom"], "excess": excess,
            "put_off": react + scenario.annoyance_penalty * excess}
    if "personal" in factors:
        core["personal"] = factors["personal"]
    if "incentive_push" in factors:
        core["redeemed"] = delivery.exposures > 0
        core["incentive_push"] = np.where(core["redeemed"], factors["incentive_push"], 0.0)
    return core


def _reminder(arm: str, core: dict[str, np.ndarray]) -> np.ndarray:
    return core["reminder"] * core["personal"] if arm.startswith("dynamic") else core["reminder"]


def _purchase(arm: str, core: dict[str, np.ndarray], p0: np.ndarray, scenario: CampaignWorld) -> np.ndarray:
    """Purchase probability under treatment ``arm`` from the shared ``core``."""
    push = scenario.reminder_lift * _SCALE * _reminder(arm, core)  # the season changes the response
    if arm.endswith("_incentive"):
        push = push + core["incentive_push"]
    return _unit(p0 * (1 + push * core["headroom"] - core["put_off"]))


def _expected_order_margin(arm: str, order_value: np.ndarray, redeemed: np.ndarray | None,
                           scenario: CampaignWorld, full: np.ndarray | None = None) -> np.ndarray:
    """Expected margin of one order under ``arm``, net of the incentive where the arm has one
    (``full``: ``order_value * scenario.margin`` when already computed)."""
    if full is None:
        full = order_value * scenario.margin
    if not arm.endswith("_incentive"):
        return full
    cut = order_value * scenario.discount if scenario.incentive == "discount" else scenario.shipping_cost
    return np.where(redeemed, full - cut, full)  # type: ignore[arg-type]


def expected_value(arm_codes: np.ndarray, arms: Sequence[str], pop: Population, funnel: Funnel,
                   delivery: Delivery, base: Baseline, scenario: CampaignWorld,
                   factors: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's purchase probability and expected profit (margin net of the incentive and of media
    cost) under its own arm (``arm_codes`` into ``arms``); 0 and 0 in the holdout.

    The same numbers as :func:`respond`'s ``p_converted`` and ``expected_margin - cost``, without the
    draws, for the counterfactual deliveries of the channel truth (``factors``: the customers'
    :func:`response_factors`, when already computed).
    """
    n = arm_codes.shape[0]
    p, value = np.zeros(n), np.zeros(n)
    treated = [a for a in arms if a != "holdout"]
    if not treated:
        return p, value
    core = _core(treated, pop, funnel, delivery, base, scenario, factors)
    core.pop("excess")  # not read below: not sliced
    for k, arm in enumerate(arms):
        rows = np.flatnonzero(arm_codes == k)
        if arm == "holdout" or not rows.size:
            continue
        mine = {name: values[rows] for name, values in core.items() if _reads(arm, name)}
        pa = _purchase(arm, mine, base.converted[rows], scenario)
        margin = _expected_order_margin(arm, pop.order_value[rows], mine.get("redeemed"), scenario)
        p[rows] = pa
        value[rows] = pa * margin - delivery.cost[rows]
    return p, value


def _reads(arm: str, name: str) -> bool:
    """Whether the expected value of ``arm`` reads the shared ``core`` entry ``name``."""
    if name == "personal":
        return arm.startswith("dynamic")
    if name in ("redeemed", "incentive_push"):
        return arm.endswith("_incentive")
    return True


def respond(arms: Sequence[str], draws: dict[str, np.ndarray], pop: Population, funnel: Funnel,
            delivery: Delivery, base: Baseline, scenario: CampaignWorld,
            factors: dict[str, np.ndarray] | None = None) -> dict[str, Outcomes]:
    """Potential outcomes of each of ``arms`` from common random numbers ``draws`` (``factors``: the
    customers' :func:`response_factors`, when already computed).

    What every treatment arm shares (the delivered exposures, the customer's headroom, reactance,
    annoyance and unsubscribes) is computed once; arms differ by personalisation and incentive.
    """
    p0, q0 = base.converted, base.returned
    gross = pop.order_value * draws["order_noise"]
    rate = scenario.margin
    full_revenue, full_margin = np.round(gross, 2), np.round(gross * rate, 2)
    treated = [a for a in arms if a != "holdout"]
    core: dict[str, np.ndarray] = {}
    if treated:
        core = _core(treated, pop, funnel, delivery, base, scenario, factors)
        m = delivery.messages.astype(np.float64)
        keep = np.exp(delivery.keep_log
                      + core["excess"] * np.log1p(-min(scenario.unsubscribe_per_excess, 1 - 1e-12)))
        core["visit_headroom"] = np.sqrt(core["headroom"])
        core["unsubscribed"] = ((draws["unsubscribe"] < 1 - keep) & (m > 0)).astype(np.int8)
        core["p_unsubscribed"] = np.where(m > 0, 1 - keep, 0.0)
        if "redeemed" in core:
            redeemed = core["redeemed"]
            if scenario.incentive == "discount":
                d = scenario.discount
                core["incentive_revenue"] = np.where(redeemed, np.round(gross * (1 - d), 2), full_revenue)
                core["incentive_margin"] = np.where(
                    redeemed, np.round(gross * rate - gross * d, 2), full_margin)
            else:
                ship = scenario.shipping_cost
                core["incentive_revenue"] = full_revenue
                core["incentive_margin"] = np.where(
                    redeemed, np.round(gross * rate - ship, 2), full_margin)
    order_margin = pop.order_value * scenario.margin  # expected margin of an order without incentive
    out = {}
    for arm in arms:
        incentive = arm.endswith("_incentive")
        if arm == "holdout":
            p, q = p0, q0
            unsubscribed = np.zeros(p0.shape[0], dtype=np.int8)
            p_unsubscribed = np.zeros_like(p0)
            cost = np.zeros_like(p0)
        else:
            p = _purchase(arm, core, p0, scenario)
            visit = (scenario.visit_lift * _VISIT_SCALE * _reminder(arm, core) * core["visit_headroom"]
                     - core["put_off"])
            q = _unit(q0 * (1 + visit))
            unsubscribed, p_unsubscribed = core["unsubscribed"], core["p_unsubscribed"]
            cost = delivery.cost
        converted = draws["conversion"] < p
        returned = (draws["return"] < q) | converted
        if incentive:
            revenue, margin = core["incentive_revenue"], core["incentive_margin"]
        else:
            revenue, margin = full_revenue, full_margin
        out[arm] = Outcomes(
            converted=converted.astype(np.int8),
            revenue=_if_converted(revenue, converted),
            margin=_if_converted(margin, converted),
            returned=returned.astype(np.int8),
            unsubscribed=unsubscribed,
            cost=cost,
            exposures=delivery.exposures,
            p_converted=p,
            expected_margin=p * _expected_order_margin(arm, pop.order_value, core.get("redeemed"), scenario,
                                                       order_margin),
            p_unsubscribed=p_unsubscribed,
        )
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to [0, 1], in place (``np.clip`` allocates and is several times slower)."""
    np.maximum(x, 0.0, out=x)
    return np.minimum(x, 1.0, out=x)


def _if_converted(value: np.ndarray, converted: np.ndarray) -> np.ndarray:
    """``value`` where ``converted``, else 0.0: the values of ``np.where(converted, value, 0.0)`` for finite
    ``value``, at a fraction of its cost (adding 0.0 turns any -0.0, such as a negative margin times 0,
    into 0.0)."""
    out = np.multiply(value, converted)
    return np.add(out, 0.0, out=out)


def uplift_groups(treated: np.ndarray, control: np.ndarray) -> np.ndarray:
    """Codes into :data:`UPLIFT_GROUPS` from conversion with (``treated``) and without (``control``)."""
    t, c = treated.astype(bool), control.astype(bool)
    return ((~t).view(np.uint8) << 1) | c.view(np.uint8)  # 0/1 if treated converts, else 2/3


def order_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Multiplier of one order around the customer's mean order value (log-normal, mean 1)."""
    s = _ORDER_NOISE_SD
    return np.exp(s * rng.standard_normal(n) - s * s / 2)
