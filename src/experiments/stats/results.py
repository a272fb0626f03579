"""Frozen result objects: plain numbers, ``to_dict()``, a polars ``to_frame()`` and ``summary()``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, Self

import polars as pl

from experiments.plain import plain

__all__ = ["Alternative", "Effect", "SRMResult", "TestedDifference", "effects_frame"]

Alternative = Literal["two-sided"]


class TestedDifference:
    """What every tested difference answers, for frozen result dataclasses with the fields ``ci_low``,
    ``ci_high``, ``p_value``, ``p_value_adjusted`` and ``alpha``."""

    ci_low: float
    ci_high: float
    p_value: float
    p_value_adjusted: float | None
    alpha: float

    @property
    def significant(self) -> bool:
        """Whether the (adjusted, when set) p-value is below alpha."""
        p = self.p_value if self.p_value_adjusted is None else self.p_value_adjusted
        return bool(p < self.alpha)

    def conf_int(self) -> tuple[float, float]:
        """Interval of the difference at the result's ``alpha``."""
        return self.ci_low, self.ci_high

    def with_adjusted(self, p_adjusted: float) -> Self:
        """A copy carrying a multiplicity-adjusted p-value."""
        return replace(self, p_value_adjusted=float(p_adjusted))  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready: non-finite numbers become ``None``)."""
        return {k: plain(v) for k, v in asdict(self).items()}  # type: ignore[call-overload]


@dataclass(frozen=True)
class Effect(TestedDifference):
    """Effect of one treatment arm against the control on one metric.

    Unpacks as ``(statistic, p_value)`` like statsmodels' test results. ``diff`` is the absolute
    difference (treatment − control) with its interval; ``rel_lift`` is ``mean_arm / mean_control − 1``
    with its own interval.
    """

    metric: str
    arm: str
    control: str
    n_arm: int
    n_control: int
    mean_arm: float
    mean_control: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    rel_lift: float
    rel_ci_low: float
    rel_ci_high: float
    method: str
    alpha: float = 0.05
    segment: str | None = None
    p_value_adjusted: float | None = None
    alternative: Alternative = "two-sided"

    def __iter__(self) -> Iterator[float]:
        yield self.statistic
        yield self.p_value

    def to_frame(self) -> pl.DataFrame:
        """One-row polars frame."""
        return effects_frame([self])

    def summary(self) -> str:
        """One readable line."""
        level = round(100 * (1 - self.alpha))
        seg = f" [{self.segment}]" if self.segment else ""
        p = self.p_value if self.p_value_adjusted is None else self.p_value_adjusted
        return (
            f"{self.metric}{seg}: {self.arm} vs {self.control}: diff {self.estimate:+.4g} "
            f"({level}% CI {self.ci_low:+.4g} to {self.ci_high:+.4g}), "
            f"lift {self.rel_lift:+.2%} ({self.rel_ci_low:+.2%} to {self.rel_ci_high:+.2%}), "
            f"p = {p:.3g} [{self.method}]"
        )


@dataclass(frozen=True)
class SRMResult:
    """Sample-ratio-mismatch chi-square test of arm counts against intended shares."""

    chi2: float
    p_value: float
    df: int
    observed: dict[str, int]
    expected: dict[str, float]
    threshold: float = 0.001

    def __iter__(self) -> Iterator[float]:
        yield self.chi2
        yield self.p_value

    @property
    def mismatch(self) -> bool:
        """True when the counts are implausible under the intended shares (p < threshold)."""
        return bool(self.p_value < self.threshold)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {k: plain(v) for k, v in asdict(self).items()} | {"mismatch": self.mismatch}

    def to_frame(self) -> pl.DataFrame:
        """One row per arm: observed, expected."""
        return pl.DataFrame(
            {
                "arm": list(self.observed),
                "observed": list(self.observed.values()),
                "expected": [self.expected[a] for a in self.observed],
            }
        )

    def summary(self) -> str:
        """One readable line."""
        verdict = "MISMATCH" if self.mismatch else "no mismatch"
        return f"SRM: chi2 = {self.chi2:.3f}, df = {self.df}, p = {self.p_value:.3g} ({verdict})"


def effects_frame(effects: Sequence[Effect]) -> pl.DataFrame:
    """Stack effects into one polars frame (one row each)."""
    names = [f.name for f in fields(Effect)]
    schema = {
        n: (pl.String if n in {"metric", "arm", "control", "method", "segment", "alternative"}
            else pl.Int64 if n in {"n_arm", "n_control"} else pl.Float64)
        for n in names
    }
    return pl.DataFrame([{n: getattr(e, n) for n in names} for e in effects], schema=schema)
