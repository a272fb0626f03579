"""Fast bootstrap: exact in distribution, agrees with Welch on large samples and scipy on small ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from experiments.errors import DataError, ParameterError
from experiments.stats.bootstrap import bootstrap, bootstrap_effects, bootstrap_mean_diff, resample_means


def _revenue(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    return np.where(rng.random(n) < p, rng.lognormal(4, 1, n).round(2), 0.0)


def test_large_sample_matches_welch_interval() -> None:
    rng = np.random.default_rng(1)
    x, y = _revenue(rng, 200_000, 0.06), _revenue(rng, 200_000, 0.05)
    res = bootstrap_mean_diff(x, y, n_resamples=2000, seed=3)
    se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
    assert res.estimate == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    assert res.se == pytest.approx(se, rel=0.06)  # Monte Carlo error of an sd from 2,000 draws: ~1.6 %
    d = x.mean() - y.mean()
    assert res.ci_low == pytest.approx(d - 1.96 * se, abs=0.15 * se)
    assert res.ci_high == pytest.approx(d + 1.96 * se, abs=0.15 * se)


@pytest.mark.parametrize("few", [True, False])
def test_resampled_means_have_the_right_distribution(few: bool) -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, 3_000).astype(float) if few else _revenue(rng, 3_000, 0.3)
    means = resample_means(x, n_resamples=4_000, seed=1)
    # plain bootstrap: mean of the resample means = mean(x), sd = sd(x, ddof=0)/sqrt(n)
    assert means.mean() == pytest.approx(x.mean(), abs=4 * x.std() / np.sqrt(x.size) / np.sqrt(4_000))
    assert means.std(ddof=1) == pytest.approx(x.std() / np.sqrt(x.size), rel=0.05)


def test_reproducible_whatever_the_threads() -> None:
    rng = np.random.default_rng(4)
    x, y = _revenue(rng, 20_000, 0.1), _revenue(rng, 20_000, 0.1)
    a = bootstrap_mean_diff(x, y, n_resamples=600, seed=9, workers=1)
    b = bootstrap_mean_diff(x, y, n_resamples=600, seed=9, workers=3)
    assert a == b


def test_general_bootstrap_matches_scipy_on_small_samples() -> None:
    rng = np.random.default_rng(6)
    x = rng.lognormal(0, 1, 80)
    res = bootstrap(np.median, x, n_resamples=3000, seed=1)
    # scipy.stats.bootstrap((x,), np.median, method="percentile", n_resamples=3000)
    ref = sps.bootstrap((x,), np.median, method="percentile", n_resamples=3000, random_state=2)
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert res.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.15 * width)
    assert res.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.15 * width)
    assert res.se == pytest.approx(ref.standard_error, rel=0.1)
    diff = bootstrap(lambda a, b: a.mean() - b.mean(), x, x + 0.5, n_resamples=500, seed=1)
    assert diff.p_value < 0.05 and diff.ci_high < 0
    assert "resamples" in res.summary() and res.to_frame().height == 1


def test_rejects_bad_input() -> None:
    with pytest.raises(ParameterError, match="n_resamples"):
        bootstrap_mean_diff(np.ones(10), np.ones(10), n_resamples=5)
    with pytest.raises(DataError, match="non-finite"):
        bootstrap_mean_diff(np.array([1.0, np.nan, 2.0]), np.ones(10))
    with pytest.raises(DataError, match="at least two"):
        bootstrap_mean_diff(np.ones(1), np.ones(10))


@pytest.mark.parametrize("binary", [True, False])
def test_bootstrap_effects_match_scipy(binary: bool) -> None:
    rng = np.random.default_rng(11)
    if binary:
        values = {a: (rng.random(3_000) < p).astype(float) for a, p in (("c", 0.1), ("t", 0.13))}
    else:
        values = {a: _revenue(rng, 3_000, p) for a, p in (("c", 0.1), ("t", 0.13))}
    (res,) = bootstrap_effects({"m": values}, control="c", arms=["t"], n_resamples=3000, seed=2)
    # scipy.stats.bootstrap((t, c), mean difference, method="percentile"): each sample resampled apart
    ref = sps.bootstrap((values["t"], values["c"]), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis),
                        method="percentile", n_resamples=3000, vectorized=True, random_state=5)
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert res.estimate == pytest.approx(values["t"].mean() - values["c"].mean(), rel=1e-12)
    assert res.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.08 * width)
    assert res.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.08 * width)
    assert res.se == pytest.approx(ref.standard_error, rel=0.08)  # Monte Carlo error of 3,000 draws: ~1.3 %
    assert (res.metric, res.arm, res.control, res.n_arm, res.n_control) == ("m", "t", "c", 3_000, 3_000)
    assert res.to_dict()["n_resamples"] == 3000 and "resamples" in res.summary()


def test_bootstrap_effects_seeded_and_checked() -> None:
    rng = np.random.default_rng(12)
    values = {"m": {a: rng.normal(size=500) for a in ("c", "a", "b")},
              "k": {a: rng.normal(size=500) for a in ("c", "a", "b")}}
    one = bootstrap_effects(values, control="c", arms=["a", "b"], n_resamples=200, seed=3)
    assert [(r.metric, r.arm) for r in one] == [("m", "a"), ("m", "b"), ("k", "a"), ("k", "b")]
    assert one == bootstrap_effects(values, control="c", arms=["a", "b"], n_resamples=200, seed=3)
    assert one != bootstrap_effects(values, control="c", arms=["a", "b"], n_resamples=200, seed=4)
    assert len({r.ci_low for r in one}) == 4  # every pair has its own stream
    with pytest.raises(DataError, match="at least two values in arm 'a'"):
        bootstrap_effects({"m": {"c": np.ones(5), "a": np.ones(1)}}, control="c", arms=["a"], n_resamples=20)
    with pytest.raises(ParameterError, match="n_resamples"):
        bootstrap_effects(values, control="c", arms=["a"], n_resamples=3)
