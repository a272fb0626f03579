"""Multiple-testing corrections against statsmodels multipletests."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from experiments.errors import ParameterError
from experiments.stats.effects import proportion_effect
from experiments.stats.multiple import adjust, adjust_pvalues
from experiments.stats.sufficient import SampleStats


def _effects():
    c = SampleStats(10_000, 500, 500)
    return [proportion_effect(SampleStats(10_000, k, k), c, arm=f"a{k}") for k in (505, 560, 590, 620)]


@pytest.mark.parametrize(("method", "sm"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjust_matches_multipletests(method: str, sm: str) -> None:
    effects = _effects()
    out = adjust(effects, method)  # type: ignore[arg-type]
    ref = multipletests([e.p_value for e in effects], method=sm)[1]
    assert [e.p_value_adjusted for e in out] == pytest.approx(list(ref), rel=1e-12)
    assert [e.arm for e in out] == [e.arm for e in effects]
    assert [e.p_value_adjusted for e in adjust(effects, "none")] == [e.p_value for e in effects]


def test_nan_left_out_of_family() -> None:
    out = adjust_pvalues([0.01, float("nan"), 0.04], "holm")
    assert math.isnan(out[1])
    assert out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.04)
    with pytest.raises(ParameterError, match="correction"):
        adjust_pvalues([0.1], "bonf")  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_adjusted_never_below_raw(ps: list[float]) -> None:
    for method in ("holm", "bh"):
        adj = adjust_pvalues(ps, method)  # type: ignore[arg-type]
        assert all(a >= p - 1e-12 and a <= 1 + 1e-12 for a, p in zip(adj, ps, strict=True))
