"""Qini/uplift metrics agree with scikit-uplift 0.5 to 1e-9: random inputs, ties, equal scores, Hillstrom."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import sklift.metrics.metrics as sk
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.errors import DataError, ParameterError
from experiments.models.uplift import metrics as um

TOL = 1e-9
pytestmark = pytest.mark.filterwarnings("ignore:Function stable_cumsum is deprecated:FutureWarning")


@contextmanager
def any_outcome() -> Iterator[None]:
    """scikit-uplift 0.5 refuses non-binary outcomes; its formulas are applied unchanged without the check."""
    original = sk.check_is_binary
    sk.check_is_binary = lambda array: None
    try:
        yield
    finally:
        sk.check_is_binary = original


def _ref(f: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(f(*args, **kwargs))
        except ZeroDivisionError:  # scikit-uplift divides by a zero area; ours gives nan or inf
            return float("nan")


def _same(ours: float, ref: float) -> bool:
    if np.isnan(ref):
        return not np.isfinite(ours)
    return abs(ours - ref) <= TOL


def _case(seed: int, *, continuous: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 600))
    t = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(int)
    t[:2] = [0, 1]
    y = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(float)
    y[:2] = [0, 1]
    if continuous:
        y = y * rng.gamma(2.0, 3.0, n)
    levels = int(rng.integers(1, 40)) if seed % 2 else 10**9
    s = rng.integers(0, levels, n) / 7.0
    if seed % 11 == 0:
        s = np.zeros(n)  # every score equal
    return y, s, t


def _check_all(y: np.ndarray, s: np.ndarray, t: np.ndarray) -> None:
    assert _same(um.qini_auc_score(y, s, t), _ref(sk.qini_auc_score, y, s, t))
    assert _same(um.uplift_auc_score(y, s, t), _ref(sk.uplift_auc_score, y, s, t))
    for k in (0.1, 0.3, 0.5, 0.9, 3):
        if k >= y.size:
            continue
        ours, ref = um.uplift_at_k(y, s, t, k=k), _ref(sk.uplift_at_k, y, s, t, strategy="overall", k=k)
        assert (np.isnan(ours) and np.isnan(ref)) or abs(ours - ref) <= TOL
    for name in ("qini_curve", "uplift_curve"):
        xo, vo = getattr(um, name)(y, s, t)
        xr, vr = getattr(sk, name)(y, s, t)
        assert np.array_equal(xo, xr)
        np.testing.assert_allclose(vo, vr, rtol=0, atol=TOL)
    for ours, ref in ((um.perfect_qini_curve(y, t), sk.perfect_qini_curve(y, t)),
                      (um.perfect_uplift_curve(y, t), sk.perfect_uplift_curve(y, t))):
        assert np.array_equal(ours[0], ref[0])
        np.testing.assert_allclose(ours[1], ref[1], rtol=0, atol=TOL)
    m = um.uplift_metrics(y, s, t, k=0.3)
    assert _same(m.qini_auc, _ref(sk.qini_auc_score, y, s, t))
    assert _same(m.uplift_auc, _ref(sk.uplift_auc_score, y, s, t))
    # the reported curve is scikit-uplift's piecewise-linear curve read at share * n
    share = np.asarray(m.curve_share)
    xr, qr = sk.qini_curve(y, s, t)
    np.testing.assert_allclose(m.curve_qini, np.interp(share * y.size, xr, qr), rtol=0, atol=TOL)
    xr, ur = sk.uplift_curve(y, s, t)
    np.testing.assert_allclose(m.curve_uplift, np.interp(share * y.size, xr, ur), rtol=0, atol=TOL)


@pytest.mark.parametrize("seed", range(60))
def test_binary_outcomes_agree_with_sklift(seed: int) -> None:
    _check_all(*_case(seed))


@pytest.mark.parametrize("seed", range(30))
def test_continuous_outcomes_agree_with_sklift_formulas(seed: int) -> None:
    with any_outcome():
        _check_all(*_case(1000 + seed, continuous=True))


@pytest.mark.parametrize("seed", range(12))
def test_chunked_scan_gives_the_same_numbers(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-pass scan works chunk by chunk; tiny chunks put block edges and ties across chunks."""
    monkeypatch.setattr(um, "_CHUNK", 1 + seed % 5)
    with any_outcome():
        _check_all(*_case(2000 + seed, continuous=bool(seed % 2)))


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(-3, 3)), min_size=4,
                  max_size=60),
    k=st.floats(0.05, 0.95),
)
def test_hypothesis_random_small_tables(rows: list[tuple[int, int, int]], k: float) -> None:
    t = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows], dtype=float)
    s = np.array([r[2] for r in rows], dtype=float) / 2
    if t.min() == t.max() or y.min() == y.max():
        return
    assert _same(um.qini_auc_score(y, s, t), _ref(sk.qini_auc_score, y, s, t))
    assert _same(um.uplift_auc_score(y, s, t), _ref(sk.uplift_auc_score, y, s, t))
    ours, ref = um.uplift_at_k(y, s, t, k=k), _ref(sk.uplift_at_k, y, s, t, strategy="overall", k=k)
    assert (np.isnan(ours) and np.isnan(ref)) or abs(ours - ref) <= TOL


def test_unbalanced_arms_and_large_sample() -> None:
    rng = np.random.default_rng(5)
    n = 300_000
    t = (rng.random(n) < 0.03).astype(int)  # 3 % treated
    x = rng.normal(size=n)
    y = (rng.random(n) < 0.05 + 0.04 * t * (x > 0)).astype(int)
    s = np.round(x + rng.normal(size=n), 2)  # many ties
    _check_all(y, s, t)
    assert um.qini_auc_score(y, s, t) > 0.02  # the score carries the effect


def test_uplift_at_k_takes_the_latest_rows_of_a_tied_block() -> None:
    """scikit-uplift orders by argsort(kind='mergesort')[::-1]: among equal scores the later row first."""
    y = np.array([1, 0, 0, 1, 1, 0], dtype=float)
    t = np.array([1, 1, 0, 0, 1, 0])
    s = np.array([0.5, 0.5, 0.5, 0.5, 0.9, 0.1])
    for k in (2, 3, 4):
        assert um.uplift_at_k(y, s, t, k=k) == pytest.approx(
            _ref(sk.uplift_at_k, y, s, t, strategy="overall", k=k), nan_ok=True)


def test_hillstrom_with_a_fixed_score_column() -> None:
    from experiments.datasets import load_hillstrom

    df = load_hillstrom()
    two = df.filter(df["segment"].is_in(["Womens E-Mail", "No E-Mail"]))
    t = (two["segment"] == "Womens E-Mail").to_numpy().astype(int)
    # a fixed, tie-rich score: recency and history as an analyst might rank customers
    s = (-two["recency"].to_numpy() + two["history"].to_numpy() / 1000).round(1)
    for outcome in ("visit", "conversion"):
        y = two[outcome].to_numpy()
        _check_all(y, s, t)
    with any_outcome():
        _check_all(two["spend"].to_numpy(), s, t)


def test_bad_input_is_refused_in_one_line() -> None:
    y, s, t = np.array([0.0, 1, 0, 1]), np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 1, 0, 1])
    with pytest.raises(DataError, match="score has 1 missing"):
        um.qini_auc_score(y, np.array([0.1, np.nan, 0.3, 0.4]), t)
    with pytest.raises(DataError, match="both arms"):
        um.qini_auc_score(y, s, np.ones(4))
    with pytest.raises(DataError, match="only 0 and 1"):
        um.qini_auc_score(y, s, np.array([0, 1, 2, 1]))
    with pytest.raises(DataError, match="differ in length"):
        um.qini_auc_score(y, s[:3], t)
    with pytest.raises(ParameterError, match="'k'"):
        um.uplift_at_k(y, s, t, k=1.5)
    with pytest.raises(ParameterError, match="'strategy'"):
        um.uplift_at_k(y, s, t, strategy="by_group")


def test_metrics_result_shape() -> None:
    y, s, t = _case(3)
    m = um.uplift_metrics(y, s, t, k=0.25, n_points=11)
    d = m.to_dict()
    assert list(d)[:7] == ["n_rows", "n_treatment", "n_control", "qini_auc", "uplift_auc", "uplift_at_k", "k"]
    assert len(d["curve"]) == 11 and d["curve"][0] == {
        "share": 0.0, "qini": 0.0, "uplift": 0.0, "qini_random": 0.0, "uplift_random": 0.0}
    assert d["curve"][-1]["qini"] == pytest.approx(d["curve"][-1]["qini_random"])
    assert m.to_frame().height == 11 and m.n_treatment + m.n_control == m.n_rows
