"""The targeting study's words: whom to treat, when to touch, and what the study assumes, from
:class:`~experiments.studies.targeting.numbers.TargetingNumbers`."""

from __future__ import annotations

import polars as pl

from experiments.formatting import fmt, money
from experiments.studies.base import Verdict
from experiments.studies.campaign_world import world_assumptions
from experiments.studies.targeting.numbers import DELAY_CUSTOMERS, TargetingNumbers
from experiments.studies.targeting.scenario import LEARNER_NAMES

__all__ = ["assumptions", "delay_sentence", "group_pct", "hours", "incentive_words", "verdict"]


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
    details = [
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
