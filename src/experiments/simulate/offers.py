"""Which offer for whom: a randomised multi-arm campaign of several offers, with every customer's truth.

The customers are those of the remarketing world (:func:`~experiments.simulate.funnel.draw_funnel` and
:func:`~experiments.simulate.population.draw_population`: audience, funnel stage, purchase history,
demographics). Each customer is randomised to the control or to one of :data:`OFFERS`; each offer moves
the purchase probability through its own mechanism (all numbers are assumptions, stated in the report):

- ``reminder`` (an e-mail): lifts the chance that a customer who would not buy does, by
  ``0.05 x intent(stage)`` for customers who opted in to e-mail; costs ``REMINDER_COST`` per customer.
- ``dynamic_ad`` (a display ad of the products viewed): lifts by ``0.09 x personalisation(stage) x age``
  (younger customers respond more) for cookie-matched customers, and puts off those who bought in the
  last 30 days (their own purchase probability falls by 15%); costs ``DYNAMIC_AD_COST`` per cookie-matched
  customer (the impressions).
- ``discount`` of depth ``d``: lifts by ``0.25 x (1 - exp(-5 d)) x price_sensitivity`` (diminishing
  returns in the depth) and pays ``d x order value`` on *every* purchase, including those that would
  have happened anyway (the subsidy to sure things): profit peaks at an interior depth.
- ``free_shipping``: lifts by ``0.25 x fee / (fee + 0.1 x order value) x region`` (small baskets care
  most about the fee) and pays the fee on every purchase.

Every customer's purchase under each arm comes from one uniform draw (``u < p_arm``), so the potential
outcomes are coupled and the uplift groups are well defined. The table carries the observed outcome
(``converted``, ``margin``, ``spend``, ``profit``), each arm's potential profit (``profit__<arm>``) and
the true expected effects (``cate_profit__<offer>``, ``cate_spend__<offer>``): the true value of any
assignment of offers is exact (:func:`assignment_value`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.simulate.blocks import simulate_in_blocks
from experiments.simulate.funnel import LIST_AUDIENCES, STAGES, draw_categories, draw_funnel
from experiments.simulate.population import AGE_BANDS, DEVICES, REGIONS, SEGMENTS, draw_population
from experiments.worlds import CampaignWorld

__all__ = [
    "CONTROL",
    "DYNAMIC_AD_COST",
    "FEATURE_SOURCES",
    "OFFERS",
    "OFFER_FEATURES",
    "REMINDER_COST",
    "STREAM",
    "AssignmentValue",
    "OfferSettings",
    "assignment_value",
    "media_cost",
    "oracle_assignment",
    "simulate_offers",
    "subsidy",
]

#: The offers, in the order of their arm codes 1..4 (code 0 is the control).
OFFERS: tuple[str, ...] = ("reminder", "dynamic_ad", "discount", "free_shipping")
CONTROL = "control"
#: Seed stream of this world (the other worlds use 0 to 4).
STREAM: int = 18
#: Cost of one reminder e-mail, and of a dynamic ad's impressions per cookie-matched customer ($,
#: assumption: a few cents per e-mail; about 200 impressions at a $3 CPM).
REMINDER_COST: float = 0.02
DYNAMIC_AD_COST: float = 0.60
#: Cost of delivering a discount or free-shipping code (an e-mail, $).
CODE_COST: float = 0.02

#: Features by source: what a retailer knows from purchases (and its CRM), from browsing (cookies and
#: the site's own logs: lost with consent), and from demographics.
FEATURE_SOURCES: dict[str, tuple[str, ...]] = {
    "purchase history": ("segment", "recency_days", "pre_orders", "pre_revenue", "price_sensitivity",
                         "bought_last_month", "email_opt_in"),
    "browsing": ("audience", "funnel_stage", "days_since_visit", "cart_value", "device", "cookie_matched"),
    "demographics": ("age_band", "region"),
}
#: Every feature a model may use.
OFFER_FEATURES: tuple[str, ...] = tuple(c for cols in FEATURE_SOURCES.values() for c in cols)

# Baseline purchase probability in the window per audience (LIST_AUDIENCES order; assumption).
_BASE = np.array([0.10, 0.025, 0.04, 0.06, 0.015])
# Intent by the last funnel stage (STAGES order): reminder and personalisation weights (assumption).
_STAGE_BASE = np.array([0.7, 0.9, 1.0, 1.4, 1.0])
_REMINDER_STAGE = np.array([0.3, 0.6, 1.0, 1.2, 0.5])
_PERSONAL_STAGE = np.array([0.2, 1.0, 1.0, 0.8, 0.6])
# Dynamic ads by age band (AGE_BANDS order) and free shipping by region (REGIONS order; assumption).
_AGE_RESPONSE = np.array([1.5, 1.3, 1.0, 0.8, 0.6, 0.4])
_REGION_SHIPPING = np.array([0.7, 1.2, 1.2, 0.9])


@dataclass(frozen=True)
class OfferSettings:
    """The offers' terms and the randomisation (the rest of the world comes from a ``CampaignWorld``).

    ``discount`` is the discount's depth (share of the order value), ``shipping_fee`` what free shipping
    pays per order, ``control_share`` the share randomised to no offer (the rest is split evenly among
    ``offers``), ``strength`` multiplies every offer's lift (1 = the defaults above).
    """

    discount: float = 0.10
    shipping_fee: float = 6.0
    control_share: float = 0.2
    offers: tuple[str, ...] = OFFERS
    strength: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.discount < 1.0:
            raise ParameterError("discount", self.discount, "a depth from 0 to below 1")
        if self.shipping_fee < 0:
            raise ParameterError("shipping_fee", self.shipping_fee, "a fee >= 0")
        if not 0.0 < self.control_share < 1.0:
            raise ParameterError("control_share", self.control_share, "a share > 0 and < 1")
        if not self.offers or len(set(self.offers)) != len(self.offers) or any(
                o not in OFFERS for o in self.offers):
            raise ParameterError("offers", ",".join(self.offers),
                                 "distinct offers among " + ", ".join(OFFERS))

    @property
    def arms(self) -> tuple[str, ...]:
        """The control, then the offers."""
        return (CONTROL, *self.offers)

    @property
    def shares(self) -> np.ndarray:
        """Randomisation probability of each arm (control first)."""
        k = len(self.offers)
        return np.array([self.control_share, *([(1.0 - self.control_share) / k] * k)])


def _arm_probabilities(world: CampaignWorld, s: OfferSettings, *, audience: np.ndarray, stage: np.ndarray,
                       age: np.ndarray, region: np.ndarray, email: np.ndarray, cookie: np.ndarray,
                       recent: np.ndarray, propensity: np.ndarray, price_sensitivity: np.ndarray,
                       order_value: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Baseline purchase probability and each offer's purchase probability."""
    fade = np.exp(-days / 20.0)
    p0 = np.clip(np.take(_BASE, audience) * np.take(_STAGE_BASE, stage) * propensity ** 0.8
                 * np.where(recent, 1.3, 1.0), 0.0, 0.8)
    miss = 1.0 - p0

    def k(name: str) -> float:
        return float(s.strength.get(name, 1.0))

    lift = {
        "reminder": k("reminder") * 0.05 * np.take(_REMINDER_STAGE, stage) * fade * email,
        "dynamic_ad": k("dynamic_ad") * 0.09 * np.take(_PERSONAL_STAGE, stage) * np.take(_AGE_RESPONSE, age)
        * fade * cookie,
        "discount": k("discount") * 0.25 * (1.0 - np.exp(-5.0 * s.discount)) * price_sensitivity,
        "free_shipping": k("free_shipping") * 0.25 * s.shipping_fee / (s.shipping_fee + 0.1 * order_value)
        * np.take(_REGION_SHIPPING, region),
    }
    out = {}
    for name in s.offers:
        base = p0 * np.where(recent & (cookie > 0), 0.85, 1.0) if name == "dynamic_ad" else p0
        out[name] = np.clip(base + miss * np.minimum(lift[name], 0.95), 0.0, 1.0)
    return p0, out


def media_cost(name: str, cookie: np.ndarray) -> np.ndarray:
    """Media cost of offer ``name`` for each customer (a dynamic ad only reaches cookie-matched ones)."""
    if name == "dynamic_ad":
        return DYNAMIC_AD_COST * cookie
    return np.full(cookie.shape[0], REMINDER_COST if name == "reminder" else CODE_COST)


def subsidy(name: str, s: OfferSettings, order_value: np.ndarray) -> np.ndarray:
    """What offer ``name`` pays on a purchase of ``order_value`` (the discount, or the shipping fee)."""
    if name == "discount":
        return s.discount * order_value
    if name == "free_shipping":
        return np.full(order_value.shape[0], s.shipping_fee)
    return np.zeros(order_value.shape[0])


def _chunk(world: CampaignWorld, s: OfferSettings, rng: np.random.Generator, start: int,
           stop: int) -> pl.DataFrame:
    n = stop - start
    funnel = draw_funnel(rng, n, world)
    pop = draw_population(rng, funnel.audience, world)
    arm = draw_categories(rng, s.shares, n=n)
    u = rng.random(n)
    # each order's value around the customer's mean (CV 0.5): the same whatever the arm
    value = pop.order_value * rng.gamma(4.0, 0.25, n)
    email = pop.email_opt_in.astype(np.float64)
    cookie = pop.cookie_matched
    recent = pop.recency_days <= 30
    p0, p = _arm_probabilities(
        world, s, audience=funnel.audience, stage=funnel.stage, age=pop.age_band, region=pop.region,
        email=email, cookie=cookie.astype(np.float64), recent=recent, propensity=pop.propensity,
        price_sensitivity=pop.price_sensitivity.astype(np.float64), order_value=pop.order_value,
        days=funnel.days_since_visit.astype(np.float64))
    m = world.margin
    expected_margin = m * pop.order_value
    columns: dict[str, object] = {
        "customer_id": np.arange(start, stop, dtype=np.int64),
        "arm": pl.Series(np.asarray(s.arms)[arm]).cast(pl.Enum(list(s.arms))),
        "segment": pl.Series(np.asarray(SEGMENTS)[pop.segment]),
        "recency_days": pop.recency_days, "pre_orders": pop.pre_orders, "pre_revenue": pop.pre_revenue,
        "price_sensitivity": pop.price_sensitivity, "bought_last_month": recent,
        "email_opt_in": pop.email_opt_in,
        "audience": pl.Series(np.asarray(LIST_AUDIENCES)[funnel.audience]),
        "funnel_stage": pl.Series(np.asarray(STAGES)[funnel.stage]),
        "days_since_visit": funnel.days_since_visit, "cart_value": pop.cart_value,
        "device": pl.Series(np.asarray(DEVICES)[pop.device]), "cookie_matched": cookie,
        "age_band": pl.Series(np.asarray(AGE_BANDS)[pop.age_band]),
        "region": pl.Series(np.asarray(REGIONS)[pop.region]),
    }
    converted0 = u < p0
    pot_profit = {CONTROL: np.where(converted0, m * value, 0.0)}
    pot_spend = {CONTROL: np.zeros(n)}
    pot_converted = {CONTROL: converted0}
    truth = {}
    for name in s.offers:
        media = media_cost(name, cookie)
        conv = u < p[name]
        paid = np.where(conv, subsidy(name, s, value), 0.0)
        pot_converted[name] = conv
        pot_spend[name] = media + paid
        pot_profit[name] = np.where(conv, m * value, 0.0) - paid - media
        sub_mean = subsidy(name, s, pop.order_value)
        truth[f"cate_profit__{name}"] = (p[name] * (expected_margin - sub_mean) - media
                                         - p0 * expected_margin)
        truth[f"cate_spend__{name}"] = media + p[name] * sub_mean
        truth[f"cate_converted__{name}"] = p[name] - p0
    observed = {key: np.choose(arm, [pot[a] for a in s.arms])
                for key, pot in (("converted", pot_converted), ("spend", pot_spend), ("profit", pot_profit))}
    columns["converted"] = observed["converted"].astype(np.int8)
    columns["order_value"] = np.where(observed["converted"], np.round(value, 2), 0.0)
    columns["spend"] = np.round(observed["spend"], 2)
    columns["profit"] = np.round(observed["profit"], 2)
    columns["purchase_probability"] = p0
    for a in s.arms:
        columns[f"profit__{a}"] = np.round(pot_profit[a], 2)
    columns.update(truth)
    return pl.DataFrame(columns)


def simulate_offers(world: CampaignWorld, settings: OfferSettings | None = None, *,
                    n_customers: int | None = None, seed: int | None = None,
                    block_size: int = 1_048_576) -> pl.DataFrame:
    """Simulate a randomised campaign of several offers against a control, with the truth.

    Parameters
    ----------
    world
        The remarketing world (audience, margin, order values, opt-in and cookie-match rates); its
        ``n_customers`` and ``seed`` are used unless given.
    settings
        The offers' terms and the randomisation (default :class:`OfferSettings`).
    n_customers, seed
        Override the world's.
    block_size
        Customers per chunk; does not change the table.

    Returns
    -------
    polars.DataFrame
        One row per customer: ``arm`` (control or an offer), the features of :data:`FEATURE_SOURCES`,
        observed ``converted``, ``spend`` (media plus the incentive paid) and ``profit`` (margin minus
        spend), ``purchase_probability`` (without an offer: truth), potential profits ``profit__<arm>``
        and true expected effects ``cate_profit__<offer>``, ``cate_spend__<offer>``,
        ``cate_converted__<offer>``.
    """
    s = settings if settings is not None else OfferSettings()
    n = world.n_customers if n_customers is None else int(n_customers)
    if n < 1:
        raise ParameterError("n_customers", n, "an integer >= 1")
    return simulate_in_blocks(lambda rng, a, b: _chunk(world, s, rng, a, b), n=n,
                              seed=world.seed if seed is None else int(seed), stream=STREAM,
                              block_size=block_size)


@dataclass(frozen=True)
class AssignmentValue:
    """True value of an assignment of offers, per 1,000 customers of the table (against no offer)."""

    n: int
    treated_share: float
    profit_per_1000: float
    spend_per_1000: float
    conversions_per_1000: float
    by_offer: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        """Plain values."""
        return {"n": self.n, "treated_share": self.treated_share, "profit_per_1000": self.profit_per_1000,
                "spend_per_1000": self.spend_per_1000, "conversions_per_1000": self.conversions_per_1000,
                "by_offer": dict(self.by_offer)}


def _offers_in(frame: pl.DataFrame) -> tuple[str, ...]:
    found = tuple(o for o in OFFERS if f"cate_profit__{o}" in frame.columns)
    if not found:
        raise DataError("no true effects of any offer in the table (columns cate_profit__<offer>)")
    return found


def _truth(frame: pl.DataFrame, kind: str, offers: Sequence[str]) -> np.ndarray:
    return np.column_stack([frame[f"cate_{kind}__{o}"].to_numpy().astype(np.float64) for o in offers])


def assignment_value(frame: pl.DataFrame, assignment: np.ndarray, *,
                     offers: Sequence[str] | None = None) -> AssignmentValue:
    """True value of giving customer ``i`` offer ``offers[assignment[i] - 1]`` (0: no offer).

    Exact for the simulated customers: the mean of the assigned offers' true expected effects.
    """
    offers = _offers_in(frame) if offers is None else tuple(offers)
    a = np.asarray(assignment)
    if a.shape != (frame.height,) or not np.issubdtype(a.dtype, np.integer) or a.min(initial=0) < 0 \
            or a.max(initial=0) > len(offers):
        raise DataError(f"an assignment is one integer from 0 to {len(offers)} per customer "
                        f"({frame.height:,} rows)")
    rows = np.flatnonzero(a > 0)
    picked = a[rows] - 1
    per = 1000.0 / max(frame.height, 1)
    out = {}
    for kind in ("profit", "spend", "converted"):
        out[kind] = per * float(_truth(frame, kind, offers)[rows, picked].sum())
    return AssignmentValue(
        n=frame.height, treated_share=rows.size / max(frame.height, 1), profit_per_1000=out["profit"],
        spend_per_1000=out["spend"], conversions_per_1000=out["converted"],
        by_offer={o: int(np.count_nonzero(a == j + 1)) for j, o in enumerate(offers)})


def oracle_assignment(frame: pl.DataFrame, *, budget_per_customer: float | None = None,
                      offers: Sequence[str] | None = None) -> np.ndarray:
    """The best assignment knowing every customer's true effects.

    Each customer's best offer by true expected profit (none when no offer's is positive); with a budget
    (expected spend per customer of the table), customers are taken in decreasing order of true profit
    per dollar of their best offer until the budget is spent.
    """
    offers = _offers_in(frame) if offers is None else tuple(offers)
    profit = _truth(frame, "profit", offers)
    spend = _truth(frame, "spend", offers)
    best = np.argmax(profit, axis=1)
    rows = np.arange(frame.height)
    gain = profit[rows, best]
    a = np.where(gain > 0, best + 1, 0)
    if budget_per_customer is None:
        return a
    cost = spend[rows, best]
    ratio = np.where(a > 0, gain / np.maximum(cost, 1e-9), -np.inf)
    order = np.argsort(-ratio, kind="stable")
    cum = np.cumsum(np.where(a[order] > 0, cost[order], 0.0))
    keep = np.zeros(frame.height, dtype=bool)
    keep[order[cum <= budget_per_customer * frame.height]] = True
    return np.where(keep, a, 0)
