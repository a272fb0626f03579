"""Fitting one scikit-learn estimator for the uplift learners: defaults, clones, probabilities, checks.

:func:`fit_outcome_model` fits a clone (a constant when a classifier sees one class, a one-line error
when the fit fails), :func:`predict_outcome` reads a classifier's probability of outcome 1 or a regression's
prediction, and
:func:`as_arrays` checks features, outcome and treatment. :func:`response_scores` is the response model of
the common practice ("target those most likely to buy").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from experiments.errors import DataError, FitError, ParameterError
from experiments.models.uplift.ranking import is_binary

__all__ = ["default_classifier", "default_regressor", "response_scores"]


def default_classifier(random_state: int = 0) -> HistGradientBoostingClassifier:
    """Histogram gradient boosting with scikit-learn's defaults (early stopping above 10,000 rows)."""
    return HistGradientBoostingClassifier(random_state=random_state)


def default_regressor(random_state: int = 0) -> HistGradientBoostingRegressor:
    """Histogram gradient boosting regression with scikit-learn's defaults."""
    return HistGradientBoostingRegressor(random_state=random_state)


class _Constant:
    """Predicts one value: what a classifier becomes when its training rows hold one class."""

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], self.value)


def fit_outcome_model(estimator: Any, X: np.ndarray, y: np.ndarray, *, binary: bool,
         sample_weight: np.ndarray | None = None) -> Any:
    """A fitted clone of ``estimator`` (a constant when a classifier sees one class)."""
    if is_classifier(estimator) and not binary:
        raise ParameterError("estimator", type(estimator).__name__,
                             "a regressor for a continuous outcome (a classifier needs 0/1 outcomes)")
    if y.size == 0:
        raise DataError("a model has no training rows; give more rows per arm")
    if is_classifier(estimator) and np.unique(y).size < 2:
        return _Constant(y[0])
    model = clone(estimator)
    try:
        if sample_weight is None:
            model.fit(X, y)
        else:
            model.fit(X, y, sample_weight=sample_weight)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FitError(f"{type(model).__name__} could not be fitted: {first}") from None
    return model


def predict_outcome(model: Any, X: np.ndarray) -> np.ndarray:
    """Probability of outcome 1 for a classifier, the prediction for anything else."""
    if isinstance(model, _Constant) or not is_classifier(model):
        return np.asarray(model.predict(X), dtype=np.float64)
    proba = model.predict_proba(X)
    return proba[:, list(model.classes_).index(1)].astype(np.float64)


def as_arrays(X: Any, y: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    y = np.asarray(y, dtype=np.float64).ravel()
    t_raw = np.asarray(treatment).ravel()
    t = t_raw if t_raw.dtype == bool else t_raw == 1
    if not (X.shape[0] == y.size == t.size):
        raise DataError(f"features, outcome and treatment differ in rows: {X.shape[0]}, {y.size}, {t.size}")
    if t_raw.dtype != bool and not np.all(t | (t_raw == 0)):
        raise DataError("treatment must hold only 0 and 1 (or True and False)")
    if not np.isfinite(y).all():
        raise DataError("outcome has missing or infinite values")
    return X, y, t


def check_propensity(propensity: float | None, t: np.ndarray) -> float:
    if propensity is None:
        p = float(np.count_nonzero(t) / t.size)
    else:
        p = float(propensity)
    if not (0 < p < 1):
        raise ParameterError("propensity", propensity, "a probability strictly between 0 and 1")
    return p


def response_scores(
    X: Any, y: Any, X_new: Any, *, estimator: Any = None, random_state: int = 0
) -> np.ndarray:
    """Predicted outcome of the rows of ``X_new`` from one model of ``y`` on ``X`` (no treatment flag).

    The response model of the common practice ("target those most likely to buy"): a classifier's
    probability of outcome 1 for a 0/1 outcome, a regression's prediction otherwise. The default
    estimator is histogram gradient boosting, fitted on one OpenMP thread.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(-1, 1) if X.ndim == 1 else X
    y = np.asarray(y, dtype=np.float64).ravel()
    new = np.asarray(X_new, dtype=np.float64)
    new = new.reshape(-1, 1) if new.ndim == 1 else new
    if X.shape[0] != y.size:
        raise DataError(f"features and outcome differ in rows: {X.shape[0]}, {y.size}")
    if new.shape[1] != X.shape[1]:
        raise DataError(f"X_new has {new.shape[1]} feature columns; X has {X.shape[1]}")
    if not np.isfinite(y).all():
        raise DataError("outcome has missing or infinite values")
    binary = is_binary(y)
    if estimator is None:
        estimator = default_classifier(random_state) if binary else default_regressor(random_state)
    with threadpool_limits(limits=1, user_api="openmp"):
        model = fit_outcome_model(estimator, X, y, binary=binary)
        return predict_outcome(model, new)
