"""From an experiment table to judged uplift scores: cross-fit learners, then evaluate each.

:func:`evaluate_scores` measures one score column (Qini and uplift areas, uplift at k, Qini against
random with a bootstrap interval, uplift by bin, profit curve); :func:`compare_learners` cross-fits
several learners on a table (for example Hillstrom's e-mail test) and evaluates each. Numbers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from experiments.errors import ParameterError
from experiments.models.uplift.data import read_uplift_table
from experiments.models.uplift.evaluation import profit_curve, qini_vs_random, uplift_by_bin
from experiments.models.uplift.features import MAX_LEVELS
from experiments.models.uplift.learners import cross_fit, make_learner
from experiments.models.uplift.metrics import uplift_metrics
from experiments.models.uplift.results import LearnerComparison, LearnerEvaluation
from experiments.uplift_learners import LEARNERS

__all__ = ["compare_learners", "evaluate_scores"]


def evaluate_scores(
    y_true: Any,
    uplift: Any,
    treatment: Any,
    *,
    learner: str = "score",
    k: float = 0.3,
    bins: int = 10,
    n_resamples: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    value_per_outcome: float = 1.0,
    cost_per_treated: float = 0.0,
    propensity: Any = None,
    n_points: int = 101,
) -> LearnerEvaluation:
    """Every measure of one uplift score on a randomised sample.

    Parameters
    ----------
    y_true, uplift, treatment
        Outcome, score (out-of-fold, or from a model fitted elsewhere) and treatment (0/1).
    learner
        Name recorded with the result.
    k
        Share for uplift at k.
    bins
        Number of bins of the uplift table (10: deciles).
    n_resamples, seed
        Bootstrap of the Qini coefficient.
    alpha
        One minus the level of every interval.
    value_per_outcome, cost_per_treated, propensity
        Economics of the profit curve (see :func:`experiments.models.uplift.evaluation.policy_value`).
    n_points
        Points of the curves (evenly spaced shares).
    """
    return LearnerEvaluation(
        learner=learner,
        metrics=uplift_metrics(y_true, uplift, treatment, k=k, n_points=n_points),
        qini=qini_vs_random(y_true, uplift, treatment, n_resamples=n_resamples, alpha=alpha, seed=seed),
        bins=uplift_by_bin(y_true, uplift, treatment, bins=bins, alpha=alpha),
        profit=profit_curve(y_true, uplift, treatment, value_per_outcome=value_per_outcome,
                            cost_per_treated=cost_per_treated, propensity=propensity, n_points=n_points,
                            alpha=alpha),
    )


def compare_learners(
    source: str | Path | pl.DataFrame | pl.LazyFrame,
    *,
    arm: str,
    treatment: str,
    control: str,
    outcome: str,
    features: Sequence[str],
    learners: Sequence[str] = LEARNERS,
    estimator: Any = None,
    folds: int = 5,
    seed: int = 0,
    n_resamples: int = 200,
    bins: int = 10,
    k: float = 0.3,
    alpha: float = 0.05,
    value_per_outcome: float = 1.0,
    cost_per_treated: float = 0.0,
    propensity: float | None = None,
    max_levels: int = MAX_LEVELS,
) -> LearnerComparison:
    """Cross-fit each learner on a randomised experiment table and evaluate its out-of-fold scores.

    Parameters
    ----------
    source
        CSV/parquet path or polars frame, one row per customer.
    arm, treatment, control, outcome, features
        Columns and arm labels (see :func:`experiments.models.uplift.data.read_uplift_table`).
    learners
        Short names among ``s``, ``t``, ``x``, ``transformed``.
    estimator
        Base scikit-learn estimator for every learner (default histogram gradient boosting).
    folds, seed
        Cross-fitting folds and seed (also the bootstrap's seed).
    n_resamples, bins, k, alpha, value_per_outcome, cost_per_treated, propensity
        As in :func:`evaluate_scores`; ``propensity`` defaults to the observed share treated.

    Returns
    -------
    LearnerComparison
        One :class:`~experiments.models.uplift.results.LearnerEvaluation` per learner.
    """
    learners = list(learners)
    if not learners or any(name not in LEARNERS for name in learners) or len(set(learners)) != len(learners):
        raise ParameterError("learners", learners, "distinct names among " + ", ".join(LEARNERS))
    table = read_uplift_table(source, arm=arm, treatment=treatment, control=control, outcome=outcome,
                              features=features, max_levels=max_levels)
    assert table.design is not None
    p = propensity if propensity is not None else table.n_treatment / table.n_rows
    evaluations = []
    for name in learners:
        learner = make_learner(name, binary=table.binary, estimator=estimator, propensity=p,
                               random_state=seed)
        fit = cross_fit(learner, table.design.X, table.outcome, table.treatment, folds=folds, seed=seed)
        evaluations.append(evaluate_scores(
            table.outcome, fit.scores, table.treatment, learner=name, k=k, bins=bins,
            n_resamples=n_resamples, seed=seed, alpha=alpha, value_per_outcome=value_per_outcome,
            cost_per_treated=cost_per_treated, propensity=p,
        ))
    return LearnerComparison(
        outcome=outcome, binary=table.binary, n_rows=table.n_rows, n_treatment=table.n_treatment,
        n_control=table.n_control, n_left_out=table.n_left_out, features=tuple(features), folds=folds,
        seed=seed, evaluations=tuple(evaluations),
    )

