"""The tests on gathered per-arm statistics: SRM, effects, CUPED, ratio metrics, segments, corrections.

:func:`battery` is what row input (:func:`experiments.stats.row_analysis.analyze`) and summary input
(:mod:`experiments.stats.summary_input`) share once the sufficient statistics are gathered: the
sample-ratio test, every effect corrected for multiple testing over metrics × arms (ratio metrics
included), CUPED-adjusted effects and per-segment effects as families of their own, and, when asked,
gbstats-style Bayesian results for each effect (:mod:`experiments.stats.bayesian`).

Binary metrics are tested with Wald's interval and test, unless an arm (overall or within a segment)
has fewer than :data:`~experiments.stats.effects.SMALL_COUNT` successes or failures: then with
Newcombe's score interval and the score test, and the switch is listed in ``small_counts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import polars as pl

from experiments.errors import DataError, ParameterError
from experiments.stats.bayesian import bayesian_effect, check_prior_sd, parse_values
from experiments.stats.cuped import cuped_effect
from experiments.stats.effects import NEWCOMBE, compare, small_count_reason
from experiments.stats.exposed import exposed_effect
from experiments.stats.heterogeneity import heterogeneity_tests, segment_effects
from experiments.stats.multiple import CORRECTIONS, Correction, adjust
from experiments.stats.quality import SmallCount
from experiments.stats.ratio import ratio_effect
from experiments.stats.regression import lin_effect
from experiments.stats.results import Effect, SRMResult
from experiments.stats.srm import srm_test
from experiments.stats.sufficient import ArmStatistics
from experiments.validation import as_float, as_shares

if TYPE_CHECKING:
    from experiments.stats.bayesian import BayesianEffect, MetricValue
    from experiments.stats.effects import MetricKind
    from experiments.stats.heterogeneity import HeterogeneityResult
    from experiments.stats.regression import ResidualSums

__all__ = ["Battery", "Bayes", "battery", "check_bayes", "check_options"]


def check_options(alpha: Any, correction: Any, shares: Any) -> tuple[float, str, dict[str, float] | None]:
    """Validate the options shared by row and summary input."""
    alpha = as_float("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    if correction not in CORRECTIONS:
        raise ParameterError("correction", correction, "one of " + ", ".join(CORRECTIONS))
    return alpha, correction, (None if shares is None else as_shares("shares", shares))



def check_bayes(bayesian: bool, prior_sd: Any, values: Any, metrics: Sequence[str]) -> Bayes | None:
    """The Bayesian settings (``None`` when not asked for); a prior or values without it are refused."""
    if not bayesian:
        if prior_sd is not None:
            raise ParameterError("prior-sd", prior_sd, "only with --bayesian (bayesian=True)")
        if values:
            raise ParameterError("value", values if isinstance(values, Mapping) else ", ".join(values),
                                 "only with --bayesian (bayesian=True): it prices the expected loss")
        return None
    return Bayes(check_prior_sd(prior_sd), parse_values(values, metrics))


def unsegmented(table: ArmStatistics) -> ArmStatistics:
    if not table.segment:
        return table
    sums = [pl.col(c).sum() for c in table.frame.columns if c not in table.keys]
    frame = table.frame.group_by(table.arm, maintain_order=True).agg(sums)
    return ArmStatistics(frame, table.arm, table.metrics, table.covariates, None)


def _with_segment(table: ArmStatistics) -> ArmStatistics:
    """The rows of a segmented table that have a segment (rows without one join no segment effect)."""
    assert table.segment
    frame = table.frame.filter(pl.col(table.segment).is_not_null())
    return ArmStatistics(frame, table.arm, table.metrics, table.covariates, table.segment)


class Battery(NamedTuple):
    """What :func:`battery` computed."""

    srm: SRMResult
    effects: list[Effect]
    adjusted: list[Effect]
    heterogeneity: list[HeterogeneityResult]
    ratio_results: list[Effect]
    small_counts: tuple[SmallCount, ...] = ()
    bayesian: tuple[BayesianEffect, ...] = ()  # one per effect, in the order of ``effects``
    exposed: tuple[Effect, ...] = ()


class Bayes(NamedTuple):
    """What the Bayesian results need: the prior (``None``: flat) and money per unit of some metrics."""

    prior_sd: float | None = None
    values: Mapping[str, MetricValue] | None = None


def _small_counts(effects: Sequence[Effect]) -> tuple[SmallCount, ...]:
    out = []
    for e in effects:
        if e.method != NEWCOMBE:
            continue
        k1, k0 = round(e.mean_arm * e.n_arm), round(e.mean_control * e.n_control)
        reason = small_count_reason(k1, e.n_arm, k0, e.n_control) or ""
        out.append(SmallCount(e.metric, e.arm, e.control, e.segment, reason,
                              "Newcombe's hybrid score interval and the score test"))
    return tuple(out)


def _bayesian(table: ArmStatistics, effects: Sequence[Effect], kinds: Mapping[str, MetricKind],
              alpha: float, bayes: Bayes) -> tuple[BayesianEffect, ...]:
    values = bayes.values or {}
    return tuple(
        bayesian_effect(table.stats(e.arm, e.metric, e.segment), table.stats(e.control, e.metric, e.segment),
                        binary=kinds[e.metric] == "binary", alpha=alpha, prior_sd=bayes.prior_sd,
                        value=values.get(e.metric), metric=e.metric, arm=e.arm, control_label=e.control,
                        segment=e.segment)
        for e in effects
    )


def battery(
    table: ArmStatistics,
    *,
    control: str,
    kinds: Mapping[str, MetricKind],
    shares: Mapping[str, float] | None,
    alpha: float,
    correction: Correction,
    covariates: Sequence[str] = (),
    ratios: Sequence[tuple[str, str, ArmStatistics]] = (),
    bayes: Bayes | None = None,
    exposure: str | None = None,
    exposed: Sequence[tuple[str, ArmStatistics]] = (),
    lin_residuals: ResidualSums | None = None,
) -> Battery:
    """SRM, effects, CUPED, ratio metrics and segment effects from gathered statistics.

    Shared by rows and summaries. ``ratios`` holds ``(numerator, denominator, statistics)`` gathered
    on the units where both are present; their effects join the family of the plain effects for the
    multiple-testing correction. With ``bayes``, each plain and segment effect also gets its Bayesian
    result (``Battery.bayesian``, in the order of ``Battery.effects``). One covariate gives CUPED;
    several, Lin (2013)'s interacted regression (``table`` then holds its products,
    :func:`experiments.stats.regression.lin_products`, or ``lin_residuals`` its residual sums from a
    second pass, :func:`experiments.stats.regression.lin_residual_sums`). ``exposed`` holds ``(metric,
    statistics of metric and exposure)`` gathered on the rows where both are present: the effect on
    the exposed (2SLS), a family of its own.
    """
    whole = unsegmented(table)
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
    treatments = [a for a in whole.arms if a != control]
    plain = compare(whole, control=control, kinds=kinds, alpha=alpha, proportion_method="auto")
    ratio_effects = []
    if ratios:
        ratio_effects = [
            ratio_effect(unsegmented(t), arm=a, control=control, numerator=num, denominator=den,
                         alpha=alpha)
            for num, den, t in ratios for a in treatments
        ]
    family = adjust([*plain, *ratio_effects], correction)
    effects, ratio_results = family[: len(plain)], family[len(plain):]
    adjusted: list[Effect] = []
    if len(covariates) == 1:
        adjusted = adjust([
            cuped_effect(whole, arm=a, control=control, metric=m, covariates=covariates, alpha=alpha)
            for m in kinds for a in treatments
        ], correction)
    elif covariates:
        adjusted = adjust([
            lin_effect(whole, arm=a, control=control, metric=m, covariates=covariates, alpha=alpha,
                       residuals=lin_residuals)
            for m in kinds for a in treatments
        ], correction)
    on_exposed: tuple[Effect, ...] = ()
    if exposure:
        on_exposed = tuple(adjust([
            exposed_effect(unsegmented(t), arm=a, control=control, metric=m, exposure=exposure, alpha=alpha)
            for m, t in exposed for a in treatments
        ], correction))
    hetero: list[HeterogeneityResult] = []
    if table.segment:
        seg = segment_effects(_with_segment(table), control=control, kinds=kinds, alpha=alpha,
                              correction=correction, proportion_method="auto")
        effects += seg
        hetero = heterogeneity_tests(seg)
    bayesian = _bayesian(table, effects, kinds, alpha, bayes) if bayes is not None else ()
    return Battery(srm, effects, adjusted, hetero, ratio_results, _small_counts(effects), bayesian,
                   tuple(on_exposed))
