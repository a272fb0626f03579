"""``experiments uplift FILE``: cross-fitted uplift scores, their evaluation and the share worth treating.

Example::

    experiments uplift hillstrom.csv --arm segment --treatment "Womens E-Mail" --control "No E-Mail" \\
        --outcome visit --feature recency --feature history --feature channel --learner x \\
        --value-per-outcome 2.5 --cost-per-treated 0.1 --scores-out scores.parquet --html uplift.html

Every customer gets an out-of-fold score (a model fitted on the other folds); the scores are judged on
the same randomised rows: Qini against random with a bootstrap interval, uplift by decile, and the
profit of treating each top share (inverse-propensity weighting). Every output location is checked
before any work; files are written atomically.
"""

from __future__ import annotations

import argparse
import html
import json
import math
from pathlib import Path
from typing import Any

from experiments.commands.uplift_eval import add_table_arguments
from experiments.errors import ParameterError
from experiments.outputs import OUTPUT_RULE, atomic_path, check_distinct, check_output, write_results

__all__ = ["fit_file", "register", "render_html", "run", "summary_text"]

_LEARNER_NAMES = {"s": "S-learner", "t": "T-learner", "x": "X-learner",
                  "transformed": "transformed-outcome learner"}


def register(subparsers: Any) -> None:
    """Add the ``uplift`` parser."""
    p = subparsers.add_parser(
        "uplift", help="cross-fitted uplift model: whom to treat, and how many",
        description="Fit an uplift learner with K-fold cross-fitting on a randomised experiment file "
        "(CSV or parquet), score every customer out of fold, and judge the scores: Qini against random "
        "(bootstrap interval), uplift by decile, and the incremental profit of treating each top share. "
        "Refused (one line on stderr, exit 2, nothing written): an unknown column; one column in two "
        "roles (arm, outcome, features); a file without rows; an absent arm label; an outcome that is "
        "not numeric or has missing, NaN or infinite values; an infinite feature value (missing ones are "
        "kept as missing). " + OUTPUT_RULE,
    )
    add_table_arguments(p)
    p.add_argument("--feature", required=True, action="append", metavar="COL",
                   help="feature column (repeat for several); text columns are one-hot encoded")
    p.add_argument("--learner", choices=["s", "t", "x", "transformed"], default="t",
                   help="S-, T-, X-learner or transformed outcome (class transformation for 0/1) (t)")
    p.add_argument("--folds", default="5", metavar="K", help="cross-fitting folds, >= 2 (5)")
    p.add_argument("--seed", default="0", metavar="S", help="seed of folds, models and bootstrap (0)")
    p.add_argument("--cost-per-treated", default="0", metavar="C", help="cost per treated customer (0)")
    p.add_argument("--value-per-outcome", default="1", metavar="V",
                   help="value per conversion, or per unit of a continuous outcome (1)")
    p.add_argument("--propensity", metavar="P",
                   help="probability of treatment in the experiment (default: the observed share)")
    p.add_argument("--k", default="0.3", metavar="SHARE", help="top share for uplift at k (0.3)")
    p.add_argument("--bins", default="10", metavar="B", help="bins of the uplift table (10: deciles)")
    p.add_argument("--bootstrap", default="200", metavar="B", help="bootstrap resamples of the Qini (200)")
    p.add_argument("--alpha", default="0.05", metavar="A", help="1 - interval level (0.05)")
    p.add_argument("--max-levels", default="64", metavar="N",
                   help="most levels of a text feature; more is refused (64)")
    p.add_argument("--scores-out", metavar="FILE.parquet",
                   help="write row, arm, outcome, out-of-fold score and fold as parquet")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' = standard output only)")
    p.add_argument("--html", metavar="PATH", help="write a one-page offline HTML report")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    from experiments.validation import as_float, as_int

    opts = {
        "folds": as_int("folds", args.folds, low=2, high=100),
        "seed": as_int("seed", args.seed, low=0),
        "cost_per_treated": as_float("cost_per_treated", args.cost_per_treated, low=0),
        "value_per_outcome": as_float("value_per_outcome", args.value_per_outcome),
        "k": as_float("k", args.k, low=0, high=1, low_open=True, high_open=True),
        "bins": as_int("bins", args.bins, low=1, high=1000),
        "n_resamples": as_int("bootstrap", args.bootstrap, low=20, high=100_000),
        "alpha": as_float("alpha", args.alpha, low=0, high=1, low_open=True, high_open=True),
        "max_levels": as_int("max_levels", args.max_levels, low=2, high=10_000),
        "propensity": None if args.propensity is None else as_float(
            "propensity", args.propensity, low=0, high=1, low_open=True, high_open=True),
    }
    return opts


def fit_file(
    file: str,
    *,
    arm: str,
    treatment: str,
    control: str,
    outcome: str,
    features: list[str],
    learner: str = "t",
    folds: int = 5,
    seed: int = 0,
    cost_per_treated: float = 0.0,
    value_per_outcome: float = 1.0,
    propensity: float | None = None,
    k: float = 0.3,
    bins: int = 10,
    n_resamples: int = 200,
    alpha: float = 0.05,
    max_levels: int = 64,
) -> tuple[dict[str, Any], Any, Any, Any]:
    """Read, cross-fit and evaluate.

    Returns
    -------
    result, evaluation, table, fit
        The JSON-ready result, the :class:`~experiments.models.uplift.results.LearnerEvaluation`, the
        :class:`~experiments.models.uplift.data.UpliftTable` and the
        :class:`~experiments.models.uplift.learners.CrossFit`.
    """
    from experiments.models.uplift.analysis import evaluate_scores
    from experiments.models.uplift.data import read_uplift_table
    from experiments.models.uplift.learners import cross_fit, make_learner

    if len(set(features)) != len(features):
        raise ParameterError("feature", features, "distinct column names")
    if arm in features or outcome in features:
        raise ParameterError("feature", features, "columns other than the arm and the outcome")
    table = read_uplift_table(file, arm=arm, treatment=treatment, control=control, outcome=outcome,
                              features=features, max_levels=max_levels, with_rows=True)
    assert table.design is not None
    p = propensity if propensity is not None else table.n_treatment / table.n_rows
    model = make_learner(learner, binary=table.binary, propensity=p, random_state=seed)
    fit = cross_fit(model, table.design.X, table.outcome, table.treatment, folds=folds, seed=seed)
    ev = evaluate_scores(table.outcome, fit.scores, table.treatment, learner=learner, k=k, bins=bins,
                         n_resamples=n_resamples, seed=seed, alpha=alpha, value_per_outcome=value_per_outcome,
                         cost_per_treated=cost_per_treated, propensity=p)
    metrics = ev.metrics.to_dict()
    best = ev.profit.best
    result: dict[str, Any] = {
        key: metrics[key] for key in ("n_rows", "n_treatment", "n_control", "qini_auc", "uplift_auc",
                                      "uplift_at_k", "k")
    } | {
        "n_left_out": table.n_left_out, "outcome_kind": "binary" if table.binary else "continuous",
        "file": str(file), "arm": arm, "treatment": treatment, "control": control, "outcome": outcome,
        "features": features,
        "encoded_features": [{"column": e.column, "kind": e.kind, "n_columns": e.n_columns}
                             for e in table.design.encodings],
        "learner": learner, "folds": folds, "seed": seed, "stratified_on": fit.stratified_on,
        "qini": ev.qini.to_dict(),
        "bins": [r.to_dict() for r in ev.bins.rows],
        "best_share": best.share,
        "policy": {
            "value_per_outcome": value_per_outcome, "cost_per_treated": cost_per_treated, "propensity": p,
            "best": best.to_dict(), "treat_all": ev.profit.points[-1].to_dict(),
            "curve": [{key: pt[key] for key in ("share", "n_targeted", "estimate", "se", "ci_low", "ci_high",
                                                "p_value")}
                      for pt in (q.to_dict() for q in ev.profit.points)],
        },
        "curve": [{key: pt[key] for key in ("share", "qini", "uplift", "qini_random", "uplift_random")}
                  for pt in metrics["curve"]],
    }
    return result, ev, table, fit


def _num(x: float | None, spec: str) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def _p(x: float | None) -> str:
    return "n/a" if x is None else ("< 0.001" if x < 0.001 else f"= {x:.3f}")


def _per_1000(x: float | None) -> str:
    from experiments.formatting import money

    return "n/a" if x is None else money(1000 * x)


def _headline(r: dict[str, Any]) -> tuple[str, list[str], str]:
    """Verdict in plain words: headline, details and tone."""
    q, pol = r["qini"], r["policy"]
    best, everyone = pol["best"], pol["treat_all"]
    level = round(100 * (1 - q["alpha"]))
    name = _LEARNER_NAMES[r["learner"]]
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
                   f"{_num(q['estimate'], '.3f')} ({level}% CI {_num(q['ci_low'], '.3f')} to "
                   f"{_num(q['ci_high'], '.3f')}, bootstrap p {_p(q['p_value'])}).")
    else:
        ranking = (f"The {name}'s ranking is not distinguishable from random: Qini coefficient "
                   f"{_num(q['estimate'], '.3f')} ({level}% CI {_num(q['ci_low'], '.3f')} to "
                   f"{_num(q['ci_high'], '.3f')}); targeting by it rests on chance.")
    from experiments.formatting import money

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
    return headline, details, tone


def summary_text(r: dict[str, Any]) -> str:
    """The readable summary printed without ``--json -``."""
    headline, details, _ = _headline(r)
    level = round(100 * (1 - r["qini"]["alpha"]))
    bins = "; ".join(f"{b['bin']}: {_num(b['estimate'], '+.3g')} [{_num(b['ci_low'], '+.3g')}, "
                     f"{_num(b['ci_high'], '+.3g')}]" for b in r["bins"])
    lines = [headline, *details,
             f"Qini coefficient {_num(r['qini_auc'], '.4f')}, uplift AUC {_num(r['uplift_auc'], '.4f')}, "
             f"uplift among the top {r['k']:.0%}: {_num(r['uplift_at_k'], '+.4g')}",
             f"uplift by bin, top first (treated minus control mean {r['outcome']}, {level}% CI): {bins}"]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ report


def _qini_chart(ev: Any, r: dict[str, Any]) -> Any:
    import polars as pl

    from experiments.charts.uplift import qini_curves

    frame = ev.metrics.to_frame()
    long = pl.concat([
        frame.select("share", pl.col("qini").alias("value"), pl.lit("model ranking").alias("ranking")),
        frame.select("share", pl.col("qini_random").alias("value"), pl.lit("random").alias("ranking")),
    ])
    q = r["qini"]
    verdict = "above" if q["ci_low"] is not None and q["ci_low"] > 0 else "not clearly above"
    return qini_curves(
        long,
        title=f"The ranking's Qini curve is {verdict} random (coefficient {_num(q['estimate'], '.3f')})",
        subtitle=f"incremental {r['outcome']} among the first share of customers ranked by predicted uplift",
        y_title=f"incremental {r['outcome']}")


def _bins_chart(ev: Any, r: dict[str, Any]) -> Any:
    from experiments.charts.uplift import uplift_by_bin

    frame = ev.bins.to_frame().select("bin", "estimate", "ci_low", "ci_high", "n_treatment", "n_control")
    top, bottom = frame.row(0, named=True), frame.row(frame.height - 1, named=True)
    return uplift_by_bin(
        frame, title=f"Uplift in the top bin {_num(top['estimate'], '+.3g')}, in the bottom bin "
        f"{_num(bottom['estimate'], '+.3g')}",
        subtitle=f"treated minus control mean {r['outcome']} per bin of predicted uplift (1 = highest), "
        f"{round(100 * (1 - ev.bins.alpha))}% intervals", y_title=f"uplift in {r['outcome']}")


def _profit_chart(ev: Any, r: dict[str, Any]) -> Any:
    import polars as pl

    from experiments.charts.uplift import profit_by_share

    frame = ev.profit.to_frame().select(
        "share", pl.lit("model ranking").alias("ranking"), pl.lit("estimated").alias("kind"),
        (pl.col("estimate") * 1000).alias("profit"), (pl.col("ci_low") * 1000).alias("low"),
        (pl.col("ci_high") * 1000).alias("high"))
    best = r["policy"]["best"]
    return profit_by_share(
        frame, title=f"Profit peaks at treating {best['share']:.0%}: {_per_1000(best['estimate'])} per 1,000 "
        "customers", subtitle="incremental profit per 1,000 customers against the share treated (top by "
        "predicted uplift), with its interval", y_title="profit per 1,000")


def render_html(result: dict[str, Any], evaluation: Any, *, source: str) -> str:
    """The one-page offline report: verdict first, then the Qini, decile and profit charts and tables."""
    import polars as pl

    import experiments.charts  # noqa: F401  (house theme)
    from experiments.render.display import assumptions, table, verdict_box
    from experiments.render.page import render_page
    from experiments.studies.base import Verdict

    headline, details, tone = _headline(result)
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
        f"Learner: {_LEARNER_NAMES[result['learner']]} on histogram gradient boosting; every customer scored "
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
        f"<h1>{html.escape(title)}</h1>",
        verdict_box(Verdict(headline, tone, tuple(details))),
        "<h2>Does the model rank customers better than random?</h2>", _qini_chart(evaluation, result),
        "<h2>Uplift by bin of predicted uplift</h2>", _bins_chart(evaluation, result),
        table(bins, caption=f"Treated minus control mean {result['outcome']} by bin (1 = highest predicted "
              "uplift)", formats={"share_from": "pct", "share_to": "pct"}).data,
        "<h2>How many customers to treat</h2>", _profit_chart(evaluation, result),
        table(profit, caption="Incremental profit per 1,000 customers by share treated",
              formats={"share treated": "pct", "profit per 1,000": "money", "CI low": "money",
                       "CI high": "money"}).data,
        assumptions(method, title="How it was computed").data,
    ]
    return render_page(title, blocks)


def _write_scores(path: Path, table: Any, fit: Any, *, treatment: str, control: str) -> None:
    import polars as pl

    frame = pl.DataFrame({
        "row": table.row, "arm": pl.Series(table.treatment).replace_strict(
            {True: str(treatment), False: str(control)}, return_dtype=pl.String),
        "outcome": table.outcome, "uplift_score": fit.scores, "fold": fit.fold,
    })
    with atomic_path(path) as tmp:
        frame.write_parquet(tmp)


def run(args: argparse.Namespace) -> int:
    """Handler of ``experiments uplift``."""
    opts = _options(args)
    json_path = check_output(args.json, option="--json", overwrite=args.overwrite, allow_stdout=True)
    html_path = check_output(args.html, option="--html", overwrite=args.overwrite)
    scores_path = check_output(args.scores_out, option="--scores-out", overwrite=args.overwrite)
    if scores_path is not None and scores_path.suffix.lower() not in {".parquet", ".pq"}:
        raise ParameterError("scores_out", args.scores_out, "a .parquet path (scores are written as parquet)")
    check_distinct(("--json", json_path), ("--html", html_path), ("--scores-out", scores_path))
    result, ev, table, fit = fit_file(
        args.file, arm=args.arm, treatment=args.treatment, control=args.control, outcome=args.outcome,
        features=list(args.feature), learner=args.learner, **opts)
    result["scores_out"] = str(scores_path) if scores_path is not None else None
    page = render_html(result, ev, source=Path(args.file).name) if html_path is not None else None
    text = json.dumps(result, indent=2)
    if scores_path is not None:
        _write_scores(scores_path, table, fit, treatment=args.treatment, control=args.control)
    if write_results(text, json_path, json_option=args.json, page=page, html_path=html_path):
        return 0
    print(summary_text(result))
    return 0
