"""The omnichannel study: what each attribution model credits, against what each channel really causes.

:func:`run` draws the journey world and analyses it (:func:`experiments.studies.omnichannel_parts.analyse`:
every attribution model on the touch log, every channel switched off for its true incremental purchases,
a randomised holdout per channel, each model's budget plan re-simulated). :class:`OmnichannelResult`
words it: the verdict, figures, tables, charts (titles state the finding), assumptions and data checks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl

from experiments.charts import omnichannel as oc
from experiments.formatting import fmt, money
from experiments.scenarios.omnichannel import CHANNELS, OmnichannelScenario
from experiments.studies.base import Figure, Study, Verdict
from experiments.studies.omnichannel_parts import (
    EXPERIMENT_PLAN,
    TRUTH_PLAN,
    OmnichannelAnalysis,
    analyse,
    costs_long,
    marginal_returns,
)

__all__ = [
    "CHANNEL_NAMES",
    "HEADLINE_MODEL",
    "MODEL_NAMES",
    "OVERSTATEMENT",
    "STUDY",
    "OmnichannelResult",
    "channel_name",
    "focus_channels",
    "model_name",
    "run",
    "simulate_log",
    "verdict",
]

#: The model the verdict opens with: the default of most analytics tools.
HEADLINE_MODEL = "last_touch"
#: Share points by which credit must exceed a channel's true share to be called an overstatement.
OVERSTATEMENT = 0.02
#: Readable names of the models.
MODEL_NAMES: dict[str, str] = {
    "first_touch": "first touch", "last_touch": "last touch", "last_non_direct": "last non-direct",
    "linear": "linear", "time_decay": "time decay", "position_based": "position based", "markov": "Markov",
    "shapley": "Shapley",
}
#: Readable names of the channels (a retargeting channel also says so, see :func:`channel_name`).
CHANNEL_NAMES: dict[str, str] = {
    "display": "display", "social": "social", "search_nonbrand": "non-brand search",
    "search_brand": "brand search", "email": "e-mail", "sms": "SMS", "affiliate": "affiliate coupons",
    "direct": "direct",
}


def model_name(model: str) -> str:
    """``last_touch`` → ``last touch``; plan names other than models are kept."""
    return MODEL_NAMES.get(model, model)


def channel_name(scenario: OmnichannelScenario, channel: str) -> str:
    """Readable channel name; a channel that retargets visitors is called so (``display retargeting``)."""
    name = CHANNEL_NAMES.get(channel, channel)
    return f"{name} retargeting" if scenario.targeting[channel] == "retarget" else name


def _cap(text: str) -> str:
    """First letter upper case, the rest untouched (``str.capitalize`` would lower "SMS")."""
    return text[:1].upper() + text[1:]


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _days(x: float) -> str:
    return f"{x:g} day" + ("" if x == 1 else "s")


def _pct(x: float) -> str:
    return fmt(x, "pct", 0)


def _points(x: float) -> str:
    return f"{100 * x:.1f}"


def _gap(a: OmnichannelAnalysis, model: str, channel: str) -> float:
    credit, true = a.share(model, channel)
    return credit - true


def focus_channels(a: OmnichannelAnalysis, model: str = HEADLINE_MODEL) -> list[str]:
    """The channels the verdict names: retargeting channels and brand search that ``model`` over-credits
    by more than :data:`OVERSTATEMENT`; else the paid channel it over-credits most; else none."""
    s = a.scenario
    candidates = [c for c in CHANNELS if s.targeting[c] == "retarget"] + ["search_brand"]
    over = [c for c in dict.fromkeys(candidates) if _gap(a, model, c) > OVERSTATEMENT]
    if over:
        return over[:2]
    paid = [c for c in s.paid_channels if _gap(a, model, c) > OVERSTATEMENT]
    return [max(paid, key=lambda c: _gap(a, model, c))] if paid else []


def verdict(a: OmnichannelAnalysis, model: str = HEADLINE_MODEL) -> Verdict:
    """What the report says first: ``model``'s credit of the flattered channels against what they cause,
    and what moving budget by ``model`` and by the channel experiments does to the true profit."""
    s, name = a.scenario, model_name(model)
    focus = focus_channels(a, model)
    shares = [a.share(model, c) for c in focus]
    names = [channel_name(s, c) for c in focus]
    if len(focus) == 2:
        first = (f"{_cap(name)} gives {names[0]} {_pct(shares[0][0])} of the credit and {names[1]} "
                 f"{_pct(shares[1][0])}; they caused {_pct(shares[0][1])} and {_pct(shares[1][1])} of the "
                 "extra sales.")
    elif focus:
        first = (f"{_cap(name)} gives {names[0]} {_pct(shares[0][0])} of the credit; it caused "
                 f"{_pct(shares[0][1])} of the extra sales.")
    elif a.attribution.n_conversions <= 0:
        first = f"The touch log holds no online purchase, so {name} has nothing to credit."
    else:
        far = max(CHANNELS, key=lambda c: abs(_gap(a, model, c)))
        worst = abs(_gap(a, model, far))
        credit, true = a.share(model, far)
        first = (f"{_cap(name)} credits every channel within {_points(worst)} points of its true share of "
                 "the extra sales." if worst <= OVERSTATEMENT else
                 f"{_cap(name)} is off by up to {_points(worst)} points of share: it gives "
                 f"{channel_name(s, far)} {_pct(credit)} of the credit for {_pct(true)} of the extra sales.")
    loss = a.plan(model)["profit_change"]
    gain = a.plan(EXPERIMENT_PLAN)["profit_change"]
    second = (f"Moving budget by {name} {'loses' if loss < 0 else 'gains'} {money(abs(loss), 0)} of profit "
              f"over the {s.weeks}-week plan; the channel experiments' plan "
              f"{'gains' if gain >= 0 else 'loses'} {money(abs(gain), 0)}.")
    tone = "bad" if focus and loss < 0 <= gain else "neutral"
    return Verdict(f"{first} {second}", tone, tuple(_details(a, model, focus)))  # type: ignore[arg-type]


def _details(a: OmnichannelAnalysis, model: str, focus: Sequence[str]) -> list[str]:
    """The verdict's supporting sentences: who is under-credited, the experiments, the models, the
    plans, the store sales and the devices."""
    s, name = a.scenario, model_name(model)
    out = []
    under = sorted((c for c in CHANNELS if _gap(a, model, c) < -OVERSTATEMENT),
                   key=lambda c: _gap(a, model, c))
    if under:
        parts = [f"{channel_name(s, c)} gets {_pct(a.share(model, c)[0])} of the credit for "
                 f"{_pct(a.share(model, c)[1])} of the extra sales" for c in under[:1]]
        parts += [f"{channel_name(s, c)} {_pct(a.share(model, c)[0])} for {_pct(a.share(model, c)[1])}"
                  for c in under[1:2]]
        out.append(f"{_cap(name)} under-credits the channels that create sales: {', '.join(parts)}.")
    tested = a.experiments.filter(pl.col("covered").is_not_null())
    if tested.height:
        rows = {r["channel"]: r for r in tested.iter_rows(named=True)}
        pick = next((c for c in focus if c in rows), None)
        lead = "The channel experiments'"
        if pick is not None:
            r = rows[pick]
            lead = (f"The channel experiments measured {channel_name(s, pick)} at "
                    f"{fmt(r['estimate'], 'int')} extra purchases (95% CI {fmt(r['ci_low'], 'int')} to "
                    f"{fmt(r['ci_high'], 'int')}; true {fmt(r['truth'], 'int')}); across channels their")
        out.append(f"{lead} intervals hold the true effect for {int(tested['covered'].sum())} of "
                   f"{tested.height} channels.")
    errors = dict(a.errors.select("model", "mean_abs_error").iter_rows())
    best, worst = a.errors["model"][0], a.errors["model"][-1]
    line = (f"Closest model to the truth: {model_name(best)}, off by {_points(errors[best])} points of share "
            f"per channel on average; furthest: {model_name(worst)}, {_points(errors[worst])}")
    data_driven = [m for m in ("markov", "shapley") if m in errors and m not in (best, worst)]
    if data_driven:
        line += (f"; the data-driven {_and([model_name(m) for m in data_driven])}: "
                 f"{_and([_points(errors[m]) for m in data_driven])}")
    out.append(line + ".")
    best_plan = max(a.attribution.models, key=lambda m: a.plan(m)["profit_change"])
    change = a.plan(best_plan)["profit_change"]
    truth = a.plan(TRUTH_PLAN)["profit_change"]
    out.append(f"Re-simulated, the best model's plan ({model_name(best_plan)}) "
               f"{'gains' if change >= 0 else 'loses'} {money(abs(change), 0)}; budgets in proportion to "
               f"the true extra sales {'gain' if truth >= 0 else 'lose'} {money(abs(truth), 0)}.")
    b, x = a.blind_spot, a.cross_device
    out.append(f"{_pct(b['store_share'])} of purchases happen in a store, where no online log sees them; "
               f"{_pct(b['incremental_store_share'])} of the extra sales the channels cause are among them.")
    out.append(f"Unmatched devices split the journeys of {_pct(x['converting_customers_split'])} of online "
               f"buyers; {_pct(x['touches_lost_share'])} of their touches sit on a journey that shows no "
               "purchase.")
    return out


def _named(frame: pl.DataFrame, scenario: OmnichannelScenario, *, column: str = "channel") -> pl.DataFrame:
    """``frame`` with the channel (or model, or plan) names of ``column`` made readable."""
    names = ({c: channel_name(scenario, c) for c in CHANNELS} if column == "channel"
             else {m: model_name(m) for m in frame[column].unique().to_list()})
    text = pl.col(column).cast(pl.String)
    return frame.with_columns(text.replace_strict(names, default=text))


def _money(x: float | None, digits: int = 2) -> str:
    """Dollars; ``digits=0`` means cents below $100 and whole dollars above (:func:`fmt`'s money)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return fmt(x, "money") if digits == 0 else money(x, digits)


def _sign_money(x: float) -> str:
    return ("+" if x >= 0 else "") + money(x, 0)


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
        out += [Figure("model_error", f"{_cap(model_name(m))}: mean gap between credit share and true share",
                       err, unit="pp", group=m)
                for m, err in a.errors.select("model", "mean_abs_error").iter_rows()]
        out += [Figure("incremental_purchases", f"{_cap(channel_name(s, r['channel']))}: incremental "
                       f"purchases ({r['design']}-level holdout)", r["estimate"], r["ci_low"], r["ci_high"],
                       r["truth"], "orders", r["channel"])
                for r in a.experiments.filter(pl.col("covered").is_not_null()).iter_rows(named=True)]
        out += [Figure("credit_share", f"{_cap(channel_name(s, r['channel']))}: share of "
                       f"{model_name(HEADLINE_MODEL)} credit", r["credit_share"], truth=r["true_share"],
                       unit="%", group=r["channel"])
                for r in a.comparison.filter(pl.col("model") == HEADLINE_MODEL).iter_rows(named=True)]
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

    def tables(self) -> dict[str, pl.DataFrame]:
        """Named tables of the report."""
        return {"credit": self.credit_table(), "errors": self.errors_table(),
                "experiments": self.experiments_table(), "costs": self.cost_table(),
                "plans": self.plans_table(), "marginal": self.marginal_table(), "store": self.store_table(),
                "cross_device": self.cross_device_table()}

    def charts(self) -> dict[str, alt.TopLevelMixin]:
        """Named charts of the report."""
        return {"credit": self.credit_chart(), "errors": self.errors_chart(),
                "experiments": self.experiments_chart(), "costs": self.cost_chart(),
                "plans": self.plans_chart(), "store": self.store_chart(),
                "cross_device": self.cross_device_chart()}

    def assumptions(self) -> list[str]:
        """The world's parameters and where they come from, in words."""
        s, attribution = self.scenario, self.analysis.attribution

        def named(channels: Sequence[str]) -> str:
            return _and([channel_name(s, c) for c in channels])

        lifts = ", ".join(f"{channel_name(s, c)} none" if s.lift[c] == 0 else
                          f"{channel_name(s, c)} +{_pct(s.lift[c])} ({_days(s.half_life[c])})"
                          for c in CHANNELS)
        reach = ", ".join(f"{channel_name(s, c)} {_pct(s.reach[c])}" for c in CHANNELS)
        retarget = [c for c in CHANNELS if s.targeting[c] == "retarget"]
        sessions = [c for c in CHANNELS if s.targeting[c] == "session" and s.capture[c] > 0]
        push = [c for c in CHANNELS if s.targeting[c] == "push"]
        warm = [c for c in CHANNELS if s.audience_tilt[c] > 0]
        cold = [c for c in CHANNELS if s.audience_tilt[c] < 0]
        who = [f"Who each channel reaches (share of customers): {reach}."]
        if retarget:
            who.append(f"{_cap(named(retarget))} only runs in the {s.retarget_window_days:g} days after a "
                       "site visit, so it finds people who are already shopping.")
        if sessions:
            who.append(f"{_cap(named(sessions))} touch nobody on their own: they catch the customer's own "
                       "visits, the buying visit included.")
        if push:
            who.append(f"{_cap(named(push))} reach their audience on their own schedule.")
        if warm or cold:
            who.append("Audiences lean to the likely buyers" + (f" for {named(warm)}" if warm else "")
                       + (f" and to the cold for {named(cold)}" if cold else "") + " (assumptions).")
        costs = []
        for c in CHANNELS:
            cost, label = s.unit_cost[c], channel_name(s, c)
            if c == "affiliate" and s.affiliate_commission > 0:
                costs.append(f"{label} {_pct(s.affiliate_commission)} of the order")
            elif cost > 0 and s.targeting[c] == "session":
                costs.append(f"{label} {money(cost)} per click")
            elif cost >= 0.1:
                costs.append(f"{label} {money(cost)} per touch")
            elif cost > 0:
                costs.append(f"{label} {money(1000 * cost)} per 1,000 touches")
        users = [c for c in CHANNELS if s.experiment_design[c] == "user"]
        geos = [c for c in CHANNELS if s.experiment_design[c] == "geo"]
        untested = [c for c in CHANNELS if s.experiment_design[c] == "none"]
        tests = []
        if users:
            tests.append(f"user-level holdouts of {_pct(s.user_holdout_share)} of the eligible customers for "
                         f"{named(users)}")
        if geos:
            tests.append(f"geo-level holdouts of {_pct(s.geo_holdout_share)} of {s.n_geos} regions for "
                         f"{named(geos)}")
        if untested:
            tests.append(f"{named(untested)} cannot be switched off and is not tested")
        return [
            f"{s.n_customers:,} simulated customers over a {s.weeks}-week media plan (seed {s.seed}); "
            f"{_pct(s.base_conversion)} would buy with no marketing; purchase intent varies across customers "
            f"(log-scale spread {s.intent_sigma:g}) and regions, and their own site visits raise it for a "
            "day or two (assumptions).",
            f"True effect of one touch on the purchase hazard, and the days for it to halve: {lifts}. "
            "Retargeting lifts purchases by about 10% among the exposed (Johnson, Lewis & Nubbemeyer 2017; "
            "about 8% here); brand-search ads cause nothing, the traffic comes anyway (Blake, Nosko & "
            "Tadelis 2015); most non-brand search clicks are incremental (Chan et al. 2011); reminders fade "
            "within days (Sahni, Narayanan & Kalyanam 2019); the other sizes are assumptions.",
            " ".join(who),
            f"Costs: {'; '.join(costs)}. Social at about $10 per 1,000 (Meta CPM, Right Side Up / Varos), "
            "SMS at about $0.012 a message (Twilio); retargeting priced above the $1.7-1.8 average "
            "programmatic CPM (DataBeat 2024); search clicks and e-mail tooling are assumptions. Margin "
            f"{_pct(s.margin)} of revenue, mean order {money(s.mean_order_value, 0)} (assumptions).",
            f"{_pct(s.store_share)} of purchases happen in a store: real, counted by the experiments "
            "(customers known by account or card), invisible to the online log. "
            f"{_pct(s.multi_device_share)} of customers use a second device for "
            f"{_pct(s.secondary_device_share)} of their touches; {_pct(s.identity_match_rate)} of them are "
            "matched, the rest leave two journeys (assumptions).",
            "The truth: the same world re-run with each channel switched off (the same customers, visits and "
            "touches: common random numbers), so each difference is that channel's doing.",
            f"Channel experiments: {'; '.join(tests)}; every interval is 95%.",
            f"Plans: each model's plan sets the budgets of {named(s.plan_channels)} in proportion to the "
            f"conversions it credits (strength {s.reallocation_strength:g}), keeping the total spend, no "
            f"channel above {s.max_budget_multiplier:g} times its budget; each plan is re-simulated in the "
            "same world for its true profit.",
            f"Models: time decay halves a touch's credit every {attribution.half_life:g} days; position "
            "based gives 40% to the first and the last touch and shares 20% among the rest; Markov removal "
            f"effects of the order-{attribution.order} chain, solved exactly; Shapley values exact over the "
            "channel sets.",
        ]

    def data_checks(self) -> list[str]:
        """What the log and the experiments look like, in words."""
        a, s = self.analysis, self.scenario
        x, b = a.cross_device, a.blind_spot
        credited = int(a.attribution.n_conversions)
        missed = b["online"] - credited
        lines = [
            f"Touch log: {a.log_rows:,} touches on {x['journeys']:,} journeys ({x['journeys_stitched']:,} "
            f"once devices are matched); {credited:,} journeys end in an online purchase. It passed the "
            "attribution input checks (one converted flag per journey, touches in time order, no empty "
            "channel).",
            f"{missed:,} of {b['online']:,} online purchases "
            f"({fmt(missed / b['online'] if b['online'] else float('nan'), 'pct')}) left no touch in the "
            "log: no model can credit them.",
        ]
        for r in a.experiments.iter_rows(named=True):
            name = _cap(channel_name(s, r["channel"]))
            if r["design"] == "user":
                share = r["holdout_units"] / r["units"] if r["units"] else float("nan")
                lines.append(f"{name} (user-level test): {r['units']:,} eligible customers, "
                             f"{r['holdout_units']:,} held out ({fmt(share, 'pct')}, intended "
                             f"{_pct(s.user_holdout_share)}); sample-ratio p = "
                             f"{fmt(r['srm_p_value'], 'number', 2)}.")
            elif r["design"] == "geo":
                lines.append(f"{name} (geo-level test): {r['units']:,} regions with customers, "
                             f"{r['holdout_units']:,} held out.")
        return lines

    # ------------------------------------------------------------------ tables
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
        return pl.DataFrame([{"share": name, **{c: _pct(v) for c, v in zip(columns, values, strict=True)}}
                             for name, values in rows.items()])

    def errors_table(self) -> pl.DataFrame:
        """Each model's gap to the truth, closest first."""
        e, s = self.analysis.errors, self.scenario
        return pl.DataFrame({
            "model": [model_name(m) for m in e["model"]],
            "mean gap (points)": [_points(v) for v in e["mean_abs_error"]],
            "largest gap (points)": [_points(v) for v in e["max_abs_error"]],
            "most over-credited": [channel_name(s, c) for c in e["most_overstated"]],
            "by (points)": [_points(v) for v in e["overstated_by"]],
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
                "per true extra sale": [_money(v, 0) if math.isfinite(v) else "none caused"
                                        for v in c["true_cost"]],
                "per extra sale measured": [_money(v, 0) for v in c["experiment_cost"]]}
        rows |= {f"per {model_name(m)} credit": [_money(v, 0) for v in c[f"{m}_cost"]]
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
            pl.Series("profit change", [_sign_money(v) for v in p["profit_change"]]),
        )

    def marginal_table(self) -> pl.DataFrame:
        """Budget cut and raised by the scenario's change: marginal against average cost per extra sale."""
        s = self.scenario
        m = marginal_returns(self.analysis.budget, self.analysis.truth)
        step = _pct(s.budget_change)
        return pl.DataFrame({
            "channel": [channel_name(s, c) for c in m["channel"]],
            f"extra sales, -{step} to +{step}": [fmt(v, "int") for v in m["extra_conversions"]],
            "marginal cost per sale": [_money(v) for v in m["marginal_cost"]],
            "average cost per sale": [_money(v) for v in m["average_cost"]],
            f"profit at +{step}": [_sign_money(v) for v in m["profit_change_up"]],
            f"profit at -{step}": [_sign_money(v) for v in m["profit_change_down"]],
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
                         "mean shift (points)": _points(part["change"].abs().mean()),
                         "largest shift": channel_name(s, top["channel"]),
                         "split minus matched (points)": f"{100 * top['change']:+.1f}"})
        return pl.DataFrame(rows)

    # ------------------------------------------------------------------ charts
    def credit_chart(self) -> alt.FacetChart:
        """Each model's credit share per channel against the true share and the experiments' share."""
        a, s = self.analysis, self.scenario
        c = (focus_channels(a) or [max(CHANNELS, key=lambda x: _gap(a, HEADLINE_MODEL, x))])[0]
        over = sum(_gap(a, m, c) > OVERSTATEMENT for m in a.attribution.models)
        credit, true = a.share(HEADLINE_MODEL, c)
        title = (f"{over} of {len(a.attribution.models)} models over-credit {channel_name(s, c)} "
                 f"({model_name(HEADLINE_MODEL)}: {_pct(credit)} of the credit for {_pct(true)} of the extra "
                 "sales)")
        return oc.credit_vs_truth(_named(_named(a.comparison, s), s, column="model"), title=title)

    def errors_chart(self) -> alt.Chart:
        """Each model's mean gap to the truth."""
        e = self.analysis.errors
        title = (f"{_cap(model_name(e['model'][0]))} comes closest to the truth, "
                 f"{model_name(e['model'][-1])} is furthest ({_points(e['mean_abs_error'][0])} against "
                 f"{_points(e['mean_abs_error'][-1])} points per channel)")
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
            title = (f"{_cap(model_name(HEADLINE_MODEL))} makes {channel_name(s, r['channel'])} look "
                     f"{r['true_cost'] / r[col]:,.0f} times cheaper than it is ({_money(r[col])} per "
                     f"credited sale, {_money(r['true_cost'])} per extra sale)")
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
        title = (f"{_pct(b['incremental_store_share'])} of the extra sales the channels cause happen in a "
                 "store, out of the log's sight")
        return oc.blind_spot(_named(b["by_channel"], self.scenario), title=title)

    def cross_device_chart(self) -> alt.Chart:
        """Online buyers' touches on the buying journey and on an unmatched device's journey."""
        x = self.analysis.cross_device
        title = (f"Unmatched devices hide {_pct(x['touches_lost_share'])} of online buyers' touches from the "
                 f"buying journey ({_pct(x['converting_customers_split'])} of buyers are split)")
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
        lines.append(f"store share {a.blind_spot['store_share']:.3f}, split buyers "
                     f"{a.cross_device['converting_customers_split']:.3f}")
        return "\n".join(lines)


def run(scenario: OmnichannelScenario) -> OmnichannelResult:
    """Draw the world, attribute its log, measure the truth and the experiments, re-run every plan."""
    return OmnichannelResult(scenario=scenario, analysis=analyse(scenario))


def simulate_log(scenario: OmnichannelScenario, *, block_size: int | None = None, workers: int = 1,
                 **_: Any) -> pl.DataFrame:
    """The observed touchpoint log of the world as drawn (``experiments simulate omnichannel``).

    One row per touch: ``journey_id, time, channel, device, converted, value`` and the truth no tracker
    sees, ``customer_id`` and ``purchase`` (see :func:`experiments.simulate.journeys.observed_log`).
    ``block_size`` is accepted for the command's sake; the world's chunks are fixed, so neither it nor
    ``workers`` changes the log.
    """
    from experiments.simulate.journeys import draw_world, observed_log

    return observed_log(draw_world(scenario, workers=workers))


STUDY = Study(
    name="omnichannel",
    question="Which channels does each attribution model credit, against the sales each channel really "
    "causes, and what does moving budget by that credit do to profit?",
    scenario=OmnichannelScenario,
    run=run,
    simulate=simulate_log,
    sweep_figure="experiment_plan_profit_change",
)
