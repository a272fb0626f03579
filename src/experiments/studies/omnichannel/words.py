"""The omnichannel study's words: model and channel names, the verdict, the assumptions, the data checks.

Numbers come from :class:`~experiments.studies.omnichannel.numbers.OmnichannelAnalysis`; the sentences that
word them live here, the tables and charts in :mod:`experiments.studies.omnichannel.result`.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from experiments.formatting import fmt, money, pct, points, signed_money
from experiments.studies.base import Verdict
from experiments.studies.omnichannel.numbers import (
    EXPERIMENT_PLAN,
    TRUTH_PLAN,
    FactorialAnalysis,
    OmnichannelAnalysis,
)
from experiments.studies.omnichannel.scenario import CHANNELS, OmnichannelScenario

__all__ = [
    "CHANNEL_NAMES",
    "HEADLINE_MODEL",
    "MODEL_NAMES",
    "OVERSTATEMENT",
    "assumptions",
    "capitalised",
    "channel_name",
    "credit_gap",
    "data_checks",
    "focus_channels",
    "model_name",
    "synergy_details",
    "synergy_sentence",
    "term_name",
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


def capitalised(text: str) -> str:
    """First letter upper case, the rest untouched (``str.capitalize`` would lower "SMS")."""
    return text[:1].upper() + text[1:]


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _days(x: float) -> str:
    return f"{x:g} day" + ("" if x == 1 else "s")


def term_name(scenario: OmnichannelScenario, term: str) -> str:
    """A factorial term in words: a channel's name, ``display retargeting and e-mail`` for a pair, or
    ``the plan as a whole``."""
    if term == "total":
        return "the plan as a whole"
    return " and ".join(channel_name(scenario, c) for c in term.split(" x "))


def _profit_range(row: dict, prefix: str = "profit") -> str:
    return (f"{signed_money(row[prefix])} of profit, 95% CI {signed_money(row[f'{prefix}_low'])} to "
            f"{signed_money(row[f'{prefix}_high'])}; true {signed_money(row[f'true_{prefix}'])}")


def synergy_sentence(f: FactorialAnalysis, s: OmnichannelScenario) -> str:
    """The channel to grow or cut, in money with intervals, as the factorial holdout measures it."""
    rows = [f.term(c) for c in f.channels]
    grow = sorted((r for r in rows if r["profit_low"] > 0), key=lambda r: -r["profit"])
    cut = sorted((r for r in rows if r["profit_high"] < 0), key=lambda r: r["profit"])
    unclear = [r for r in rows if r not in grow and r not in cut]
    parts = []
    if grow:
        parts.append("grow " + _and([f"{channel_name(s, r['term'])} ({_profit_range(r)})" for r in grow]))
    if cut:
        parts.append("cut " + _and([f"{channel_name(s, r['term'])} ({_profit_range(r)})" for r in cut]))
    head = (f"The factorial holdout says: {'; '.join(parts)} over the {s.weeks}-week plan." if parts else
            f"The factorial holdout cannot yet tell whether {_and([channel_name(s, c) for c in f.channels])} "
            "pay for themselves over the plan.")
    if unclear and parts:
        head += (" It cannot yet tell " + _and([f"{channel_name(s, r['term'])} ({_profit_range(r)})"
                                                for r in unclear]) + " from break-even.")
    elif unclear:
        head += " " + capitalised(_and([f"{channel_name(s, r['term'])}: {_profit_range(r)}"
                                        for r in unclear]))
        head += "."
    return head


def synergy_details(f: FactorialAnalysis, s: OmnichannelScenario) -> list[str]:
    """The coordinated plan against one channel at a time, and the pair that works together most."""
    out = []
    if len(f.channels) > 1:
        total, one = f.term("total"), f.one_at_a_time()
        gap = one["true_profit"] - total["true_profit"]
        out.append(
            f"Run together, {_and([channel_name(s, c) for c in f.channels])} earn "
            f"{_profit_range(total)} (the factorial: the coordinated plan). The one-channel holdouts "
            f"summed say {_profit_range(one)}: they {'over' if gap > 0 else 'under'}state the plan by "
            f"{money(abs(gap), 0)} in truth, since each holdout also removes what its channel does for "
            "the others.")
        pairs = f.terms.filter(pl.col("kind") == "pair").sort("true_conversions", descending=True)
        top = pairs.row(0, named=True)
        out.append(
            f"{capitalised(term_name(s, top['term']))} work together most: "
            f"{fmt(top['true_conversions'], 'int')} "
            f"purchases in truth beyond their separate effects (display raises the response to "
            f"{_and([CHANNEL_NAMES.get(c, c) for c in s.synergy_channels]) or 'nothing'} by "
            f"{pct(s.display_synergy - 1)} for {_days(s.synergy_window_days)}); the factorial measures "
            f"{fmt(top['conversions'], 'int')} (95% CI {fmt(top['conversions_low'], 'int')} to "
            f"{fmt(top['conversions_high'], 'int')}).")
    held = f.terms.filter(pl.col("covered"))
    out.append(f"The factorial's intervals hold the true purchases for {held.height} of {f.terms.height} "
               "channels, pairs and the total.")
    return out


def credit_gap(a: OmnichannelAnalysis, model: str, channel: str) -> float:
    """The channel's credit share under ``model`` less its true share of the incremental sales."""
    credit, true = a.share(model, channel)
    return credit - true


def focus_channels(a: OmnichannelAnalysis, model: str = HEADLINE_MODEL) -> list[str]:
    """The channels the verdict names: retargeting channels and brand search that ``model`` over-credits
    by more than :data:`OVERSTATEMENT`; else the paid channel it over-credits most; else none."""
    s = a.scenario
    candidates = [c for c in CHANNELS if s.targeting[c] == "retarget"] + ["search_brand"]
    over = [c for c in dict.fromkeys(candidates) if credit_gap(a, model, c) > OVERSTATEMENT]
    if over:
        return over[:2]
    paid = [c for c in s.paid_channels if credit_gap(a, model, c) > OVERSTATEMENT]
    return [max(paid, key=lambda c: credit_gap(a, model, c))] if paid else []


def verdict(a: OmnichannelAnalysis, model: str = HEADLINE_MODEL) -> Verdict:
    """What the report says first: ``model``'s credit of the flattered channels against what they cause,
    and what moving budget by ``model`` and by the channel experiments does to the true profit."""
    s, name = a.scenario, model_name(model)
    focus = focus_channels(a, model)
    shares = [a.share(model, c) for c in focus]
    names = [channel_name(s, c) for c in focus]
    if len(focus) == 2:
        first = (f"{capitalised(name)} gives {names[0]} {pct(shares[0][0])} of the credit and {names[1]} "
                 f"{pct(shares[1][0])}; they caused {pct(shares[0][1])} and {pct(shares[1][1])} of the "
                 "extra sales.")
    elif focus:
        first = (f"{capitalised(name)} gives {names[0]} {pct(shares[0][0])} of the credit; it caused "
                 f"{pct(shares[0][1])} of the extra sales.")
    elif a.attribution.n_conversions <= 0:
        first = f"The touch log holds no online purchase, so {name} has nothing to credit."
    else:
        far = max(CHANNELS, key=lambda c: abs(credit_gap(a, model, c)))
        worst = abs(credit_gap(a, model, far))
        credit, true = a.share(model, far)
        first = (f"{capitalised(name)} credits every channel within {points(worst)} points of its true "
                 "share of the extra sales." if worst <= OVERSTATEMENT else
                 f"{capitalised(name)} is off by up to {points(worst)} points of share: it gives "
                 f"{channel_name(s, far)} {pct(credit)} of the credit for {pct(true)} of the extra sales.")
    loss = a.plan(model)["profit_change"]
    gain = a.plan(EXPERIMENT_PLAN)["profit_change"]
    second = (f"Moving budget by {name} {'loses' if loss < 0 else 'gains'} {money(abs(loss), 0)} of profit "
              f"over the {s.weeks}-week plan; the channel experiments' plan "
              f"{'gains' if gain >= 0 else 'loses'} {money(abs(gain), 0)}.")
    tone = "bad" if focus and loss < 0 <= gain else "neutral"
    if a.factorial is None:
        return Verdict(f"{first} {second}", tone, tuple(_details(a, model, focus)))  # type: ignore[arg-type]
    lead = synergy_sentence(a.factorial, s)
    details = [*synergy_details(a.factorial, s), f"{first} {second}", *_details(a, model, focus)]
    return Verdict(lead, tone, tuple(details))  # type: ignore[arg-type]


def _details(a: OmnichannelAnalysis, model: str, focus: Sequence[str]) -> list[str]:
    """The verdict's supporting sentences: who is under-credited, the experiments, the models, the
    plans, the store sales and the devices."""
    s, name = a.scenario, model_name(model)
    out = []
    under = sorted((c for c in CHANNELS if credit_gap(a, model, c) < -OVERSTATEMENT),
                   key=lambda c: credit_gap(a, model, c))
    if under:
        parts = [f"{channel_name(s, c)} gets {pct(a.share(model, c)[0])} of the credit for "
                 f"{pct(a.share(model, c)[1])} of the extra sales" for c in under[:1]]
        parts += [f"{channel_name(s, c)} {pct(a.share(model, c)[0])} for {pct(a.share(model, c)[1])}"
                  for c in under[1:2]]
        out.append(f"{capitalised(name)} under-credits the channels that create sales: {', '.join(parts)}.")
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
    line = (f"Closest model to the truth: {model_name(best)}, off by {points(errors[best])} points of share "
            f"per channel on average; furthest: {model_name(worst)}, {points(errors[worst])}")
    data_driven = [m for m in ("markov", "shapley") if m in errors and m not in (best, worst)]
    if data_driven:
        line += (f"; the data-driven {_and([model_name(m) for m in data_driven])}: "
                 f"{_and([points(errors[m]) for m in data_driven])}")
    out.append(line + ".")
    best_plan = max(a.attribution.models, key=lambda m: a.plan(m)["profit_change"])
    change = a.plan(best_plan)["profit_change"]
    truth = a.plan(TRUTH_PLAN)["profit_change"]
    out.append(f"Re-simulated, the best model's plan ({model_name(best_plan)}) "
               f"{'gains' if change >= 0 else 'loses'} {money(abs(change), 0)}; budgets in proportion to "
               f"the true extra sales {'gain' if truth >= 0 else 'lose'} {money(abs(truth), 0)}.")
    b, x = a.blind_spot, a.cross_device
    out.append(f"{pct(b['store_share'])} of purchases happen in a store, where no online log sees them; "
               f"{pct(b['incremental_store_share'])} of the extra sales the channels cause are among them.")
    out.append(f"Unmatched devices split the journeys of {pct(x['converting_customers_split'])} of online "
               f"buyers; {pct(x['touches_lost_share'])} of their touches sit on a journey that shows no "
               "purchase.")
    return out


def assumptions(a: OmnichannelAnalysis, s: OmnichannelScenario) -> list[str]:
    """The world's parameters and where they come from, in words."""
    attribution = a.attribution

    def named(channels: Sequence[str]) -> str:
        return _and([channel_name(s, c) for c in channels])

    lifts = ", ".join(f"{channel_name(s, c)} none" if s.lift[c] == 0 else
                      f"{channel_name(s, c)} +{pct(s.lift[c])} ({_days(s.half_life[c])})"
                      for c in CHANNELS)
    reach = ", ".join(f"{channel_name(s, c)} {pct(s.reach[c])}" for c in CHANNELS)
    retarget = [c for c in CHANNELS if s.targeting[c] == "retarget"]
    sessions = [c for c in CHANNELS if s.targeting[c] == "session" and s.capture[c] > 0]
    push = [c for c in CHANNELS if s.targeting[c] == "push"]
    warm = [c for c in CHANNELS if s.audience_tilt[c] > 0]
    cold = [c for c in CHANNELS if s.audience_tilt[c] < 0]
    who = [f"Who each channel reaches (share of customers): {reach}."]
    if retarget:
        who.append(f"{capitalised(named(retarget))} only runs in the {s.retarget_window_days:g} days after a "
                   "site visit, so it finds people who are already shopping.")
    if sessions:
        who.append(f"{capitalised(named(sessions))} touch nobody on their own: they catch the customer's own "
                   "visits, the buying visit included.")
    if push:
        who.append(f"{capitalised(named(push))} reach their audience on their own schedule.")
    if warm or cold:
        who.append("Audiences lean to the likely buyers" + (f" for {named(warm)}" if warm else "")
                   + (f" and to the cold for {named(cold)}" if cold else "") + " (assumptions).")
    costs = []
    for c in CHANNELS:
        cost, label = s.unit_cost[c], channel_name(s, c)
        if c == "affiliate" and s.affiliate_commission > 0:
            costs.append(f"{label} {pct(s.affiliate_commission)} of the order")
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
        tests.append(f"user-level holdouts of {pct(s.user_holdout_share)} of the eligible customers for "
                     f"{named(users)}")
    if geos:
        tests.append(f"geo-level holdouts of {pct(s.geo_holdout_share)} of {s.n_geos} regions for "
                     f"{named(geos)}")
    if untested:
        tests.append(f"{named(untested)} cannot be switched off and is not tested")
    return [
        f"{s.n_customers:,} simulated customers over a {s.weeks}-week media plan (seed {s.seed}); "
        f"{pct(s.base_conversion)} would buy with no marketing; purchase intent varies across customers "
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
        f"{pct(s.margin)} of revenue, mean order {money(s.mean_order_value, 0)} (assumptions).",
        f"{pct(s.store_share)} of purchases happen in a store: real, counted by the experiments "
        "(customers known by account or card), invisible to the online log. "
        f"{pct(s.multi_device_share)} of customers use a second device for "
        f"{pct(s.secondary_device_share)} of their touches; {pct(s.identity_match_rate)} of them are "
        "matched, the rest leave two journeys (assumptions).",
        "The truth: the same world re-run with each channel switched off (the same customers, visits and "
        "touches: common random numbers), so each difference is that channel's doing.",
        _synergy_assumption(s),
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


def _synergy_assumption(s: OmnichannelScenario) -> str:
    """How the channels work together, and the factorial holdout."""
    synergy = ("Channels add up in the purchase hazard (display_synergy 1)." if s.display_synergy == 1
               or not s.synergy_channels else
               "Channels work together: a touch of "
               f"{_and([CHANNEL_NAMES.get(c, c) for c in s.synergy_channels])} that a display touch preceded "
               f"within {_days(s.synergy_window_days)} moves the purchase hazard {s.display_synergy:g} times "
               "as much (Lewis & Nguyen 2015: display ads raised searches for the "
               "brand by 30-45%; the window is an assumption).")
    if s.factorial_holdout_share > 0 and s.factorial_channels:
        synergy += (f" Factorial user holdout: every customer is held out of each of "
                    f"{_and([CHANNEL_NAMES.get(c, c) for c in s.factorial_channels])} with probability "
                    f"{pct(s.factorial_holdout_share)}, independently; the truth re-runs the world with "
                    "every "
                    "subset of them switched off.")
    return synergy


def data_checks(a: OmnichannelAnalysis, s: OmnichannelScenario) -> list[str]:
    """What the log and the experiments look like, in words."""
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
    if a.factorial is not None:
        units = a.factorial.units
        cells = ", ".join(f"{k.replace('+', ' and ')} {v:,}" for k, v in units.items())
        lines.append(f"Factorial holdout: {sum(units.values()):,} customers in {len(units)} cells (held out "
                     f"of: {cells}).")
    for r in a.experiments.iter_rows(named=True):
        name = capitalised(channel_name(s, r["channel"]))
        if r["design"] == "user":
            share = r["holdout_units"] / r["units"] if r["units"] else float("nan")
            lines.append(f"{name} (user-level test): {r['units']:,} eligible customers, "
                         f"{r['holdout_units']:,} held out ({fmt(share, 'pct')}, intended "
                         f"{pct(s.user_holdout_share)}); sample-ratio p = "
                         f"{fmt(r['srm_p_value'], 'number', 2)}.")
        elif r["design"] == "geo":
            lines.append(f"{name} (geo-level test): {r['units']:,} regions with customers, "
                         f"{r['holdout_units']:,} held out.")
    return lines
