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
together in :mod:`experiments.studies.targeting.numbers`; the words are in
:mod:`experiments.studies.targeting.words`; the tables and charts are here.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import polars as pl

from experiments.charts import uplift as uc
from experiments.formatting import fmt, money
from experiments.stats.srm import srm_test
from experiments.studies.base import Figure, Verdict
from experiments.studies.targeting import words
from experiments.studies.targeting.numbers import (
    DELAYS,
    OFFER_POLICIES,
    POLICIES,
    LearnerPolicy,
    PolicyResult,
    TargetingNumbers,
    measure,
    offer_settings,
    simulate,
)
from experiments.studies.targeting.scenario import TargetingScenario
from experiments.uplift_learners import LEARNER_NAMES

__all__ = [
    "DELAYS",
    "OFFER_POLICIES",
    "POLICIES",
    "LearnerPolicy",
    "PolicyResult",
    "TargetingResult",
    "result_from_table",
    "run",
]


@dataclass(frozen=True)
class TargetingResult(TargetingNumbers):
    """Everything the targeting report states, estimated on the evaluation part and checked against truth:
    the numbers, with the words, tables and charts."""

    # ------------------------------------------------------------------ the contract
    def verdict(self) -> Verdict:
        """Whom to treat: the uplift policy's profit per 1,000 with interval and truth, against the others."""
        return words.verdict(self)

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
        return words.assumptions(self)

    def data_checks(self) -> list[str]:
        """Part and arm sizes, and the sample-ratio test of the assignment."""
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

    # ------------------------------------------------------------------ which offer for whom
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
        persuadables, sure = (words.group_pct(self, p, g) for p, g in (
            ("uplift", "persuadables"), ("uplift", "sure things")))
        title = (f"The {self.learner_name} treats {persuadables} of persuadables and {sure} of sure things; "
                 f"likely-buyer targeting treats {words.group_pct(self, 'likely buyers', 'sure things')} of "
                 "sure things")
        return uc.picked_by_group(self.groups, title=title,
                                  subtitle="share of each uplift group of the evaluation part that each "
                                  "policy treats")

    def delay_chart(self) -> alt.LayerChart:
        """True profit of treating everyone against the first-touch delay."""
        d = self.delay
        first, last = d.row(0, named=True), d.row(d.height - 1, named=True)
        title = (f"The sooner the better: {money(first['profit'], 0)} per 1,000 with the first touch "
                 f"{words.hours(first['hours'])} after the visit, {money(last['profit'], 0)} after "
                 f"{words.hours(last['hours'])}")
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


def result_from_table(frame: pl.DataFrame, scenario: TargetingScenario, *, with_delay: bool = True,
                      with_offers: bool = True) -> TargetingResult:
    """Split, fit, rank and judge: everything :class:`TargetingResult` states, from a simulated table.

    ``frame`` is :func:`~experiments.simulate.targeting.simulate_targeting`'s table for ``scenario``;
    ``with_delay=False`` skips the first-touch curve (a separate simulation), leaving it empty
    (:func:`experiments.studies.targeting.numbers.measure`).
    """
    return measure(frame, scenario, TargetingResult, with_delay=with_delay, with_offers=with_offers)


def run(scenario: TargetingScenario) -> TargetingResult:
    """Simulate the randomised campaign, fit and judge the policies, and trace the first-touch curve."""
    return result_from_table(simulate(scenario), scenario)
