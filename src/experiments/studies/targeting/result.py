"""The targeting study: whom to remarket to, with what and when, judged against the simulated truth.

A randomised two-arm campaign (``arm`` against the holdout) is simulated in the remarketing world, whose
table carries every customer's true effect on profit. The customers are split at random into a
training part and an evaluation part:

- on the training part, each uplift learner is cross-fitted (``folds`` seeded folds) on the observed
  profit (margin net of the incentive, minus media cost); its out-of-fold scores choose the share of
  customers its ranking treats (the share with the highest inverse-propensity profit), and the mean of
  its fold models scores the evaluation part. A purchase-probability model, fitted on the training
  part's holdout customers, ranks the evaluation part by how likely each is to buy (the common practice);
- on the evaluation part, five policies are judged: treat everyone, treat nobody, treat the likeliest
  buyers, treat the highest predicted uplift (the same share), and the oracle (treat exactly the
  customers whose true effect on profit is positive). Each gets its inverse-propensity estimate of
  incremental profit per 1,000 customers with a 95% interval, next to its true value from the table.

Numbers come from :mod:`experiments.models.uplift` and :mod:`experiments.simulate.targeting`, put
together in :mod:`experiments.studies.targeting.numbers`; the prose (verdict, titles) lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

from experiments.charts import uplift as uc
from experiments.formatting import fmt, money
from experiments.scenarios.targeting import LEARNER_NAMES, TargetingScenario
from experiments.studies.base import Figure, Verdict
from experiments.studies.targeting.numbers import (
    DELAY_CUSTOMERS,
    DELAYS,
    OFFER_POLICIES,
    OFFER_WORDS,
    POLICIES,
    LearnerPolicy,
    OfferStudy,
    PolicyResult,
    measure,
    measure_offers,
    offer_settings,
)

__all__ = [
    "DELAYS",
    "OFFER_POLICIES",
    "POLICIES",
    "LearnerPolicy",
    "PolicyResult",
    "TargetingResult",
    "result_from_table",
    "run",
    "simulate_table",
]


@dataclass(frozen=True)
class TargetingResult:
    """Everything the targeting report states, estimated on the evaluation part and checked against truth."""

    scenario: TargetingScenario
    n_train: int
    n_eval: int
    arm_counts: dict[str, dict[str, int]]
    policies: dict[str, PolicyResult]
    learners: tuple[LearnerPolicy, ...]
    share_of_oracle: tuple[float, float, float]
    gap_to_likely: tuple[float, float, float]
    gap_to_everyone: tuple[float, float, float]
    qini: pl.DataFrame
    profit: pl.DataFrame
    groups: pl.DataFrame
    delay: pl.DataFrame
    oracle_qini: float
    offers: OfferStudy | None = None

    # ------------------------------------------------------------------ lookups
    @property
    def learner_name(self) -> str:
        """Readable name of the targeting learner."""
        return LEARNER_NAMES[self.scenario.learner]

    @property
    def uplift(self) -> PolicyResult:
        """The policy of the targeting learner."""
        return self.policies["uplift"]

    @property
    def true_share_of_oracle(self) -> float:
        """The uplift policy's true profit as a share of the oracle's."""
        o = self.policies["oracle"].truth
        return self.uplift.truth / o if o else float("nan")

    def _group_pct(self, policy: str, group: str) -> str:
        return fmt(self._group_share(policy, group), "pct", 0)

    def _group_share(self, policy: str, group: str) -> float:
        labels = {"uplift": f"uplift ({self.learner_name})", "likely buyers": "likeliest buyers"}
        label = labels.get(policy, policy)
        row = self.groups.filter((pl.col("policy") == label) & (pl.col("uplift_group") == group))
        return float(row["share_of_group"][0]) if row.height and row["share_of_group"][0] is not None else 0.0

    # ------------------------------------------------------------------ the contract
    def verdict(self) -> Verdict:
        """Whom to treat: the uplift policy's profit per 1,000 with interval and truth, against the others."""
        u, likely, everyone, oracle = (self.policies[p] for p in ("uplift", "likely buyers", "everyone",
                                                                   "oracle"))
        ci = f"95% CI {money(u.ci_low, 0)} to {money(u.ci_high, 0)}"
        if u.treated_share == 0:
            head = (f"Treat nobody: ranked by the {self.learner_name}'s predicted uplift, no share of "
                    f"customers earned more than it cost on the training part (treating everyone earns "
                    f"{money(everyone.estimate, 0)} per 1,000 customers, true value "
                    f"{money(everyone.truth, 0)}).")
        else:
            head = (f"Targeting the {fmt(u.treated_share, 'pct', 0)} with the highest predicted uplift earns "
                    f"{money(u.estimate, 0)} per 1,000 customers ({ci}; true value {money(u.truth, 0)}, "
                    f"{fmt(self.true_share_of_oracle, 'pct', 0)} of the best possible "
                    f"{money(oracle.truth, 0)}); targeting the likeliest buyers instead earns "
                    f"{money(likely.estimate, 0)} (true value {money(likely.truth, 0)}).")
        tone = "good" if u.ci_low > 0 else ("bad" if u.estimate <= 0 else "neutral")
        g, e, r = self.gap_to_likely, self.gap_to_everyone, self.share_of_oracle
        offer_lines = self.offer_sentences()
        if offer_lines:
            first = [f"One offer ({self.scenario.arm} against the holdout): {head}"]
            head, tone = offer_lines[0], self._offer_tone()
        else:
            first = []
        details = [
            *first,
            *offer_lines[1:],
            f"Ranking by purchase probability, the common practice, earns {money(g[0], 0)} less per 1,000 "
            f"customers than ranking by predicted uplift at the same share (95% CI {money(g[1], 0)} to "
            f"{money(g[2], 0)}; true gap {money(u.truth - likely.truth, 0)}): the likeliest buyers would buy "
            f"anyway, and the {self._incentive_words()} is paid on their orders too.",
            f"Treating everyone earns {money(everyone.estimate, 0)} per 1,000 (95% CI "
            f"{money(everyone.ci_low, 0)} to {money(everyone.ci_high, 0)}; true value "
            f"{money(everyone.truth, 0)}); targeting adds {money(e[0], 0)} to it (95% CI {money(e[1], 0)} to "
            f"{money(e[2], 0)}).",
            f"The oracle, treating the {fmt(oracle.treated_share, 'pct', 0)} whose true effect on profit is "
            f"positive, earns {money(oracle.truth, 0)} per 1,000 (estimated {money(oracle.estimate, 0)}); "
            f"the {self.learner_name}'s policy reaches {fmt(self.true_share_of_oracle, 'pct', 0)} of it "
            f"(estimated {fmt(r[0], 'pct', 0)}, 95% CI {fmt(r[1], 'pct', 0)} to {fmt(r[2], 'pct', 0)}).",
            f"The model treats {self._group_pct('uplift', 'persuadables')} of the persuadables and "
            f"{self._group_pct('uplift', 'sure things')} of the sure things; ranking by purchase probability "
            f"treats {self._group_pct('likely buyers', 'sure things')} of the sure things.",
            self.delay_sentence(),
        ]
        return Verdict(head, tone, tuple(d for d in details if d))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ which offer for whom
    def _offer_tone(self) -> str:
        o = self.offers
        assert o is not None
        m = o.policies["model"]
        return "good" if m.ci_low > 0 else ("bad" if m.estimate <= 0 else "neutral")

    def offer_sentences(self) -> list[str]:
        """Which offer to give whom and the money at stake; what each data source adds (first: verdict)."""
        o = self.offers
        if o is None:
            return []
        m, rule, every, likely, oracle = (o.policies[p] for p in OFFER_POLICIES)
        r = o.share_of_oracle
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
            f"Estimated share of the oracle: {fmt(r[0], 'pct', 0)} (95% CI {fmt(r[1], 'pct', 0)} to "
            f"{fmt(r[2], 'pct', 0)}).",
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
                         f"for {fmt(self.scenario.consent_loss, 'pct', 0)} of customers costs "
                         f"{money(c[0], 0)} per 1,000 (95% CI {money(c[1], 0)} to {money(c[2], 0)}; true "
                         f"{money(c[3], 0)}).")
        return lines

    def offer_assumptions(self) -> list[str]:
        """How the offer test is set up and what its offers do (every number an assumption)."""
        if self.offers is None:
            return []
        from experiments.simulate.offers import CODE_COST, DYNAMIC_AD_COST, REMINDER_COST

        s = self.scenario
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

    def offer_table(self) -> pl.DataFrame:
        """The offer policies: whom they treat with what, spend, estimate with interval, truth."""
        o = self.offers
        assert o is not None
        oracle = o.policies["oracle"].truth
        rows = []
        for name in OFFER_POLICIES:
            p = o.policies[name]
            rows.append({
                "policy": p.label,
                "offers given": ", ".join(f"{_SHORT[k]} {fmt(n / o.n_eval, 'pct', 0)}"
                                          for k, n in p.by_offer.items() if n) or "none",
                "spend (true)": money(p.true_spend, 0),
                "profit (95% interval)": f"{money(p.estimate, 0)} ({money(p.ci_low, 0)} "
                                         f"to {money(p.ci_high, 0)})",
                "true": money(p.truth, 0), "holds truth": "yes" if p.covered else "no",
                "of oracle": fmt(p.truth / oracle, "pct", 0) if oracle else "n/a",
            })
        return pl.DataFrame(rows)

    def data_table(self) -> pl.DataFrame:
        """What each data source adds to the model policy's profit, and what losing browsing data costs."""
        o = self.offers
        assert o is not None
        rows = [{"features": d.features,
                 "profit per 1,000 (95% interval)": f"{money(d.policy.estimate, 0)} "
                                                    f"({money(d.policy.ci_low, 0)} to "
                                                    f"{money(d.policy.ci_high, 0)})",
                 "true": money(d.policy.truth, 0),
                 "added by this source (95% interval)": f"{money(d.added[0], 0)} ({money(d.added[1], 0)} to "
                                                        f"{money(d.added[2], 0)})",
                 "added, true": money(d.true_added, 0)} for d in o.data]
        if o.data:
            c = o.consent
            rows.append({"features": f"all, browsing lost for {fmt(self.scenario.consent_loss, 'pct', 0)}",
                         "profit per 1,000 (95% interval)": "", "true": "",
                         "added by this source (95% interval)": f"{money(-c[0], 0)} ({money(-c[2], 0)} to "
                                                                f"{money(-c[1], 0)})",
                         "added, true": money(-c[3], 0)})
        return pl.DataFrame(rows)

    def budget_chart(self) -> alt.LayerChart:
        """The model policy's profit as the budget grows, estimated and true, beside the oracle's."""
        o = self.offers
        assert o is not None
        c = o.curve
        at = c.filter(pl.col("budget") <= o.budget).tail(1).row(0, named=True)
        top = float(c["estimate"].max())
        enough = c.filter(pl.col("estimate") >= 0.98 * top)["budget"].min() if top > 0 else 0.0
        title = (f"At {money(o.budget, 0)} per 1,000 the model's offers earn {money(at['truth'], 0)} (true), "
                 f"the oracle {money(at['oracle'], 0)}; past about {money(float(enough), 0)} more budget "
                 "buys little")
        return uc.budget_curve(c, title=title, chosen_budget=o.budget,
                               subtitle="incremental profit per 1,000 customers of the evaluation part as "
                               "the spend on offers grows: estimated (95% band), true, and the oracle's true")

    def _incentive_words(self) -> str:
        s = self.scenario
        if not s.arm.endswith("_incentive"):
            return "media cost"
        return {"discount": "discount", "free_shipping": "free shipping"}.get(s.incentive, "incentive")

    def delay_sentence(self) -> str:
        """When to touch, from the true profit of treating everyone at each first-touch delay."""
        d = self.delay
        if d.height == 0:
            return ""
        first, last = d.row(0, named=True), d.row(d.height - 1, named=True)
        day = d.filter(pl.col("hours") == 24.0)
        later = f", {money(day['profit'][0], 0)} a day later" if day.height else ""
        return (f"When: treating everyone earns {money(first['profit'], 0)} per 1,000 (true value) with the "
                f"first touch {_hours(first['hours'])} after the visit{later} and {money(last['profit'], 0)} "
                f"after {_hours(last['hours'])}: the reminder fades, so the first touch should come early.")

    def figures(self) -> tuple[Figure, ...]:
        """Each policy's profit per 1,000 (estimate, interval, truth), share of the oracle, propensity gap."""
        out = [Figure("policy_profit", f"Incremental profit per 1,000 customers ({p.label})", p.estimate,
                      p.ci_low, p.ci_high, p.truth, "$", group=p.policy)
               for p in (self.policies[name] for name in POLICIES)]
        r, g = self.share_of_oracle, self.gap_to_likely
        out.append(Figure("share_of_oracle", "Uplift policy's profit as a share of the oracle's", r[0], r[1],
                          r[2], self.true_share_of_oracle, "%"))
        if self.offers is not None:
            o = self.offers
            out.extend(Figure("offer_policy_profit", f"Incremental profit per 1,000 customers ({p.label})",
                              p.estimate, p.ci_low, p.ci_high, p.truth, "$", group=p.policy)
                       for p in (o.policies[name] for name in OFFER_POLICIES))
            q = o.share_of_oracle
            out.append(Figure("offer_policy_share_of_oracle", "Best-offer policy's profit as a share of the "
                              "oracle's", q[0], q[1], q[2], o.true_share_of_oracle, "%"))
        out.append(Figure("gap_to_likely_buyers", "Uplift policy minus likeliest buyers, per 1,000 customers",
                          g[0], g[1], g[2], self.uplift.truth - self.policies["likely buyers"].truth, "$"))
        return tuple(out)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        out = {"policies": self.policy_table(), "learners": self.learner_table(),
               "groups": self.group_table()}
        if self.offers is not None:
            out = {"offers": self.offer_table(), "value_of_data": self.data_table(), **out}
        return out

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        out = {"qini": self.qini_chart(), "profit": self.profit_chart(), "groups": self.groups_chart(),
               "delay": self.delay_chart()}
        if self.offers is not None:
            out = {"budget": self.budget_chart(), **out}
        return out

    def assumptions(self) -> list[str]:
        """How the study is set up, and what the world assumes."""
        from experiments.studies.remarketing.words import assumptions as world_assumptions

        s = self.scenario
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
            f"Split: {self.n_train:,} customers to learn from, {self.n_eval:,} to judge the policies; no "
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
            *self.offer_assumptions(),
            *world_assumptions(s.world()),
        ]

    def data_checks(self) -> list[str]:
        """Part and arm sizes, and the sample-ratio test of the assignment."""
        from experiments.stats.srm import srm_test

        s = self.scenario
        lines = []
        for part, counts in self.arm_counts.items():
            srm = srm_test(counts, {s.arm: s.treated_share, "holdout": 1 - s.treated_share})
            status = "ARM SIZES DO NOT MATCH the shares" if srm.mismatch else "arm sizes match the shares"
            lines.append(f"{part} part: " + ", ".join(f"{a} {n:,}" for a, n in counts.items())
                         + f"; {status} (p = {srm.p_value:.3f}).")
        if self.offers is not None:
            o = self.offers
            shares = dict(zip(("control", *o.offers), offer_settings(s).shares, strict=True))
            srm = srm_test(o.arm_counts, shares)
            status = "ARM SIZES DO NOT MATCH the shares" if srm.mismatch else "arm sizes match the shares"
            arms = ", ".join(f"{a} {n:,}" for a, n in o.arm_counts.items())
            lines.append(f"offer test, evaluation part: {arms}; {status} (p = {srm.p_value:.3f}).")
        lines.append("Uplift groups in the evaluation part: " + ", ".join(
            f"{g} {n:,}" for g, n in self.group_sizes().items()) + ".")
        return lines

    # ------------------------------------------------------------------ tables
    def group_sizes(self) -> dict[str, int]:
        """Customers of each uplift group in the evaluation part."""
        rows = self.groups.filter(pl.col("policy") == "oracle")
        return {g: int(n) for g, n in zip(rows["uplift_group"], rows["customers"], strict=True)}

    def policy_table(self) -> pl.DataFrame:
        """The five policies: share treated, estimate with interval, truth, share of the oracle."""
        oracle = self.policies["oracle"].truth
        rows = []
        for name in POLICIES:
            p = self.policies[name]
            rows.append({
                "policy": p.label, "share treated": fmt(p.treated_share, "pct", 1),
                "estimated (95% interval)": f"{money(p.estimate, 0)} ({money(p.ci_low, 0)} to "
                                            f"{money(p.ci_high, 0)})",
                "true": money(p.truth, 0), "interval holds truth": "yes" if p.covered else "no",
                "share of the oracle (true)": fmt(p.truth / oracle, "pct", 0) if oracle else "n/a",
            })
        return pl.DataFrame(rows)

    def learner_table(self) -> pl.DataFrame:
        """Each learner's Qini coefficient and the policy its ranking gives, against the truth."""
        oracle = self.policies["oracle"].truth
        rows = []
        for lp in self.learners:
            p = lp.policy
            rows.append({
                "learner": LEARNER_NAMES[lp.learner] + (" (targets)" if lp.learner == self.scenario.learner
                                                         else ""),
                "Qini coefficient": fmt(lp.qini, "number", 3), "share treated": fmt(lp.share, "pct", 0),
                "estimated profit (95% interval)": f"{money(p.estimate, 0)} ({money(p.ci_low, 0)} to "
                                                   f"{money(p.ci_high, 0)})",
                "true profit": money(p.truth, 0),
                "share of the oracle (true)": fmt(p.truth / oracle, "pct", 0) if oracle else "n/a",
            })
        return pl.DataFrame(rows)

    def group_table(self) -> pl.DataFrame:
        """Share of each uplift group that each policy treats."""
        wide = self.groups.with_columns(pl.col("share_of_group").fill_null(0.0)).pivot(
            on="policy", index=["uplift_group", "customers"], values="share_of_group")
        return wide.with_columns(pl.col(c).map_batches(_pct_column, return_dtype=pl.String)
                                 for c in wide.columns[2:]).rename({"uplift_group": "uplift group"})

    # ------------------------------------------------------------------ charts
    def qini_chart(self) -> alt.Chart:
        """Qini curves of every learner beside the oracle's and random, on the evaluation part."""
        best = max(self.learners, key=lambda lp: lp.qini)
        oracle_q = self.oracle_qini
        title = (f"The {LEARNER_NAMES[best.learner]}'s ranking comes closest to the oracle's (Qini "
                 f"coefficient {best.qini:.3f} against {oracle_q:.3f})")
        return uc.qini_curves(
            self.qini, title=title, y_title="incremental profit per 1,000 customers ($)",
            subtitle="incremental profit among the first share of the evaluation part, ranked by each "
            "learner's predicted uplift, by the true effect (oracle) and at random")

    def profit_chart(self) -> alt.LayerChart:
        """Estimated (with interval) and true profit against the share treated, per ranking."""
        true = self.profit.filter(pl.col("kind") == "true")
        peak = {}
        for ranking in ("predicted uplift", "purchase probability"):
            rows = true.filter(pl.col("ranking") == ranking).sort("profit", descending=True)
            peak[ranking] = rows.row(0, named=True)
        u, lk = peak["predicted uplift"], peak["purchase probability"]
        likely = (f"by purchase probability, only by treating everyone ({money(lk['profit'], 0)})"
                  if lk["share"] >= 0.995 else
                  f"by purchase probability, at {money(lk['profit'], 0)} treating "
                  f"{fmt(lk['share'], 'pct', 0)}")
        title = (f"Ranked by predicted uplift, true profit peaks at {money(u['profit'], 0)} per 1,000 "
                 f"treating {fmt(u['share'], 'pct', 0)}; ranked {likely}")
        return uc.profit_by_share(
            self.profit, title=title, chosen_share=self.uplift.treated_share,
            subtitle="incremental profit per 1,000 customers of the evaluation part: estimated (95% band) "
            "and true; the dotted rule is the share the uplift policy treats")

    def groups_chart(self) -> alt.Chart:
        """Share of each uplift group each policy treats."""
        title = (f"The {self.learner_name} treats {self._group_pct('uplift', 'persuadables')} of "
                 f"persuadables and {self._group_pct('uplift', 'sure things')} of sure things; likely-buyer "
                 f"targeting treats {self._group_pct('likely buyers', 'sure things')} of sure things")
        return uc.picked_by_group(self.groups, title=title,
                                  subtitle="share of each uplift group of the evaluation part that each "
                                  "policy treats")

    def delay_chart(self) -> alt.LayerChart:
        """True profit of treating everyone against the first-touch delay."""
        d = self.delay
        first, last = d.row(0, named=True), d.row(d.height - 1, named=True)
        title = (f"The sooner the better: {money(first['profit'], 0)} per 1,000 with the first touch "
                 f"{_hours(first['hours'])} after the visit, {money(last['profit'], 0)} after "
                 f"{_hours(last['hours'])}")
        return uc.profit_by_delay(d, title=title, chosen_hours=self.scenario.first_touch_hours,
                                  subtitle="true incremental profit per 1,000 customers of treating "
                                  "everyone; the dotted rule is the scenario's delay")

    def headline_text(self) -> str:
        """Rounded headline numbers (what the notebook's check cell prints)."""
        lines = []
        for name in POLICIES:
            p = self.policies[name]
            lines.append(f"{name}: share {p.treated_share:.2f} profit {p.estimate:+.0f} [{p.ci_low:.0f}, "
                         f"{p.ci_high:.0f}] truth {p.truth:+.0f}")
        lines.append(f"share of oracle (true) {self.true_share_of_oracle:.2f}")
        if self.offers is not None:
            o = self.offers
            lines.append(f"offer policy: profit {o.policies['model'].estimate:+.0f} truth "
                         f"{o.policies['model'].truth:+.0f} share of oracle (true) "
                         f"{o.true_share_of_oracle:.2f}")
        return "\n".join(lines)


_SHORT = {"reminder": "reminder", "dynamic_ad": "ad", "discount": "discount", "free_shipping": "shipping"}


def _pct_column(s: pl.Series) -> pl.Series:
    return pl.Series([fmt(v, "pct", 0) for v in s.to_list()], dtype=pl.String)


def _hours(h: float) -> str:
    if h == 0:
        return "right"
    if h < 48 or h % 24:
        return f"{h:g} hour{'s' if h != 1 else ''}"
    return f"{h / 24:g} days"


def result_from_table(frame: pl.DataFrame, scenario: TargetingScenario, *, with_delay: bool = True,
                      with_offers: bool = True) -> TargetingResult:
    """Split, fit, rank and judge: everything :class:`TargetingResult` states, from a simulated table.

    ``frame`` is :func:`~experiments.simulate.targeting.simulate_targeting`'s table for ``scenario``;
    ``with_delay=False`` skips the first-touch curve (a separate simulation), leaving it empty
    (:func:`experiments.studies.targeting.numbers.measure`).
    """
    offers = measure_offers(scenario) if with_offers else None
    return TargetingResult(**measure(frame, scenario, with_delay=with_delay), offers=offers)


def run(scenario: TargetingScenario) -> TargetingResult:
    """Simulate the randomised campaign, fit and judge the policies, and trace the first-touch curve."""
    return result_from_table(simulate_table(scenario), scenario)


def simulate_table(scenario: TargetingScenario, **options: Any) -> pl.DataFrame:
    from experiments.simulate.targeting import simulate_targeting

    return simulate_targeting(scenario.world(), arm=scenario.arm, treated_share=scenario.treated_share,
                              **options)
