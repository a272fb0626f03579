"""``experiments uplift FILE``: cross-fitted uplift scores, their evaluation and the share worth treating.

Example::

    experiments uplift hillstrom.csv --arm segment --treatment "Womens E-Mail" --control "No E-Mail" \\
        --outcome visit --feature recency --feature history --feature channel --learner x \\
        --value-per-outcome 2.5 --cost-per-treated 0.1 --scores-out scores.parquet --html uplift.html

With ``--treatment`` repeated (several arms against one control), each arm is fitted and judged against
the control as above (one JSON entry per arm, under ``arms``), and a multi-arm T-learner (one cross-fitted
outcome model per arm) gives each customer the arm with the highest predicted profit: its budget curve
(doubly robust profit as more customers are treated) is under ``multi_arm``.

Every customer gets an out-of-fold score (a model fitted on the other folds); the scores are judged on
the same randomised rows: Qini against random with a bootstrap interval, uplift by decile, and the
profit of treating each top share (inverse-propensity weighting). Every output location is checked
before any work; files are written atomically.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from experiments.commands import COMMANDS
from experiments.commands.uplift_eval import add_table_arguments
from experiments.datasets import scan_table
from experiments.errors import ParameterError
from experiments.models.uplift.analysis import evaluate_scores
from experiments.models.uplift.data import read_uplift_table
from experiments.models.uplift.learners import cross_fit, make_learner
from experiments.models.uplift.offers import (
    assign_offers,
    budget_curve,
    fit_arm_models,
    policy_terms,
    term_value,
)
from experiments.outputs import OUTPUT_RULE, atomic_path, check_distinct, check_output, write_results
from experiments.render.page import page_html
from experiments.studies.uplift import arms_page, arms_summary_text, summary_text
from experiments.studies.uplift import page as uplift_page
from experiments.uplift_learners import LEARNERS
from experiments.validation import as_float, as_int

__all__ = ["fit_arms", "fit_file", "register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``uplift`` parser."""
    p = subparsers.add_parser(
        "uplift", help=COMMANDS["uplift"],
        description="Fit an uplift learner with K-fold cross-fitting on a randomised experiment file "
        "(CSV or parquet), score every customer out of fold, and judge the scores: Qini against random "
        "(bootstrap interval), uplift by decile, and the incremental profit of treating each top share. "
        "Refused (one line on stderr, exit 2, nothing written): an unknown column; one column in two "
        "roles (arm, outcome, features); a file without rows; an absent arm label; an outcome that is "
        "not numeric or has missing, NaN or infinite values; an infinite feature value (missing ones are "
        "kept as missing). " + OUTPUT_RULE,
    )
    add_table_arguments(p, several=True)
    p.add_argument("--feature", required=True, action="append", metavar="COL",
                   help="feature column (repeat for several); text columns are one-hot encoded")
    p.add_argument("--learner", choices=LEARNERS, default="t",
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


def fit_arms(
    file: str,
    *,
    arm: str,
    treatments: list[str],
    control: str,
    outcome: str,
    features: list[str],
    learner: str = "t",
    folds: int = 5,
    seed: int = 0,
    cost_per_treated: float = 0.0,
    value_per_outcome: float = 1.0,
    propensity: float | None = None,
    alpha: float = 0.05,
    max_levels: int = 64,
    **options: Any,
) -> tuple[dict[str, Any], list[Any], Any]:
    """Several treated arms against one control: each arm as :func:`fit_file`, and the multi-arm policy.

    Returns
    -------
    result, evaluations, table
        The JSON-ready result (``arms``: one :func:`fit_file` result per arm; ``multi_arm``: the policy,
        each arm's value for everyone and the budget curve), each arm's evaluation, and the
        :class:`~experiments.models.uplift.data.UpliftTable` of every arm's rows.
    """
    labels = [str(t) for t in treatments]
    if len(set(labels)) != len(labels):
        raise ParameterError("treatment", labels, "distinct arm labels")
    if propensity is not None:
        raise ParameterError("propensity", propensity, "no value with several --treatment arms (each arm's "
                             "probability is its observed share)")
    arms, evaluations = [], []
    for label in labels:
        res, ev, _, _ = fit_file(file, arm=arm, treatment=label, control=control, outcome=outcome,
                                 features=features, learner=learner, folds=folds, seed=seed,
                                 cost_per_treated=cost_per_treated, value_per_outcome=value_per_outcome,
                                 alpha=alpha, max_levels=max_levels, **options)
        arms.append(res)
        evaluations.append(ev)
    # every arm's rows at once: one design for all, the arm's code (0 = control) in file order
    order = [str(control), *labels]
    flag = "__arms_treated"
    frame = (scan_table(file).select(pl.col(arm).cast(pl.String).alias(arm), outcome, *features)
             .filter(pl.col(arm).is_in(order)).collect())
    frame = frame.with_columns(pl.when(pl.col(arm) == str(control)).then(pl.lit("c")).otherwise(pl.lit("t"))
                               .alias(flag))
    table = read_uplift_table(frame, arm=flag, treatment="t", control="c", outcome=outcome, features=features,
                              max_levels=max_levels)
    assert table.design is not None
    code = frame[arm].replace_strict(order, list(range(len(order))), return_dtype=pl.Int64).to_numpy()
    counts = np.bincount(code, minlength=len(order))
    e = counts / counts.sum()
    y = value_per_outcome * table.outcome.astype(np.float64) - cost_per_treated * (code > 0)
    fit = fit_arm_models(table.design.X, table.outcome.astype(np.float64), code, n_arms=len(order),
                         folds=folds, seed=seed, binary=table.binary, learner="s" if learner == "s" else "t")
    mu = value_per_outcome * fit.oof - cost_per_treated * (np.arange(len(order)) > 0)
    uplift = mu[:, 1:] - mu[:, :1]
    spend = None if cost_per_treated == 0 else np.full_like(uplift, cost_per_treated)
    chosen = assign_offers(uplift)
    value = term_value(policy_terms(y, code, chosen, e, mu=mu), alpha=alpha)
    everyone = {label: term_value(policy_terms(y, code, np.full(code.size, j + 1), e, mu=mu),
                                  alpha=alpha).to_dict()
                for j, label in enumerate(labels)}
    unit = "share of customers" if spend is None else "spend per customer"
    top = 1.0 if spend is None else cost_per_treated
    curve = budget_curve(uplift, y, code, e, spend=spend, mu=mu, budgets=np.linspace(0.0, top, 21),
                         alpha=alpha)
    result: dict[str, Any] = {
        "file": str(file), "arm": arm, "treatments": labels, "control": control, "outcome": outcome,
        "features": features, "learner": learner, "folds": folds, "seed": seed,
        "arms": arms,
        "multi_arm": {
            "n_rows": int(code.size),
            "n_by_arm": {label: int(c) for label, c in zip(order, counts, strict=True)},
            "propensities": {label: float(p) for label, p in zip(order, e, strict=True)},
            "learner": "S-learner" if learner == "s" else "T-learner",
            "value_per_outcome": value_per_outcome, "cost_per_treated": cost_per_treated,
            "method": "each arm's outcome cross-fitted (out of fold); each customer given the arm with the "
                      "highest predicted profit when positive; value against the control, doubly robust",
            "assigned": {label: int(np.count_nonzero(chosen == j)) for j, label in enumerate(order)},
            "policy": value.to_dict(),
            "everyone": everyone,
            "budget_unit": unit,
            "budget_curve": curve.to_dicts(),
        },
    }
    return result, evaluations, table


def _write_scores(path: Path, table: Any, fit: Any, *, treatment: str, control: str) -> None:
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
    if len(args.treatment) > 1:
        return _run_arms(args, opts, json_path=json_path, html_path=html_path, scores_path=scores_path)
    args.treatment = args.treatment[0]
    result, ev, table, fit = fit_file(
        args.file, arm=args.arm, treatment=args.treatment, control=args.control, outcome=args.outcome,
        features=list(args.feature), learner=args.learner, **opts)
    result["scores_out"] = str(scores_path) if scores_path is not None else None
    page = page_html(uplift_page(result, ev, source=Path(args.file).name)) if html_path is not None else None
    text = json.dumps(result, indent=2)
    if scores_path is not None:
        _write_scores(scores_path, table, fit, treatment=args.treatment, control=args.control)
    if write_results(text, json_path, json_option=args.json, page=page, html_path=html_path):
        return 0
    print(summary_text(result))
    return 0


def _run_arms(args: argparse.Namespace, opts: dict[str, Any], *, json_path: Path | None,
              html_path: Path | None, scores_path: Path | None) -> int:
    """Several ``--treatment`` arms: each against the control, and the multi-arm policy."""
    if scores_path is not None:
        raise ParameterError("scores_out", args.scores_out, "one --treatment arm (scores are per arm pair)")
    result, evaluations, _ = fit_arms(
        args.file, arm=args.arm, treatments=list(args.treatment), control=args.control, outcome=args.outcome,
        features=list(args.feature), learner=args.learner, **opts)
    page = (page_html(arms_page(result, evaluations, source=Path(args.file).name)) if html_path is not None
            else None)
    text = json.dumps(result, indent=2)
    if write_results(text, json_path, json_option=args.json, page=page, html_path=html_path):
        return 0
    print(arms_summary_text(result))
    return 0
