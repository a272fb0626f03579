"""Cross-fitting an uplift learner: every customer scored by models fitted on the other folds.

:func:`cross_fit` splits the rows into seeded folds stratified on treatment and outcome, fits a clone of
the learner per fold (on one OpenMP thread each, the folds in parallel threads) and returns the
out-of-fold scores (:class:`CrossFit`); rows the models never saw can be scored by every fold's model.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.fitting import as_arrays
from experiments.models.uplift.ranking import is_binary

__all__ = ["CrossFit", "cross_fit"]


@dataclass(frozen=True)
class CrossFit:
    """Out-of-fold uplift scores: each row scored by the model fitted on the other folds."""

    scores: np.ndarray
    fold: np.ndarray
    folds: int
    seed: int
    stratified_on: Literal["treatment x outcome", "treatment x (outcome != 0)", "treatment"]
    #: Scores of the rows of ``X_new`` (when given): the mean of the ``folds`` models' predictions.
    new_scores: np.ndarray | None = None


def cross_fit(
    learner: BaseEstimator,
    X: Any,
    y: Any,
    treatment: Any,
    *,
    folds: int = 5,
    seed: int = 0,
    n_jobs: int | None = None,
    X_new: Any = None,
) -> CrossFit:
    """Out-of-fold uplift scores from ``folds`` seeded, stratified folds.

    Folds are stratified on treatment x outcome (binary outcome) or treatment x (outcome != 0)
    (continuous; zero-inflated amounts), falling back to treatment alone when a stratum has fewer
    rows than folds. The learner is cloned for every fold with ``random_state=seed`` when it has one.

    Each fold's models are fitted on one OpenMP thread, and the folds run in parallel threads
    (``n_jobs``; default one per core, at most one per fold): the scores do not depend on ``n_jobs``,
    and gradient boosting does not stall at its thread barriers when the cores are busy with other work
    (two OpenMP threads on two shared cores measured 8 times slower than one).

    ``X_new`` (rows the models never saw, e.g. a hold-out part) is scored by every fold's model and
    the scores averaged (:attr:`CrossFit.new_scores`), so no extra fit is needed to score them.

    Raises
    ------
    DataError
        An arm has fewer than 2 rows per fold.
    """
    if isinstance(folds, bool) or not (isinstance(folds, int) and folds >= 2):
        raise ParameterError("folds", folds, "an integer >= 2")
    if isinstance(seed, bool) or not (isinstance(seed, int) and seed >= 0):
        raise ParameterError("seed", seed, "an integer >= 0")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not (isinstance(n_jobs, int) and n_jobs >= 1)):
        raise ParameterError("n_jobs", n_jobs, "an integer >= 1, or None for one per core")
    X, y, t = as_arrays(X, y, treatment)
    new = None if X_new is None else np.asarray(X_new, dtype=np.float64)
    if new is not None and (new.ndim != 2 or new.shape[1] != X.shape[1]):
        raise DataError(f"X_new has shape {new.shape}; it needs the {X.shape[1]} feature columns of X")
    n_t = int(np.count_nonzero(t))
    for name, count in (("treatment", n_t), ("control", t.size - n_t)):
        if count < 2 * folds:
            raise DataError(f"the {name} arm has {count} rows; cross-fitting with {folds} folds needs at "
                            f"least 2 per arm and fold ({2 * folds})")
    binary = is_binary(y)
    strata = 2 * t.astype(np.int64) + (y != 0)
    how: Any = "treatment x outcome" if binary else "treatment x (outcome != 0)"
    counts = np.bincount(strata, minlength=4)
    if counts[counts > 0].min() < folds:
        strata, how = t.astype(np.int64), "treatment"
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, strata))
    params = learner.get_params(deep=False)
    base = clone(learner).set_params(random_state=seed) if "random_state" in params else clone(learner)

    def one(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        with threadpool_limits(limits=1, user_api="openmp"):  # set in each thread: they are per thread
            model = clone(base).fit(X[train], y[train], t[train])
            out = np.asarray(model.predict(X[test]), dtype=np.float64)
            return out, None if new is None else np.asarray(model.predict(new), dtype=np.float64)

    workers = n_jobs if n_jobs is not None else min(folds, os.cpu_count() or 1)
    if workers == 1:
        predictions = [one(train, test) for train, test in splits]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            predictions = list(pool.map(lambda split: one(*split), splits))
    scores = np.empty(y.size)
    fold = np.empty(y.size, dtype=np.int64)
    new_scores = None if new is None else np.zeros(new.shape[0])
    for k, ((_, test), (pred, pred_new)) in enumerate(zip(splits, predictions, strict=True)):
        scores[test] = pred
        fold[test] = k
        if new_scores is not None and pred_new is not None:
            new_scores += pred_new  # in fold order, so the sum does not depend on n_jobs
    if new_scores is not None:
        new_scores /= folds
    return CrossFit(scores=scores, fold=fold, folds=folds, seed=seed, stratified_on=how,
                    new_scores=new_scores)
