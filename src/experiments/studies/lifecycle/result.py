"""The lifecycle study's result: the frozen numbers with their tables, charts, truth and words, and
``run``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from experiments.charts import lifecycle as charts
from experiments.formatting import fmt, money
from experiments.studies.base import Figure, Verdict
from experiments.studies.lifecycle import numbers, words
from experiments.studies.lifecycle.scenario import LifecycleScenario

if TYPE_CHECKING:
    import altair as alt

__all__ = ["LifecycleResult", "run"]


@dataclass(frozen=True)
class LifecycleResult:
    """Every lever's short and long read, the next budget's return by route, which levers move
    purchases in time, and the long run projected from the short test, each beside the truth."""

    scenario: LifecycleScenario
    reads: pl.DataFrame
    acquisition: pl.DataFrame
    returns: tuple[numbers.MarginalReturn, ...]
    projection: pl.DataFrame
    acquisition_cost: float
    retention_cost: float
    n_customers: int
    n_referred: int

    @property
    def long_label(self) -> str:
        """The long read's span in words."""
        return f"{self.scenario.campaign_weeks + self.scenario.long_weeks} weeks"

    def _value(self, horizon: str) -> pl.DataFrame:
        return self.reads.filter((pl.col("measure") == "value") & (pl.col("horizon") == horizon))

    # ------------------------------------------------------------------ the contract
    def verdict(self) -> Verdict:
        """Where the next budget earns most, and which campaigns only move purchases in time."""
        s = self.scenario
        head, tone, details = words.verdict_text(self.returns, self.timing_table(),
                                                 long_label=self.long_label, long_weeks=s.long_weeks)
        short, long = self.short_pick(), self.long_pick()
        pick = (f"Deciding on the {s.campaign_weeks}-week read would pick {short.replace('_', ' ')}; the "
                f"long read picks {long[0].replace('_', ' ')} and the truth {long[1].replace('_', ' ')} "
                "(the value per customer of each lever's arm against its holdout).")
        err = self.projection_errors()
        project = (f"Projecting the long run from the short test (BG/NBD and Gamma-Gamma) misses each arm's "
                   f"value by a median {fmt(err['others'], 'pct')} for the levers without forward buying and "
                   f"{fmt(err['discount'], 'pct')} for the discount's arms; effects, a small difference of "
                   "two values, miss more: "
                   + self.worst_projection_words() + ".")
        ratio = (f"Acquiring a customer costs {money(self.acquisition_cost)} on average; the retention "
                 f"levers cost {money(self.retention_cost)} per customer they reach: a ratio of "
                 f"{self.cost_ratio:.0f} to 1, and yet the next dollar's return, not this ratio, says where "
                 "to put it.")
        return Verdict(head, tone, (*details, pick, project, ratio))

    def figures(self) -> tuple[Figure, ...]:
        """Each lever's short- and long-run value per customer, and the next budget's return by route."""
        out = []
        reads = (("short_run_value", "short", "Value per customer over the campaign"),
                 ("long_run_value", "long", f"Value per customer over {self.long_label}"))
        for name, horizon, label in reads:
            for r in self._value(horizon).iter_rows(named=True):
                out.append(Figure(name, f"{label}, {r['lever'].replace('_', ' ')} arm minus holdout",
                                  r["estimate"], r["ci_low"], r["ci_high"], r["truth"], "$", r["lever"]))
        for m in self.returns:
            out.append(Figure("marginal_return", f"Margin back from the next {money(m.budget, 0)} on "
                              f"{words.route_label(m)}", m.estimate,
                              m.ci_low, m.ci_high, m.truth, "$", m.route))
        return tuple(out)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        return {"levers": self.lever_table(), "marginal_returns": self.returns_table(),
                "acquisition": self.acquisition, "timing": self.timing_table(),
                "projection": self.projection_table()}

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        return {"lever_reads": self.lever_chart(), "marginal_returns": self.returns_chart(),
                "purchase_timing": self.timing_chart(), "projection": self.projection_chart()}

    def assumptions(self) -> list[str]:
        """What the simulation and the analysis assume."""
        return words.assumptions(self.scenario.source_costs())

    def data_checks(self) -> list[str]:
        """Arm sizes, in words."""
        lines = [f"{self.n_customers:,} acquired customers in the experiment, {self.n_referred:,} referred "
                 "customers on top (not randomised)."]
        for r in self._value("short").iter_rows(named=True):
            lines.append(f"{r['lever'].replace('_', ' ')}: {r['n_arm']:,} in the arm, {r['n_holdout']:,} "
                         "in the holdout.")
        return lines

    # ------------------------------------------------------------------ derived numbers
    @property
    def cost_ratio(self) -> float:
        """Average cost of acquiring a customer over the retention levers' spend per customer reached."""
        return self.acquisition_cost / self.retention_cost if self.retention_cost > 0 else float("inf")

    def short_pick(self) -> str:
        """The lever with the highest short read."""
        return self._value("short").sort("estimate")["lever"][-1]

    def long_pick(self) -> tuple[str, str]:
        """The lever with the highest long read, and the one with the highest true long-run value."""
        long = self._value("long")
        return long.sort("estimate")["lever"][-1], long.sort("truth")["lever"][-1]

    def projection_errors(self) -> dict[str, float]:
        """Median absolute error of the projected arm values: the discount's arms and the others'."""
        p = self.projection
        return {"discount": float(p.filter(pl.col("lever") == "discount")["error"].median()),
                "others": float(p.filter(pl.col("lever") != "discount")["error"].median())}

    def worst_projection_words(self) -> str:
        """The lever whose projected long-run effect misses its truth most, in words."""
        p = (self.projection.filter(pl.col("side") == "on")
             .with_columns(miss=(pl.col("projected_effect") - pl.col("true_effect")).abs()).sort("miss"))
        r = p.row(-1, named=True)
        return (f"the {r['lever'].replace('_', ' ')} lever's long-run effect is projected at "
                f"{money(r['projected_effect'])} per customer against a true {money(r['true_effect'])}")

    # ------------------------------------------------------------------ tables and charts
    def lever_table(self) -> pl.DataFrame:
        """Each lever's short and long read (value per customer, arm minus holdout, $) with the truth."""
        short = self._value("short").select("lever", short_read="estimate", short_low="ci_low",
                                            short_high="ci_high", short_truth="truth")
        long = self._value("long").select("lever", long_read="estimate", long_low="ci_low",
                                          long_high="ci_high", long_truth="truth", spend_per_customer="spend")
        return short.join(long, on="lever", maintain_order="left")

    def returns_table(self) -> pl.DataFrame:
        """The next budget's return by route, with the truth and the net after the budget."""
        return pl.DataFrame([m.to_dict() for m in self.returns])

    def timing_table(self) -> pl.DataFrame:
        """Purchases per customer during the campaign, after it and over the long run, by lever."""
        return words.timing(self.reads)

    def projection_table(self) -> pl.DataFrame:
        """Each arm's projected and true long-run value, the error, and the projected and true effect."""
        return self.projection

    def lever_chart(self) -> alt.LayerChart:
        """Short and long reads with the truth."""
        short, (long, _) = self.short_pick(), self.long_pick()
        frame = self.reads.filter((pl.col("measure") == "value") & (pl.col("horizon") != "after"))
        weeks = self.scenario.campaign_weeks + self.scenario.long_weeks
        title = (f"The {self.scenario.campaign_weeks}-week read favours {short.replace('_', ' ')}, the "
                 f"{weeks}-week read {long.replace('_', ' ')}" if short != long else
                 f"Short and long reads agree: {short.replace('_', ' ')} adds most per customer")
        return charts.lever_reads(frame.select("lever", "horizon", "estimate", "ci_low", "ci_high", "truth"),
                                  title=title)

    def returns_chart(self) -> alt.LayerChart:
        """The next budget's return by route."""
        best = max(self.returns, key=lambda m: m.estimate)
        frame = pl.DataFrame([{"label": words.route_label(m),
                               "estimate": m.estimate, "ci_low": m.ci_low, "ci_high": m.ci_high,
                               "truth": m.truth} for m in self.returns])
        return charts.marginal_returns(
            frame, budget=self.scenario.budget,
            title=f"The next {money(self.scenario.budget, 0)} brings back most in "
            f"{words.ROUTE_WORDS[best.route]}: {money(best.estimate, 0)}")

    def timing_chart(self) -> alt.Chart:
        """Purchases added during the campaign and after it, by lever."""
        t = self.timing_table()
        frame = pl.concat([t.select("lever", period=pl.lit("during the campaign"), effect="during"),
                           t.select("lever", period=pl.lit("after it"), effect="after")])
        moved = t.filter(pl.col("kind") != "lasting")["lever"].to_list()
        title = (f"{', '.join(x.replace('_', ' ') for x in moved).capitalize()}: purchases fall after the "
                 "campaign" if moved else "No lever's purchases fall after the campaign")
        return charts.purchase_timing(frame, title=title)

    def projection_chart(self) -> alt.Chart:
        """Projection error of each arm's long-run value."""
        err = self.projection_errors()
        return charts.projection_errors(
            self.projection.select("lever", "side", "error"),
            title=f"Projected from the short test, arm values miss by a median {fmt(err['others'], 'pct')} "
            f"(discount: {fmt(err['discount'], 'pct')})")

    def headline_text(self) -> str:
        """Rounded headline numbers (what the notebook's check cell prints)."""
        lines = [f"{m.route} {m.lever} return {round(m.estimate)} truth {round(m.truth)}"
                 for m in self.returns]
        lines += [f"{r['lever']} long {round(r['estimate'], 2)} truth {round(r['truth'], 2)}"
                  for r in self._value("long").iter_rows(named=True)]
        return "\n".join(lines)


def run(scenario: LifecycleScenario) -> LifecycleResult:
    """Simulate the lifecycle world and read every lever, route and projection."""
    s = scenario
    sim = numbers.simulate(s)
    reads = numbers.lever_reads(sim, alpha=s.alpha)
    acquisition = numbers.acquisition_values(sim, s.source_costs(), weeks=s.campaign_weeks + s.long_weeks,
                                             alpha=s.alpha)
    exp = sim.customers.filter(pl.col("in_experiment"))
    spend = reads.filter((pl.col("measure") == "value") & (pl.col("horizon") == "long")
                         & pl.col("lever").is_in(numbers.RETENTION_LEVERS))["spend"].sum()
    return LifecycleResult(
        scenario=s, reads=reads, acquisition=acquisition,
        returns=numbers.marginal_returns(reads, acquisition, budget=s.budget),
        projection=numbers.projection(sim, reads),
        acquisition_cost=float(exp["acquisition_cost"].mean()), retention_cost=float(spend),
        n_customers=exp.height, n_referred=sim.customers.height - exp.height,
    )
