"""The words and the page of ``experiments uplift``: the verdict on whom to treat, the summary and the report.

The command fits and evaluates (:func:`experiments.commands.uplift.fit_file`, a JSON-ready dict and the
evaluation); this module words the result and describes its page, which :mod:`experiments.render.page`
draws.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from experiments.charts.uplift import budget_curve, profit_by_share, qini_curves, uplift_by_bin
from experiments.formatting import money, p_phrase, spec_or_na
from experiments.studies.base import Verdict
from experiments.studies.pages import Heading, Notes, Page, Section, Table
from experiments.uplift_learners import LEARNER_NAMES

__all__ = ["arms_page", "arms_summary_text", "arms_verdict", "page", "summary_text", "verdict"]



def _per_1000(x: float | None) -> str:
    return "n/a" if x is None else money(1000 * x)


def verdict(r: dict[str, Any]) -> Verdict:
    """Verdict in plain words: headline, details and tone."""
    q, pol = r["qini"], r["policy"]
    best, everyone = pol["best"], pol["treat_all"]
    level = round(100 * (1 - q["alpha"]))
    name = LEARNER_NAMES[r["learner"]]
    if best["n_targeted"] == 0 or (best["estimate"] or 0) <= 0:
        headline = (f"Treat nobody: no share of customers, ranked by the {name}'s predicted uplift, "
                    f"earns more than it costs ({_per_1000(everyone['estimate'])} per 1,000 customers "
                    "for treating everyone).")
    else:
        headline = (f"Treat the {best['share']:.0%} of customers with the highest predicted uplift: about "
                    f"{_per_1000(best['estimate'])} incremental profit per 1,000 customers ({level}% CI "
                    f"{_per_1000(best['ci_low'])} to {_per_1000(best['ci_high'])}), against "
                    f"{_per_1000(everyone['estimate'])} for treating everyone.")
    if q["ci_low"] is not None and q["ci_low"] > 0:
        ranking = (f"The {name} ranks customers better than random: Qini coefficient "
                   f"{spec_or_na(q['estimate'], '.3f')} ({level}% CI {spec_or_na(q['ci_low'], '.3f')} to "
                   f"{spec_or_na(q['ci_high'], '.3f')}, bootstrap p {p_phrase(q['p_value'])}).")
    else:
        ranking = (f"The {name}'s ranking is not distinguishable from random: Qini coefficient "
                   f"{spec_or_na(q['estimate'], '.3f')} ({level}% CI {spec_or_na(q['ci_low'], '.3f')} to "
                   f"{spec_or_na(q['ci_high'], '.3f')}); targeting by it rests on chance.")
    details = [
        ranking,
        f"Economics: {money(pol['value_per_outcome'])} per unit of {r['outcome']}, "
        f"{money(pol['cost_per_treated'])} per treated customer, propensity {pol['propensity']:.3f}.",
        "The best share is chosen on the same rows it is measured on, so its profit is optimistic; "
        "confirm it on a fresh randomised test before rolling out.",
        f"{r['n_rows']:,} customers ({r['n_treatment']:,} {r['treatment']}, {r['n_control']:,} "
        f"{r['control']}); {r['n_left_out']:,} rows of other arms left out; {r['folds']}-fold cross-fitting, "
        f"seed {r['seed']}.",
    ]
    good = best["ci_low"] is not None and best["ci_low"] > 0 and q["ci_low"] is not None and q["ci_low"] > 0
    tone = "good" if good else ("bad" if (best["estimate"] or 0) <= 0 else "neutral")
    return Verdict(headline, tone, tuple(details))


def summary_text(r: dict[str, Any]) -> str:
    """The readable summary printed without ``--json -``."""
    v = verdict(r)
    headline, details = v.headline, list(v.details)
    level = round(100 * (1 - r["qini"]["alpha"]))
    bins = "; ".join(f"{b['bin']}: {spec_or_na(b['estimate'], '+.3g')} [{spec_or_na(b['ci_low'], '+.3g')}, "
                     f"{spec_or_na(b['ci_high'], '+.3g')}]" for b in r["bins"])
    lines = [headline, *details,
             f"Qini coefficient {spec_or_na(r['qini_auc'], '.4f')}, "
             f"uplift AUC {spec_or_na(r['uplift_auc'], '.4f')}, "
             f"uplift among the top {r['k']:.0%}: {spec_or_na(r['uplift_at_k'], '+.4g')}",
             f"uplift by bin, top first (treated minus control mean {r['outcome']}, {level}% CI): {bins}"]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ report


def _qini_chart(ev: Any, r: dict[str, Any]) -> Any:
    frame = ev.metrics.to_frame()
    long = pl.concat([
        frame.select("share", pl.col("qini").alias("value"), pl.lit("model ranking").alias("ranking")),
        frame.select("share", pl.col("qini_random").alias("value"), pl.lit("random").alias("ranking")),
    ])
    q = r["qini"]
    verdict = "above" if q["ci_low"] is not None and q["ci_low"] > 0 else "not clearly above"
    return qini_curves(
        long,
        title=f"The ranking's Qini curve is {verdict} random "
        f"(coefficient {spec_or_na(q['estimate'], '.3f')})",
        subtitle=f"incremental {r['outcome']} among the first share of customers ranked by predicted uplift",
        y_title=f"incremental {r['outcome']}")


def _bins_chart(ev: Any, r: dict[str, Any]) -> Any:
    frame = ev.bins.to_frame().select("bin", "estimate", "ci_low", "ci_high", "n_treatment", "n_control")
    top, bottom = frame.row(0, named=True), frame.row(frame.height - 1, named=True)
    return uplift_by_bin(
        frame, title=f"Uplift in the top bin {spec_or_na(top['estimate'], '+.3g')}, in the bottom bin "
        f"{spec_or_na(bottom['estimate'], '+.3g')}",
        subtitle=f"treated minus control mean {r['outcome']} per bin of predicted uplift (1 = highest), "
        f"{round(100 * (1 - ev.bins.alpha))}% intervals", y_title=f"uplift in {r['outcome']}")


def _profit_chart(ev: Any, r: dict[str, Any]) -> Any:
    frame = ev.profit.to_frame().select(
        "share", pl.lit("model ranking").alias("ranking"), pl.lit("estimated").alias("kind"),
        (pl.col("estimate") * 1000).alias("profit"), (pl.col("ci_low") * 1000).alias("low"),
        (pl.col("ci_high") * 1000).alias("high"))
    best = r["policy"]["best"]
    return profit_by_share(
        frame, title=f"Profit peaks at treating {best['share']:.0%}: {_per_1000(best['estimate'])} per 1,000 "
        "customers", subtitle="incremental profit per 1,000 customers against the share treated (top by "
        "predicted uplift), with its interval", y_title="profit per 1,000")


def page(result: dict[str, Any], evaluation: Any, *, source: str) -> Page:
    """The one-page report: verdict first, then the Qini, decile and profit charts and tables."""
    bins = evaluation.bins.to_frame().select(
        "bin", "share_from", "share_to", "n_treatment", "n_control", "mean_treatment", "mean_control",
        "estimate", "ci_low", "ci_high", "p_value")
    pts = [p for p in evaluation.profit.points if round(p.share * 100) % 10 == 0]
    profit = pl.DataFrame([{"share treated": p.share, "profit per 1,000": 1000 * p.estimate,
                            "CI low": 1000 * p.ci_low, "CI high": 1000 * p.ci_high} for p in pts])
    encoded = [f"{e['column']}: {e['kind']}"
               + (f" ({e['n_columns']} columns)" if e["kind"] == "one-hot" else "")
               for e in result["encoded_features"]]
    method = [
        f"Learner: {LEARNER_NAMES[result['learner']]} on histogram gradient boosting; every customer scored "
        f"by the model fitted on the other {result['folds'] - 1} of {result['folds']} folds (stratified on "
        f"{result['stratified_on']}, seed {result['seed']}).",
        "Qini coefficient and uplift AUC as scikit-uplift 0.5 defines them; interval from "
        f"{result['qini']['n_resamples']} bootstrap resamples of customers.",
        "Profit by inverse-propensity weighting on the randomised rows: value per outcome times the "
        "incremental outcomes of the treated share, minus the cost of treating it.",
        "Features: " + "; ".join(encoded) + ".",
    ]
    title = f"Uplift model: {source}"
    blocks: list[Any] = [
        Heading(title),
        verdict(result),
        Section("Does the model rank customers better than random?"), _qini_chart(evaluation, result),
        Section("Uplift by bin of predicted uplift"), _bins_chart(evaluation, result),
        Table(bins, f"Treated minus control mean {result['outcome']} by bin (1 = highest predicted uplift)",
              {"share_from": "pct", "share_to": "pct"}),
        Section("How many customers to treat"), _profit_chart(evaluation, result),
        Table(profit, "Incremental profit per 1,000 customers by share treated",
              {"share treated": "pct", "profit per 1,000": "money", "CI low": "money", "CI high": "money"}),
        Notes(method, title="How it was computed"),
    ]
    return Page(title, blocks)


# ------------------------------------------------------------------------------------ several arms


def arms_verdict(r: dict[str, Any]) -> Verdict:
    """Which arm for whom: the multi-arm policy's profit per 1,000 against giving everyone one arm."""
    m = r["multi_arm"]
    pol, level = m["policy"], round(100 * (1 - m["policy"]["alpha"]))
    n = m["n_rows"]
    given = ", ".join(f"{label} to {count / n:.0%}" for label, count in m["assigned"].items()
                      if label != r["control"] and count)
    best_label, best = max(m["everyone"].items(), key=lambda kv: kv[1]["estimate"])
    ci = f"{level}% CI {_per_1000(pol['ci_low'])} to {_per_1000(pol['ci_high'])}"
    if not given:
        headline = (f"Treat nobody: no arm is predicted to earn more than {r['control']} for any customer "
                    f"(giving everyone {best_label} earns {_per_1000(best['estimate'])} per 1,000).")
    elif best["estimate"] >= pol["estimate"]:
        headline = (f"Give everyone {best_label}: about {_per_1000(best['estimate'])} per 1,000 customers "
                    f"against {r['control']} ({level}% CI {_per_1000(best['ci_low'])} to "
                    f"{_per_1000(best['ci_high'])}); giving each customer the arm with the highest predicted "
                    f"profit ({given}) earns {_per_1000(pol['estimate'])} ({ci}): the models do not find "
                    "customers who gain more from another arm.")
    else:
        headline = (f"Give each customer the arm with the highest predicted profit ({given}): about "
                    f"{_per_1000(pol['estimate'])} per 1,000 customers against {r['control']} ({ci}), "
                    f"against {_per_1000(best['estimate'])} for giving everyone {best_label}.")
    details = [
        "Giving everyone one arm, per 1,000 customers: " + "; ".join(
            f"{label} {_per_1000(v['estimate'])} ({level}% CI {_per_1000(v['ci_low'])} to "
            f"{_per_1000(v['ci_high'])})" for label, v in m["everyone"].items()) + ".",
        f"Economics: {money(m['value_per_outcome'])} per unit of {r['outcome']}, "
        f"{money(m['cost_per_treated'])} per treated customer; budget curve by {m['budget_unit']}.",
        f"{m['method'].capitalize()} ({m['learner']}, {r['folds']}-fold cross-fitting, seed {r['seed']}); "
        "the policy is judged on the rows its models were cross-fitted on: confirm it on a fresh test.",
        f"{n:,} customers: " + ", ".join(f"{label} {c:,}" for label, c in m["n_by_arm"].items()) + ".",
    ]
    tone = "good" if given and pol["ci_low"] > 0 else ("bad" if pol["estimate"] <= 0 else "neutral")
    return Verdict(headline, tone, tuple(details))


def arms_summary_text(r: dict[str, Any]) -> str:
    """The readable summary of several arms: the multi-arm verdict, its budget curve, then each arm's."""
    v = arms_verdict(r)
    m = r["multi_arm"]
    unit = m["budget_unit"]
    pts = [p for i, p in enumerate(m["budget_curve"]) if i % 5 == 0]
    curve = "; ".join(f"{p['budget']:.3g}: {_per_1000(p['estimate'])} [{_per_1000(p['ci_low'])}, "
                      f"{_per_1000(p['ci_high'])}]" for p in pts)
    lines = [v.headline, *v.details, f"budget curve (budget as {unit}: profit per 1,000, 95% CI): {curve}"]
    for arm in r["arms"]:
        lines.append("")
        lines.append(f"{arm['treatment']} against {arm['control']}:")
        lines.append(summary_text(arm))
    return "\n".join(lines)


def _budget_chart(r: dict[str, Any]) -> Any:
    m = r["multi_arm"]
    frame = pl.DataFrame(m["budget_curve"]).select(
        "budget", *(pl.col(c) * 1000 for c in ("estimate", "ci_low", "ci_high")))
    top = frame.sort("estimate", descending=True).row(0, named=True)
    at = (f"treating {top['budget']:.0%} of customers" if m["budget_unit"] == "share of customers"
          else f"a budget of {money(top['budget'])} per customer")
    return budget_curve(
        frame, title=f"Profit peaks at {_per_1000(top['estimate'] / 1000)} per 1,000 customers {at}",
        subtitle="incremental profit per 1,000 customers of giving each customer their best arm, customers "
        "taken by predicted profit (per dollar when treating costs), with its 95% band",
        x_title=f"budget ({m['budget_unit']})")


def arms_page(result: dict[str, Any], evaluations: list[Any], *, source: str) -> Page:
    """The one-page report of several arms: the multi-arm verdict and budget curve, then each arm's charts."""
    m = result["multi_arm"]
    arms = pl.DataFrame([{
        "arm": a["treatment"], "customers": a["n_treatment"], "Qini": a["qini_auc"],
        "best share": a["best_share"], "profit per 1,000, best share": 1000 * a["policy"]["best"]["estimate"],
        "profit per 1,000, everyone": 1000 * m["everyone"][a["treatment"]]["estimate"],
        "given this arm": m["assigned"][a["treatment"]],
    } for a in result["arms"]])
    title = f"Uplift model, {len(result['arms'])} arms: {source}"
    blocks: list[Any] = [
        Heading(title), arms_verdict(result),
        Section("What more budget buys"), _budget_chart(result),
        Table(arms, f"Each arm against {result['control']}",
              {"best share": "pct", "profit per 1,000, best share": "money",
               "profit per 1,000, everyone": "money"}),
    ]
    for arm, ev in zip(result["arms"], evaluations, strict=True):
        blocks += [Section(f"{arm['treatment']} against {arm['control']}"), verdict(arm),
                   _qini_chart(ev, arm), _profit_chart(ev, arm)]
    own = f"Each arm's own model: {LEARNER_NAMES[result['learner']]}, {result['folds']}-fold cross-fitting."
    blocks.append(Notes([m["method"].capitalize() + ".", own], title="How it was computed"))
    return Page(title, blocks)
