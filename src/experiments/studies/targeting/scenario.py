"""Typed, validated parameters of the targeting study: whom to remarket to, with what and when.

The world is the remarketing world (:mod:`experiments.studies.remarketing.scenario`): the parameters listed in
:data:`WORLD` are that scenario's own declarations (default, rule, help and source), not copies, and
every other remarketing parameter keeps its default. The campaign is a two-arm test, ``arm`` against the
holdout; the study's own parameters say how it is split, which uplift learners rank the customers and
how many customers each ranking treats.

Why the incentive arm by default: at the world's defaults a dynamic ad pays on nearly everyone (treating
everyone earns about 95% of what the best targeting earns), so whom to treat hardly matters. A discount
also pays buyers who would have bought anyway, so the customers likeliest to buy are the ones on whom
it loses most: treating everyone earns about a third of what the best targeting earns, and treating the
likeliest buyers loses money. That is the case where a targeting model earns its keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.errors import ParameterError
from experiments.scenarios import params as P
from experiments.studies.remarketing.scenario import ARMS, CampaignFields, RemarketingScenario
from experiments.uplift_learners import LEARNERS
from experiments.worlds import targeting_scenario

__all__ = ["DEFAULTS", "OFFER_NAMES", "PARAMETERS", "WORLD", "TargetingScenario"]

#: Remarketing parameters the targeting study exposes (the rest keep the remarketing defaults).
WORLD: tuple[str, ...] = (
    "n_customers", "seed", "audience", "channels", "frequency_cap", "days", "incentive", "discount",
    "margin", "first_touch_hours", "email_messages", "message_spacing_hours", "reactance", "peak_season",
)
_SHARE_RULE = "auto, or a share of customers in (0, 1]"
#: The offers of the offer-for-whom test (those of :mod:`experiments.simulate.offers`).
OFFER_NAMES: tuple[str, ...] = ("reminder", "dynamic_ad", "discount", "free_shipping")


def _policy_share(value: str) -> str:
    """``auto`` or a number in (0, 1], normalised (``"0.35"`` stays ``"0.35"``)."""
    if value.lower() == "auto":
        return "auto"
    try:
        share = float(value)
    except ValueError:
        raise ParameterError("policy_share", value, _SHARE_RULE) from None
    if not 0.0 < share <= 1.0:
        raise ParameterError("policy_share", value, _SHARE_RULE)
    return repr(share)


_A = "assumption"
#: Every parameter, declared once: the world's come from the remarketing scenario.
PARAMETERS: tuple[P.Param, ...] = (
    *(RemarketingScenario.param(name) for name in WORLD),
    P.choice("arm", "dynamic_incentive", "campaign arm tested against the holdout: generic, dynamic, "
             "generic_incentive or dynamic_incentive", ARMS[1:],
             source="assumption (the incentive arm: its effect changes sign across customers)"),
    P.number("treated_share", 0.5, "share of customers randomised to the campaign (0.05 to 0.95)", low=0.05,
             high=0.95, source=_A),
    P.number("train_share", 0.5, "share of customers the models learn from; the rest judge the policies "
             "(0.1 to 0.9)", low=0.1, high=0.9, source=_A),
    P.choice("learner", "x", "uplift learner whose ranking targets: s, t, x or transformed", LEARNERS,
             source="assumption (the X-learner, Kunzel et al. 2019, suits effects smaller than the "
             "baseline)"),
    P.choices("other_learners", "t,transformed", "learners drawn beside it on the Qini chart "
              "(comma-separated: s, t, x, transformed; may be empty)", LEARNERS, min_count=0, source=_A),
    P.integer("folds", 2, "cross-fitting folds within the training part (2 to 10)", low=2, high=10,
              source=_A),
    P.text("policy_share", "auto", "share each ranking treats: auto (the share that earns most on the "
           "training part) or a number in (0, 1]", allowed=_SHARE_RULE, check=_policy_share, source=_A),
    P.choices("offers", ",".join(OFFER_NAMES), "offers randomised against a control in the offer-for-whom "
              "test (comma-separated: reminder, dynamic_ad, discount, free_shipping; at least 2); the "
              "discount's depth is `discount`", OFFER_NAMES, min_count=2, source=_A),
    P.number("offer_control_share", 0.2, "share of the offer test's customers given no offer (0.05 to 0.5)",
             low=0.05, high=0.5, source=_A),
    P.number("offer_budget", 500.0, "spend on offers per 1,000 customers, media plus discounts and "
             "shipping paid ($, 0 to 100000)", low=0.0, high=100_000.0, source=_A),
    P.number("consent_loss", 0.3, "share of customers whose browsing data is lost (no cookie or consent) "
             "in the value-of-data check (0 to 1)", low=0.0, high=1.0,
             source="assumption (a third of browsers block third-party cookies or refuse consent)"),
)

#: Defaults of every parameter, as plain literals (what the notebook's ``parameters`` cell holds).
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMETERS}


@dataclass(frozen=True)
class TargetingScenario(CampaignFields):
    """A randomised two-arm campaign in the remarketing world, and how targeting models are judged.

    Build with :meth:`from_params`; :meth:`to_params` round-trips; :meth:`world` is the remarketing
    scenario that simulates it.
    """

    parameters = PARAMETERS
    #: In memory, the peak of a run grows by about 1,100 bytes per customer (measured at 0.1 and 0.4
    #: million; the learners' copies of the features included).
    memory = (("n_customers",), 2_000)

    margin: float
    first_touch_hours: float
    email_messages: int
    message_spacing_hours: float
    reactance: float
    peak_season: bool
    arm: str
    treated_share: float
    train_share: float
    learner: str
    other_learners: tuple[str, ...]
    folds: int
    policy_share: str
    offers: tuple[str, ...]
    offer_control_share: float
    offer_budget: float
    consent_loss: float

    @classmethod
    def check(cls, typed: dict[str, Any]) -> dict[str, Any]:
        """An incentive arm needs an incentive; enough customers per arm, part and fold; the world is valid
        (the first touch within the window)."""
        if typed["incentive"] == "none" and typed["arm"].endswith("_incentive"):
            raise ParameterError("arm", typed["arm"], "an arm without incentive when incentive is 'none'")
        smallest = min(typed["treated_share"], 1 - typed["treated_share"]) * min(
            typed["train_share"], 1 - typed["train_share"]) * typed["n_customers"]
        if smallest < 50 * typed["folds"]:
            raise ParameterError("n_customers", typed["n_customers"], "enough customers for at least 50 per "
                                 "arm, part and fold (more customers, fewer folds or more even shares)")
        if "discount" in typed["offers"] and typed["discount"] >= 1.0:
            raise ParameterError("discount", typed["discount"], "a depth from 0 to below 1 when the offers "
                                 "include a discount (a free product is not a discount offer)")
        cls._world(typed)
        return typed

    @classmethod
    def _world(cls, typed: dict[str, Any]) -> RemarketingScenario:
        base = RemarketingScenario.from_params(
            {name: RemarketingScenario.param(name).render(typed[name]) for name in WORLD})
        return targeting_scenario(base, arm=typed["arm"], treated_share=typed["treated_share"])

    def world(self) -> RemarketingScenario:
        """The remarketing scenario of the campaign: ``holdout`` against ``arm``, split ``treated_share``."""
        return self._world({name: getattr(self, name) for name in (*WORLD, "arm", "treated_share")})

    @property
    def learners(self) -> tuple[str, ...]:
        """The targeting learner first, then the others drawn beside it (each once)."""
        return tuple(dict.fromkeys((self.learner, *self.other_learners)))

    @property
    def fixed_share(self) -> float | None:
        """The share each ranking treats, or None when the training part chooses it (``auto``)."""
        return None if self.policy_share == "auto" else float(self.policy_share)
