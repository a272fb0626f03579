"""The remarketing study: a simulated retargeting campaign analysed, each estimate next to the truth.

:func:`run` simulates the scenario, analyses the table (:mod:`experiments.studies.remarketing.numbers`)
and returns a :class:`RemarketingResult` with the verdict, figures, tables, charts and assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from experiments.formatting import fmt, unit_value
from experiments.studies.base import Figure, Verdict
from experiments.studies.remarketing.numbers import (
    INCENTIVE_SUFFIX,
    METRICS,
    IncentiveComparison,
    RemarketingAnalysis,
    measure,
)
from experiments.studies.remarketing.scenario import RemarketingScenario
from experiments.studies.remarketing.words import assumptions, data_checks, headline_figures

if TYPE_CHECKING:  # charts (altair) are imported where they are drawn, not by the simulator's users
    import altair as alt

__all__ = [
    "CURVE_CUSTOMERS",
    "FREQUENCY_CAPS",
    "INCENTIVE_SUFFIX",
    "METRICS",
    "IncentiveComparison",
    "RemarketingAnalysis",
    "RemarketingResult",
    "assumptions",
    "curve_size",
    "data_checks",
    "frequency_chart",
    "funnel_chart",
    "headline_figures",
    "itt_vs_exposed",
    "measure",
    "run",
    "truth_table",
]


def funnel_chart(funnel: pl.DataFrame, *, audience: str) -> alt.Chart:
    """Funnel of the simulated audience, from :func:`experiments.simulate.truth.funnel_summary`."""
    from experiments.charts import remarketing as rc

    rows = funnel.filter(pl.col("audience") == "all")
    stages = rows.select(pl.lit("funnel stage reached").alias("group"), "stage", "customers")
    sizes = (
        funnel.filter(pl.col("audience") != "all")
        .group_by("audience", maintain_order=True)
        .agg(pl.col("audience_size").first().alias("customers"))
        .filter(pl.col("customers") > 0)
        .select(pl.lit("audience").alias("group"), pl.col("audience").alias("stage"), "customers")
    )
    data = pl.concat([stages, sizes])
    visits = int(rows["customers"].max())
    reached = rows.filter(pl.col("customers") > 0).tail(1)
    title = (
        f"{visits:,} {audience.replace('_', ' ')} visited without buying; "
        f"{int(reached['customers'][0]):,} got as far as '{reached['stage'][0]}'"
    )
    return rc.funnel(data, title=title)


def frequency_chart(curve: pl.DataFrame, *, chosen_cap: int) -> alt.LayerChart:
    """True incremental profit against the frequency cap, titled with where it peaks."""
    from experiments.charts import remarketing as rc

    data = curve.rename({"incremental_profit_per_1000": "profit_per_1000"})
    best = data.sort("profit_per_1000", descending=True).row(0, named=True)
    last_cap = int(data["frequency_cap"].max())
    at_last = data.filter((pl.col("arm") == best["arm"]) & (pl.col("frequency_cap") == last_cap))
    falls = float(at_last["profit_per_1000"][0]) < best["profit_per_1000"]
    title = (
        f"Profit peaks at a cap of {best['frequency_cap']} exposures ({best['arm']})"
        + ("; past it, annoyance erodes it" if falls else "")
    )
    return rc.profit_by_frequency(data, title=title, chosen_cap=chosen_cap)


#: Frequency caps at which the profit curve is simulated.
FREQUENCY_CAPS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 10, 12, 15, 20)
#: Customers simulated per point of the profit curve (truth only, so a modest size suffices).
CURVE_CUSTOMERS: int = 50_000


def curve_size(scenario: object) -> int:
    """Customers per point of the frequency curve: the scenario's size, at most :data:`CURVE_CUSTOMERS`."""
    return min(int(scenario.n_customers), CURVE_CUSTOMERS)


def truth_table(analysis: RemarketingAnalysis) -> pl.DataFrame:
    """Estimates, intervals and true values formatted for the report."""
    cmp = analysis.estimate_vs_truth()
    rows = []
    for r in cmp.iter_rows(named=True):
        rows.append({
            "arm": r["arm"], "measure": r["measure"], "estimate": unit_value(r["estimate"], r["unit"]),
            "95% interval": f"{unit_value(r['low'], r['unit'])} to {unit_value(r['high'], r['unit'])}",
            "true value": unit_value(r["truth"], r["unit"]),
            "interval holds truth": "yes" if r["covered"] else "no",
        })
    return pl.DataFrame(rows)


def itt_vs_exposed(analysis: RemarketingAnalysis) -> pl.DataFrame:
    """Conversion effect per assigned customer and per exposed customer, with the true values."""
    truth = {} if analysis.truth is None else {r["arm"]: r for r in analysis.truth.iter_rows(named=True)}
    rows = []
    for arm in analysis.treatment_arms:
        for label, e, true_key in (("assigned (intent-to-treat)", analysis.effect("converted", arm),
                                    "ate_converted"),
                                   ("exposed vs ghost-exposed",
                                    analysis.effect("converted", arm, exposed=True),
                                    "att_converted_exposed")):
            row = {"arm": arm, "population": label, "customers": f"{e.n_arm:,}",
                   "effect": fmt(e.estimate, "pp", 2),
                   "95% interval": f"{fmt(e.ci_low, 'pp', 2)} to {fmt(e.ci_high, 'pp', 2)}",
                   "relative lift": fmt(e.rel_lift, "pct")}
            if truth:
                row["true effect"] = fmt(truth[arm][true_key], "pp", 2)
            rows.append(row)
    return pl.DataFrame(rows)


# ----------------------------------------------------------------------------------- the study contract
@dataclass(frozen=True)
class RemarketingResult:
    """A simulated remarketing experiment analysed: estimates, truth, funnel and frequency curve."""

    scenario: RemarketingScenario
    analysis: RemarketingAnalysis
    funnel: pl.DataFrame
    curve: pl.DataFrame

    def verdict(self) -> Verdict:
        """The best arm's incremental purchases and profit, with intervals; details per arm and incentive."""
        head, details, tone = self.analysis.headline()
        return Verdict(head, tone, tuple(details))  # type: ignore[arg-type]

    def figures(self) -> tuple[Figure, ...]:
        """Per treatment arm: incremental purchases, profit, cost per incremental purchase and iROAS."""
        a = self.analysis
        truth = {} if a.truth is None else {r["arm"]: r for r in a.truth.iter_rows(named=True)}
        out = []
        for arm in a.treatment_arms:
            e, t = a.economics_of(arm), truth.get(arm, {})
            out += [
                Figure("incremental_profit", f"Incremental profit ({arm})", e.incremental_profit,
                       e.incremental_profit_low, e.incremental_profit_high, t.get("incremental_profit"), "$",
                       group=arm),
                Figure("incremental_conversions", f"Incremental purchases ({arm})", e.incremental_conversions,
                       e.incremental_conversions_low, e.incremental_conversions_high,
                       t.get("incremental_conversions"), "orders", group=arm),
                Figure("cost_per_incremental_conversion", f"Media cost per incremental purchase ({arm})",
                       e.cost_per_incremental_conversion, e.cost_per_incremental_conversion_low,
                       e.cost_per_incremental_conversion_high, t.get("cost_per_incremental_conversion"), "$",
                       group=arm),
                Figure("iroas", f"Incremental ROAS ({arm})", e.iroas, e.iroas_low, e.iroas_high,
                       t.get("iroas"), "x", group=arm),
            ]
        return tuple(out)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        return {"estimate_vs_truth": self.truth_table(), "itt_vs_exposed": self.itt_vs_exposed()}

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        return {"truth": self.analysis.truth_chart(), "conversion": self.analysis.conversion_chart(),
                "funnel": self.funnel_chart(), "frequency": self.frequency_chart()}

    def assumptions(self) -> list[str]:
        """The scenario's assumptions in words."""
        return assumptions(self.scenario)

    def data_checks(self) -> list[str]:
        """Sample-ratio and reach checks."""
        return data_checks(self.analysis)

    def truth_table(self) -> pl.DataFrame:
        """Estimates, intervals and true values, formatted."""
        return truth_table(self.analysis)

    def itt_vs_exposed(self) -> pl.DataFrame:
        """Conversion effect per assigned and per exposed customer, with the truth."""
        return itt_vs_exposed(self.analysis)

    def funnel_chart(self) -> alt.Chart:
        """Who the campaign could reach."""
        return funnel_chart(self.funnel, audience=self.scenario.audience)

    def frequency_chart(self) -> alt.LayerChart:
        """True incremental profit against the frequency cap."""
        return frequency_chart(self.curve, chosen_cap=self.scenario.frequency_cap)

    def headline_text(self) -> str:
        """Rounded headline numbers (what the notebook's check cell prints)."""
        return headline_figures(self.analysis)


def run(scenario: RemarketingScenario) -> RemarketingResult:
    """Simulate the campaign, analyse it in one pass, and put every estimate next to the truth."""
    from experiments.simulate.remarketing import simulate_remarketing
    from experiments.simulate.truth import frequency_curve, funnel_summary, true_effects

    frame = simulate_remarketing(scenario)
    analysis = measure(frame, arms=scenario.arms, shares=scenario.shares,
                       truth=true_effects(frame, scenario.arms))
    curve = frequency_curve(scenario, caps=FREQUENCY_CAPS, n_customers=curve_size(scenario))
    return RemarketingResult(scenario, analysis, funnel_summary(frame), curve)

