"""Uplift learners on any scikit-learn estimator, and cross-fitting (out-of-fold scores).

- :class:`SLearner`: one model of the outcome on the features and the treatment flag; the uplift is
  its prediction with the flag at 1 minus at 0.
- :class:`TLearner`: one model per arm; the uplift is the difference of their predictions.
- :class:`XLearner` (Künzel, Sekhon, Bickel & Yu 2019, *PNAS* 116(10)): the T-learner's models impute
  each customer's effect (treated: ``y - mu0(x)``, controls: ``mu1(x) - y``), one regression per arm
  learns it, and the two are blended by the propensity ``g``: ``g tau0(x) + (1 - g) tau1(x)``.
- :class:`ClassTransformation` (Jaskowski & Jaroszewicz 2012), binary outcomes: a classifier of
  ``z = 1`` when ``y == treatment``; the uplift is ``2 P(z = 1 | x) - 1``. With a propensity other
  than one half the rows are weighted (``0.5 / p`` treated, ``0.5 / (1 - p)`` controls) so that the
  identity holds.
- :class:`TransformedOutcome` (Athey & Imbens 2015), any outcome: a regression of
  ``y (t - p) / (p (1 - p))``, whose conditional mean is the uplift.

Binary outcomes use classifiers (probabilities from ``predict_proba``), continuous ones regressors.
The defaults are histogram gradient boosting (fast on millions of rows, handles missing values).
In a randomised experiment the propensity is known: pass it, or the share treated in the training
rows is used. :func:`cross_fit` gives every customer a score from models that never saw them.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import has_fit_parameter

from experiments.errors import DataError, FitError, ParameterError

__all__ = [
    "LEARNERS",
    "ClassTransformation",
    "CrossFit",
    "LearnerName",
    "SLearner",
    "TLearner",
    "TransformedOutcome",
    "XLearner",
    "cross_fit",
    "default_classifier",
    "default_regressor",
    "make_learner",
    "response_scores",
]

LearnerName = Literal["s", "t", "x", "transformed"]
LEARNERS: tuple[str, ...] = ("s", "t", "x", "transformed")


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


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


def _fit(estimator: Any, X: np.ndarray, y: np.ndarray, *, binary: bool,
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


def _predict(model: Any, X: np.ndarray) -> np.ndarray:
    """Probability of outcome 1 for a classifier, the prediction for anything else."""
    if isinstance(model, _Constant) or not is_classifier(model):
        return np.asarray(model.predict(X), dtype=np.float64)
    proba = model.predict_proba(X)
    return proba[:, list(model.classes_).index(1)].astype(np.float64)


def _arrays(X: Any, y: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _propensity(propensity: float | None, t: np.ndarray) -> float:
    if propensity is None:
        p = float(np.count_nonzero(t) / t.size)
    else:
        p = float(propensity)
    if not (0 < p < 1):
        raise ParameterError("propensity", propensity, "a probability strictly between 0 and 1")
    return p


class _Learner(BaseEstimator):
    """Common interface: ``fit(X, y, treatment)`` then ``predict(X)`` gives the uplift."""

    def _outcome_estimator(self, binary: bool) -> Any:
        est = getattr(self, "estimator", None)
        if est is not None:
            return est
        return default_classifier(self.random_state) if binary else default_regressor(self.random_state)

    def fit(self, X: Any, y: Any, treatment: Any) -> _Learner:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class SLearner(_Learner):
    """One outcome model with the treatment flag as a feature.

    Parameters
    ----------
    estimator
        Any scikit-learn classifier (binary outcome) or regressor; default histogram gradient boosting.
    random_state
        Seed of the default estimator.
    """

    def __init__(self, estimator: Any = None, *, random_state: int = 0) -> None:
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, X: Any, y: Any, treatment: Any) -> SLearner:
        """Fit the outcome model on ``[X, treatment]``."""
        X, y, t = _arrays(X, y, treatment)
        binary = _is_binary(y)
        self.model_ = _fit(self._outcome_estimator(binary), np.column_stack((X, t)), y, binary=binary)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: prediction with the flag at 1 minus at 0."""
        X = np.asarray(X, dtype=np.float64)
        ones, zeros = np.ones(X.shape[0]), np.zeros(X.shape[0])
        return _predict(self.model_, np.column_stack((X, ones))) - _predict(
            self.model_, np.column_stack((X, zeros)))


class TLearner(_Learner):
    """One outcome model per arm.

    Parameters
    ----------
    estimator
        Model of the treated (and of the controls unless ``estimator_control`` is given).
    estimator_control
        Model of the controls.
    random_state
        Seed of the default estimators.
    """

    def __init__(self, estimator: Any = None, *, estimator_control: Any = None,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.estimator_control = estimator_control
        self.random_state = random_state

    def fit(self, X: Any, y: Any, treatment: Any) -> TLearner:
        """Fit one model on the treated rows and one on the controls."""
        X, y, t = _arrays(X, y, treatment)
        binary = _is_binary(y)
        est = self._outcome_estimator(binary)
        est_c = self.estimator_control if self.estimator_control is not None else est
        self.model_treatment_ = _fit(est, X[t], y[t], binary=binary)
        self.model_control_ = _fit(est_c, X[~t], y[~t], binary=binary)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: treated model minus control model."""
        X = np.asarray(X, dtype=np.float64)
        return _predict(self.model_treatment_, X) - _predict(self.model_control_, X)


class XLearner(_Learner):
    """X-learner: imputed effects per arm, blended by the propensity.

    Parameters
    ----------
    estimator
        Outcome model of each arm (first stage).
    effect_estimator
        Regressor of the imputed effects (second stage); default histogram gradient boosting.
    propensity
        Probability of treatment in the experiment; default the share treated in the training rows.
    random_state
        Seed of the default estimators.
    """

    def __init__(self, estimator: Any = None, *, effect_estimator: Any = None,
                 propensity: float | None = None, random_state: int = 0) -> None:
        self.estimator = estimator
        self.effect_estimator = effect_estimator
        self.propensity = propensity
        self.random_state = random_state

    def fit(self, X: Any, y: Any, treatment: Any) -> XLearner:
        """First stage per arm, imputed effects, second stage per arm."""
        X, y, t = _arrays(X, y, treatment)
        binary = _is_binary(y)
        self.propensity_ = _propensity(self.propensity, t)
        est = self._outcome_estimator(binary)
        mu1 = _fit(est, X[t], y[t], binary=binary)
        mu0 = _fit(est, X[~t], y[~t], binary=binary)
        d1 = y[t] - _predict(mu0, X[t])
        d0 = _predict(mu1, X[~t]) - y[~t]
        reg = self.effect_estimator if self.effect_estimator is not None else default_regressor(
            self.random_state)
        self.effect_treatment_ = _fit(reg, X[t], d1, binary=False)
        self.effect_control_ = _fit(reg, X[~t], d0, binary=False)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: ``g tau0(x) + (1 - g) tau1(x)``."""
        X = np.asarray(X, dtype=np.float64)
        g = self.propensity_
        return g * _predict(self.effect_control_, X) + (1 - g) * _predict(self.effect_treatment_, X)


class ClassTransformation(_Learner):
    """Class transformation for a binary outcome: classify ``z = (y == treatment)``.

    Parameters
    ----------
    estimator
        A classifier that accepts ``sample_weight`` when the propensity is not one half.
    propensity
        Probability of treatment; default the share treated in the training rows.
    random_state
        Seed of the default estimator.
    """

    def __init__(self, estimator: Any = None, *, propensity: float | None = None,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.propensity = propensity
        self.random_state = random_state

    def fit(self, X: Any, y: Any, treatment: Any) -> ClassTransformation:
        """Fit the classifier of the transformed class, weighted to a propensity of one half."""
        X, y, t = _arrays(X, y, treatment)
        if not _is_binary(y):
            raise ParameterError("outcome", "continuous", "0/1 for the class transformation; "
                                 "use TransformedOutcome for continuous outcomes")
        est = self._outcome_estimator(True)
        if not is_classifier(est):
            raise ParameterError("estimator", type(est).__name__, "a classifier")
        p = _propensity(self.propensity, t)
        z = (y == t).astype(np.float64)
        weight = None
        if abs(p - 0.5) > 1e-12:
            if not has_fit_parameter(est, "sample_weight"):
                raise ParameterError("estimator", type(est).__name__,
                                     "a classifier accepting sample_weight when the propensity is not 0.5")
            weight = np.where(t, 0.5 / p, 0.5 / (1 - p))
        self.propensity_ = p
        self.model_ = _fit(est, X, z, binary=True, sample_weight=weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: ``2 P(z = 1 | x) - 1``."""
        return 2 * _predict(self.model_, np.asarray(X, dtype=np.float64)) - 1


class TransformedOutcome(_Learner):
    """Transformed-outcome regression: regress ``y (t - p) / (p (1 - p))`` on the features.

    Parameters
    ----------
    estimator
        A regressor; default histogram gradient boosting.
    propensity
        Probability of treatment; default the share treated in the training rows.
    random_state
        Seed of the default estimator.
    """

    def __init__(self, estimator: Any = None, *, propensity: float | None = None,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.propensity = propensity
        self.random_state = random_state

    def fit(self, X: Any, y: Any, treatment: Any) -> TransformedOutcome:
        """Fit the regression of the transformed outcome."""
        X, y, t = _arrays(X, y, treatment)
        est = self.estimator if self.estimator is not None else default_regressor(self.random_state)
        if is_classifier(est):
            raise ParameterError("estimator", type(est).__name__, "a regressor")
        p = _propensity(self.propensity, t)
        self.propensity_ = p
        self.model_ = _fit(est, X, y * (t - p) / (p * (1 - p)), binary=False)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: the regression's prediction."""
        return _predict(self.model_, np.asarray(X, dtype=np.float64))


def make_learner(
    name: str,
    *,
    binary: bool,
    estimator: Any = None,
    propensity: float | None = None,
    random_state: int = 0,
) -> _Learner:
    """A learner by its short name: ``s``, ``t``, ``x`` or ``transformed``.

    ``transformed`` is the class transformation for a binary outcome and the transformed-outcome
    regression for a continuous one.
    """
    if name == "s":
        return SLearner(estimator, random_state=random_state)
    if name == "t":
        return TLearner(estimator, random_state=random_state)
    if name == "x":
        return XLearner(estimator, propensity=propensity, random_state=random_state)
    if name == "transformed":
        if binary:
            return ClassTransformation(estimator, propensity=propensity, random_state=random_state)
        return TransformedOutcome(estimator, propensity=propensity, random_state=random_state)
    raise ParameterError("learner", name, "one of " + ", ".join(LEARNERS))


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
    learner: _Learner,
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
    X, y, t = _arrays(X, y, treatment)
    new = None if X_new is None else np.asarray(X_new, dtype=np.float64)
    if new is not None and (new.ndim != 2 or new.shape[1] != X.shape[1]):
        raise DataError(f"X_new has shape {new.shape}; it needs the {X.shape[1]} feature columns of X")
    n_t = int(np.count_nonzero(t))
    for name, count in (("treatment", n_t), ("control", t.size - n_t)):
        if count < 2 * folds:
            raise DataError(f"the {name} arm has {count} rows; cross-fitting with {folds} folds needs at "
                            f"least 2 per arm and fold ({2 * folds})")
    binary = _is_binary(y)
    strata = 2 * t.astype(np.int64) + (y != 0)
    how: Any = "treatment x outcome" if binary else "treatment x (outcome != 0)"
    counts = np.bincount(strata, minlength=4)
    if counts[counts > 0].min() < folds:
        strata, how = t.astype(np.int64), "treatment"
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, strata))
    params = learner.get_params(deep=False)
    base = clone(learner).set_params(random_state=seed) if "random_state" in params else clone(learner)

    def one(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        from threadpoolctl import threadpool_limits

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


def response_scores(
    X: Any, y: Any, X_new: Any, *, estimator: Any = None, random_state: int = 0
) -> np.ndarray:
    """Predicted outcome of the rows of ``X_new`` from one model of ``y`` on ``X`` (no treatment flag).

    The response model of the common practice ("target those most likely to buy"): a classifier's
    probability of outcome 1 for a 0/1 outcome, a regression's prediction otherwise. The default
    estimator is histogram gradient boosting, fitted on one OpenMP thread.
    """
    from threadpoolctl import threadpool_limits

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
    binary = _is_binary(y)
    if estimator is None:
        estimator = default_classifier(random_state) if binary else default_regressor(random_state)
    with threadpool_limits(limits=1, user_api="openmp"):
        model = _fit(estimator, X, y, binary=binary)
        return _predict(model, new)
