"""Bootstrap Qini, uplift by bin and policy value: exact against references, calibrated by simulation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklift.metrics.metrics as sk
from scipy import stats as sps

from experiments.errors import DataError, ParameterError
from experiments.models.uplift import evaluation as ev
from experiments.models.uplift.metrics import qini_auc_score

pytestmark = pytest.mark.filterwarnings("ignore:Function stable_cumsum is deprecated:FutureWarning")


def _data(seed: int, n: int = 4000, p: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    t = rng.random(n) < p
    tau = 0.2 * (x - 0.3)
    y = (rng.random(n) < 0.2 + np.where(t, np.clip(tau, -0.2, 0.8), 0.0)).astype(float)
    return y, x, t, tau


@pytest.mark.parametrize("seed", range(16))
def test_each_resample_equals_sklift_on_the_repeated_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    t = (rng.random(n) < 0.4).astype(int)
    y = (rng.random(n) < 0.3 + 0.2 * t).astype(float)
    continuous = seed % 2 == 0
    if continuous:
        y = y * rng.gamma(2.0, 2.0, n)
    s = np.round(rng.normal(size=n), 1)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(6)])
    boot = ev._QiniBootstrap(y, s, t.astype(bool))
    reps = boot.replicates([counts[:, boot.order]])
    original = sk.check_is_binary
    if continuous:
        sk.check_is_binary = lambda array: None
    try:
        checked = 0
        for b in range(counts.shape[0]):
            rows = np.repeat(np.arange(n), counts[b])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ref = sk.qini_auc_score(y[rows], s[rows], t[rows])
                except (ValueError, ZeroDivisionError):
                    continue
            assert reps[b] == pytest.approx(ref, abs=1e-9)
            checked += 1
        assert checked >= 4
    finally:
        sk.check_is_binary = original


def test_qini_vs_random_is_seeded_and_independent_of_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    y, x, t, _ = _data(1)
    a = ev.qini_vs_random(y, x, t, n_resamples=60, seed=7)
    monkeypatch.setattr(ev, "_CHUNK_CELLS", 3 * y.size)  # three resamples per block
    b = ev.qini_vs_random(y, x, t, n_resamples=60, seed=7)
    assert a == b
    assert a.estimate == qini_auc_score(y, x, t)
    assert a.ci_low < a.estimate < a.ci_high and a.n_resamples == 60
    c = ev.qini_vs_random(y, x, t, n_resamples=60, seed=8)
    assert c.estimate == a.estimate and c.ci_low != a.ci_low


def test_qini_interval_separates_a_real_ranking_from_noise() -> None:
    y, x, t, _ = _data(2, n=20_000)
    good = ev.qini_vs_random(y, x, t, n_resamples=200, seed=1)
    assert good.ci_low > 0 and good.p_value < 0.01
    noise = np.random.default_rng(3).random(y.size)
    bad = ev.qini_vs_random(y, noise, t, n_resamples=200, seed=1)
    assert bad.ci_low < 0 < bad.ci_high and bad.p_value > 0.05
    d = good.to_dict()
    assert {"estimate", "ci_low", "ci_high", "p_value", "method"} <= set(d)
    assert good.to_frame().height == 1


def test_uplift_by_bin_matches_welch_per_decile() -> None:
    y, x, t, _ = _data(4, n=5003)
    s = np.round(x, 2)  # ties across bin edges
    res = ev.uplift_by_bin(y, s, t, bins=10)
    order = np.argsort(s, kind="mergesort")[::-1]
    parts = np.array_split(order, 10)
    assert [r.n_treatment + r.n_control for r in res.rows] == [p.size for p in parts]
    for r, rows in zip(res.rows, parts, strict=True):
        yt, yc = y[rows][t[rows]], y[rows][~t[rows]]
        ref = sps.ttest_ind(yt, yc, equal_var=False)
        lo, hi = ref.confidence_interval(0.95)
        assert r.estimate == pytest.approx(yt.mean() - yc.mean(), abs=1e-12)
        assert r.p_value == pytest.approx(ref.pvalue, rel=1e-8)
        assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), rel=1e-8)
        assert r.mean_score == pytest.approx(s[rows].mean())
    assert res.rows[0].mean_score > res.rows[-1].mean_score
    assert res.rows[0].estimate > res.rows[-1].estimate  # the score carries the effect
    assert res.to_frame().height == 10 and res.to_dict()["rows"][0]["bin"] == 1


def test_bins_with_one_arm_missing_get_nan() -> None:
    y = np.array([1.0, 0, 1, 0, 1, 0])
    t = np.array([1, 1, 1, 0, 0, 0])
    s = np.array([6.0, 5, 4, 3, 2, 1])
    res = ev.uplift_by_bin(y, s, t, bins=2)
    assert np.isnan(res.rows[0].estimate) and np.isnan(res.rows[0].ci_low)


def test_policy_value_is_the_ipw_mean() -> None:
    y, x, t, _ = _data(5, n=3000, p=0.3)
    value, cost, p = 20.0, 0.5, 0.3
    pv = ev.policy_value(y, x, t, share=0.4, value_per_outcome=value, cost_per_treated=cost, propensity=p)
    order = np.argsort(x, kind="mergesort")[::-1]
    pi = np.zeros(y.size)
    pi[order[: int(0.4 * y.size)]] = 1
    d = pi * (value * np.where(t, y / p, -y / (1 - p)) - cost)
    assert pv.estimate == pytest.approx(d.mean(), rel=1e-12)
    assert pv.se == pytest.approx(d.std(ddof=1) / np.sqrt(y.size), rel=1e-9)
    assert pv.n_targeted == 1200 and pv.ci_low < pv.estimate < pv.ci_high


def test_profit_curve_ends_and_best_share() -> None:
    y, x, t, _ = _data(6, n=20_000)
    curve = ev.profit_curve(y, x, t, value_per_outcome=10.0, cost_per_treated=0.2)
    first, last = curve.points[0], curve.points[-1]
    assert first.estimate == 0 and first.n_targeted == 0
    p = t.mean()
    everyone = 10.0 * (y[t].sum() / p - y[~t].sum() / (1 - p)) / y.size - 0.2
    assert last.estimate == pytest.approx(everyone, rel=1e-9)
    assert curve.best.estimate == max(pt.estimate for pt in curve.points)
    # uplift is 0.2 (x - 0.3): worth treating where 10 * uplift > 0.2, i.e. x > 0.4, the top 60 %
    assert 0.45 <= curve.best.share <= 0.75
    assert curve.to_frame().height == 101 and curve.to_dict()["best"]["share"] == curve.best.share


def test_policy_interval_covers_the_truth() -> None:
    """IPW intervals cover the true value (from each customer's known effect) about 95 % of the time."""
    value, cost, share, reps = 10.0, 0.3, 0.5, 300
    hits = 0
    for rep in range(reps):
        y, x, t, tau = _data(100 + rep, n=2000, p=0.4)
        pv = ev.policy_value(y, x, t, share=share, value_per_outcome=value, cost_per_treated=cost,
                             propensity=0.4)
        top = np.argsort(x, kind="mergesort")[::-1][: int(share * x.size)]
        truth = (value * tau[top] - cost).sum() / x.size
        hits += pv.ci_low <= truth <= pv.ci_high
    assert 0.91 <= hits / reps <= 0.99


def test_bad_parameters() -> None:
    y, x, t, _ = _data(7, n=200)
    with pytest.raises(ParameterError, match="'share'"):
        ev.policy_value(y, x, t, share=1.2)
    with pytest.raises(ParameterError, match="'propensity'"):
        ev.policy_value(y, x, t, share=0.5, propensity=1.0)
    with pytest.raises(ParameterError, match="'n_resamples'"):
        ev.qini_vs_random(y, x, t, n_resamples=5)
    with pytest.raises(ParameterError, match="'alpha'"):
        ev.uplift_by_bin(y, x, t, alpha=1.5)
    with pytest.raises(ParameterError, match="'bins'"):
        ev.uplift_by_bin(y, x, t, bins=0)
    with pytest.raises(DataError, match="score has"):
        ev.profit_curve(y, np.full(y.size, np.nan), t)
