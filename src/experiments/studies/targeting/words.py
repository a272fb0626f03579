"""The targeting study's words: whom to treat, when to touch, and what the study assumes, from
:class:`~experiments.studies.targeting.numbers.TargetingNumbers`."""

from __future__ import annotations

import polars as pl

from experiments.formatting import fmt, money
from experiments.simulate.offers import CODE_COST, DYNAMIC_AD_COST, REMINDER_COST
from experiments.studies.base import Verdict
from experiments.studies.campaign_world import world_assumptions
from experiments.studies.targeting.numbers import (
    DELAY_CUSTOMERS,
    OFFER_POLICIES,
    OFFER_WORDS,
    TargetingNumbers,
)
from experiments.uplift_learners import LEARNER_NAMES

__all__ = [
    "assumptions", "delay_sentence", "group_pct", "hours", "incentive_words", "offer_assumptions",
    "offer_sentences", "verdict",
]


def verdict(r: TargetingNumbers) -> Verdict:
    """Whom to treat: the uplift policy's profit per 1,000 with interval and truth, against the others."""
    u, likely, everyone, oracle = (r.policies[p] for p in ("uplift", "likely buyers", "everyone", "oracle"))
    ci = f"95% CI {money(u.ci_low, 0)} to {money(u.ci_high, 0)}"
    if u.treated_share == 0:
        head = (f"Treat nobody: ranked by the {r.learner_name}'s predicted uplift, no share of "
                f"customers earned more than it cost on the training part (treating everyone earns "
                f"{money(everyone.estimate, 0)} per 1,000 customers, true value "
                f"{money(everyone.truth, 0)}).")
    else:
        head = (f"Targeting the {fmt(u.treated_share, 'pct', 0)} with the highest predicted uplift earns "
                f"{money(u.estimate, 0)} per 1,000 customers ({ci}; true value {money(u.truth, 0)}, "
                f"{fmt(r.true_share_of_oracle, 'pct', 0)} of the best possible "
                f"{money(oracle.truth, 0)}); targeting the likeliest buyers instead earns "
                f"{money(likely.estimate, 0)} (true value {money(likely.truth, 0)}).")
    tone = "good" if u.ci_low > 0 else ("bad" if u.estimate <= 0 else "neutral")
    g, e, so = r.gap_to_likely, r.gap_to_everyone, r.share_of_oracle
    offer_lines = offer_sentences(r)
    first: list[str] = []
    if offer_lines and r.offers is not None:  # which offer for whom leads; the one-arm answer follows
        first = [f"One offer ({r.scenario.arm} against the holdout): {head}"]
        m = r.offers.policies["model"]
        head, tone = offer_lines[0], "good" if m.ci_low > 0 else ("bad" if m.estimate <= 0 else "neutral")
    details = [
        *first,
        *offer_lines[1:],
        f"Ranking by purchase probability, the common practice, earns {money(g[0], 0)} less per 1,000 "
        f"customers than ranking by predicted uplift at the same share (95% CI {money(g[1], 0)} to "
        f"{money(g[2], 0)}; true gap {money(u.truth - likely.truth, 0)}): the likeliest buyers would buy "
        f"anyway, and the {incentive_words(r)} is paid on their orders too.",
        f"Treating everyone earns {money(everyone.estimate, 0)} per 1,000 (95% CI "
        f"{money(everyone.ci_low, 0)} to {money(everyone.ci_high, 0)}; true value "
        f"{money(everyone.truth, 0)}); targeting adds {money(e[0], 0)} to it (95% CI {money(e[1], 0)} to "
        f"{money(e[2], 0)}).",
        f"The oracle, treating the {fmt(oracle.treated_share, 'pct', 0)} whose true effect on profit is "
        f"positive, earns {money(oracle.truth, 0)} per 1,000 (estimated {money(oracle.estimate, 0)}); "
        f"the {r.learner_name}'s policy reaches {fmt(r.true_share_of_oracle, 'pct', 0)} of it "
        f"(estimated {fmt(so[0], 'pct', 0)}, 95% CI {fmt(so[1], 'pct', 0)} to {fmt(so[2], 'pct', 0)}).",
        f"The model treats {group_pct(r, 'uplift', 'persuadables')} of the persuadables and "
        f"{group_pct(r, 'uplift', 'sure things')} of the sure things; ranking by purchase probability "
        f"treats {group_pct(r, 'likely buyers', 'sure things')} of the sure things.",
        delay_sentence(r),
    ]
    return Verdict(head, tone, tuple(d for d in details if d))  # type: ignore[arg-type]


def incentive_words(r: TargetingNumbers) -> str:
    """What the treated arm costs on an order, in words."""
    s = r.scenario
    if not s.arm.endswith("_incentive"):
        return "media cost"
    return {"discount": "discount", "free_shipping": "free shipping"}.get(s.incentive, "incentive")


def delay_sentence(r: TargetingNumbers) -> str:
    """When to touch, from the true profit of treating everyone at each first-touch delay."""
    d = r.delay
    if d.height == 0:
        return ""
    first, last = d.row(0, named=True), d.row(d.height - 1, named=True)
    day = d.filter(pl.col("hours") == 24.0)
    later = f", {money(day['profit'][0], 0)} a day later" if day.height else ""
    return (f"When: treating everyone earns {money(first['profit'], 0)} per 1,000 (true value) with the "
            f"first touch {hours(first['hours'])} after the visit{later} and {money(last['profit'], 0)} "
            f"after {hours(last['hours'])}: the reminder fades, so the first touch should come early.")


def assumptions(r: TargetingNumbers) -> list[str]:
    """How the study is set up, and what the world assumes."""
    s = r.scenario
    share = ("the share with the highest inverse-propensity profit of its out-of-fold scores on the "
             "training part" if s.fixed_share is None else f"{fmt(s.fixed_share, 'pct', 0)} (set)")
    return [
        f"Arm: {s.arm} against the holdout. At the world's defaults a dynamic ad without incentive pays "
        "on nearly everyone, so treating everyone is close to the best; the discount also pays buyers "
        "who would have bought anyway and puts some customers off, so whom to treat decides whether "
        "it pays. That is where targeting matters, so the incentive arm is the default.",
        "Target: profit per customer, the order margin net of the incentive minus the media cost (zero "
        "for the holdout), so a model learns the discount's cost on sure things as well as the "
        "purchases it adds.",
        f"Split: {r.n_train:,} customers to learn from, {r.n_eval:,} to judge the policies; no "
        "policy is judged on a customer its models saw.",
        f"Learners: {', '.join(LEARNER_NAMES[n] for n in s.learners)} on histogram gradient boosting, "
        f"each cross-fitted on the training part ({s.folds} folds, seeded); the evaluation part is "
        "scored by the mean of the fold models. Likeliest buyers: gradient boosting of purchase on the "
        "training part's holdout customers (probability to buy without the campaign).",
        f"Share treated by each ranking: {share}; the likeliest-buyer ranking treats the same share as "
        "the uplift ranking, so both spend the same budget of customers.",
        f"Estimates: inverse-propensity weighting on the randomised evaluation part (known propensity "
        f"{s.treated_share:g}), 95% normal intervals; differences and the share of the oracle are "
        "paired on the same customers (delta method for the ratio).",
        "True values: the sum of the treated customers' true expected effects on profit (the "
        "simulator's CATE), per 1,000 customers of the evaluation part. The oracle treats exactly the "
        "customers whose true effect is positive: no policy can earn more.",
        "Uplift groups (persuadable, sure thing, lost cause, do-not-disturb) compare each customer's "
        "purchase with and without the campaign in one draw of the simulator.",
        f"The first-touch curve treats everyone, {min(s.n_customers, DELAY_CUSTOMERS):,} simulated "
        "customers with the same random numbers at every delay.",
        *offer_assumptions(r),
        *world_assumptions(s.world()),
    ]


def group_pct(r: TargetingNumbers, policy: str, group: str) -> str:
    """The share of the uplift ``group`` that ``policy`` treats, as a percentage."""
    return fmt(r.group_share(policy, group), "pct", 0)


def hours(h: float) -> str:
    """A delay in words: ``right``, hours, or days from 48 hours on."""
    if h == 0:
        return "right"
    if h < 48 or h % 24:
        return f"{h:g} hour{'s' if h != 1 else ''}"
    return f"{h / 24:g} days"


def offer_sentences(r: TargetingNumbers) -> list[str]:
    """Which offer to give whom and the money at stake; what each data source adds (first: verdict)."""
    o = r.offers
    if o is None:
        return []
    m, rule, every, likely, oracle = (o.policies[p] for p in OFFER_POLICIES)
    so = o.share_of_oracle
    per_offer = ", ".join(f"{OFFER_WORDS[k]} to {fmt(n / o.n_eval, 'pct', 0)}"
                          for k, n in m.by_offer.items() if n)
    head = (f"Give each customer the offer the uplift model picks ({per_offer or 'nobody'}; "
            f"{money(o.budget, 0)} budget per 1,000 customers): it earns {money(m.estimate, 0)} "
            "per 1,000 "
            f"(95% CI {money(m.ci_low, 0)} to {money(m.ci_high, 0)}; true value {money(m.truth, 0)}, "
            f"{fmt(o.true_share_of_oracle, 'pct', 0)} of the oracle's {money(oracle.truth, 0)}), against "
            f"{money(rule.estimate, 0)} for the best one-line rule ({o.rule}) and "
            f"{money(every.estimate, 0)} for giving everyone the {OFFER_WORDS[o.single_offer]}.")
    g = o.gap_to_rule
    lines = [
        head,
        f"The model's offers earn {money(g[0], 0)} per 1,000 more than the segment rule (95% CI "
        f"{money(g[1], 0)} to {money(g[2], 0)}; true gap {money(m.truth - rule.truth, 0)}); "
        f"the {likely.label} earns {money(likely.estimate, 0)} (true value {money(likely.truth, 0)}): "
        "a discount or free shipping is also paid on purchases that would have happened anyway. "
        f"Estimated share of the oracle: {fmt(so[0], 'pct', 0)} (95% CI {fmt(so[1], 'pct', 0)} to "
        f"{fmt(so[2], 'pct', 0)}).",
    ]
    if o.data:
        parts = [f"{o.data[0].features} alone earns {money(o.data[0].added[0], 0)} per 1,000 (true "
                 f"{money(o.data[0].true_added, 0)})"]
        for step in o.data[1:]:
            word = step.features.removeprefix("plus ")
            parts.append(f"{word} adds {money(step.added[0], 0)} (95% CI {money(step.added[1], 0)} to "
                         f"{money(step.added[2], 0)}; true {money(step.true_added, 0)})")
        c = o.consent
        lines.append(f"What data is worth: {'; '.join(parts)}. Losing browsing data (cookies or consent) "
                     f"for {fmt(r.scenario.consent_loss, 'pct', 0)} of customers costs "
                     f"{money(c[0], 0)} per 1,000 (95% CI {money(c[1], 0)} to {money(c[2], 0)}; true "
                     f"{money(c[3], 0)}).")
    return lines

def offer_assumptions(r: TargetingNumbers) -> list[str]:
    """How the offer test is set up and what its offers do (every number an assumption)."""
    if r.offers is None:
        return []

    s = r.scenario
    return [
        "Offers (assumptions): a reminder e-mail (" + money(REMINDER_COST, 2) + " each) lifts the chance "
        "that a customer who would not buy does by about 5 points times the intent of the last funnel "
        "stage, for those opted in to e-mail; a dynamic ad (" + money(DYNAMIC_AD_COST, 2) + " of "
        "impressions per cookie-matched customer) by about 9 points times personalisation, more for "
        "younger customers, and puts off those who bought in the last 30 days (15% less likely to "
        f"buy); a discount of {fmt(s.discount, 'pct', 0)} by 25 points x (1 - exp(-5 x depth)) x price "
        "sensitivity; free shipping by 25 points x fee / (fee + 10% of the order) x a regional factor. "
        f"A discount or free shipping code costs {money(CODE_COST, 2)} to send and is paid on every "
        "purchase, including those that would have happened anyway.",
        f"Offer test: {fmt(s.offer_control_share, 'pct', 0)} of customers get no offer, the rest are "
        f"split evenly among {', '.join(OFFER_WORDS[o] for o in s.offers)}; the same training and "
        "evaluation split as above (its own random draw).",
        "Offer model: a cross-fitted S-learner (gradient boosting of purchase on the features and the "
        "arm) predicts each customer's purchase under every arm, a regression of order value among "
        "buyers their basket; with the offers' terms these give each offer's expected incremental profit "
        "and spend. Each customer gets the offer with the highest positive predicted profit; within the "
        f"budget ({money(s.offer_budget, 0)} per 1,000 customers) customers are taken by predicted "
        "profit per dollar of spend.",
        "Offer estimates: doubly robust (the model's predictions plus inverse-propensity corrections) on "
        "the randomised evaluation part, 95% normal intervals; differences and the share of the oracle "
        "are paired on the same customers. True values: the sum of the assigned offers' true expected "
        "effects. The segment rule is the best of every offer to customers meeting one or two "
        "conditions, chosen on the training part within the budget.",
        "Value of data: the offer model refitted on purchase history (segment, recency, orders, revenue, "
        "price sensitivity, e-mail opt-in), then with browsing (audience, funnel stage, cart, device, "
        "cookie match), then with demographics (age, region); losing browsing data sets those features "
        f"missing for a random {fmt(s.consent_loss, 'pct', 0)} of customers.",
    ]
