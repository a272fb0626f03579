"""mSPRT: always-valid p-values hold the false-positive rate under daily peeking (simulation)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.errors import DataError
from experiments.stats import SampleStats
from experiments.stats.sequential import always_valid_pvalues, confidence_sequence, msprt, naive_looks


def _simulate(
    reps: int, looks: int, per_look: int, effect: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative difference of means and its variance (unit variance arms), shape (reps, looks)."""
    rng = np.random.default_rng(seed)
    sums_t = np.cumsum(rng.normal(effect * per_look, math.sqrt(per_look), (reps, looks)), axis=1)
    sums_c = np.cumsum(rng.normal(0, math.sqrt(per_look), (reps, looks)), axis=1)
    n = per_look * np.arange(1, looks + 1)
    return (sums_t - sums_c) / n, np.broadcast_to(2 / n, (reps, looks))


def test_false_positive_rate_under_peeking() -> None:
    diff, var = _simulate(4_000, 30, 200, 0.0, 11)
    p = always_valid_pvalues(diff, var, tau2=10 * var[0, -1])
    fpr = float((p[:, -1] <= 0.05).mean())
    naive = 2 * (1 - __import__("scipy").stats.norm.cdf(np.abs(diff / np.sqrt(var))))
    naive_fpr = float((naive.min(axis=1) <= 0.05).mean())
    assert fpr <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 4_000)
    assert naive_fpr > 0.15  # peeking at a fixed-horizon test inflates it (about 0.25 at 30 looks)
    assert np.all(np.diff(p, axis=1) <= 0)


def test_power_and_confidence_sequence_coverage() -> None:
    diff, var = _simulate(2_000, 20, 500, 0.05, 12)
    tau2 = 10 * var[0, -1]
    p = always_valid_pvalues(diff, var, tau2=tau2)
    assert (p[:, -1] <= 0.05).mean() > 0.5
    low, high = confidence_sequence(diff, var, tau2=tau2, alpha=0.05)
    covered_always = ((low <= 0.05) & (high >= 0.05)).all(axis=1).mean()
    assert covered_always >= 0.95 - 3 * math.sqrt(0.05 * 0.95 / 2_000)


def test_msprt_on_frames_and_sample_stats() -> None:
    rng = np.random.default_rng(5)
    t, c = rng.normal(0.1, 1, 5_000), rng.normal(0, 1, 5_000)
    ends = [1_000, 2_000, 3_000, 4_000, 5_000]
    pairs = [
        (SampleStats(k, t[:k].sum(), (t[:k] ** 2).sum()), SampleStats(k, c[:k].sum(), (c[:k] ** 2).sum()))
        for k in ends
    ]
    res = msprt(pairs, alpha=0.05)
    frame = pl.DataFrame({
        "count_t": ends, "mean_t": [a.mean for a, _ in pairs], "variance_t": [a.variance for a, _ in pairs],
        "count_c": ends, "mean_c": [b.mean for _, b in pairs], "variance_c": [b.variance for _, b in pairs],
    })
    res2 = msprt(frame, alpha=0.05)
    assert res.p_value == pytest.approx(res2.p_value, rel=1e-12)
    assert res.estimate[-1] == pytest.approx(t.mean() - c.mean(), rel=1e-9)
    assert res.tau == pytest.approx(math.sqrt(10 * res.se[-1] ** 2))
    assert all(a >= b for a, b in zip(res.p_value, res.p_value[1:], strict=False))
    assert res.to_frame().height == 5 and res.to_dict()["looks"] == 5 and "looks" in res.summary()
    naive = naive_looks(pairs)
    assert naive["p_value"][-1] == pytest.approx(res.naive_p_value[-1])
    assert res.p_value[-1] >= naive["p_value"][-1]  # the always-valid p-value is the cautious one
    with pytest.raises(DataError, match="lacks columns"):
        msprt(frame.drop("mean_c"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=1, max_size=15), st.floats(0.01, 100))
def test_pvalues_in_unit_interval_and_non_increasing(diffs: list[float], tau2: float) -> None:
    d = np.array(diffs)
    p = always_valid_pvalues(d, np.linspace(1, 0.1, d.size), tau2=tau2)
    assert np.all((p > 0) & (p <= 1)) and np.all(np.diff(p) <= 0)
