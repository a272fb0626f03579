"""The omnichannel study: what each attribution model credits, against what each channel really causes.

:func:`run` draws the journey world and analyses it (:func:`experiments.studies.omnichannel.numbers.measure`:
every attribution model on the touch log, every channel switched off for its true incremental purchases,
a randomised holdout per channel, each model's budget plan re-simulated). :class:`OmnichannelResult`
words it: the verdict, figures, tables, charts (titles state the finding), assumptions and data checks;
the sentences of the verdict, assumptions and data checks are in
:mod:`experiments.studies.omnichannel.words`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import polars as pl

from experiments.charts import omnichannel as oc
from experiments.formatting import fmt, money, money_or_na, pct, points, signed_money
from experiments.studies.base import Figure, Verdict
from experiments.studies.omnichannel.numbers import (
    EXPERIMENT_PLAN,
    TRUTH_PLAN,
    OmnichannelAnalysis,
    coordination,
    costs_long,
    marginal_returns,
    measure,
)
from experiments.studies.omnichannel.scenario import CHANNELS, OmnichannelScenario
from experiments.studies.omnichannel.words import (
    CHANNEL_NAMES,
    HEADLINE_MODEL,
    MODEL_NAMES,
    OVERSTATEMENT,
    assumptions,
    capitalised,
    channel_name,
    credit_gap,
    data_checks,
    focus_channels,
    model_name,
    term_name,
    verdict,
)

__all__ = [
    "CHANNEL_NAMES",
    "HEADLINE_MODEL",
    "MODEL_NAMES",
    "OVERSTATEMENT",
    "OmnichannelResult",
    "channel_name",
    "focus_channels",
    "model_name",
    "run",
    "verdict",
]


def _named(frame: pl.DataFrame, scenario: OmnichannelScenario, *, column: str = "channel") -> pl.DataFrame:
    """``frame`` with the channel (or model, or plan) names of ``column`` made readable."""
    names = ({c: channel_name(scenario, c) for c in CHANNELS} if column == "channel"
             else {m: model_name(m) for m in frame[column].unique().to_list()})
    text = pl.col(column).cast(pl.String)
    return frame.with_columns(text.replace_strict(names, default=text))


@dataclass(frozen=True)
class OmnichannelResult:
    """The omnichannel study at one scenario: the analysis, worded for a strategist."""

    scenario: OmnichannelScenario
    analysis: OmnichannelAnalysis

    # ------------------------------------------------------------------ the contract
    def verdict(self) -> Verdict:
        """Last touch's credit of the flattered channels against the truth, and the plans' true profit."""
        return verdict(self.analysis)

    def figures(self) -> tuple[Figure, ...]:
        """Plans' true profit changes, each model's error, each channel experiment (estimate, interval,
        truth), last touch's credit shares with the true shares, the store and cross-device figures."""
        a, s = self.analysis, self.scenario
        moved = "True profit change, budget moved by"
        out = [Figure("model_plan_profit_change", f"{moved} {model_name(m)}", a.plan(m)["profit_change"],
                      unit="$", group=m) for m in a.attribution.models]
        out += [
            Figure("experiment_plan_profit_change", f"{moved} the channel experiments",
                   a.plan(EXPERIMENT_PLAN)["profit_change"], unit="$", group=EXPERIMENT_PLAN),
            Figure("truth_plan_profit_change", f"{moved} true incrementality",
                   a.plan(TRUTH_PLAN)["profit_change"], unit="$", group=TRUTH_PLAN),
        ]
        out += [Figure("model_error",
                       f"{capitalised(model_name(m))}: mean gap between credit share and true share",
                       err, unit="pp", group=m)
                for m, err in a.errors.select("model", "mean_abs_error").iter_rows()]
        out += [Figure("incremental_purchases", f"{capitalised(channel_name(s, r['channel']))}: incremental "
                       f"purchases ({r['design']}-level holdout)", r["estimate"], r["ci_low"], r["ci_high"],
                       r["truth"], "orders", r["channel"])
                for r in a.experiments.filter(pl.col("covered").is_not_null()).iter_rows(named=True)]
        out += [Figure("credit_share", f"{capitalised(channel_name(s, r['channel']))}: share of "
                       f"{model_name(HEADLINE_MODEL)} credit", r["credit_share"], truth=r["true_share"],
                       unit="%", group=r["channel"])
                for r in a.comparison.filter(pl.col("model") == HEADLINE_MODEL).iter_rows(named=True)]
        out += self._factorial_figures()
        b, x = a.blind_spot, a.cross_device
        out += [
            Figure("store_share", "Share of purchases made in a store (invisible online)", b["store_share"],
                   unit="%"),
            Figure("incremental_store_share", "Share of the channels' extra sales made in a store",
                   b["incremental_store_share"], unit="%"),
            Figure("split_buyers", "Share of online buyers whose journey unmatched devices split",
                   x["converting_customers_split"], unit="%"),
        ]
        return tuple(out)

    def _factorial_figures(self) -> list[Figure]:
        """Each factorial channel's and pair's measured purchases and profit, the plan as a whole, and the
        one-channel holdouts summed; estimates with intervals and the truth."""
        f, s = self.analysis.factorial, self.scenario
        if f is None:
            return []
        out = []
        for r in f.terms.iter_rows(named=True):
            name = {"factor": "factorial_incremental", "pair": "factorial_pair_interaction",
                    "total": "coordinated_plan"}[r["kind"]]
            what = capitalised(term_name(s, r["term"]))
            suffix = " working together" if r["kind"] == "pair" else ""
            out.append(Figure(f"{name}_conversions", f"{what}{suffix}: extra purchases (factorial holdout)",
                              r["conversions"], r["conversions_low"], r["conversions_high"],
                              r["true_conversions"], "orders", r["term"]))
            out.append(Figure(f"{name}_profit", f"{what}{suffix}: extra profit (factorial holdout)",
                              r["profit"], r["profit_low"], r["profit_high"], r["true_profit"], "$",
                              r["term"]))
        one = f.one_at_a_time()
        out.append(Figure("one_at_a_time_profit", "One-channel holdouts summed: extra profit", one["profit"],
                          one["profit_low"], one["profit_high"], one["true_profit"], "$"))
        out.append(Figure("one_at_a_time_conversions", "One-channel holdouts summed: extra purchases",
                          one["conversions"], one["conversions_low"], one["conversions_high"],
                          one["true_conversions"], "orders"))
        return out

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        return {"coordination": self.coordination_table(), "factorial": self.factorial_table(),
                "credit": self.credit_table(), "errors": self.errors_table(),
                "experiments": self.experiments_table(), "costs": self.cost_table(),
                "plans": self.plans_table(), "marginal": self.marginal_table(), "store": self.store_table(),
                "cross_device": self.cross_device_table()}

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        return {"factorial": self.factorial_chart(), "credit": self.credit_chart(),
                "errors": self.errors_chart(),
                "experiments": self.experiments_chart(), "costs": self.cost_chart(),
                "plans": self.plans_chart(), "store": self.store_chart(),
                "cross_device": self.cross_device_chart()}

    def assumptions(self) -> list[str]:
        """The world's parameters and where they come from, in words."""
        return assumptions(self.analysis, self.scenario)

    def data_checks(self) -> list[str]:
        """What the log and the experiments look like, in words."""
        return data_checks(self.analysis, self.scenario)

    # ------------------------------------------------------------------ tables
    def coordination_table(self) -> pl.DataFrame:
        """The factorial channels as a whole, read by the factorial, the one-channel holdouts summed and
        each model's credit summed, beside the truth."""
        f = self.analysis.factorial
        if f is None:
            return pl.DataFrame({"reading": ["no factorial holdout (factorial_holdout_share is 0)"]})
        c = coordination(f)

        def ranged(r: dict, col: str, kind: str) -> str:
            text = money(r[col], 0) if kind == "money" else fmt(r[col], "int")
            if r[f"{col}_low"] is None:
                return text
            lo, hi = r[f"{col}_low"], r[f"{col}_high"]
            return text + (f" ({money(lo, 0)} to {money(hi, 0)})" if kind == "money"
                           else f" ({fmt(lo, 'int')} to {fmt(hi, 'int')})")

        rows = []
        for r in c.iter_rows(named=True):
            reading = r["reading"]
            for m in self.analysis.attribution.models:
                reading = reading.replace(f"{m} credit", f"{model_name(m)} credit")
            rows.append({"reading": reading, "extra profit (95% CI)": ranged(r, "profit", "money"),
                         "true profit": money(r["true_profit"], 0),
                         "extra purchases (95% CI)": ranged(r, "conversions", "int"),
                         "true purchases": fmt(r["true_conversions"], "int")})
        return pl.DataFrame(rows)

    def factorial_table(self) -> pl.DataFrame:
        """Each factorial channel and pair: the factorial's profit and purchases with intervals, the
        one-channel holdout's, each model's credited profit, and the truth."""
        f, s = self.analysis.factorial, self.scenario
        if f is None:
            return pl.DataFrame({"channel": ["no factorial holdout (factorial_holdout_share is 0)"]})
        hold = {r["channel"]: r for r in f.holdouts.iter_rows(named=True)}
        rows = []
        for r in f.terms.iter_rows(named=True):
            row = {"channel or pair": term_name(s, r["term"]),
                   "factorial profit (95% CI)": f"{money(r['profit'], 0)} ({money(r['profit_low'], 0)} to "
                                                f"{money(r['profit_high'], 0)})",
                   "true profit": money(r["true_profit"], 0),
                   "factorial purchases (95% CI)": f"{fmt(r['conversions'], 'int')} "
                   f"({fmt(r['conversions_low'], 'int')} to {fmt(r['conversions_high'], 'int')})",
                   "true purchases": fmt(r["true_conversions"], "int")}
            h = hold.get(r["term"])
            row["one-channel holdout profit (95% CI)"] = (
                f"{money_or_na(h['profit'], 0)} ({money_or_na(h['profit_low'], 0)} to "
                f"{money_or_na(h['profit_high'], 0)})"
                if h is not None else "")
            for m in (HEADLINE_MODEL, "markov", "shapley"):
                part = f.credits.filter((pl.col("model") == m) & (pl.col("channel") == r["term"]))
                if m in self.analysis.attribution.models:
                    credited = money(part["profit"][0], 0) if part.height else ""
                    row[f"{model_name(m)} credited profit"] = credited
            rows.append(row)
        return pl.DataFrame(rows)

    def credit_table(self) -> pl.DataFrame:
        """Share of the extra sales per channel (truth, channel experiments) and each model's credit share:
        one row per measure, one column per channel."""
        a, s = self.analysis, self.scenario
        first = a.comparison.filter(pl.col("model") == a.attribution.models[0])
        rows = {"true share of the extra sales": first["true_share"],
                "channel experiments' share": first["experiment_share"]}
        rows |= {f"{model_name(m)} credit": a.comparison.filter(pl.col("model") == m)["credit_share"]
                 for m in a.attribution.models}
        columns = [channel_name(s, c) for c in first["channel"]]
        return pl.DataFrame([{"share": name, **{c: pct(v) for c, v in zip(columns, values, strict=True)}}
                             for name, values in rows.items()])

    def errors_table(self) -> pl.DataFrame:
        """Each model's gap to the truth, closest first."""
        e, s = self.analysis.errors, self.scenario
        return pl.DataFrame({
            "model": [model_name(m) for m in e["model"]],
            "mean gap (points)": [points(v) for v in e["mean_abs_error"]],
            "largest gap (points)": [points(v) for v in e["max_abs_error"]],
            "most over-credited": [channel_name(s, c) for c in e["most_overstated"]],
            "by (points)": [points(v) for v in e["overstated_by"]],
        })

    def experiments_table(self) -> pl.DataFrame:
        """Each channel experiment: design, size, estimate with its interval, the truth, and p-value."""
        s = self.scenario
        rows = []
        for r in self.analysis.experiments.iter_rows(named=True):
            tested = r["covered"] is not None
            interval = f"{fmt(r['ci_low'], 'int')} to {fmt(r['ci_high'], 'int')}"
            rows.append({
                "channel": channel_name(s, r["channel"]),
                "held out": {"user": "customers", "geo": "regions"}.get(r["design"], "not testable"),
                "units": f"{r['units']:,}" if tested else "",
                "incremental purchases": fmt(r["estimate"], "int") if tested else (
                    "too few units to test" if r["design"] in ("user", "geo") else ""),
                "95% interval": interval if tested else "",
                "true": fmt(r["truth"], "int"),
                "interval holds truth": ("yes" if r["covered"] else "no") if tested else "",
                "p-value": fmt(r["p_value"], "number", 3) if tested else "",
            })
        return pl.DataFrame(rows)

    def cost_table(self) -> pl.DataFrame:
        """Spend of each paid channel per true extra sale, per sale the experiments measured and per sale
        each model credits: one row per measure, one column per channel."""
        a, s = self.analysis, self.scenario
        c = a.costs
        rows = {"spend": [money(v, 0) for v in c["spend"]],
                "per true extra sale": [money_or_na(v, 0) if math.isfinite(v) else "none caused"
                                        for v in c["true_cost"]],
                "per extra sale measured": [money_or_na(v, 0) for v in c["experiment_cost"]]}
        rows |= {f"per {model_name(m)} credit": [money_or_na(v, 0) for v in c[f"{m}_cost"]]
                 for m in a.attribution.models}
        columns = [channel_name(s, x) for x in c["channel"]]
        return pl.DataFrame([{"dollars": name, **dict(zip(columns, values, strict=True))}
                             for name, values in rows.items()])

    def plans_table(self) -> pl.DataFrame:
        """Each plan's budget multipliers, re-simulated purchases and true profit change."""
        p, s = self.analysis.plans, self.scenario
        out = pl.DataFrame({"plan": [model_name(x) for x in p["plan"]]})
        out = out.with_columns(pl.Series(channel_name(s, c), [f"x{v:.2f}" for v in p[f"m_{c}"]])
                               for c in s.plan_channels)
        return out.with_columns(
            pl.Series("sales", [f"{v:,}" for v in p["conversions"]]),
            pl.Series("profit change", [signed_money(v) for v in p["profit_change"]]),
        )

    def marginal_table(self) -> pl.DataFrame:
        """Budget cut and raised by the scenario's change: marginal against average cost per extra sale."""
        s = self.scenario
        m = marginal_returns(self.analysis.budget, self.analysis.truth)
        step = pct(s.budget_change)
        return pl.DataFrame({
            "channel": [channel_name(s, c) for c in m["channel"]],
            f"extra sales, -{step} to +{step}": [fmt(v, "int") for v in m["extra_conversions"]],
            "marginal cost per sale": [money_or_na(v) for v in m["marginal_cost"]],
            "average cost per sale": [money_or_na(v) for v in m["average_cost"]],
            f"profit at +{step}": [signed_money(v) for v in m["profit_change_up"]],
            f"profit at -{step}": [signed_money(v) for v in m["profit_change_down"]],
        })

    def store_table(self) -> pl.DataFrame:
        """Each channel's true extra purchases online and in store (where the log cannot see them)."""
        s, t = self.scenario, self.analysis.truth
        return pl.DataFrame({
            "channel": [channel_name(s, c) for c in t["channel"]],
            "true extra purchases": [fmt(v, "int") for v in t["incremental_conversions"]],
            "online": [fmt(v, "int") for v in t["incremental_online"]],
            "in store (not in the log)": [fmt(v, "int") for v in t["incremental_store"]],
        })

    def cross_device_table(self) -> pl.DataFrame:
        """How far each model's credit shares move when every customer's devices are matched."""
        s = self.scenario
        rows = []
        for (m,), part in self.analysis.cross_device["shift"].group_by("model", maintain_order=True):
            top = part.sort(pl.col("change").abs(), descending=True).row(0, named=True)
            rows.append({"model": model_name(str(m)),
                         "mean shift (points)": points(part["change"].abs().mean()),
                         "largest shift": channel_name(s, top["channel"]),
                         "split minus matched (points)": f"{100 * top['change']:+.1f}"})
        return pl.DataFrame(rows)

    # ------------------------------------------------------------------ charts
    def factorial_chart(self) -> alt.LayerChart:
        """Profit of each factorial channel, pair and the plan: factorial, one-channel holdout, last
        touch's credit, and the truth."""
        f, s = self.analysis.factorial, self.scenario
        schema = {"term": pl.String, "reading": pl.String, "estimate": pl.Float64, "ci_low": pl.Float64,
                  "ci_high": pl.Float64, "truth": pl.Float64}
        if f is None:
            return oc.factorial_readings(pl.DataFrame(schema=schema), title="No factorial holdout was run")
        rows = []
        for r in f.terms.iter_rows(named=True):
            rows.append({"term": term_name(s, r["term"]), "reading": "factorial holdout",
                         "estimate": r["profit"],
                         "ci_low": r["profit_low"], "ci_high": r["profit_high"], "truth": r["true_profit"]})
        for r in f.holdouts.iter_rows(named=True):
            rows.append({"term": term_name(s, r["channel"]), "reading": "one-channel holdout",
                         "estimate": r["profit"], "ci_low": r["profit_low"], "ci_high": r["profit_high"],
                         "truth": r["true_profit"]})
        one = f.one_at_a_time()
        if len(f.channels) > 1:
            rows.append({"term": term_name(s, "total"), "reading": "one-channel holdout",
                         "estimate": one["profit"], "ci_low": one["profit_low"],
                         "ci_high": one["profit_high"],
                         "truth": f.term("total")["true_profit"]})
        credited = f.credits.filter(pl.col("model") == HEADLINE_MODEL)
        for c, v in credited.select("channel", "profit").iter_rows():
            rows.append({"term": term_name(s, c), "reading": f"{model_name(HEADLINE_MODEL)} credit",
                         "estimate": v, "ci_low": None, "ci_high": None, "truth": f.term(c)["true_profit"]})
        frame = pl.DataFrame(rows, schema=schema)
        best = max(f.channels, key=lambda c: f.term(c)["profit"])
        r = f.term(best)
        title = (f"The factorial puts {channel_name(s, best)} first: {money(r['profit'], 0)} of profit "
                 f"({money(r['profit_low'], 0)} to {money(r['profit_high'], 0)}; true "
                 f"{money(r['true_profit'], 0)})")
        return oc.factorial_readings(frame, title=title)

    def credit_chart(self) -> alt.FacetChart:
        """Each model's credit share per channel against the true share and the experiments' share."""
        a, s = self.analysis, self.scenario
        c = (focus_channels(a) or [max(CHANNELS, key=lambda x: credit_gap(a, HEADLINE_MODEL, x))])[0]
        over = sum(credit_gap(a, m, c) > OVERSTATEMENT for m in a.attribution.models)
        credit, true = a.share(HEADLINE_MODEL, c)
        title = (f"{over} of {len(a.attribution.models)} models over-credit {channel_name(s, c)} "
                 f"({model_name(HEADLINE_MODEL)}: {pct(credit)} of the credit for {pct(true)} of the extra "
                 "sales)")
        return oc.credit_vs_truth(_named(_named(a.comparison, s), s, column="model"), title=title)

    def errors_chart(self) -> alt.Chart:
        """Each model's mean gap to the truth."""
        e = self.analysis.errors
        title = (f"{capitalised(model_name(e['model'][0]))} comes closest to the truth, "
                 f"{model_name(e['model'][-1])} is furthest ({points(e['mean_abs_error'][0])} against "
                 f"{points(e['mean_abs_error'][-1])} points per channel)")
        return oc.model_errors(_named(e, self.scenario, column="model"), title=title)

    def experiments_chart(self) -> alt.LayerChart:
        """The channel experiments' estimates with their intervals and the truth."""
        exp = self.analysis.experiments.filter(pl.col("covered").is_not_null())
        title = (f"The channel experiments' 95% intervals hold the true effect for "
                 f"{int(exp['covered'].sum())} of {exp.height} channels" if exp.height
                 else "No channel could be tested")
        return oc.experiment_estimates(_named(exp, self.scenario), title=title)

    def cost_chart(self) -> alt.Chart:
        """Cost per true extra sale against the cost per credited sale (last touch, Markov)."""
        a, s = self.analysis, self.scenario
        models = [m for m in (HEADLINE_MODEL, "markov") if m in a.attribution.models]
        names = {f"{m.replace('_', ' ')} credit": f"per {model_name(m)} credit" for m in models}
        long = costs_long(a.costs, models).with_columns(pl.col("measure").replace(names))
        col = f"{HEADLINE_MODEL}_cost"
        both = a.costs.filter(pl.col("true_cost").is_finite() & pl.col(col).is_finite() & (pl.col(col) > 0))
        title = "Cost per conversion: credited against true"
        if both.height:
            r = both.row(int((both["true_cost"] / both[col]).arg_max()), named=True)
            title = (f"{capitalised(model_name(HEADLINE_MODEL))} makes {channel_name(s, r['channel'])} look "
                     f"{r['true_cost'] / r[col]:,.0f} times cheaper than it is ({money_or_na(r[col])} per "
                     f"credited sale, {money_or_na(r['true_cost'])} per extra sale)")
        return oc.cost_per_incremental(_named(long, s), title=title)

    def plans_chart(self) -> alt.LayerChart:
        """Each plan's true profit change against the current plan."""
        a = self.analysis
        plans = a.plans.filter(pl.col("plan") != "current plan").sort("profit_change", descending=True)
        loss = a.plan(HEADLINE_MODEL)["profit_change"]
        gain = a.plan(EXPERIMENT_PLAN)["profit_change"]
        title = (f"Re-simulated, {model_name(HEADLINE_MODEL)}'s plan {'loses' if loss < 0 else 'gains'} "
                 f"{money(abs(loss), 0)} and the channel experiments' plan "
                 f"{'gains' if gain >= 0 else 'loses'} {money(abs(gain), 0)}")
        return oc.plan_profits(_named(plans.select("plan", "profit_change"), self.scenario, column="plan"),
                               title=title)

    def store_chart(self) -> alt.Chart:
        """True extra purchases per channel, online and in store."""
        b = self.analysis.blind_spot
        title = (f"{pct(b['incremental_store_share'])} of the extra sales the channels cause happen in a "
                 "store, out of the log's sight")
        return oc.blind_spot(_named(b["by_channel"], self.scenario), title=title)

    def cross_device_chart(self) -> alt.Chart:
        """Online buyers' touches on the buying journey and on an unmatched device's journey."""
        x = self.analysis.cross_device
        title = (f"Unmatched devices hide {pct(x['touches_lost_share'])} of online buyers' touches from the "
                 f"buying journey ({pct(x['converting_customers_split'])} of buyers are split)")
        return oc.split_journeys(_named(x["by_channel"], self.scenario), title=title)

    def headline_text(self) -> str:
        """Rounded headline numbers (what the notebook's check cell prints)."""
        a = self.analysis
        lines = []
        for c in ("display", "search_brand"):
            credit, true = a.share(HEADLINE_MODEL, c)
            lines.append(f"{HEADLINE_MODEL} {c}: credit share {credit:.3f} true share {true:.3f}")
        plans = ", ".join(f"{p} {a.plan(p)['profit_change']:.0f}"
                          for p in (HEADLINE_MODEL, EXPERIMENT_PLAN, TRUTH_PLAN))
        lines.append(f"profit change: {plans}")
        e = a.errors
        lines.append(f"closest {e['model'][0]} {e['mean_abs_error'][0]:.3f}, furthest {e['model'][-1]} "
                     f"{e['mean_abs_error'][-1]:.3f}")
        exp = a.experiments.filter(pl.col("covered").is_not_null())
        lines += [f"experiment {r['channel']}: {r['estimate']:.0f} [{r['ci_low']:.0f}, {r['ci_high']:.0f}] "
                  f"truth {r['truth']:.0f}" for r in exp.iter_rows(named=True)]
        if a.factorial is not None:
            lines += [f"factorial {r['term']}: {r['conversions']:.0f} [{r['conversions_low']:.0f}, "
                      f"{r['conversions_high']:.0f}] truth {r['true_conversions']:.0f}"
                      for r in a.factorial.terms.iter_rows(named=True)]
        lines.append(f"store share {a.blind_spot['store_share']:.3f}, split buyers "
                     f"{a.cross_device['converting_customers_split']:.3f}")
        return "\n".join(lines)


def run(scenario: OmnichannelScenario) -> OmnichannelResult:
    """Draw the world, attribute its log, measure the truth and the experiments, re-run every plan."""
    return OmnichannelResult(scenario=scenario, analysis=measure(scenario))
