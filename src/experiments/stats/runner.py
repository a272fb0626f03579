"""The whole battery on one experiment table: checks, SRM, effects, CUPED, corrections, segments.

:func:`analyze` scans the table twice at most (a lazy frame is never loaded whole): one pass inspects
the metric values and runs the data-quality checks, one ``group_by`` gathers the per-arm (and
per-segment) sufficient statistics from which every test is computed. Results are corrected for
multiple testing over the family of metrics × treatment arms (the segment family separately).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.stats.cuped import cuped_effect
from experiments.stats.effects import MetricKind, compare
from experiments.stats.heterogeneity import HeterogeneityResult, heterogeneity_tests, segment_effects
from experiments.stats.multiple import CORRECTIONS, Correction, adjust
from experiments.stats.quality import (
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    DataQuality,
    binary_expr,
    check_quality,
)
from experiments.stats.results import Effect, SRMResult, effects_frame
from experiments.stats.sequential import SequentialResult
from experiments.stats.srm import srm_test
from experiments.stats.sufficient import ArmStatistics, gather
from experiments.validation import as_float, as_shares

__all__ = ["RESULT_KEYS", "AnalysisResult", "analyze", "check_options", "classify_metrics"]

#: Keys of each entry of ``results`` in :meth:`AnalysisResult.to_dict`, in order.
RESULT_KEYS: tuple[str, ...] = (
    "metric", "arm", "control", "segment", "n_arm", "n_control", "mean_arm", "mean_control", "estimate",
    "ci_low", "ci_high", "p_value", "p_value_adjusted", "rel_lift", "rel_ci_low", "rel_ci_high", "method",
    "se", "statistic", "alpha",
)


@dataclass(frozen=True)
class AnalysisResult:
    """Everything :func:`analyze` found, as plain numbers."""

    n_rows: int
    arms: Mapping[str, int]
    control: str
    metrics: Mapping[str, MetricKind]
    alpha: float
    correction: str
    srm: SRMResult
    data_quality: DataQuality
    results: tuple[Effect, ...]
    adjusted_results: tuple[Effect, ...] = ()
    heterogeneity: tuple[HeterogeneityResult, ...] = ()
    sequential: tuple[SequentialResult, ...] = ()
    covariates: tuple[str, ...] = ()
    segment: str | None = None
    unit: str | None = None
    source: str = "rows"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``experiments analyze --json``."""
        srm = self.srm.to_dict()
        d: dict[str, Any] = {
            "n_rows": self.n_rows,
            "arms": dict(self.arms),
            "control": self.control,
            "metrics": dict(self.metrics),
            "alpha": self.alpha,
            "correction": self.correction,
            "source": self.source,
            "srm": {"chi2": srm["chi2"], "p_value": srm["p_value"], "df": srm["df"],
                    "expected": srm["expected"], "mismatch": srm["mismatch"]},
            "data_quality": self.data_quality.to_dict(),
            "results": [_entry(e) for e in self.results],
            "adjusted_results": [_entry(e) for e in self.adjusted_results],
            "covariates": list(self.covariates),
            "segment": self.segment,
            "heterogeneity": [h.to_dict() for h in self.heterogeneity],
        }
        if self.sequential:
            d["sequential"] = [s.to_dict() for s in self.sequential]
        return d

    def to_frame(self) -> pl.DataFrame:
        """Every effect (plain, then CUPED-adjusted), one row each."""
        return effects_frame([*self.results, *self.adjusted_results])

    def overall(self) -> list[Effect]:
        """Unsegmented, unadjusted effects (one per metric × treatment arm)."""
        return [e for e in self.results if e.segment is None]

    def summary(self) -> str:
        """Readable text: arms, SRM, data quality, one line per effect."""
        lines = [f"{self.n_rows:,} rows; arms: " + ", ".join(f"{a} {n:,}" for a, n in self.arms.items()),
                 self.srm.summary()]
        lines.append(self.data_quality.summary())
        lines.append("")
        lines += [e.summary() for e in self.results]
        if self.adjusted_results:
            lines += ["", f"Adjusted for {', '.join(self.covariates)}:"]
            lines += [e.summary() for e in self.adjusted_results]
        if self.heterogeneity:
            lines += ["", *[h.summary() for h in self.heterogeneity]]
        if self.sequential:
            lines += ["", *[f"{s.metric}: {s.arm} vs {s.control}: {s.summary()}" for s in self.sequential]]
        return "\n".join(lines)


def _entry(e: Effect) -> dict[str, Any]:
    d = e.to_dict()
    out = {k: d[k] for k in RESULT_KEYS}
    out["diff"] = d["estimate"]  # the name this field had first; kept for scripts that read it
    return out


def check_options(alpha: Any, correction: Any, shares: Any) -> tuple[float, str, dict[str, float] | None]:
    """Validate the options shared by row and summary input."""
    alpha = as_float("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    if correction not in CORRECTIONS:
        raise ParameterError("correction", correction, "one of " + ", ".join(CORRECTIONS))
    return alpha, correction, (None if shares is None else as_shares("shares", shares))


def classify_metrics(lf: pl.LazyFrame, metrics: Sequence[str]) -> dict[str, MetricKind]:
    """Recognise binary metrics from their values; reject text and three-valued 'binary' columns.

    Numbers that are all 0/1 and booleans are binary; text columns are binary when every value is a
    common true/false spelling (true/false, yes/no, y/n, t/f, 1/0, any case).
    """
    schema = lf.collect_schema()
    spellings = list(TRUE_SPELLINGS | FALSE_SPELLINGS)
    aggs = []
    for m in metrics:
        c, dt = pl.col(m), schema[m]
        if dt == pl.String:
            low = c.str.strip_chars().str.to_lowercase()
            aggs += [low.is_in(list(TRUE_SPELLINGS)).sum().alias(f"yes:{m}"),
                     low.is_in(list(FALSE_SPELLINGS)).sum().alias(f"no:{m}"),
                     c.is_not_null().sum().alias(f"nn:{m}")]
        elif dt == pl.Boolean:
            continue
        elif dt.is_numeric():
            aggs.append((c.cast(pl.Float64).is_in([0.0, 1.0]) | c.is_null()).all().alias(f"bin:{m}"))
        else:
            raise DataError(f"metric {m!r} has type {dt}; allowed: numbers or 0/1, true/false values")
    row = lf.select(aggs).collect().row(0, named=True) if aggs else {}
    kinds: dict[str, MetricKind] = {}
    for m in metrics:
        dt = schema[m]
        if dt == pl.Boolean:
            kinds[m] = "binary"
        elif dt == pl.String:
            yes, no, nn = row[f"yes:{m}"], row[f"no:{m}"], row[f"nn:{m}"]
            if yes + no == nn:
                kinds[m] = "binary"
                continue
            bad = (lf.select(pl.col(m).filter(
                ~pl.col(m).str.strip_chars().str.to_lowercase().is_in(spellings)).unique().head(3))
                .collect()[m].to_list())
            if not (yes and no):  # not both a true and a false spelling: a text column
                raise DataError(
                    f"metric {m!r} holds text (e.g. {', '.join(map(repr, bad))}); allowed: numbers, or "
                    "0/1 and true/false spellings for a binary metric"
                )
            raise DataError(
                f"binary metric {m!r} has values other than two (e.g. {', '.join(map(repr, bad))}); "
                "allowed: 0/1 or one true/false spelling (true/false, yes/no, y/n, t/f)"
            )
        else:
            kinds[m] = "binary" if row[f"bin:{m}"] else "continuous"
    return kinds


def _drop_missing_arm(table: ArmStatistics) -> ArmStatistics:
    frame = table.frame.filter(pl.col(table.arm).is_not_null())
    return ArmStatistics(frame, table.arm, table.metrics, table.covariates, table.segment)


def _unsegmented(table: ArmStatistics) -> ArmStatistics:
    if not table.segment:
        return table
    sums = [pl.col(c).sum() for c in table.frame.columns if c not in table.keys]
    frame = table.frame.group_by(table.arm, maintain_order=True).agg(sums)
    return ArmStatistics(frame, table.arm, table.metrics, table.covariates, None)


def battery(
    table: ArmStatistics,
    *,
    control: str,
    kinds: Mapping[str, MetricKind],
    shares: Mapping[str, float] | None,
    alpha: float,
    correction: Correction,
    covariates: Sequence[str] = (),
) -> tuple[SRMResult, list[Effect], list[Effect], list[HeterogeneityResult]]:
    """SRM, effects, CUPED and segment effects from gathered statistics (shared by rows and summaries)."""
    whole = _unsegmented(table)
    counts = whole.counts()
    if control not in counts:
        raise DataError(f"control label {control!r} is not an arm of the data; arms are: "
                        + ", ".join(map(repr, counts)))
    if len(counts) < 2:
        raise DataError(f"the data has only the arm {control!r}; a treatment arm is needed")
    if shares is not None:
        empty = [a for a in shares if a not in counts]
        if empty:
            raise DataError(f"arm(s) {empty} named in shares have no rows; arms in the data: {list(counts)}")
    for metric in kinds:
        for a in counts:
            if whole.stats(a, metric).n == 0:
                raise DataError(f"arm {a!r} has no values of metric {metric!r}")
    srm = srm_test(counts, shares)
    effects = adjust(compare(whole, control=control, kinds=kinds, alpha=alpha), correction)
    adjusted: list[Effect] = []
    if covariates:
        treatments = [a for a in whole.arms if a != control]
        adjusted = adjust([
            cuped_effect(whole, arm=a, control=control, metric=m, covariates=covariates, alpha=alpha)
            for m in kinds for a in treatments
        ], correction)
    hetero: list[HeterogeneityResult] = []
    if table.segment:
        seg = segment_effects(table, control=control, kinds=kinds, alpha=alpha, correction=correction)
        effects += seg
        hetero = heterogeneity_tests(seg)
    return srm, effects, adjusted, hetero


def analyze(
    data: pl.DataFrame | pl.LazyFrame,
    *,
    arm: str,
    control: str,
    metrics: Sequence[str],
    covariates: Sequence[str] = (),
    segment: str | None = None,
    unit: str | None = None,
    shares: Mapping[str, float] | str | None = None,
    alpha: float = 0.05,
    correction: Correction = "holm",
) -> AnalysisResult:
    """Run the whole battery on an experiment table (one row per unit).

    Parameters
    ----------
    data
        Rows (a ``LazyFrame`` from ``pl.scan_csv`` / ``pl.scan_parquet`` is scanned, not loaded).
    arm, control
        Arm column and the control's label.
    metrics
        Outcome columns; binary ones are recognised from their values.
    covariates
        Pre-period columns for CUPED (adds ``adjusted_results``).
    segment
        Column to split effects by (adds per-segment effects and Cochran's Q tests).
    unit
        Unit id column for the duplicate / several-arm checks.
    shares
        Intended arm shares for the SRM test (equal when None).
    alpha, correction
        Level and multiple-testing correction (``holm``, ``bh``, ``none``).
    """
    alpha, correction, shares = check_options(alpha, correction, shares)
    metrics = list(dict.fromkeys(metrics))
    covariates = list(dict.fromkeys(covariates))
    if not metrics:
        raise ParameterError("metrics", metrics, "at least one metric column")
    lf = data.lazy()
    schema = lf.collect_schema()
    wanted = [arm, *metrics, *covariates, *([segment] if segment else []), *([unit] if unit else [])]
    for c in wanted:
        if c not in schema:
            raise DataError(f"unknown column {c!r}; the data has columns: {', '.join(schema)}")
    for c in covariates:
        if not (schema[c].is_numeric() or schema[c] == pl.Boolean):
            raise DataError(f"covariate {c!r} has type {schema[c]}; allowed: numbers")
    kinds = classify_metrics(lf, metrics)
    binary = [m for m, k in kinds.items() if k == "binary"]
    quality = check_quality(lf, arm=arm, metrics=[*metrics, *covariates], unit=unit, binary=binary)
    if quality.n_rows == 0:
        raise DataError("the data has no rows")
    converted = lf.with_columns(binary_expr(m, schema[m]) for m in binary if schema[m] == pl.String)
    table = _drop_missing_arm(gather(converted, arm=arm, metrics=metrics, covariates=covariates,
                                     segment=segment))
    srm, effects, adjusted, hetero = battery(
        table, control=control, kinds=kinds, shares=shares, alpha=alpha, correction=correction,
        covariates=covariates,
    )
    return AnalysisResult(
        n_rows=quality.n_rows, arms=_unsegmented(table).counts(), control=control, metrics=kinds,
        alpha=alpha, correction=correction, srm=srm, data_quality=quality, results=tuple(effects),
        adjusted_results=tuple(adjusted), heterogeneity=tuple(hetero), covariates=tuple(covariates),
        segment=segment, unit=unit,
    )


