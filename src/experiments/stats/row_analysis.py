"""The whole battery on one experiment table: checks, SRM, effects, CUPED, ratios, corrections, segments.

:func:`analyze` reads the table in one lazy pass (it is never loaded whole): one
``group_by(arm[, segment])`` gathers the per-arm sufficient statistics of every metric, covariate and
ratio metric together with what the metric classification and the data-quality checks need
(:mod:`experiments.stats.quality`); both are then added up over the groups. Only four things take a pass
of their own, and only when asked: the duplicate-unit checks (``unit``), which cannot be added up per
arm, the bootstrap (``bootstrap``), which resamples the values themselves, the exact order statistics
of percentile caps and quantiles (``caps``, ``quantiles``; :mod:`experiments.stats.tails`), one pass
before the sums (the capped sums join the one pass), and the residuals of Lin's regression on several
covariates (``covariates``; :func:`experiments.stats.regression.lin_residual_sums`), one pass after them.

Results are corrected for multiple testing over the family of metrics × treatment arms, ratio metrics
included; CUPED-adjusted effects and per-segment effects are corrected as families of their own (the
tests on the gathered statistics are in :mod:`experiments.stats.battery`). With ``bayesian=True`` each
effect of ``results`` also gets gbstats' Bayesian result (:mod:`experiments.stats.bayesian`). With
several covariates the adjusted effects are Lin (2013)'s interacted regression
(:mod:`experiments.stats.regression`): the arms' slopes come from the sums of the one pass, their robust
variance from a second pass over the arms' residuals. With an exposure column the effect on the exposed
(2SLS, :mod:`experiments.stats.exposed`) is a further family of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.stats import tails
from experiments.stats.battery import Battery, battery, check_bayes, check_options, unsegmented
from experiments.stats.bootstrap import bootstrap_effects
from experiments.stats.database import DatabaseTable
from experiments.stats.exposed import Exposure
from experiments.stats.multiple import Correction
from experiments.stats.quality import (
    ROWS,
    ColumnCheck,
    DataQuality,
    NonFinite,
    classify,
    column_checks,
    quality_report,
    read_checks,
    refuse_huge,
    refuse_nonfinite,
    unit_checks,
    value_expr,
    with_small_counts,
)
from experiments.stats.regression import lin_residual_sums
from experiments.stats.results import Effect, SRMResult, effects_frame
from experiments.stats.sufficient import from_groups, gather_exprs, product_columns
from experiments.validation import as_int

if TYPE_CHECKING:
    from experiments.stats.bayesian import BayesianEffect
    from experiments.stats.bootstrap import BootstrapEffect
    from experiments.stats.effects import MetricKind
    from experiments.stats.exposed import Exposure
    from experiments.stats.heterogeneity import HeterogeneityResult
    from experiments.stats.sequential import SequentialResult
    from experiments.stats.tails import Cap, CappedEffect, CapSpec, QuantileEffect

__all__ = [
    "DEFAULT_SEED",
    "MAX_BOOTSTRAP",
    "RESULT_KEYS",
    "AnalysisResult",
    "Battery",
    "analyze",
    "battery",
    "check_options",
    "classify_metrics",
    "parse_ratio",
]

#: Keys of each entry of ``results`` in :meth:`AnalysisResult.to_dict`, in order.
RESULT_KEYS: tuple[str, ...] = (
    "metric", "arm", "control", "segment", "n_arm", "n_control", "mean_arm", "mean_control", "estimate",
    "ci_low", "ci_high", "p_value", "p_value_adjusted", "rel_lift", "rel_ci_low", "rel_ci_high", "method",
    "se", "statistic", "alpha",
)
#: Seed of the bootstrap when none is given (the same numbers on every run).
DEFAULT_SEED = 0
#: Most bootstrap resamples :func:`analyze` accepts.
MAX_BOOTSTRAP = 100_000

# Internal names of the grouping keys and the row count in the one pass (NUL never starts a user column).
_ARM, _SEG, _N = "\x00arm", "\x00segment", ROWS


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
    ratio_results: tuple[Effect, ...] = ()
    bootstrap: tuple[BootstrapEffect, ...] = ()
    seed: int | None = None
    bayesian: tuple[BayesianEffect, ...] = ()  # one per entry of ``results``, in order (empty: not asked)
    caps: tuple[Cap, ...] = ()
    capped_results: tuple[CappedEffect, ...] = ()
    quantile_results: tuple[QuantileEffect, ...] = ()
    database: Mapping[str, Any] | None = None
    exposed_results: tuple[Effect, ...] = ()
    exposure: Exposure | None = None

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
            "adjusted_results": [_entry(e) | {"width_ratio": self.width_ratio(e)}
                                 for e in self.adjusted_results],
            "ratio_results": [_entry(e) for e in self.ratio_results],
            "bootstrap": [b.to_dict() | {"estimand": "itt"} for b in self.bootstrap],
            "seed": self.seed,
            "covariates": list(self.covariates),
            "segment": self.segment,
            "heterogeneity": [h.to_dict() for h in self.heterogeneity],
            "capped_results": [{**_entry(c.effect), "estimand": "itt", "cap": c.cap.to_dict(),
                                "n_capped_arm": c.n_capped_arm, "n_capped_control": c.n_capped_control}
                               for c in self.capped_results],
            "quantile_results": [q.to_dict() for q in self.quantile_results],
        }
        if self.exposure is not None:
            d["exposure"] = self.exposure.to_dict()
            d["exposed_results"] = [_entry(e, "exposed") for e in self.exposed_results]
        if self.sequential:
            d["sequential"] = [s.to_dict() | {"estimand": "itt"} for s in self.sequential]
        if self.bayesian:
            for entry, b in zip(d["results"], self.bayesian, strict=True):
                entry.update(b.fields())
            first = self.bayesian[0]
            d["bayesian"] = {
                "prior": "flat" if first.prior_sd is None else "normal on the relative lift, mean 0",
                "prior_sd": first.prior_sd, "credible_interval": "relative lift",
                "values": {b.metric: b.value.amount for b in self.bayesian if b.value is not None},
            }
        if self.database is not None:
            d["database"] = dict(self.database)
        return d

    def width_ratio(self, adjusted: Effect) -> float | None:
        """Width of an adjusted effect's interval over that of the unadjusted one (below 1: narrower)."""
        for e in self.results:
            if (e.metric, e.arm, e.segment) == (adjusted.metric, adjusted.arm, adjusted.segment):
                width = e.ci_high - e.ci_low
                return (adjusted.ci_high - adjusted.ci_low) / width if width > 0 else None
        return None

    def to_frame(self) -> pl.DataFrame:
        """Every effect (plain, CUPED-adjusted, then ratio metrics), one row each."""
        return effects_frame([*self.results, *self.adjusted_results, *self.ratio_results])

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
        if self.exposure is not None:
            lines += ["", self.exposure.summary(), "On the exposed:",
                      *[e.summary() for e in self.exposed_results]]
        if self.ratio_results:
            lines += ["", "Ratio metrics:", *[e.summary() for e in self.ratio_results]]
        if self.bootstrap:
            lines += ["", "Bootstrap:", *[b.summary() for b in self.bootstrap]]
        if self.bayesian:
            lines += ["", "Bayesian:", *[b.summary() for b in self.bayesian]]
        if self.capped_results:
            lines += ["", "Capped metrics:", *[c.summary() for c in self.capped_results]]
        if self.quantile_results:
            lines += ["", "Quantiles:", *[q.summary() for q in self.quantile_results]]
        if self.heterogeneity:
            lines += ["", *[h.summary() for h in self.heterogeneity]]
        if self.sequential:
            lines += ["", *[f"{s.metric}: {s.arm} vs {s.control}: {s.summary()}" for s in self.sequential]]
        return "\n".join(lines)


def _entry(e: Effect, estimand: str = "itt") -> dict[str, Any]:
    d = e.to_dict()
    out = {k: d[k] for k in RESULT_KEYS}
    out["diff"] = d["estimate"]  # the name this field had first; kept for scripts that read it
    out["estimand"] = estimand  # itt: everyone assigned; exposed: the units reached (2SLS)
    return out


def parse_ratio(spec: str | tuple[str, str], columns: Sequence[str]) -> tuple[str, str]:
    """``"NUM/DEN"`` (or a pair) as ``(numerator, denominator)`` columns of the table.

    A column name may itself hold ``/``: the split is the one whose two sides are both columns.
    """
    if isinstance(spec, tuple):
        splits = [spec] if len(spec) == 2 else []
    else:
        text = str(spec)
        splits = [(text[:i], text[i + 1:]) for i, ch in enumerate(text) if ch == "/"]
    known = [(a, b) for a, b in splits if a in columns and b in columns]
    if len(known) == 1:
        num, den = known[0]
        if num == den:
            raise DataError(f"ratio {spec!r} divides column {num!r} by itself")
        return num, den
    if not splits:
        raise ParameterError("ratio", spec, "NUMERATOR/DENOMINATOR, two columns of the data")
    if not known:
        raise DataError(f"ratio {spec!r}: no split into NUMERATOR/DENOMINATOR names two columns of the "
                        f"data; the data has columns: {', '.join(columns)}")
    raise DataError(f"ratio {spec!r} is ambiguous: it splits into columns in {len(known)} ways")


def classify_metrics(lf: pl.LazyFrame, metrics: Sequence[str]) -> dict[str, MetricKind]:
    """Recognise binary metrics from their values; reject text and three-valued 'binary' columns.

    Numbers that are all 0/1 and booleans are binary; text columns are binary when every value is a
    common true/false spelling (true/false, yes/no, y/n, t/f, 1/0, any case). One pass (a ``select``);
    :func:`analyze` does the same inside its single ``group_by``.
    """
    schema = lf.collect_schema()
    aggs = [e for m in metrics for e in column_checks(m, schema[m])]
    groups = lf.select(aggs).collect() if aggs else pl.DataFrame()
    return classify(read_checks(groups, {m: schema[m] for m in metrics}), metrics)  # type: ignore[return-value]


def _check_roles(arm: str, metrics: Sequence[str], covariates: Sequence[str], segment: str | None,
                 unit: str | None, ratios: Sequence[tuple[str, str]], exposure: str | None = None) -> None:
    """One column, one role: refuse a column used as the arm and as something else, and the like."""
    roles = [*[(m, "metric") for m in metrics], *[(c, "covariate") for c in covariates],
             *([(segment, "segment")] if segment else []), *([(unit, "unit")] if unit else []),
             *[(c, "ratio column") for pair in ratios for c in pair]]
    for col, role in roles:
        if col == arm:
            raise DataError(f"column {arm!r} is the arm column; it cannot also be the {role}")
    if exposure is not None:
        for col, role in [(arm, "arm column"), *roles]:
            if col == exposure:
                raise DataError(f"--exposed {exposure!r} is also the {role}; the exposure column needs a "
                                "role of its own")
    for c in covariates:
        if c in metrics:
            raise DataError(f"column {c!r} is both a metric and a covariate; a covariate is measured "
                            "before assignment and cannot be the outcome")
    if segment and (segment in metrics or segment in covariates):
        role = "metric" if segment in metrics else "covariate"
        raise DataError(f"column {segment!r} is both the segment and a {role}")


def analyze(
    data: pl.DataFrame | pl.LazyFrame | DatabaseTable,
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
    ratios: Sequence[str | tuple[str, str]] = (),
    bootstrap: int = 0,
    seed: int = DEFAULT_SEED,
    nonfinite: NonFinite = "refuse",
    bayesian: bool = False,
    prior_sd: float | None = None,
    values: Mapping[str, float | str] | Sequence[str] | None = None,
    caps: Sequence[str | CapSpec] = (),
    quantiles: Sequence[str | tuple[str, float]] = (),
    exposure: str | None = None,
) -> AnalysisResult:
    """Run the whole battery on an experiment table (one row per unit), in one pass over the data.

    Parameters
    ----------
    data
        Rows (a ``LazyFrame`` from ``pl.scan_csv`` / ``pl.scan_parquet`` is scanned, not loaded), or a
        table in a database (:class:`~experiments.stats.database.DatabaseTable`): the same statistics are
        then one SQL aggregation run by the database, and the unit checks a query of their own.
    arm, control
        Arm column and the control's label.
    metrics
        Outcome columns; binary ones are recognised from their values (a number is binary only when
        every value is 0 or 1; booleans and true/false text too).
    covariates
        Pre-period columns (adds ``adjusted_results``): one is CUPED (pooled theta); several are Lin
        (2013)'s interacted regression with HC1 errors (one more pass, over the arms' residuals).
    segment
        Column to split effects by (adds per-segment effects and Cochran's Q tests); rows without a
        segment count in the overall effects only.
    unit
        Unit id column for the duplicate / several-arm checks (a second pass).
    shares
        Intended arm shares for the SRM test (equal when None).
    alpha, correction
        Level and multiple-testing correction (``holm``, ``bh``, ``none``).
    ratios
        Ratio metrics ``"NUM/DEN"`` (or pairs): ``sum(NUM) / sum(DEN)`` per arm, by the delta method,
        on the units where both are present (adds ``ratio_results``).
    bootstrap
        Number of percentile-bootstrap resamples of each metric's difference of means (0: none; adds
        ``bootstrap``; a second pass that reads the metric values).
    seed
        Seed of the bootstrap.
    nonfinite
        NaN or infinity in a metric, covariate or ratio column: ``"refuse"`` (a :class:`DataError`
        naming the columns, counts and arms) or ``"drop"`` (left out like missing values, reported).
    bayesian
        Also gbstats' Bayesian result for each entry of ``results`` (chance to beat control, expected
        loss, credible interval of the relative lift; see :mod:`experiments.stats.bayesian`).
    prior_sd
        Standard deviation of a normal prior on the relative lift, centred at 0 (``None``: flat prior).
    values
        Money per unit of some metrics (``{"converted": 12.5}`` or ``["converted=$12.5"]``), for the
        expected loss in money.
    caps
        ``"METRIC=pNN"`` (the NN-th percentile of the pooled arms) or ``"METRIC=VALUE"``: the metric's
        values above the cap are set to it and its effects reported again, capped (adds ``caps`` and
        ``capped_results``, a multiple-testing family of their own; :mod:`experiments.stats.tails`).
        A percentile cap takes a pass of its own before the sufficient statistics.
    quantiles
        ``"METRIC=Q"``: the difference of the Q-quantiles of each treatment arm and the control with
        its interval (adds ``quantile_results``, a family of their own; one pass, shared with the
        percentile caps).
    exposure
        0/1 column: was the unit reached (adds ``exposure``, the rate per arm, and ``exposed_results``,
        the effect on the exposed of each treatment arm on each metric by 2SLS).

    Raises
    ------
    DataError
        Unknown columns, one column in two roles (e.g. the arm column as a metric), text metrics, NaN or
        infinity (unless dropped), an empty table, a control that is not an arm.
    """
    alpha, correction, shares = check_options(alpha, correction, shares)
    if nonfinite not in ("refuse", "drop"):
        raise ParameterError("nonfinite", nonfinite, "refuse or drop")
    bootstrap = as_int("bootstrap", bootstrap, low=0, high=MAX_BOOTSTRAP)
    if 0 < bootstrap < 10:
        raise ParameterError("bootstrap", bootstrap, f"0 (none) or an integer from 10 to {MAX_BOOTSTRAP:_}")
    metrics = list(dict.fromkeys(metrics))
    covariates = list(dict.fromkeys(covariates))
    if not metrics:
        raise ParameterError("metrics", metrics, "at least one metric column")
    bayes = check_bayes(bayesian, prior_sd, values, metrics)
    cap_specs, quantile_specs = tails.parse_caps(caps, metrics), tails.parse_quantiles(quantiles, metrics)
    db = data if isinstance(data, DatabaseTable) else None
    if db is not None:  # what needs the rows themselves stays with files
        for name, given in (("bootstrap", bootstrap), ("cap", caps), ("quantile", quantiles),
                            ("exposed", exposure)):
            if given:  # the repeatable options' values as typed, not a Python list
                given = ", ".join(map(str, given)) if isinstance(given, list | tuple) else given
                raise ParameterError(name, given, "nothing with a database table (--db): it reads the rows, "
                                     "which stay in the database")
        if len(set(covariates)) > 1:
            raise ParameterError("covariate", ", ".join(dict.fromkeys(covariates)),
                                 "one covariate with a database table (--db): regression on several "
                                 "covariates takes a second pass over the rows, from files only")
    lf = None if db is not None else data.lazy()
    schema = db.schema if db is not None else lf.collect_schema()
    # categorical / enum metrics (parquet from pandas) are read as their text, true/false spellings included
    coded = [m for m in metrics if lf is not None and m in schema
             and isinstance(schema[m], pl.Categorical | pl.Enum)]
    if coded:
        lf = lf.with_columns(pl.col(m).cast(pl.String) for m in coded)
        schema = lf.collect_schema()
    wanted = [arm, *metrics, *covariates, *([segment] if segment else []), *([unit] if unit else []),
              *([exposure] if exposure else [])]
    for c in wanted:
        if c not in schema:
            raise DataError(f"unknown column {c!r}; the data has columns: {', '.join(schema)}")
    pairs = list(dict.fromkeys(parse_ratio(r, list(schema)) for r in ratios))
    _check_roles(arm, metrics, covariates, segment, unit, pairs, exposure)
    for c in covariates:
        if not (schema[c].is_numeric() or schema[c] == pl.Boolean):
            raise DataError(f"covariate {c!r} has type {schema[c]}; allowed: numbers")
    ratio_cols = [c for pair in pairs for c in pair]
    value_cols = list(dict.fromkeys([*metrics, *covariates, *ratio_cols, *([exposure] if exposure else [])]))
    roles = {**{c: "ratio column" for c in ratio_cols}, **{c: "covariate" for c in covariates},
             **{m: "metric" for m in metrics}, **({exposure: "exposure"} if exposure else {})}
    # several covariates (Lin 2013): the arms' slopes come from this pass's sums, their robust variance
    # from a second pass over the residuals (:func:`lin_residual_sums`)
    products: list[tuple[str, ...]] = []

    values = {c: value_expr(c, schema[c], nonfinite=nonfinite) for c in value_cols}
    # percentile caps and quantiles: exact order statistics, in a pass of their own before the sums
    cap_values, quantile_groups = tails.tail_prepass(lf, arm=arm, values=values, caps=cap_specs,
                                                     quantiles=quantile_specs, alpha=alpha, key=_ARM)

    # the one pass: sufficient statistics and checks per arm (and segment)
    keys = [pl.col(arm).alias(_ARM), *([pl.col(segment).alias(_SEG)] if segment else [])]
    aggs = [pl.len().alias(_N), *([pl.col(unit).null_count().alias("\x00unit missing")] if unit else [])]
    for c in value_cols:  # covariates and numeric ratio parts need no 0/1 checks
        aggs += column_checks(c, schema[c], metric=c in metrics or c == exposure or schema[c] == pl.String)
    extra = product_columns(products, values)  # computed once per row, then summed exactly
    aggs += gather_exprs(metrics=metrics, covariates=covariates, products=products,
                         values={**values, **{c: pl.col(c) for c in extra}}, dtypes=schema)
    aggs += tails.capped_aggs(values, cap_values)
    if exposure:
        aggs += gather_exprs(metrics=[exposure], values=values, prefix="\x00x\x00", dtypes=schema)
        for i, m in enumerate(metrics):
            both = values[m].is_not_null() & values[exposure].is_not_null()
            masked = {c: pl.when(both).then(values[c]) for c in (m, exposure)}
            aggs += gather_exprs(metrics=[m, exposure], pairs=[(m, exposure)], values=masked,
                                 prefix=f"\x00e{i}\x00", dtypes=schema)
    for i, (num, den) in enumerate(pairs):
        both = values[num].is_not_null() & values[den].is_not_null()
        masked = {c: pl.when(both).then(values[c]) for c in (num, den)}
        aggs += gather_exprs(metrics=[num, den], pairs=[(num, den)], values=masked, prefix=f"\x00r{i}\x00",
                             dtypes=schema)
    if db is not None:  # the same grouped frame, from one SQL aggregation in the database
        groups = db.gather(keys={_ARM: arm, **({_SEG: segment} if segment else {})}, count=_N,
                           metrics=metrics, covariates=covariates, pairs=pairs, nonfinite=nonfinite,
                           unit_missing=("\x00unit missing", unit) if unit else None)
    else:
        groups = (lf.with_columns(**extra) if extra else lf).group_by(keys).agg(aggs).collect()

    checks = read_checks(groups, {c: schema[c] for c in value_cols}, arm=_ARM)
    kinds = classify(checks, metrics)
    tails.refuse_binary(kinds, cap_specs, quantile_specs)
    classify(checks, [c for c in ratio_cols if c not in kinds], role="ratio column")
    if exposure:
        _check_exposure(checks[exposure])
    if nonfinite == "refuse":
        refuse_nonfinite(checks, roles)
    refuse_huge(checks, roles)
    units = _unit_checks(db or lf, unit=unit, arm=arm) if unit else None
    quality = _quality(groups, checks, arm=arm, segment=segment, unit=unit, kinds=kinds, units=units,
                       nonfinite=nonfinite)
    if quality.n_rows == 0:
        raise DataError("the data has no rows")
    seg_key = _SEG if segment else None
    table = from_groups(groups, arm=_ARM, metrics=metrics, covariates=covariates, segment=seg_key,
                        products=products, count=_N)
    ratio_tables = [
        (num, den, from_groups(groups, arm=_ARM, metrics=[num, den], pairs=[(num, den)], segment=seg_key,
                               count=_N, prefix=f"\x00r{i}\x00"))
        for i, (num, den) in enumerate(pairs)
    ]
    exposed_tables = [
        (m, from_groups(groups, arm=_ARM, metrics=[m, exposure], pairs=[(m, exposure)], segment=seg_key,
                        count=_N, prefix=f"\x00e{i}\x00"))
        for i, m in enumerate(metrics)
    ] if exposure else []
    residuals = None
    if len(covariates) > 1 and lf is not None:
        residuals = lin_residual_sums(lf, unsegmented(table), arm=arm, metrics=list(kinds),
                                      covariates=covariates, values=values)
    out = battery(table, control=control, kinds=kinds, shares=shares, alpha=alpha, correction=correction,
                  covariates=covariates, ratios=ratio_tables, bayes=bayes, exposure=exposure,
                  exposed=exposed_tables, lin_residuals=residuals)
    quality = with_small_counts(quality, out.small_counts)
    arms = unsegmented(table).counts()
    treatments = [a for a in arms if a != control]
    cap_list, capped = tails.read_capped_effects(
        groups, arm=_ARM, control=control, treatments=treatments, caps=cap_specs, cap_values=cap_values,
        alpha=alpha, correction=correction, count=_N) if cap_specs else ([], [])
    quantile_effects = tails.read_prepass_quantiles(
        quantile_groups, arm=_ARM, control=control, treatments=treatments, quantiles=quantile_specs,
        alpha=alpha, correction=correction) if quantile_groups is not None else []
    reach = None
    if exposure:
        rates = unsegmented(from_groups(groups, arm=_ARM, metrics=[exposure], segment=seg_key, count=_N,
                                         prefix="\x00x\x00"))
        reach = Exposure(column=exposure, control=control, n=arms,
                         exposed={a: round(rates.stats(a, exposure).sum) for a in arms})
    boot: list[BootstrapEffect] = []
    if bootstrap:
        boot = _bootstrap(lf, arm=arm, control=control, arms=[a for a in arms if a != control],
                          values={m: values[m] for m in kinds}, n_resamples=bootstrap, alpha=alpha, seed=seed)
    return AnalysisResult(
        n_rows=quality.n_rows, arms=arms, control=control, metrics=kinds, alpha=alpha, correction=correction,
        srm=out.srm, data_quality=quality, results=tuple(out.effects), adjusted_results=tuple(out.adjusted),
        heterogeneity=tuple(out.heterogeneity), covariates=tuple(covariates), segment=segment, unit=unit,
        ratio_results=tuple(out.ratio_results), bootstrap=tuple(boot), seed=seed if bootstrap else None,
        bayesian=out.bayesian,
        caps=tuple(cap_list), capped_results=tuple(capped), quantile_results=tuple(quantile_effects),
        database=db.to_dict() if db is not None else None,
        exposed_results=tuple(out.exposed), exposure=reach,
    )


def _check_exposure(ck: ColumnCheck) -> None:
    """The exposure column holds 0/1 (or true/false) on every row."""
    name = ck.column
    if ck.missing:
        raise DataError(f"exposure {name!r} has {ck.missing:,} missing value(s); allowed: 0/1 on every row")
    try:
        kind = classify({name: ck}, [name], role="exposure")[name]
    except DataError as exc:
        raise DataError(f"{exc} (--exposed needs 0/1)") from None
    if kind != "binary":
        raise DataError(f"exposure {name!r} has {ck.not01:,} value(s) other than 0 and 1 (from {ck.min:g} to "
                        f"{ck.max:g}); allowed: 0/1 or true/false")


def _quality(groups: pl.DataFrame, checks: Mapping[str, ColumnCheck], *, arm: str, segment: str | None,
             unit: str | None, kinds: Mapping[str, MetricKind], units: tuple[int, int] | None,
             nonfinite: NonFinite) -> DataQuality:
    missing = {arm: int(groups.filter(pl.col(_ARM).is_null())[_N].sum())}
    if unit:
        missing[unit] = int(groups["\x00unit missing"].sum())
    if segment:
        missing[segment] = int(groups.filter(pl.col(_SEG).is_null())[_N].sum())
    return quality_report(
        n_rows=int(groups[_N].sum()), missing=missing, checks=checks,
        binary=[m for m, k in kinds.items() if k == "binary"],
        continuous=[m for m, k in kinds.items() if k == "continuous"], unit=unit, units=units,
        nonfinite=nonfinite,
    )


def _unit_checks(data: pl.LazyFrame | DatabaseTable, *, unit: str, arm: str) -> tuple[int, int]:
    """Duplicate units and units in several arms: a pass of polars, or a query in the database."""
    if isinstance(data, DatabaseTable):
        return data.unit_checks(unit=unit, arm=arm)
    return unit_checks(data, unit=unit, arm=arm)


def _bootstrap(lf: pl.LazyFrame, *, arm: str, control: str, arms: Sequence[str],
               values: Mapping[str, pl.Expr], n_resamples: int, alpha: float, seed: int
               ) -> list[BootstrapEffect]:
    """The bootstrap's own pass: every metric's values per arm, then the fast exact bootstrap."""
    frame = (lf.select(pl.col(arm).cast(pl.String).alias(_ARM), *[v.alias(m) for m, v in values.items()])
             .filter(pl.col(_ARM).is_in([control, *arms])).collect())
    parts = frame.partition_by(_ARM, as_dict=True)
    per_metric = {
        m: {key[0]: part[m].drop_nulls().to_numpy().astype(float) for key, part in parts.items()}
        for m in values
    }
    return bootstrap_effects(per_metric, control=control, arms=arms, n_resamples=n_resamples, alpha=alpha,
                             seed=seed)
