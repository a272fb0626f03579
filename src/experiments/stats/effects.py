"""Two-sample effects from sufficient statistics: proportions (statsmodels) and Welch (scipy).

Binary metrics
    ``diff`` and its interval and p-value come from statsmodels'
    ``confint_proportions_2indep`` / ``test_proportions_2indep`` with ``compare="diff"``;
    ``method="wald"`` (default: unpooled variance, the interval and the test agree), ``"score"``
    (Miettinen–Nurminen score interval and test), ``"newcomb"`` (Newcombe's hybrid score interval with
    the score test) or ``"auto"``: Wald, unless an arm has fewer than :data:`SMALL_COUNT` successes or
    failures (:func:`small_count_reason`), then ``"newcomb"``. With so few, Wald's interval is too
    narrow (an arm with no success counts as having no variance) and its test too eager; Newcombe's
    interval and the score test keep close to their level (``benchmarks/calibrate_small_counts.py``).
    The relative lift interval is statsmodels' ``compare="ratio", method="log"`` (delta method on the
    log risk ratio), minus one; with ``"newcomb"`` its ``"log-adjusted"`` method (Katz's log interval
    with 0.5 added to each count), nan when the control has no success (with no success in the arm it
    may leave out the estimate, -100%).
Continuous metrics
    Welch's unequal-variance t test and interval (Satterthwaite degrees of freedom), matching
    ``scipy.stats.ttest_ind(equal_var=False)``; relative lift by the delta method on the log ratio of
    means (normal quantile).

The Wald and log-ratio formulas are written out here with the same operations statsmodels performs, and
the t and normal distributions come from ``scipy.special`` (what ``scipy.stats`` calls): the numbers are
the library's bit for bit (``tests/test_stats_references.py``), without importing statsmodels and
scipy.stats, which would cost most of a command's start-up. The score and Newcombe methods call
statsmodels (imported only when a small count asks for them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from experiments.errors import DataError, ParameterError
from experiments.stats.results import Effect
from experiments.stats.special import ndtr, ndtri, stdtr, stdtrit
from experiments.stats.sufficient import ArmStatistics, SampleStats

__all__ = [
    "NEWCOMBE",
    "SMALL_COUNT",
    "MetricKind",
    "ProportionMethod",
    "compare",
    "mean_effect",
    "proportion_effect",
    "relative_lift_delta",
    "small_count_reason",
]

ProportionMethod = Literal["wald", "score", "newcomb", "auto"]
#: Fewest successes and fewest failures each arm needs for the Wald interval and test under ``"auto"``
#: (the usual condition for the normal approximation of a binomial count, n p ≥ 10 and n (1 − p) ≥ 10).
SMALL_COUNT = 10
#: ``method`` of an :class:`Effect` from Newcombe's interval and the score test.
NEWCOMBE = "two-proportion Newcombe/score"
MetricKind = Literal["binary", "continuous"]
_NAN = float("nan")


def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError("alpha", alpha, "a number strictly between 0 and 1")
    return float(alpha)


def relative_lift_delta(
    treatment: SampleStats, control: SampleStats, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Relative lift ``m1/m0 - 1`` and its delta-method interval on the log ratio.

    ``var(log m) ~ s^2 / (n m^2)``; the interval is ``exp(log(m1/m0) ± z se) - 1``.
    Returns ``(lift, low, high)``; nan when a mean is not positive.
    """
    m1, m0 = treatment.mean, control.mean
    if not (m1 > 0 and m0 > 0):
        return _NAN, _NAN, _NAN
    se = math.sqrt(treatment.variance / (treatment.n * m1**2) + control.variance / (control.n * m0**2))
    z = ndtri(1 - alpha / 2)
    log_ratio = math.log(m1 / m0)
    return m1 / m0 - 1, math.exp(log_ratio - z * se) - 1, math.exp(log_ratio + z * se) - 1


def small_count_reason(successes_arm: int, n_arm: int, successes_control: int, n_control: int, *,
                       threshold: int = SMALL_COUNT) -> str | None:
    """Why the Wald interval is not used for these counts (``None`` when every arm has at least
    ``threshold`` successes and ``threshold`` failures)."""
    parts = []
    for who, k, n in (("control", successes_control, n_control), ("arm", successes_arm, n_arm)):
        if k < threshold:
            parts.append(f"the {who} has {k:,} success(es) of {n:,}")
        elif n - k < threshold:
            parts.append(f"the {who} has {n - k:,} failure(s) of {n:,}")
    if not parts:
        return None
    need = f"Wald needs at least {threshold} successes and {threshold} failures in each arm"
    return " and ".join(parts) + f" ({need})"


def _newcombe(c1: int, n1: int, c0: int, n0: int, alpha: float) -> tuple[float, float, float, float,
                                                                         float, float]:
    """statsmodels' Newcombe interval and score test of the difference, log-adjusted ratio interval."""
    # statsmodels (with pandas) costs about a second at import; only small counts use it
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels forms p1 / p0 and 0 / 0
        res = test_proportions_2indep(c1, n1, c0, n0, method="score", compare="diff")
        low, high = confint_proportions_2indep(c1, n1, c0, n0, method="newcomb", compare="diff", alpha=alpha)
        if c0 > 0:
            rlow, rhigh = confint_proportions_2indep(c1, n1, c0, n0, method="log-adjusted",
                                                     compare="ratio", alpha=alpha)
        else:  # a lift over a zero rate has no finite value
            rlow = rhigh = _NAN
    return float(res.statistic), float(res.pvalue), float(low), float(high), float(rlow) - 1, float(rhigh) - 1


def proportion_effect(
    treatment: SampleStats,
    control: SampleStats,
    *,
    alpha: float = 0.05,
    method: ProportionMethod = "wald",
    metric: str = "conversion",
    arm: str = "treatment",
    control_label: str = "control",
    segment: str | None = None,
) -> Effect:
    """Difference of two proportions (treatment − control) with interval and p-value.

    ``sum`` of each :class:`SampleStats` is the number of successes. Values agree with statsmodels
    called on the same counts to floating-point precision (tested to 1e-12); ``method`` is one of
    ``"wald"``, ``"score"``, ``"newcomb"`` and ``"auto"`` (see the module docstring).
    """
    alpha = _check_alpha(alpha)
    if method not in ("wald", "score", "newcomb", "auto"):
        raise ParameterError("method", method, "wald, score, newcomb or auto")
    c1, n1, c0, n0 = round(treatment.sum), treatment.n, round(control.sum), control.n
    if n1 == 0 or n0 == 0:
        empty = arm if n1 == 0 else control_label
        raise DataError(f"no units in {empty!r} for {metric!r}: a proportion needs at least one unit in each "
                        "arm")
    if method == "auto":
        method = "newcomb" if small_count_reason(c1, n1, c0, n0) else "wald"
    p1, p0 = c1 / n1, c0 / n0
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = -ndtri(alpha / 2)  # statsmodels' norm.isf(alpha / 2)
    if method == "newcomb":
        stat, pval, low, high, rel_low, rel_high = _newcombe(c1, n1, c0, n0, alpha)
        return Effect(
            metric=metric, arm=arm, control=control_label, n_arm=n1, n_control=n0,
            mean_arm=p1, mean_control=p0, estimate=diff, se=se, ci_low=low, ci_high=high,
            statistic=stat, p_value=pval, rel_lift=p1 / p0 - 1 if c0 > 0 else _NAN, rel_ci_low=rel_low,
            rel_ci_high=rel_high, method=NEWCOMBE, alpha=alpha, segment=segment,
        )
    if method == "score":
        # statsmodels (with pandas) costs about a second at import; only the score test uses it here
        from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

        with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels also forms p1 / p0
            res = test_proportions_2indep(c1, n1, c0, n0, method=method, compare="diff")
            low, high = confint_proportions_2indep(
                c1, n1, c0, n0, method=method, compare="diff", alpha=alpha
            )
        stat, pval = float(res.statistic), float(res.pvalue)
    elif se > 0:  # statsmodels' wald test and interval, the same operations
        stat = diff / se
        pval = float(ndtr(-abs(stat)) * 2)
        low, high = diff - z * se, diff + z * se
    else:  # both arms all-0 or all-1: no variation, nothing to test
        stat, pval, low, high = _NAN, _NAN, diff, diff
    if c0 > 0 and c1 > 0:  # statsmodels' confint_proportions_2indep(method="log", compare="ratio")
        d_log = z * np.sqrt(1 / c1 - 1 / n1 + 1 / c0 - 1 / n0)
        log_ratio = np.log(p1 / p0)
        rlow, rhigh = np.exp(log_ratio - d_log), np.exp(log_ratio + d_log)
        rel, rel_low, rel_high = p1 / p0 - 1, float(rlow) - 1, float(rhigh) - 1
    else:
        rel = rel_low = rel_high = _NAN
    return Effect(
        metric=metric, arm=arm, control=control_label, n_arm=n1, n_control=n0,
        mean_arm=p1, mean_control=p0, estimate=diff, se=se, ci_low=float(low), ci_high=float(high),
        statistic=stat, p_value=pval, rel_lift=rel, rel_ci_low=rel_low, rel_ci_high=rel_high,
        method=f"two-proportion {method}", alpha=alpha, segment=segment,
    )


def mean_effect(
    treatment: SampleStats,
    control: SampleStats,
    *,
    alpha: float = 0.05,
    metric: str = "revenue",
    arm: str = "treatment",
    control_label: str = "control",
    segment: str | None = None,
) -> Effect:
    """Welch difference of means (treatment − control) with t interval and p-value.

    Agrees with ``scipy.stats.ttest_ind(..., equal_var=False)`` and statsmodels' ``CompareMeans``
    with ``usevar="unequal"`` (tested to 1e-10).
    """
    alpha = _check_alpha(alpha)
    n1, n0 = treatment.n, control.n
    v1, v0 = treatment.variance / n1, control.variance / n0
    diff = treatment.mean - control.mean
    se = math.sqrt(v1 + v0)
    if se > 0:
        df = (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
        stat = diff / se
        pval = float(2 * stdtr(df, -abs(stat)))  # scipy.stats.t.sf(|t|, df)
        half = float(stdtrit(df, 1 - alpha / 2)) * se  # scipy.stats.t.ppf
    else:  # no variation: the interval is the point; an arm of one unit (no variance): no interval
        stat, pval, half = _NAN, _NAN, (0.0 if se == 0 else _NAN)
    rel, rel_low, rel_high = relative_lift_delta(treatment, control, alpha)
    return Effect(
        metric=metric, arm=arm, control=control_label, n_arm=n1, n_control=n0,
        mean_arm=treatment.mean, mean_control=control.mean, estimate=diff, se=se,
        ci_low=diff - half, ci_high=diff + half, statistic=stat, p_value=pval,
        rel_lift=rel, rel_ci_low=rel_low, rel_ci_high=rel_high, method="Welch t",
        alpha=alpha, segment=segment,
    )


def compare(
    table: ArmStatistics,
    *,
    control: str,
    kinds: Mapping[str, MetricKind],
    alpha: float = 0.05,
    proportion_method: ProportionMethod = "wald",
    arms: Sequence[str] | None = None,
    segment: str | None = None,
) -> list[Effect]:
    """Every treatment arm against ``control`` on every metric of ``kinds``.

    Parameters
    ----------
    table
        Sufficient statistics from :func:`experiments.stats.sufficient.gather`.
    control
        Label of the control (holdout) arm.
    kinds
        Metric name to ``"binary"`` or ``"continuous"``, in report order.
    proportion_method
        Interval and test of binary metrics (``"auto"``: Wald unless counts are small).
    arms
        Treatment arms to compare (default: every arm but the control, in table order).
    segment
        Restrict to one segment of a segmented table.
    """
    treatments = [a for a in (arms or table.arms) if a != control]
    out: list[Effect] = []
    for metric, kind in kinds.items():
        c = table.stats(control, metric, segment)
        for a in treatments:
            t = table.stats(a, metric, segment)
            common = dict(alpha=alpha, metric=metric, arm=a, control_label=control, segment=segment)
            if kind == "binary":
                out.append(proportion_effect(t, c, method=proportion_method, **common))
            else:
                out.append(mean_effect(t, c, **common))
    return out
