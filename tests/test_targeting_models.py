"""What the targeting study adds to the uplift models: scores of new rows from the fold models, the
response model of the common practice, and two policies compared on the same randomised sample."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.evaluation import compare_policies, policy_value
from experiments.models.uplift.learners import TLearner, cross_fit, response_scores


def _world(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = rng.random(n) < 0.5
    tau = 0.5 * X[:, 0]
    y = X[:, 1] + t * tau + rng.normal(0, 1, n)
    return X, y, t, tau


def test_cross_fit_scores_new_rows_with_the_mean_of_the_fold_models() -> None:
    X, y, t, _ = _world(0)
    new = np.random.default_rng(1).normal(size=(50, 3))
    learner = TLearner(LinearRegression())
    fit = cross_fit(learner, X, y, t, folds=3, seed=4, X_new=new)
    assert fit.new_scores is not None and fit.new_scores.shape == (50,)
    # the same folds, fitted by hand
    strata = 2 * t.astype(int) + (y != 0)
    expected = np.zeros(50)
    for train, _ in StratifiedKFold(3, shuffle=True, random_state=4).split(X, strata):
        expected += clone(learner).fit(X[train], y[train], t[train]).predict(new) / 3
    assert fit.new_scores == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # the out-of-fold scores are unchanged by scoring new rows, and by the number of threads
    plain = cross_fit(learner, X, y, t, folds=3, seed=4)
    assert plain.new_scores is None and np.array_equal(plain.scores, fit.scores)
    one = cross_fit(learner, X, y, t, folds=3, seed=4, X_new=new, n_jobs=1)
    assert np.array_equal(one.new_scores, fit.new_scores)
    with pytest.raises(DataError, match="X_new"):
        cross_fit(learner, X, y, t, folds=3, X_new=new[:, :2])


def test_response_scores_are_the_outcome_model_without_the_treatment() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(float)
    new = np.array([[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    p = response_scores(X, y, new, estimator=LogisticRegression())
    ref = LogisticRegression().fit(X, y).predict_proba(new)[:, 1]
    assert p == pytest.approx(ref)
    assert p[0] < 0.1 < p[1] < 0.9 < p[2]
    default = response_scores(X, y, new, random_state=3)  # gradient boosting, a probability
    assert ((default > 0) & (default < 1)).all() and default[0] < default[2]
    amounts = response_scores(X, y * 10.0 + X[:, 1], new, estimator=LinearRegression())
    assert amounts.shape == (3,)
    with pytest.raises(DataError, match="columns"):
        response_scores(X, y, new[:, :1])
    with pytest.raises(DataError, match="missing"):
        response_scores(X, np.full(4000, np.nan), new)


def test_compare_policies_is_the_paired_ipw_difference() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.random(n)
    t = rng.random(n) < 0.4
    y = (rng.random(n) < 0.1 + t * (0.1 * x - 0.03)).astype(float)
    a, b = x > 0.3, np.ones(n, dtype=bool)
    c = compare_policies(y, t, a, b, value_per_outcome=30.0, cost_per_treated=0.2, propensity=0.4)
    pa = policy_value(y, a.astype(float), t, share=a.mean(), value_per_outcome=30.0, cost_per_treated=0.2,
                      propensity=0.4)
    pb = policy_value(y, x, t, share=1.0, value_per_outcome=30.0, cost_per_treated=0.2, propensity=0.4)
    assert c.value_a == pytest.approx(pa.estimate) and c.value_b == pytest.approx(pb.estimate)
    assert c.estimate == pytest.approx(pa.estimate - pb.estimate)
    # the paired difference is a mean of per-customer terms: its interval is that mean's
    g = 30.0 * np.where(t, y / 0.4, -y / 0.6) - 0.2
    d = np.where(a, g, 0.0) - g
    assert c.se == pytest.approx(d.std(ddof=1) / np.sqrt(n))
    assert c.se < np.hypot(pa.se, pb.se)  # narrower than two separate intervals
    assert c.ratio == pytest.approx(pa.estimate / pb.estimate)
    assert c.ratio_ci_low < c.ratio < c.ratio_ci_high and c.share_a == pytest.approx(a.mean())
    same = compare_policies(y, t, a, a)
    assert same.estimate == 0 and same.ratio == pytest.approx(1.0)
    nobody = compare_policies(y, t, a, np.zeros(n, dtype=bool))
    assert np.isnan(nobody.ratio) and nobody.to_dict()["ratio"] is None
    with pytest.raises(ParameterError, match="treat_a"):
        compare_policies(y, t, x, b)
    with pytest.raises(ParameterError, match="treat_b"):
        compare_policies(y, t, a, b[:10])


def test_compare_policies_interval_covers_the_true_difference() -> None:
    """Over 300 randomised samples the paired 90% interval holds the true difference about 90% of the time."""
    n, hits, reps = 4000, 0, 300
    rng = np.random.default_rng(11)
    x = rng.random(n)
    p0, tau = 0.1 + 0.1 * x, 0.08 * x - 0.02
    a, b = tau > 0, np.ones(n, dtype=bool)
    truth = 10.0 * (tau[a].sum() - tau[b].sum()) / n
    for _ in range(reps):
        t = rng.random(n) < 0.5
        y = (rng.random(n) < p0 + t * tau).astype(float)
        c = compare_policies(y, t, a, b, value_per_outcome=10.0, propensity=0.5, alpha=0.1)
        hits += c.ci_low <= truth <= c.ci_high
    assert 0.85 <= hits / reps <= 0.95
