"""Typed, validated parameters of the lifecycle study, each declared once.

The world behind them is :mod:`experiments.simulate.lifecycle`; its settings module cites the sources of
its defaults and marks every other default ``assumption``. Only the parameters a strategist is likely to
change are exposed here; every other setting of the world keeps its default
(:class:`~experiments.simulate.lifecycle_settings.LifecycleSettings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios import params as P
from experiments.scenarios.base import Scenario
from experiments.simulate.lifecycle_settings import LifecycleSettings, Source, default_sources

__all__ = ["DEFAULTS", "PARAMETERS", "LifecycleScenario"]

_A = "assumption"
#: Every parameter, declared once: default, rule, help and source.
PARAMETERS: tuple[P.Param, ...] = (
    P.integer("n_customers", 50000, "acquired customers (referred ones come on top)", low=1000,
              high=100_000_000, source="assumption: a clear read of every lever within a 10 s report"),
    P.integer("seed", 20261206, "random seed; same seed, same numbers", low=0),
    P.integer("campaign_weeks", 26, "weeks every lever runs: the short read", low=4, high=52, source=_A),
    P.integer("long_weeks", 52, "weeks after the campaign until the long read", low=4, high=52, source=_A),
    P.number("budget", 10000.0, "the next budget to place ($)", low=0.0, low_open=True, source=_A),
    P.number("alpha", 0.05, "1 - confidence of every interval", low=0.001, high=0.5),
    P.number("gross_margin", 0.3, "margin on full-price revenue (above 0, below 1)", low=0.0, high=1.0,
             low_open=True, high_open=True, source=_A),
    P.number("discount_depth", 0.2, "price cut in promotion weeks", low=0.0, high=0.9, source=_A),
    P.probability("forward_share", 0.5, "share of a promotion's extra purchases taken from later weeks",
                  source="assumption; forward buying: Anderson & Simester 2004"),
    P.number("deal_learning", 1.0, "log full-price rate lost per promotion week x depth (deal-sensitivity)",
             low=0.0, high=20.0, source="assumption; learned deal-sensitivity: Mela, Gupta & Lehmann 1997"),
    P.number("messages_per_month", 2.0, "cadence of lifecycle messages", low=0.0, high=30.0, source=_A),
    P.number("message_cost", 0.01, "$ per message, with tooling and content", low=0.0, source=_A),
    P.number("reward_rate", 0.04, "loyalty points earned per $ spent, in $", low=0.0, high=1.0, source=_A),
    P.number("recovery_cost", 5.0, "$ of apology and voucher per service failure", low=0.0, source=_A),
    P.number("win_back_cost", 1.0, "$ per win-back offer sent", low=0.0, source=_A),
    P.probability("win_back_discount", 0.15, "price cut of the win-back coupon", source=_A),
    P.number("referral_reward", 10.0, "$ paid per referred customer", low=0.0, source=_A),
    P.number("cost_paid_search", 40.0, "$ per customer acquired by paid search", low=0.0, low_open=True,
             source=_A),
    P.number("cost_social", 30.0, "$ per customer acquired by social ads", low=0.0, low_open=True, source=_A),
    P.number("cost_affiliate", 20.0, "$ per customer acquired by affiliate and coupon sites", low=0.0,
             low_open=True, source=_A),
    P.number("cost_organic", 5.0, "$ per organic customer (content, search engine work)", low=0.0,
             low_open=True, source=_A),
)

#: Defaults of every parameter as plain literals (what the notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}
#: Settings of the world that take the scenario's value of the same name.
_WORLD = ("n_customers", "campaign_weeks", "long_weeks", "gross_margin", "discount_depth", "forward_share",
          "deal_learning", "messages_per_month", "message_cost", "reward_rate", "recovery_cost",
          "win_back_cost", "win_back_discount", "referral_reward")


@dataclass(frozen=True)
class LifecycleScenario(Scenario):
    """A validated lifecycle study. Build it with :meth:`from_params`; :meth:`settings` gives the world."""

    parameters = PARAMETERS
    #: In memory, a run's peak grows by about 2.4 kB per acquired customer (measured: 294 MB at 50,000,
    #: 532 MB at 150,000); 4 kB leaves a margin.
    memory = (("n_customers",), 4_000)

    n_customers: int
    seed: int
    campaign_weeks: int
    long_weeks: int
    budget: float
    alpha: float
    gross_margin: float
    discount_depth: float
    forward_share: float
    deal_learning: float
    messages_per_month: float
    message_cost: float
    reward_rate: float
    recovery_cost: float
    win_back_cost: float
    win_back_discount: float
    referral_reward: float
    cost_paid_search: float
    cost_social: float
    cost_affiliate: float
    cost_organic: float

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """The campaign and the long read end inside the world's horizon; the promotions fall inside
        the campaign."""
        s = LifecycleSettings()
        room = s.horizon_weeks - s.campaign_start
        if typed["campaign_weeks"] + typed["long_weeks"] > room:
            raise ParameterError("long_weeks", typed["long_weeks"],
                                 f"an integer from 4 to {room - typed['campaign_weeks']} "
                                 f"({room} weeks - campaign_weeks)")
        if max(s.promo_weeks) >= typed["campaign_weeks"]:
            raise ParameterError("campaign_weeks", typed["campaign_weeks"],
                                 f"an integer from {max(s.promo_weeks) + 1} to 52 (the promotions run "
                                 f"in weeks {', '.join(map(str, s.promo_weeks))} of the campaign)")
        return typed

    def source_costs(self) -> dict[str, float]:
        """Cost per acquired customer of every source."""
        return {src.name: getattr(self, f"cost_{src.name}") for src in default_sources()}

    def settings(self) -> LifecycleSettings:
        """The world's settings: this scenario's values, the world's defaults for the rest."""
        costs = self.source_costs()
        sources = tuple(Source(**{**vars(src), "cost": costs[src.name]}) for src in default_sources())
        return LifecycleSettings(sources=sources, **{name: getattr(self, name) for name in _WORLD})
