"""Heterogeneous effects: the effect within each segment, and a test that it differs across segments.

The test is Cochran's Q, the fixed-effect meta-analysis statistic: with segment estimates ``d_i`` and
standard errors ``s_i``, weights ``w_i = 1/s_i^2`` and pooled ``d = sum(w d)/sum(w)``,
``Q = sum w_i (d_i - d)^2`` is chi-square with ``k - 1`` degrees of freedom when every segment has the
same effect (segments are disjoint, so their estimates are independent). ``I^2 = max(0, (Q - df)/Q)``
is the share of the spread that is beyond chance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from experiments.errors import DataError
from experiments.plain import plain
from experiments.stats.effects import MetricKind, ProportionMethod, compare
from experiments.stats.multiple import Correction, adjust
from experiments.stats.results import Effect
from experiments.stats.special import chdtrc
from experiments.stats.sufficient import ArmStatistics

__all__ = ["HeterogeneityResult", "heterogeneity_test", "heterogeneity_tests", "segment_effects"]


@dataclass(frozen=True)
class HeterogeneityResult:
    """Cochran's Q test that one arm's effect on one metric is the same in every segment."""

    metric: str
    arm: str
    control: str
    segments: tuple[str, ...]
    q: float
    df: int
    p_value: float
    i2: float
    pooled: float
    method: str = "Cochran's Q"

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield self.q
        yield self.p_value

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        d = {k: plain(v) for k, v in asdict(self).items()}
        d["segments"] = list(self.segments)
        d["chi2"] = d["q"]
        return d

    def to_frame(self) -> pl.DataFrame:
        """One-row frame."""
        d = self.to_dict()
        d["segments"] = ", ".join(self.segments)
        return pl.DataFrame([d])

    def summary(self) -> str:
        """One readable line."""
        return (
            f"{self.metric}: {self.arm} vs {self.control}: effect differs across "
            f"{len(self.segments)} segments? Q = {self.q:.3f}, df = {self.df}, p = {self.p_value:.3g}, "
            f"I² = {self.i2:.0%}"
        )


def segment_effects(
    table: ArmStatistics,
    *,
    control: str,
    kinds: Mapping[str, MetricKind],
    alpha: float = 0.05,
    correction: Correction = "holm",
    proportion_method: ProportionMethod = "wald",
) -> list[Effect]:
    """The effect of every arm on every metric within every segment, with corrected p-values.

    The correction runs over the whole family returned (segments × arms × metrics);
    ``proportion_method`` as in :func:`experiments.stats.effects.compare`.
    """
    if not table.segment:
        raise DataError("segment effects need statistics gathered with a segment column")
    out: list[Effect] = []
    for seg in table.segments():
        present = set(table.frame.filter(pl.col(table.segment) == seg)[table.arm].to_list())
        if control not in present:
            continue
        arms = [a for a in table.arms if a in present]
        out += compare(table, control=control, kinds=kinds, alpha=alpha, arms=arms, segment=seg,
                       proportion_method=proportion_method)
    return adjust(out, correction)


def heterogeneity_test(effects: Sequence[Effect]) -> HeterogeneityResult:
    """Cochran's Q across the segment effects of one arm × metric (see module docstring)."""
    effects = [e for e in effects if e.se > 0 and np.isfinite(e.se)]
    keys = {(e.metric, e.arm, e.control) for e in effects}
    if len(keys) != 1:
        raise DataError(f"heterogeneity test needs effects of one arm on one metric, got {sorted(keys)}")
    if len(effects) < 2:
        raise DataError("heterogeneity test needs at least two segments with a standard error")
    d = np.array([e.estimate for e in effects])
    w = 1 / np.array([e.se for e in effects]) ** 2
    pooled = float((w * d).sum() / w.sum())
    q = float((w * (d - pooled) ** 2).sum())
    df = len(effects) - 1
    metric, arm, control = keys.pop()
    return HeterogeneityResult(
        metric=metric, arm=arm, control=control, segments=tuple(str(e.segment) for e in effects), q=q,
        df=df, p_value=float(chdtrc(df, q)), i2=max(0.0, (q - df) / q) if q > 0 else 0.0,
        pooled=pooled,
    )


def heterogeneity_tests(effects: Sequence[Effect]) -> list[HeterogeneityResult]:
    """One test per (metric, arm) among segment effects; groups with fewer than two segments are skipped."""
    groups: dict[tuple[str, str, str], list[Effect]] = {}
    for e in effects:
        if e.segment is not None:
            groups.setdefault((e.metric, e.arm, e.control), []).append(e)
    out = []
    for group in groups.values():
        usable = [e for e in group if e.se > 0 and np.isfinite(e.se)]
        if len(usable) >= 2:
            out.append(heterogeneity_test(usable))
    return out
