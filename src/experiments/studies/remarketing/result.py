"""The remarketing study: a simulated retargeting campaign analysed, each estimate next to the truth.

:func:`run` simulates the scenario, analyses the table (:mod:`experiments.studies.remarketing.numbers`)
and returns a :class:`RemarketingResult` with the verdict, figures, tables, charts and assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from experiments.charts import remarketing as rc
from experiments.formatting import fmt, unit_value
from experiments.simulate.channel_pairs import channel_pair_truth
from experiments.simulate.remarketing import simulate_remarketing
from experiments.simulate.truth import delivery_curve, frequency_curve, funnel_summary, true_effects
from experiments.studies.base import Figure, Verdict
from experiments.studies.campaign_channels import ChannelAnalysis, channel_assumptions, measure_channels
from experiments.studies.remarketing.numbers import (
    INCENTIVE_SUFFIX,
    METRICS,
    IncentiveComparison,
    LeverAnalysis,
    RemarketingAnalysis,
    measure,
    measure_levers,
)
from experiments.studies.remarketing.scenario import RemarketingScenario
from experiments.studies.remarketing.words import (
    assumptions,
    audience_sentence,
    data_checks,
    headline_figures,
    lever_details,
)

if TYPE_CHECKING:  # charts (altair) are imported where they are drawn, not by the simulator's users
    import altair as alt

__all__ = [
    "CURVE_CUSTOMERS",
    "FREQUENCY_CAPS",
    "INCENTIVE_SUFFIX",
    "MESSAGE_COUNTS",
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
#: E-mail flow lengths at which the profit curve is simulated.
MESSAGE_COUNTS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12)
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
            "interval holds truth": "n/a" if r["covered"] is None else "yes" if r["covered"] else "no",
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
    levers: LeverAnalysis | None = None
    message_curve: pl.DataFrame | None = None
    burn_curve: pl.DataFrame | None = None

    channels: ChannelAnalysis | None = None

    @property
    def audience_arm(self) -> str:
        """The arm read audience by audience: the scenario's main arm."""
        return self.scenario.main_arm

    def best_setting(self, curve: pl.DataFrame | None, name: str,
                     column: str = "expected_profit_per_1000") -> int | None:
        """The value of ``name`` at which the audience arm's true profit (``column`` of the curve) peaks."""
        if curve is None or curve.height == 0:
            return None
        rows = curve.filter(pl.col("arm") == self.audience_arm).sort(column, descending=True)
        return int(rows[name][0])

    def burn_saving(self) -> float | None:
        """True media saved per 1,000 targeted by the burn pixel (audience arm), from the burn curve."""
        if self.burn_curve is None:
            return None
        rows = self.burn_curve.filter(pl.col("arm") == self.audience_arm)
        off = rows.filter(~pl.col("burn_pixel"))["cost_per_1000"]
        on = rows.filter(pl.col("burn_pixel"))["cost_per_1000"]
        return float(off[0] - on[0]) if off.len() and on.len() else None

    def verdict(self) -> Verdict:
        """Which audience to grow or cut (several audiences), then the channel to grow or cut (with channel
        holdouts) or the best arm's incremental purchases and profit, with intervals; details per arm,
        incentive, channel and lever."""
        head, details, tone = self.analysis.headline()
        if self.channels is not None:
            advice, tone = self.channels.advice()
            details = [head, *self.channels.details(), *details]
            head = advice
        if self.levers is not None:
            lead = audience_sentence(self.levers, self.audience_arm)
            if lead is not None:
                head = f"{lead} {head}"
            details = [*details, *lever_details(
                self.levers, self.audience_arm,
                best_cap=self.best_setting(self.curve, "frequency_cap", "incremental_profit_per_1000"),
                best_messages=self.best_setting(self.message_curve, "email_messages"),
                burn_saving=self.burn_saving())]
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
        if self.channels is not None:
            out += self.channels.figures()
        out += self.lever_figures()
        return tuple(out)

    def lever_figures(self) -> tuple[Figure, ...]:
        """Per audience (``group`` = audience) the audience arm's profit and purchases per 1,000 targeted;
        per arm the cross-sell margin, subscriber loss, media bought after a purchase and the change in
        purchases after the window, per 1,000 targeted; each with its truth."""
        if self.levers is None:
            return ()
        out = []
        for name, label, rows in (
            ("audience_profit_per_1000", "Profit per 1,000 targeted", self.levers.audience_profit),
            ("audience_incremental_conversions_per_1000", "Incremental purchases per 1,000 targeted",
             self.levers.audience_conversions),
        ):
            for g in rows:
                if g.arm == self.audience_arm:
                    out.append(Figure(name, f"{label} ({g.group}, {g.arm})", g.estimate, g.ci_low, g.ci_high,
                                      g.truth, g.unit, group=g.group))
        for name, label, rows in (
            ("cross_sell_margin_per_1000", "Cross-sell and upgrade margin per 1,000 past purchasers",
             self.levers.cross_sell),
            ("subscriber_loss_per_1000", "Subscriber value lost per 1,000 targeted",
             self.levers.subscriber_loss),
            ("post_window_conversions_per_1000", "Change in purchases after the window per 1,000",
             self.levers.post_window),
        ):
            for g in rows:
                out.append(Figure(name, f"{label} ({g.arm})", g.estimate, g.ci_low, g.ci_high, g.truth,
                                  g.unit, group=g.arm))
        for arm, waste in self.levers.wasted_cost_per_1000.items():
            if arm != self.analysis.control:
                out.append(Figure("wasted_media_per_1000", f"Media bought after a purchase per 1,000 ({arm})",
                                  waste, None, None, waste, "$", group=arm))
        return tuple(out)

    def audience_table(self) -> pl.DataFrame:
        """Profit and purchases per 1,000 targeted by audience and arm, intervals and truth, formatted."""
        if self.levers is None:
            return pl.DataFrame()
        rows = []
        conv = {(g.arm, g.group): g for g in self.levers.audience_conversions}
        for g in sorted(self.levers.audience_profit, key=lambda g: (g.arm, -g.estimate)):
            c = conv[(g.arm, g.group)]
            rows.append({
                "arm": g.arm, "audience": g.group, "customers": f"{g.n:,}",
                "profit per 1,000": fmt(g.estimate, "money"),
                "95% interval": f"{fmt(g.ci_low, 'money')} to {fmt(g.ci_high, 'money')}",
                "true profit per 1,000": "" if g.truth is None else fmt(g.truth, "money"),
                "purchases per 1,000": f"{c.estimate:+.1f} ({c.ci_low:+.1f} to {c.ci_high:+.1f})",
                "true purchases per 1,000": "" if c.truth is None else f"{c.truth:+.1f}",
            })
        return pl.DataFrame(rows)

    def lever_table(self) -> pl.DataFrame:
        """Cross-sell, subscriber loss and the dip after the window per arm, intervals and truth,
        formatted."""
        if self.levers is None:
            return pl.DataFrame()
        names = {"addon_margin": "cross-sell and upgrade margin per 1,000 past purchasers",
                 "subscriber_loss": "subscriber value lost per 1,000", "converted_post":
                 "purchases after the window per 1,000",
                 "purchases_total": "purchases in and after the window per 1,000"}
        rows = []
        for g in (*self.levers.cross_sell, *self.levers.subscriber_loss, *self.levers.post_window,
                  *self.levers.purchases_total):
            rows.append({"arm": g.arm, "measure": names[g.measure],
                         "estimate": unit_value(g.estimate, g.unit if g.unit == "$" else "number"),
                         "95% interval": f"{unit_value(g.ci_low, g.unit if g.unit == '$' else 'number')} to "
                                         f"{unit_value(g.ci_high, g.unit if g.unit == '$' else 'number')}",
                         "true value": "" if g.truth is None else
                         unit_value(g.truth, g.unit if g.unit == "$" else "number"),
                         "interval holds truth": "" if g.covered is None else ("yes" if g.covered else "no")})
        return pl.DataFrame(rows)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        channels = {} if self.channels is None else {"channels": self.channels.table()}
        out = {**channels, "estimate_vs_truth": self.truth_table(), "itt_vs_exposed": self.itt_vs_exposed()}
        if self.levers is not None:
            out |= {"audiences": self.audience_table(), "levers": self.lever_table()}
        return out

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        channels = {} if self.channels is None else {"channels": self.channels.chart()}
        out = {**channels, "truth": self.analysis.truth_chart(),
               "conversion": self.analysis.conversion_chart(), "funnel": self.funnel_chart(),
               "frequency": self.frequency_chart()}
        if self.levers is not None and len(self.levers.audiences_of(self.audience_arm)) > 1:
            out["audiences"] = self.audience_chart()
        if self.message_curve is not None:
            out["messages"] = self.message_chart()
        return out

    def audience_chart(self) -> alt.LayerChart:
        """Profit per 1,000 targeted by audience (audience arm), interval and truth."""
        rows = self.levers.audiences_of(self.audience_arm) if self.levers is not None else ()
        data = pl.DataFrame([{"arm": g.group, "measure": "profit per 1,000 targeted ($)",
                              "estimate": g.estimate, "low": g.ci_low, "high": g.ci_high, "truth": g.truth,
                              "covered": g.covered}
                             for g in rows], schema_overrides={"truth": pl.Float64})
        best, worst = rows[0], rows[-1]
        title = (f"{best.group.replace('_', ' ')} earn most ({fmt(best.estimate, 'money')} per 1,000), "
                 f"{worst.group.replace('_', ' ')} least ({fmt(worst.estimate, 'money')})")
        return rc.estimate_vs_truth(data, title=title)

    def message_chart(self) -> alt.LayerChart | None:
        """True profit per 1,000 (unsubscribes counted) against the e-mail flow's length (None without
        e-mail)."""
        if self.message_curve is None:
            return None
        data = self.message_curve.rename({"expected_profit_per_1000": "profit_per_1000"})  # type: ignore[union-attr]
        best = self.best_setting(self.message_curve, "email_messages")
        cost = f"Counting the ${self.scenario.subscriber_value:.2f} an unsubscribe costs"
        title = (f"{cost}, profit peaks at {best} e-mails" if best != max(MESSAGE_COUNTS) else
                 f"{cost}, profit is still highest at the longest flow tried ({best} e-mails)")
        return rc.profit_by_setting(
            data.select("email_messages", "arm", "profit_per_1000", "subscriber_loss_per_1000"),
            x="email_messages", x_title="e-mails in the flow", chosen=self.scenario.email_messages,
            title=title)

    def assumptions(self) -> list[str]:
        """The scenario's assumptions in words."""
        return assumptions(self.scenario) + channel_assumptions(self.scenario)

    def data_checks(self) -> list[str]:
        """Sample-ratio and reach checks."""
        return data_checks(self.analysis)

    def truth_table(self) -> pl.DataFrame:
        """Estimates, intervals and true values, formatted."""
        return truth_table(self.analysis)

    def itt_vs_exposed(self) -> pl.DataFrame:
        """Conversion effect per assigned and per exposed customer, with the truth."""
        return itt_vs_exposed(self.analysis)

    def channel_table(self) -> pl.DataFrame:
        """Each channel's and pair's contribution with intervals and the truth (a note when the channel
        holdout is off)."""
        if self.channels is None:
            return pl.DataFrame({"channels": ["not measured: channel_holdout is 0 (no channel holdouts)"]})
        return self.channels.table()

    def channel_chart(self) -> alt.LayerChart | None:
        """Each channel's incremental profit against the truth (None when the channel holdout is off)."""
        return None if self.channels is None else self.channels.chart()

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
    frame = simulate_remarketing(scenario)
    sv = scenario.subscriber_value
    analysis = measure(frame, arms=scenario.arms, shares=scenario.shares, subscriber_value=sv,
                       truth=true_effects(frame, scenario.arms, subscriber_value=sv))
    levers = measure_levers(frame, arms=scenario.arms, subscriber_value=sv, burn_pixel=scenario.burn_pixel)
    size = curve_size(scenario)
    curve = frequency_curve(scenario, caps=FREQUENCY_CAPS, n_customers=size)
    messages = (delivery_curve(scenario, "email_messages", list(MESSAGE_COUNTS), n_customers=size)
                if "email" in scenario.channels else None)
    burn = delivery_curve(scenario, "burn_pixel", [False, True], n_customers=size)
    channels = None
    if scenario.channel_holdout > 0:
        channels = measure_channels(frame, channels=scenario.channels, unit_costs=scenario.unit_costs,
                                    holdout=scenario.channel_holdout, pair_truth=channel_pair_truth(scenario))
    return RemarketingResult(scenario, analysis, funnel_summary(frame), curve, levers=levers,
                             message_curve=messages, burn_curve=burn, channels=channels)

