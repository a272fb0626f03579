"""Uplift learners find heterogeneous effects; cross-fitting scores every row out of fold, seeded."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.learners import (
    ClassTransformation,
    SLearner,
    TLearner,
    TransformedOutcome,
    XLearner,
    cross_fit,
    make_learner,
)
from experiments.models.uplift.metrics import qini_auc_score


@pytest.fixture(autouse=True)
def _one_openmp_thread():  # type: ignore[no-untyped-def]
    """Gradient boosting's OpenMP threads crawl when the cores are shared with other work."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def _world(seed: int, n: int = 8000, p: float = 0.5, continuous: bool = False):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = rng.random(n) < p
    tau = np.where(X[:, 0] > 0, 0.15, -0.03)
    base = 0.15 + 0.05 * (X[:, 1] > 0)
    if continuous:
        y = rng.gamma(2.0, 10.0 * (base + t * tau).clip(0.01), n) * (rng.random(n) < 0.5)
        tau = tau * 10.0  # the mean of y is 10 * (base + t tau)
    else:
        y = (rng.random(n) < base + t * tau).astype(float)
    return X, y, t, tau


def _fast(binary: bool):  # type: ignore[no-untyped-def]
    return (HistGradientBoostingClassifier(max_iter=40, random_state=0) if binary
            else HistGradientBoostingRegressor(max_iter=40, random_state=0))


@pytest.mark.parametrize("name", ["s", "t", "x", "transformed"])
@pytest.mark.parametrize("continuous", [False, True])
def test_learners_rank_by_the_true_effect(name: str, continuous: bool) -> None:
    X, y, t, tau = _world(1, p=0.3, continuous=continuous)
    learner = make_learner(name, binary=not continuous, estimator=_fast(not continuous), propensity=0.3)
    fit = cross_fit(learner, X, y, t, folds=3, seed=0)
    assert np.corrcoef(fit.scores, tau)[0, 1] > 0.25
    oracle = qini_auc_score(y, tau, t)  # about 0.10 (binary), 0.13 (continuous)
    assert 0.015 < qini_auc_score(y, fit.scores, t) < oracle + 0.05


def test_class_transformation_reweights_an_unbalanced_experiment() -> None:
    """With 20 % treated, 2 P(z = 1) - 1 is the uplift only after reweighting to one half."""
    rng = np.random.default_rng(2)
    n = 40_000
    X = rng.normal(size=(n, 2))
    t = rng.random(n) < 0.2
    y = (rng.random(n) < 0.2 + 0.1 * t).astype(float)
    weighted = ClassTransformation(LogisticRegression(), propensity=0.2).fit(X, y, t)
    assert weighted.predict(X).mean() == pytest.approx(0.1, abs=0.02)
    naive = ClassTransformation(LogisticRegression(), propensity=0.5).fit(X, y, t)
    assert naive.predict(X).mean() > 0.3  # what ignoring the propensity gives


def test_transformed_outcome_recovers_a_constant_effect() -> None:
    rng = np.random.default_rng(3)
    n = 40_000
    X = rng.normal(size=(n, 2))
    t = rng.random(n) < 0.3
    y = rng.normal(5.0, 2.0, n) + 1.5 * t
    model = TransformedOutcome(LinearRegression()).fit(X, y, t)
    assert model.propensity_ == pytest.approx(t.mean())
    assert model.predict(X).mean() == pytest.approx(1.5, abs=0.25)


def test_t_and_x_learners_with_linear_models_agree_on_a_linear_world() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    X = rng.normal(size=(n, 2))
    t = rng.random(n) < 0.5
    y = 1.0 + X[:, 0] + t * (0.5 + 2.0 * X[:, 1]) + rng.normal(size=n)
    truth = 0.5 + 2.0 * X[:, 1]
    learners = (TLearner(LinearRegression()), SLearner(LinearRegression()),
                XLearner(LinearRegression(), effect_estimator=LinearRegression(), propensity=0.5))
    for learner in learners:
        pred = learner.fit(X, y, t).predict(X)
        if isinstance(learner, SLearner):  # no interaction: one constant effect
            assert np.ptp(pred) == pytest.approx(0.0, abs=1e-9)
            assert pred.mean() == pytest.approx(0.5, abs=0.05)
        else:
            assert np.abs(pred - truth).max() < 0.2


class _Spy(BaseEstimator):
    """Scores 1 for rows it was trained on (by the id in column 0), 0 otherwise."""

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, treatment: np.ndarray) -> _Spy:
        self.seen_ = set(X[:, 0].tolist())
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.array([1.0 if v in self.seen_ else 0.0 for v in X[:, 0]])


def test_cross_fit_scores_every_row_out_of_fold_with_stratified_seeded_folds() -> None:
    rng = np.random.default_rng(5)
    n = 1000
    X = np.column_stack((np.arange(n), rng.normal(size=n)))
    t = rng.random(n) < 0.3
    y = (rng.random(n) < 0.2).astype(float)
    fit = cross_fit(_Spy(), X, y, t, folds=4, seed=11)
    assert np.all(fit.scores == 0)
    assert fit.stratified_on == "treatment x outcome"
    strata = 2 * t + (y != 0)
    expected = np.empty(n, dtype=int)
    for k, (_, test) in enumerate(StratifiedKFold(4, shuffle=True, random_state=11).split(X, strata)):
        expected[test] = k
    assert np.array_equal(fit.fold, expected)
    for k in range(4):  # each fold holds the same share of treated converters
        assert abs((t & (y == 1))[fit.fold == k].sum() - (t & (y == 1)).sum() / 4) <= 1


def test_cross_fit_is_reproducible() -> None:
    X, y, t, _ = _world(6, n=3000)
    learner = TLearner(_fast(True))
    a = cross_fit(learner, X, y, t, folds=3, seed=1, n_jobs=1)
    b = cross_fit(learner, X, y, t, folds=3, seed=1, n_jobs=3)  # folds fitted in parallel threads
    c = cross_fit(learner, X, y, t, folds=3, seed=2)
    assert np.array_equal(a.scores, b.scores) and not np.array_equal(a.fold, c.fold)


def test_one_class_in_an_arm_gives_a_constant_model() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 2))
    t = np.arange(400) % 2 == 0
    y = np.where(t, (rng.random(400) < 0.3), 0).astype(float)  # no control converts
    fit = cross_fit(TLearner(LogisticRegression()), X, y, t, folds=2)
    assert np.isfinite(fit.scores).all() and fit.scores.min() >= 0


def test_bad_input() -> None:
    X, y, t, _ = _world(8, n=60)
    with pytest.raises(DataError, match="at least 2 per arm and fold"):
        cross_fit(TLearner(), X[:12], y[:12], t[:12], folds=5)
    with pytest.raises(ParameterError, match="'folds'"):
        cross_fit(TLearner(), X, y, t, folds=1)
    with pytest.raises(ParameterError, match="a regressor for a continuous outcome"):
        TLearner(LogisticRegression()).fit(X, y * 2.5, t)
    with pytest.raises(ParameterError, match="'outcome'"):
        ClassTransformation().fit(X, y * 2.5, t)
    with pytest.raises(ParameterError, match="sample_weight"):
        ClassTransformation(KNeighborsClassifier(), propensity=0.3).fit(X, y, t)
    with pytest.raises(ParameterError, match="'learner'"):
        make_learner("z", binary=True)
    with pytest.raises(DataError, match="differ in rows"):
        TLearner().fit(X[:10], y, t)
