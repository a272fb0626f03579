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
rows is used. :func:`cross_fit` gives every customer a score from models that never saw them
(:mod:`experiments.models.uplift.cross_fitting`); fitting one estimator is in
:mod:`experiments.models.uplift.fitting`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils.validation import has_fit_parameter

from experiments.errors import ParameterError
from experiments.models.uplift.cross_fitting import CrossFit, cross_fit
from experiments.models.uplift.fitting import (
    as_arrays,
    check_propensity,
    default_classifier,
    default_regressor,
    fit_outcome_model,
    predict_outcome,
    response_scores,
)
from experiments.models.uplift.ranking import is_binary
from experiments.uplift_learners import LEARNERS

__all__ = [
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
        X, y, t = as_arrays(X, y, treatment)
        binary = is_binary(y)
        self.model_ = fit_outcome_model(self._outcome_estimator(binary), np.column_stack((X, t)), y,
                                        binary=binary)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: prediction with the flag at 1 minus at 0."""
        X = np.asarray(X, dtype=np.float64)
        ones, zeros = np.ones(X.shape[0]), np.zeros(X.shape[0])
        return predict_outcome(self.model_, np.column_stack((X, ones))) - predict_outcome(
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
        X, y, t = as_arrays(X, y, treatment)
        binary = is_binary(y)
        est = self._outcome_estimator(binary)
        est_c = self.estimator_control if self.estimator_control is not None else est
        self.model_treatment_ = fit_outcome_model(est, X[t], y[t], binary=binary)
        self.model_control_ = fit_outcome_model(est_c, X[~t], y[~t], binary=binary)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: treated model minus control model."""
        X = np.asarray(X, dtype=np.float64)
        return predict_outcome(self.model_treatment_, X) - predict_outcome(self.model_control_, X)


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
        X, y, t = as_arrays(X, y, treatment)
        binary = is_binary(y)
        self.propensity_ = check_propensity(self.propensity, t)
        est = self._outcome_estimator(binary)
        mu1 = fit_outcome_model(est, X[t], y[t], binary=binary)
        mu0 = fit_outcome_model(est, X[~t], y[~t], binary=binary)
        d1 = y[t] - predict_outcome(mu0, X[t])
        d0 = predict_outcome(mu1, X[~t]) - y[~t]
        reg = self.effect_estimator if self.effect_estimator is not None else default_regressor(
            self.random_state)
        self.effect_treatment_ = fit_outcome_model(reg, X[t], d1, binary=False)
        self.effect_control_ = fit_outcome_model(reg, X[~t], d0, binary=False)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: ``g tau0(x) + (1 - g) tau1(x)``."""
        X = np.asarray(X, dtype=np.float64)
        g = self.propensity_
        return (g * predict_outcome(self.effect_control_, X)
                + (1 - g) * predict_outcome(self.effect_treatment_, X))


class _PropensityLearner(_Learner):
    """One model and the probability of treatment: the parameters the class transformation and the
    transformed outcome share."""

    def __init__(self, estimator: Any = None, *, propensity: float | None = None,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.propensity = propensity
        self.random_state = random_state


class ClassTransformation(_PropensityLearner):
    """Class transformation for a binary outcome: classify ``z = (y == treatment)``.

    Parameters as :class:`TransformedOutcome`, but ``estimator`` is a classifier, one that accepts
    ``sample_weight`` when the propensity is not one half.
    """

    def fit(self, X: Any, y: Any, treatment: Any) -> ClassTransformation:
        """Fit the classifier of the transformed class, weighted to a propensity of one half."""
        X, y, t = as_arrays(X, y, treatment)
        if not is_binary(y):
            raise ParameterError("outcome", "continuous", "0/1 for the class transformation; "
                                 "use TransformedOutcome for continuous outcomes")
        est = self._outcome_estimator(True)
        if not is_classifier(est):
            raise ParameterError("estimator", type(est).__name__, "a classifier")
        p = check_propensity(self.propensity, t)
        z = (y == t).astype(np.float64)
        weight = None
        if abs(p - 0.5) > 1e-12:
            if not has_fit_parameter(est, "sample_weight"):
                raise ParameterError("estimator", type(est).__name__,
                                     "a classifier accepting sample_weight when the propensity is not 0.5")
            weight = np.where(t, 0.5 / p, 0.5 / (1 - p))
        self.propensity_ = p
        self.model_ = fit_outcome_model(est, X, z, binary=True, sample_weight=weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: ``2 P(z = 1 | x) - 1``."""
        return 2 * predict_outcome(self.model_, np.asarray(X, dtype=np.float64)) - 1


class TransformedOutcome(_PropensityLearner):
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

    def fit(self, X: Any, y: Any, treatment: Any) -> TransformedOutcome:
        """Fit the regression of the transformed outcome."""
        X, y, t = as_arrays(X, y, treatment)
        est = self.estimator if self.estimator is not None else default_regressor(self.random_state)
        if is_classifier(est):
            raise ParameterError("estimator", type(est).__name__, "a regressor")
        p = check_propensity(self.propensity, t)
        self.propensity_ = p
        self.model_ = fit_outcome_model(est, X, y * (t - p) / (p * (1 - p)), binary=False)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uplift: the regression's prediction."""
        return predict_outcome(self.model_, np.asarray(X, dtype=np.float64))


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
