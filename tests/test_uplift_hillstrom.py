"""Cross-fitted learners on Hillstrom (Womens E-Mail vs No E-Mail): Qini with interval, deciles."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from experiments.datasets import load_hillstrom
from experiments.models.uplift.analysis import compare_learners

FEATURES = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel"]


@pytest.fixture(autouse=True)
def _one_openmp_thread():  # type: ignore[no-untyped-def]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def hillstrom():  # type: ignore[no-untyped-def]
    return load_hillstrom()


def _means(df, outcome: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    t = df.filter(df["segment"] == "Womens E-Mail")[outcome].mean()
    c = df.filter(df["segment"] == "No E-Mail")[outcome].mean()
    return float(t), float(c)


def test_visit(hillstrom) -> None:  # type: ignore[no-untyped-def]
    res = compare_learners(
        hillstrom, arm="segment", treatment="Womens E-Mail", control="No E-Mail", outcome="visit",
        features=FEATURES, estimator=HistGradientBoostingClassifier(max_iter=50, random_state=0), folds=4,
        seed=1, n_resamples=100,
    )
    assert (res.n_rows, res.n_treatment, res.n_control, res.n_left_out) == (42_693, 21_387, 21_306, 21_307)
    assert res.binary and [e.learner for e in res.evaluations] == ["s", "t", "x", "transformed"]
    mean_t, mean_c = _means(hillstrom, "visit")
    assert mean_t - mean_c == pytest.approx(0.0452, abs=5e-4)  # 15.14 % vs 10.62 % (MineThatData)
    for e in res.evaluations:
        assert e.qini.ci_low > 0, e.learner  # every learner ranks visits better than random
        assert e.qini.estimate == pytest.approx(e.metrics.qini_auc)
        rows = e.bins.rows
        assert len(rows) == 10 and sum(r.n_treatment + r.n_control for r in rows) == res.n_rows
        top = np.mean([r.estimate for r in rows[:3]])
        bottom = np.mean([r.estimate for r in rows[-3:]])
        assert top > bottom + 0.02, e.learner  # the e-mail moves the top deciles' visits more
        # treating everyone, valued at 1 per visit and free: the difference of visit rates
        assert e.profit.points[-1].estimate == pytest.approx(mean_t - mean_c, abs=1e-12)
    frame = res.to_frame()
    assert frame.height == 4 and (frame["qini_ci_low"] > 0).all()
    json.dumps(res.to_dict())  # plain numbers only


def test_spend(hillstrom) -> None:  # type: ignore[no-untyped-def]
    res = compare_learners(
        hillstrom, arm="segment", treatment="Womens E-Mail", control="No E-Mail", outcome="spend",
        features=FEATURES, learners=("t", "transformed"),
        estimator=HistGradientBoostingRegressor(max_iter=50, random_state=0), folds=4, seed=1,
        n_resamples=100,
    )
    assert not res.binary
    mean_t, mean_c = _means(hillstrom, "spend")
    assert mean_t - mean_c == pytest.approx(0.43, abs=0.01)  # $1.08 vs $0.65 per customer
    for e in res.evaluations:
        q = e.qini
        assert np.isfinite([q.estimate, q.ci_low, q.ci_high]).all() and q.ci_low < q.estimate < q.ci_high
        assert q.ci_high - q.ci_low > 0.05  # spend is rare and heavy-tailed: a wide interval
        assert e.profit.points[-1].estimate == pytest.approx(mean_t - mean_c, abs=1e-12)
        assert e.bins.to_frame().height == 10
