"""Segment effects and Cochran's Q against a by-hand computation and simulation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from experiments.errors import DataError
from experiments.stats.effects import mean_effect
from experiments.stats.heterogeneity import heterogeneity_test, heterogeneity_tests, segment_effects
from experiments.stats.sufficient import SampleStats, gather


def _table(lifts: dict[str, float], seed: int, n: int = 30_000) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    seg = rng.choice(list(lifts), n)
    arm = rng.choice(["c", "t"], n)
    lift = np.array([lifts[s] for s in seg]) * (arm == "t")
    return pl.DataFrame({"arm": arm, "seg": seg, "y": rng.normal(1 + lift, 2, n)})


def test_q_by_hand_and_detects_difference() -> None:
    st = gather(_table({"a": 0.0, "b": 0.0, "c": 0.3}, 1), arm="arm", metrics=["y"], segment="seg")
    effects = segment_effects(st, control="c", kinds={"y": "continuous"}, correction="holm")
    assert [e.segment for e in effects] == ["a", "b", "c"]
    assert all(e.p_value_adjusted is not None and e.p_value_adjusted >= e.p_value for e in effects)
    res = heterogeneity_test(effects)
    d = np.array([e.estimate for e in effects])
    w = 1 / np.array([e.se for e in effects]) ** 2
    q = (w * (d - (w * d).sum() / w.sum()) ** 2).sum()
    assert res.q == pytest.approx(q, rel=1e-12) and res.df == 2
    assert res.p_value == pytest.approx(sps.chi2.sf(q, 2), rel=1e-12)
    assert res.p_value < 0.01 and heterogeneity_tests(effects)[0] == res
    assert res.to_dict()["chi2"] == res.q and "segments" in res.summary()


def test_q_false_positive_rate_when_effect_is_common() -> None:
    rng = np.random.default_rng(5)
    ps = []
    for _ in range(400):
        effects = []
        for seg in ("a", "b", "c"):
            t, c = rng.normal(1.2, 2, 1_000), rng.normal(1.0, 2, 1_000)
            effects.append(mean_effect(SampleStats(1_000, t.sum(), (t**2).sum()),
                                       SampleStats(1_000, c.sum(), (c**2).sum()), segment=seg))
        ps.append(heterogeneity_test(effects).p_value)
    assert 0.025 <= np.mean(np.array(ps) < 0.05) <= 0.08


def test_rejects_mixed_effects() -> None:
    st = gather(_table({"a": 0.0, "b": 0.0}, 3), arm="arm", metrics=["y"], segment="seg")
    effects = segment_effects(st, control="c", kinds={"y": "continuous"})
    with pytest.raises(DataError, match="at least two"):
        heterogeneity_test(effects[:1])
    with pytest.raises(DataError, match="segment column"):
        segment_effects(gather(_table({"a": 0.0}, 4), arm="arm", metrics=["y"]), control="c",
                        kinds={"y": "continuous"})
