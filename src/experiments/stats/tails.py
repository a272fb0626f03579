"""Heavy tails: capped (winsorised) metrics and differences of quantiles, from rows or arrays.

Revenue per person is heavy-tailed (a coefficient of variation near 10, Lewis & Rao 2015): a few large
orders dominate the variance of a difference of means. Two answers every experimentation platform gives
(GrowthBook's percentile and absolute caps, Statsig's P99.9 winsorisation, Eppo's winsorisation):

Capping
    Every value above the cap ``c`` is replaced by ``c`` (``np.clip(x, None, c)``; values below are
    kept, negative ones too), then the Welch difference of means is computed on the capped values
    (:func:`experiments.stats.effects.mean_effect`). A *percentile* cap is the ``NN``-th percentile of
    the metric in all arms pooled, by numpy's default definition, ``np.percentile(x, NN,
    method="linear")`` (Hyndman & Fan's type 7, what polars calls ``interpolation="linear"``; exact,
    not approximate). The capped difference estimates the difference of *capped* means: less variance,
    at the price of a bias towards zero when the treatment moves the tail (:func:`tail_calibration`
    measures both).
Quantiles
    The difference of the ``q``-quantiles of two arms (numpy's ``"linear"`` definition, as above), with
    the large-sample normal interval ``d ± z sqrt(se1² + se0²)``. Each arm's standard error is
    ``sparsity × sqrt(q (1 - q) / n)``, the sparsity ``1 / f(Q(q))`` estimated by the difference
    quotient of the sample quantile function, ``(Q(q + h) - Q(q - h)) / 2h`` (Siddiqui 1960;
    Bloch & Gastwirth 1968), with ``h = z sqrt(q (1 - q) / n)`` — the ranks of the distribution-free
    order-statistic interval of a quantile, so that ``se = (Q(q + h) - Q(q - h)) / 2z`` is the standard
    error of McKean & Schrader (1984) that Price & Bonett (2002) use for a difference of medians;
    ``q ± h`` are clipped to [0, 1]. Only a few order statistics per arm are needed, which one sorted
    ``group_by`` gives (:func:`quantile_aggs`). Where ``q`` falls on an atom (e.g. the median of a
    metric that is 0 for most units) both quantiles sit on it, ``se`` is 0 and the interval is the
    point itself.

:func:`tail_replications` and :func:`tail_calibration` run both on many simulated experiments given as
arrays (one row per replication) and measure the coverage of the intervals and the bias and variance of
capping against the truth the caller knows (``benchmarks/calibrate_tails.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import polars as pl

from experiments.errors import ParameterError
from experiments.plain import plain
from experiments.stats.effects import compare
from experiments.stats.multiple import adjust, adjust_pvalues
from experiments.stats.quality import HUGE
from experiments.stats.results import Effect, TestedDifference
from experiments.stats.special import ndtr, ndtri, stdtr, stdtrit
from experiments.stats.sufficient import from_groups, gather_exprs

__all__ = [
    "CAP_RULE",
    "QUANTILE_METHOD",
    "QUANTILE_RULE",
    "Cap",
    "CapKind",
    "CapSpec",
    "CappedEffect",
    "QuantileEffect",
    "TailCalibration",
    "TailReplications",
    "adjust_quantile_effects",
    "cap_expr",
    "capped_aggs",
    "capped_values",
    "parse_cap",
    "parse_caps",
    "parse_quantile",
    "parse_quantiles",
    "percentile_cap",
    "percentile_exprs",
    "quantile_aggs",
    "quantile_difference",
    "quantile_effect",
    "read_capped_effects",
    "read_prepass_quantiles",
    "read_quantile_effects",
    "refuse_binary",
    "sample_quantiles",
    "tail_calibration",
    "tail_prepass",
    "tail_replications",
]

CapKind = Literal["percentile", "absolute"]

#: What ``--cap`` accepts.
CAP_RULE = ("METRIC=pNN (a percentile of the pooled arms, NN in (0, 100], e.g. p99, p99.9) or "
            "METRIC=VALUE (a number in the metric's units, within ±1e100 like the data)")
#: What ``--quantile`` accepts.
QUANTILE_RULE = "METRIC=Q with Q a number strictly between 0 and 1 (e.g. revenue=0.5)"
#: ``method`` of every :class:`QuantileEffect`.
QUANTILE_METHOD = "quantile difference (order-statistic standard errors)"

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class CapSpec:
    """What was asked for one metric: a percentile ``level`` of the pooled arms, or an absolute value."""

    metric: str
    kind: CapKind
    level: float

    @property
    def label(self) -> str:
        """``p99.9`` for a percentile cap, the value for an absolute one."""
        return f"p{self.level:g}" if self.kind == "percentile" else f"{self.level:,.6g}"


def _split(option: str, spec: Any, rule: str) -> tuple[str, str]:
    if not isinstance(spec, str) or "=" not in spec:
        raise ParameterError(option, spec, rule)
    metric, _, value = spec.rpartition("=")
    if not metric or not value.strip():
        raise ParameterError(option, spec, rule)
    return metric, value.strip()


def _known(option: str, spec: Any, metric: str, metrics: Sequence[str] | None) -> None:
    if metrics is not None and metric not in metrics:
        raise ParameterError(option, spec, "METRIC one of the --metric columns: " + ", ".join(metrics))


def parse_cap(spec: str | CapSpec, metrics: Sequence[str] | None = None) -> CapSpec:
    """``"revenue=p99"``, ``"revenue=p99.9"`` or ``"revenue=500"`` as a :class:`CapSpec`.

    With ``metrics``, the metric must be one of them.
    """
    if isinstance(spec, CapSpec):
        _known("cap", spec, spec.metric, metrics)
        if spec.kind == "percentile":
            ok = 0 < spec.level <= 100
        else:
            ok = spec.kind == "absolute" and abs(spec.level) <= HUGE
        if not ok:
            raise ParameterError("cap", spec, CAP_RULE)
        return spec
    metric, value = _split("cap", spec, CAP_RULE)
    _known("cap", spec, metric, metrics)
    kind: CapKind = "absolute"
    if value[:1] in ("p", "P"):
        kind, value = "percentile", value[1:]
    if not _NUMBER.match(value):
        raise ParameterError("cap", spec, CAP_RULE + f"; {value!r} is not a number")
    level = float(value)
    if kind == "percentile" and not 0 < level <= 100:
        raise ParameterError("cap", spec, f"a percentile in (0, 100] after 'p'; {CAP_RULE}")
    if not abs(level) <= HUGE:  # beyond it the sums of squares overflow (data beyond it is refused too)
        raise ParameterError("cap", spec, CAP_RULE)
    return CapSpec(metric, kind, level)


def parse_caps(specs: Sequence[str | CapSpec], metrics: Sequence[str] | None = None) -> list[CapSpec]:
    """Every ``--cap``; one cap per metric."""
    out: list[CapSpec] = []
    for spec in specs:
        cap = parse_cap(spec, metrics)
        if any(c.metric == cap.metric for c in out):
            raise ParameterError("cap", spec, f"one cap per metric; {cap.metric!r} is capped twice")
        out.append(cap)
    return out


def parse_quantile(spec: str | tuple[str, float], metrics: Sequence[str] | None = None) -> tuple[str, float]:
    """``"revenue=0.9"`` (or a pair) as ``(metric, q)`` with ``0 < q < 1``."""
    if isinstance(spec, tuple) and len(spec) == 2:
        metric, value = str(spec[0]), str(spec[1])
    else:
        metric, value = _split("quantile", spec, QUANTILE_RULE)
    _known("quantile", spec, metric, metrics)
    if not _NUMBER.match(value.strip()):
        raise ParameterError("quantile", spec, QUANTILE_RULE)
    q = float(value)
    if not 0 < q < 1:
        raise ParameterError("quantile", spec, QUANTILE_RULE)
    return metric, q


def parse_quantiles(specs: Sequence[str | tuple[str, float]], metrics: Sequence[str] | None = None
                    ) -> list[tuple[str, float]]:
    """Every ``--quantile``, repeats dropped, in the order given."""
    return list(dict.fromkeys(parse_quantile(s, metrics) for s in specs))


# ---------------------------------------------------------------------------------------------------------
# capping


@dataclass(frozen=True)
class Cap:
    """The cap applied to one metric: its kind, its value in the metric's units, and what it capped."""

    metric: str
    kind: CapKind
    value: float
    percentile: float | None
    n_capped: Mapping[str, int]

    @property
    def label(self) -> str:
        """``p99`` for a percentile cap, ``absolute`` otherwise."""
        return f"p{self.percentile:g}" if self.percentile is not None else "absolute cap"

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "value", "percentile"}`` (the JSON ``cap`` of each capped effect)."""
        return {"kind": self.kind, "value": plain(self.value), "percentile": self.percentile}


def percentile_cap(values: np.ndarray, percentile: float) -> float:
    """The cap of ``percentile`` (in (0, 100]): ``np.percentile(values, percentile, method="linear")``
    of the finite values pooled over the arms."""
    x = np.asarray(values, dtype=float)
    return float(np.percentile(x[np.isfinite(x)], percentile, method="linear"))


def capped_values(values: np.ndarray, cap: float) -> np.ndarray:
    """``np.clip(values, None, cap)``: every value above ``cap`` replaced by ``cap``."""
    return np.clip(np.asarray(values, dtype=float), None, cap)


def cap_expr(value: pl.Expr, cap: float) -> pl.Expr:
    """Polars expression of :func:`capped_values` (missing values stay missing)."""
    return pl.when(value > cap).then(pl.lit(cap, pl.Float64)).otherwise(value)


def percentile_exprs(values: Mapping[str, pl.Expr], caps: Sequence[CapSpec], *, keep: pl.Expr | None = None,
                     prefix: str = "\x00pct\x00") -> list[pl.Expr]:
    """Exact pooled percentiles (polars ``quantile(interpolation="linear")``) of the percentile caps,
    for one ``select`` over the rows (``keep``: the rows to pool, e.g. those with an arm)."""
    out = []
    for c in caps:
        if c.kind != "percentile":
            continue
        v = values[c.metric] if keep is None else values[c.metric].filter(keep)
        out.append(v.quantile(c.level / 100, interpolation="linear").alias(prefix + c.metric))
    return out


# ---------------------------------------------------------------------------------------------------------
# quantiles


def _z(alpha: float) -> float:
    return float(ndtri(1 - alpha / 2))


def _probabilities(n: Any, q: float, z: float) -> tuple[Any, Any]:
    """``(q - h, q + h)`` clipped to [0, 1], ``h = z sqrt(q (1 - q) / n)`` (numbers or arrays)."""
    h = z * np.sqrt(q * (1 - q) / np.asarray(n, dtype=float))
    return np.clip(q - h, 0.0, 1.0), np.clip(q + h, 0.0, 1.0)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation between neighbouring order statistics (``np.quantile``'s
    ``_lerp``: the same operations, so the same bits)."""
    diff = b - a
    out = np.asarray(a + diff * t, dtype=float)
    return np.where(t >= 0.5, b - diff * (1 - t), out)


def sample_quantiles(sorted_values: np.ndarray, probabilities: Any) -> np.ndarray:
    """``np.quantile(sorted_values, probabilities, method="linear")`` along the last axis of sorted
    values (``probabilities``: scalar or array broadcasting against the leading axes)."""
    x = np.asarray(sorted_values, dtype=float)
    n = x.shape[-1]
    pos = (n - 1) * np.asarray(probabilities, dtype=float)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    t = pos - lo
    if x.ndim == 1:
        return _lerp(x[lo], x[hi], t)
    a = np.take_along_axis(x, np.broadcast_to(lo, x.shape[:-1])[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(x, np.broadcast_to(hi, x.shape[:-1])[..., None], axis=-1)[..., 0]
    return _lerp(a, b, t)


def _se(q_lo: Any, q_hi: Any, p_lo: Any, p_hi: Any, n: Any, q: float) -> Any:
    """Order-statistic standard error of a sample quantile: sparsity × sqrt(q (1 - q) / n)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sparsity = np.where(p_hi > p_lo, (np.asarray(q_hi) - q_lo) / (np.asarray(p_hi) - p_lo), 0.0)
    return sparsity * np.sqrt(q * (1 - q) / np.asarray(n, dtype=float))


def _interval(estimate: Any, se: Any, alpha: float) -> tuple[Any, Any, Any, Any]:
    """``(statistic, p_value, low, high)`` of a normal interval; nan statistic and p-value where
    ``se`` is 0 (nothing varies: the interval is the point)."""
    z = _z(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, np.asarray(estimate) / np.where(se > 0, se, 1.0), np.nan)
    p = np.where(se > 0, 2 * ndtr(-np.abs(stat)), np.nan)
    return stat, p, estimate - z * se, estimate + z * se


@dataclass(frozen=True)
class QuantileEffect(TestedDifference):
    """Difference of the ``quantile``-quantiles of a treatment arm and the control, with its interval."""

    metric: str
    arm: str
    control: str
    quantile: float
    n_arm: int
    n_control: int
    quantile_arm: float
    quantile_control: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    rel_lift: float
    method: str = QUANTILE_METHOD
    alpha: float = 0.05
    p_value_adjusted: float | None = None
    estimand: str = "itt"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready: non-finite numbers become ``None``); ``diff`` repeats ``estimate``."""
        d = {k: plain(getattr(self, k)) for k in self.__dataclass_fields__}
        d["diff"] = d["estimate"]
        return d

    def to_frame(self) -> pl.DataFrame:
        """One-row polars frame."""
        return pl.DataFrame([self.to_dict()])

    def summary(self) -> str:
        """One readable line."""
        level = round(100 * (1 - self.alpha))
        p = self.p_value if self.p_value_adjusted is None else self.p_value_adjusted
        return (f"{self.metric} q{self.quantile:g}: {self.arm} {self.quantile_arm:.4g} vs {self.control} "
                f"{self.quantile_control:.4g}: diff {self.estimate:+.4g} ({level}% CI {self.ci_low:+.4g} "
                f"to {self.ci_high:+.4g}), p = {p:.3g}")


def _effect(*, metric: str, arm: str, control: str, q: float, n1: int, n0: int, qs1: Sequence[float],
            qs0: Sequence[float], alpha: float) -> QuantileEffect:
    """:class:`QuantileEffect` from each arm's ``(Q(q - h), Q(q), Q(q + h))``."""
    z = _z(alpha)
    lo1, hi1 = _probabilities(n1, q, z)
    lo0, hi0 = _probabilities(n0, q, z)
    se1 = float(_se(qs1[0], qs1[2], lo1, hi1, n1, q))
    se0 = float(_se(qs0[0], qs0[2], lo0, hi0, n0, q))
    estimate = float(qs1[1] - qs0[1])
    # one value in an arm: its quantile has no spread to estimate (an interval would be the point)
    se = math.sqrt(se1**2 + se0**2) if min(n1, n0) >= 2 else float("nan")
    stat, p, low, high = (float(v) for v in _interval(estimate, se, alpha))
    rel = qs1[1] / qs0[1] - 1 if qs0[1] > 0 and qs1[1] >= 0 else float("nan")
    return QuantileEffect(metric=metric, arm=arm, control=control, quantile=q, n_arm=int(n1),
                          n_control=int(n0), quantile_arm=float(qs1[1]), quantile_control=float(qs0[1]),
                          estimate=estimate, se=se, ci_low=low, ci_high=high, statistic=stat, p_value=p,
                          rel_lift=float(rel), alpha=alpha)


def quantile_effect(treatment: np.ndarray, control: np.ndarray, *, q: float, alpha: float = 0.05,
                    metric: str = "revenue", arm: str = "treatment", control_label: str = "control"
                    ) -> QuantileEffect:
    """Difference of the ``q``-quantiles of two samples (missing and non-finite values left out).

    The estimate is ``np.quantile(treatment, q) - np.quantile(control, q)`` (``method="linear"``); the
    interval is described in the module's docstring.
    """
    parse_quantile((metric, q))
    arms = []
    for x in (treatment, control):
        x = np.asarray(x, dtype=float)
        x = np.sort(x[np.isfinite(x)])
        if x.size == 0:
            raise ParameterError("treatment" if not arms else "control", x, "at least one finite value")
        lo, hi = _probabilities(x.size, q, _z(alpha))
        arms.append((x.size, sample_quantiles(x, np.array([lo, q, hi]))))
    (n1, qs1), (n0, qs0) = arms
    return _effect(metric=metric, arm=arm, control=control_label, q=q, n1=n1, n0=n0, qs1=qs1, qs0=qs0,
                   alpha=alpha)


def quantile_difference(treatment: np.ndarray, control: np.ndarray, *, q: float, alpha: float = 0.05
                        ) -> dict[str, np.ndarray]:
    """:func:`quantile_effect` for many experiments at once: rows of ``treatment`` and ``control`` (2-D,
    one replication per row, no missing values) are the samples. Returns arrays ``estimate``, ``se``,
    ``ci_low``, ``ci_high``, ``quantile_arm``, ``quantile_control``."""
    z = _z(alpha)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for x in (treatment, control):
        x = np.sort(np.asarray(x, dtype=float), axis=-1)
        n = x.shape[-1]
        lo, hi = _probabilities(n, q, z)
        qs = [sample_quantiles(x, p) for p in (lo, q, hi)]
        out.append((qs[1], _se(qs[0], qs[2], lo, hi, n, q)))
    (q1, se1), (q0, se0) = out
    estimate = q1 - q0
    se = np.sqrt(se1**2 + se0**2)
    _, _, low, high = _interval(estimate, se, alpha)
    return {"estimate": estimate, "se": se, "ci_low": low, "ci_high": high, "quantile_arm": q1,
            "quantile_control": q0}


def quantile_aggs(value: pl.Expr, quantiles: Sequence[float], *, alpha: float, name: str) -> list[pl.Expr]:
    """Aggregations for a ``group_by(arm)`` that give each arm's :func:`quantile_effect` inputs: the count
    of values, and for each ``q`` the positions ``(n - 1) p`` of ``p = q - h, q, q + h`` with the order
    statistics on either side of each (one sort per arm). Read them with :func:`read_quantile_effects`."""
    z = _z(alpha)
    x = value.drop_nulls().sort()
    n = value.count().cast(pl.Int64)
    nf = n.cast(pl.Float64)
    positions, indices = [], []
    for q in quantiles:
        h = pl.lit(z) * (pl.lit(q * (1 - q)) / nf).sqrt()
        for p in ((pl.lit(q) - h).clip(0.0, 1.0), pl.lit(q, pl.Float64), (pl.lit(q) + h).clip(0.0, 1.0)):
            pos = (n - 1).cast(pl.Float64) * p
            lo = pos.floor().cast(pl.Int64)
            positions.append(pos)
            indices += [lo, pl.min_horizontal(lo + 1, n - 1)]
    return [
        n.alias(f"{name}n"),
        pl.concat_list(positions).alias(f"{name}pos"),
        x.implode().list.gather(pl.concat_list(indices), null_on_oob=True).first().alias(f"{name}values"),
    ]


def read_quantile_effects(groups: pl.DataFrame, *, arm: str, control: str, treatments: Sequence[str],
                          metric: str, quantiles: Sequence[float], alpha: float, name: str
                          ) -> list[QuantileEffect]:
    """:class:`QuantileEffect` of every ``q`` and treatment arm from the groups of :func:`quantile_aggs`."""
    per_arm: dict[str, tuple[int, np.ndarray]] = {}
    for row in groups.select(pl.col(arm).cast(pl.String), f"{name}n", f"{name}pos", f"{name}values"
                             ).iter_rows():
        label, n, pos, values = row
        if label is None or not n:
            continue
        pos = np.asarray(pos, dtype=float)
        v = np.asarray(values, dtype=float).reshape(-1, 2)
        per_arm[str(label)] = (int(n), _lerp(v[:, 0], v[:, 1], pos - np.floor(pos)).reshape(-1, 3))
    out = []
    for i, q in enumerate(quantiles):
        n0, qs0 = per_arm[control]
        for a in treatments:
            n1, qs1 = per_arm[a]
            out.append(_effect(metric=metric, arm=a, control=control, q=q, n1=n1, n0=n0, qs1=qs1[i],
                               qs0=qs0[i], alpha=alpha))
    return out


# ---------------------------------------------------------------------------------------------------------
# calibration by simulation


def _welch(x1: np.ndarray, x0: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """Welch difference of row means with its t interval (the operations of
    :func:`experiments.stats.effects.mean_effect`, one experiment per row)."""
    n1, n0 = x1.shape[-1], x0.shape[-1]
    v1, v0 = x1.var(axis=-1, ddof=1) / n1, x0.var(axis=-1, ddof=1) / n0
    diff = x1.mean(axis=-1) - x0.mean(axis=-1)
    se = np.sqrt(v1 + v0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
        half = np.where(se > 0, stdtrit(df, 1 - alpha / 2) * se, 0.0)
        p = np.where(se > 0, 2 * stdtr(df, -np.abs(diff / se)), np.nan)
    return {"estimate": diff, "se": se, "ci_low": diff - half, "ci_high": diff + half, "p_value": p}


@dataclass(frozen=True)
class TailReplications:
    """Per-replication estimates and intervals of :func:`tail_replications` (arrays, one entry each)."""

    quantile: float
    cap_percentile: float
    alpha: float
    mean: Mapping[str, np.ndarray]
    capped: Mapping[str, np.ndarray]
    caps: np.ndarray
    quantiles: Mapping[str, np.ndarray]

    @property
    def n_reps(self) -> int:
        """Number of replications."""
        return int(self.caps.size)


def tail_replications(control: np.ndarray, treatment: np.ndarray, *, quantile: float, cap_percentile: float,
                      alpha: float = 0.05) -> TailReplications:
    """Uncapped, capped and quantile differences of many simulated experiments.

    Parameters
    ----------
    control, treatment
        2-D arrays, one replication per row (every value finite).
    quantile
        ``q`` of the quantile difference, in (0, 1).
    cap_percentile
        Percentile of the pooled arms of each replication at which values are capped, in (0, 100].
    alpha
        Level of the intervals.
    """
    parse_quantile(("metric", quantile))
    parse_cap(CapSpec("metric", "percentile", cap_percentile))
    x0 = np.atleast_2d(np.asarray(control, dtype=float))
    x1 = np.atleast_2d(np.asarray(treatment, dtype=float))
    caps = np.percentile(np.concatenate([x1, x0], axis=1), cap_percentile, axis=1, method="linear")
    capped = _welch(np.minimum(x1, caps[:, None]), np.minimum(x0, caps[:, None]), alpha)
    return TailReplications(quantile=quantile, cap_percentile=cap_percentile, alpha=alpha,
                            mean=_welch(x1, x0, alpha), capped=capped, caps=caps,
                            quantiles=quantile_difference(x1, x0, q=quantile, alpha=alpha))


@dataclass(frozen=True)
class TailCalibration:
    """Coverage, bias and spread of the tail methods over simulated experiments with a known truth."""

    n_reps: int
    alpha: float
    quantile: float
    cap_percentile: float
    true_mean_diff: float
    true_capped_diff: float
    true_quantile_diff: float
    coverage_mean: float
    coverage_capped: float
    coverage_quantile: float
    bias_mean: float
    bias_capped: float
    bias_capped_vs_capped_truth: float
    bias_quantile: float
    sd_mean: float
    sd_capped: float
    sd_quantile: float
    rmse_mean: float
    rmse_capped: float
    width_mean: float
    width_capped: float
    width_quantile: float

    @property
    def variance_ratio(self) -> float:
        """Variance of the capped estimate over that of the uncapped one."""
        return self.sd_capped**2 / self.sd_mean**2 if self.sd_mean > 0 else float("nan")

    @property
    def width_ratio(self) -> float:
        """Mean width of the capped interval over that of the uncapped one."""
        return self.width_capped / self.width_mean if self.width_mean > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, with the two ratios."""
        d = {k: plain(getattr(self, k)) for k in self.__dataclass_fields__}
        return d | {"variance_ratio": plain(self.variance_ratio),
                    "width_ratio": plain(self.width_ratio)}

    def summary(self) -> str:
        """Readable lines."""
        level = round(100 * (1 - self.alpha))
        share = f" ({self.bias_capped / self.true_mean_diff:+.1%} of it)" if self.true_mean_diff else ""
        return "\n".join([
            f"{self.n_reps:,} experiments, {level}% intervals",
            f"quantile q{self.quantile:g}: coverage {self.coverage_quantile:.1%} (truth "
            f"{self.true_quantile_diff:+.4g}, bias {self.bias_quantile:+.4g}, sd {self.sd_quantile:.4g}, "
            f"mean width {self.width_quantile:.4g})",
            f"uncapped mean: coverage {self.coverage_mean:.1%} (truth {self.true_mean_diff:+.4g}, bias "
            f"{self.bias_mean:+.4g}, sd {self.sd_mean:.4g}, mean width {self.width_mean:.4g})",
            f"capped at p{self.cap_percentile:g}: bias against the uncapped truth {self.bias_capped:+.4g}"
            f"{share}, sd {self.sd_capped:.4g}, rmse "
            f"{self.rmse_capped:.4g} vs uncapped {self.rmse_mean:.4g}; variance x{self.variance_ratio:.3f}, "
            f"interval width x{self.width_ratio:.3f}",
            f"capped interval covers the capped truth {self.true_capped_diff:+.4g} in "
            f"{self.coverage_capped:.1%} (bias {self.bias_capped_vs_capped_truth:+.4g})",
        ])


def _covers(r: Mapping[str, np.ndarray], truth: float) -> float:
    return float(np.mean((r["ci_low"] <= truth) & (truth <= r["ci_high"])))


def tail_calibration(replications: Sequence[TailReplications] | TailReplications, *, true_mean_diff: float,
                     true_capped_diff: float, true_quantile_diff: float) -> TailCalibration:
    """Coverage of each interval and bias, spread and interval width of each estimate, over the
    replications (batches of :func:`tail_replications` run with the same settings are pooled).

    Parameters
    ----------
    replications
        One or several :class:`TailReplications`.
    true_mean_diff
        True difference of means (uncapped), what the uncapped and capped estimates are judged against.
    true_capped_diff
        True difference of means capped at the population's pooled percentile (the capped estimand).
    true_quantile_diff
        True difference of the quantiles.
    """
    reps = [replications] if isinstance(replications, TailReplications) else list(replications)
    if not reps or len({(r.quantile, r.cap_percentile, r.alpha) for r in reps}) != 1:
        raise ParameterError("replications", len(reps), "one or more batches run with the same settings")

    def cat(part: str) -> dict[str, np.ndarray]:
        keys = ("estimate", "ci_low", "ci_high")
        return {k: np.concatenate([getattr(r, part)[k] for r in reps]) for k in keys}

    mean, capped, quant = cat("mean"), cat("capped"), cat("quantiles")
    first = reps[0]
    return TailCalibration(
        n_reps=int(mean["estimate"].size), alpha=first.alpha, quantile=first.quantile,
        cap_percentile=first.cap_percentile, true_mean_diff=true_mean_diff, true_capped_diff=true_capped_diff,
        true_quantile_diff=true_quantile_diff,
        coverage_mean=_covers(mean, true_mean_diff), coverage_capped=_covers(capped, true_capped_diff),
        coverage_quantile=_covers(quant, true_quantile_diff),
        bias_mean=float(mean["estimate"].mean() - true_mean_diff),
        bias_capped=float(capped["estimate"].mean() - true_mean_diff),
        bias_capped_vs_capped_truth=float(capped["estimate"].mean() - true_capped_diff),
        bias_quantile=float(quant["estimate"].mean() - true_quantile_diff),
        sd_mean=float(mean["estimate"].std(ddof=1)), sd_capped=float(capped["estimate"].std(ddof=1)),
        sd_quantile=float(quant["estimate"].std(ddof=1)),
        rmse_mean=float(np.sqrt(np.mean((mean["estimate"] - true_mean_diff) ** 2))),
        rmse_capped=float(np.sqrt(np.mean((capped["estimate"] - true_mean_diff) ** 2))),
        width_mean=float(np.mean(mean["ci_high"] - mean["ci_low"])),
        width_capped=float(np.mean(capped["ci_high"] - capped["ci_low"])),
        width_quantile=float(np.mean(quant["ci_high"] - quant["ci_low"])),
    )


# ---------------------------------------------------------------------------------------------------------
# the glue of ``experiments analyze``: aggregations for its passes and the effects read back from them


@dataclass(frozen=True)
class CappedEffect:
    """The Welch effect of one treatment arm on a capped metric, with the cap and what it capped."""

    effect: Effect
    cap: Cap
    n_capped_arm: int
    n_capped_control: int

    def summary(self) -> str:
        """One readable line."""
        return f"capped at {self.cap.value:,.6g} ({self.cap.label}): {self.effect.summary()}"


def refuse_binary(kinds: Mapping[str, str], caps: Sequence[CapSpec], quantiles: Sequence[tuple[str, float]]
                  ) -> None:
    """Refuse a cap or a quantile of a binary (0/1) metric, saying why."""
    for c in caps:
        if kinds.get(c.metric) == "binary":
            raise ParameterError("cap", f"{c.metric}={c.label}", f"a continuous metric; {c.metric!r} is "
                                 "binary (0/1): it has no tail to cap, and its effect is already a "
                                 "difference of proportions")
    for m, q in quantiles:
        if kinds.get(m) == "binary":
            raise ParameterError("quantile", f"{m}={q:g}", f"a continuous metric; {m!r} is binary (0/1): "
                                 "its quantiles are 0 or 1, so compare its proportions (the plain effect)")


def tail_prepass(lf: pl.LazyFrame, *, arm: str, values: Mapping[str, pl.Expr], caps: Sequence[CapSpec],
                 quantiles: Sequence[tuple[str, float]], alpha: float, key: str = "\x00arm"
                 ) -> tuple[dict[str, float], pl.DataFrame | None]:
    """The pass made before the sufficient statistics when a percentile cap or a quantile is asked
    for: the exact pooled percentile of every percentile cap (one ``select``) and the order statistics
    of every quantile metric per arm (one ``group_by``), collected together so that polars reads the
    rows once. Returns the cap of every metric in ``caps`` (absolute caps as given) and the per-arm
    frame for :func:`read_quantile_effects` (None without quantiles)."""
    out = {c.metric: c.level for c in caps if c.kind == "absolute"}
    queries = []
    pct = percentile_exprs(values, caps, keep=pl.col(arm).is_not_null())
    if pct:
        queries.append(lf.select(pct))
    by_metric: dict[str, list[float]] = {}
    for m, q in quantiles:
        by_metric.setdefault(m, []).append(q)
    if by_metric:
        aggs = [e for i, (m, qs) in enumerate(by_metric.items())
                for e in quantile_aggs(values[m], qs, alpha=alpha, name=_quantile_name(i))]
        queries.append(lf.group_by(pl.col(arm).cast(pl.String).alias(key)).agg(aggs))
    if not queries:
        return out, None
    frames = pl.collect_all(queries)
    if pct:
        row = frames[0].row(0, named=True)
        for c in caps:
            if c.kind == "percentile":
                v = row["\x00pct\x00" + c.metric]
                out[c.metric] = float("nan") if v is None else float(v)
    return out, (frames[-1] if by_metric else None)


def _quantile_name(i: int) -> str:
    """Prefix of the prepass's columns of the ``i``-th quantile metric."""
    return f"\x00q{i}\x00"


def capped_aggs(values: Mapping[str, pl.Expr], caps: Mapping[str, float]) -> list[pl.Expr]:
    """Aggregations for the one ``group_by`` of the sufficient statistics: every capped metric's
    count, exact sum and sum of squares (a float: the exact fixed-point sums), and the number of
    values above its cap."""
    aggs: list[pl.Expr] = []
    for i, (m, cap) in enumerate(caps.items()):
        prefix = f"\x00c{i}\x00"
        aggs += gather_exprs(metrics=[m], values={m: cap_expr(values[m], cap)}, prefix=prefix,
                             dtypes={m: pl.Float64()})
        aggs.append((values[m] > cap).sum().alias(f"{prefix}capped"))
    return aggs


def read_capped_effects(groups: pl.DataFrame, *, arm: str, control: str, treatments: Sequence[str],
                        caps: Sequence[CapSpec], cap_values: Mapping[str, float], alpha: float,
                        correction: str, count: str = "n") -> tuple[list[Cap], list[CappedEffect]]:
    """The caps and the capped Welch effects (a multiple-testing family of their own) from the groups
    of the pass that ran :func:`capped_aggs` (with ``caps`` in the same order; grouped by arm, and by
    segment too, the effects are overall)."""
    out_caps: list[Cap] = []
    effects: list[Effect] = []
    for i, spec in enumerate(caps):
        prefix = f"\x00c{i}\x00"
        # one row per arm and segment, if any: the statistics of an arm add up its rows
        table = from_groups(groups, arm=arm, metrics=[spec.metric], count=count, prefix=prefix)
        counted = (groups.filter(pl.col(arm).is_not_null())
                   .group_by(pl.col(arm).cast(pl.String)).agg(pl.col(f"{prefix}capped").sum()))
        n_capped = {str(a): int(k) for a, k in counted.sort(arm).iter_rows()}
        n_capped = {a: n_capped.get(a, 0) for a in [control, *treatments]}
        out_caps.append(Cap(spec.metric, spec.kind, cap_values[spec.metric],
                            spec.level if spec.kind == "percentile" else None, n_capped))
        effects += compare(table, control=control, kinds={spec.metric: "continuous"}, alpha=alpha,
                           arms=treatments)
    adjusted = adjust(effects, correction)  # type: ignore[arg-type]
    by_metric = {c.metric: c for c in out_caps}
    capped = []
    for e in adjusted:
        cap = by_metric[e.metric]
        method = f"{e.method} (capped at {cap.value:.6g}, {cap.label})"
        capped.append(CappedEffect(replace(e, method=method), cap, cap.n_capped[e.arm],
                                   cap.n_capped[control]))
    return out_caps, capped


def read_prepass_quantiles(groups: pl.DataFrame, *, arm: str, control: str, treatments: Sequence[str],
                           quantiles: Sequence[tuple[str, float]], alpha: float, correction: str
                           ) -> list[QuantileEffect]:
    """Every quantile effect from the frame :func:`tail_prepass` returned, corrected for multiple
    testing as a family of their own."""
    effects = []
    for i, metric in enumerate(dict.fromkeys(m for m, _ in quantiles)):
        effects += read_quantile_effects(groups, arm=arm, control=control, treatments=treatments,
                                         metric=metric, quantiles=[q for m, q in quantiles if m == metric],
                                         alpha=alpha, name=_quantile_name(i))
    return adjust_quantile_effects(effects, correction)


def adjust_quantile_effects(effects: Sequence[QuantileEffect], correction: str) -> list[QuantileEffect]:
    """Quantile effects corrected for multiple testing as a family of their own."""
    if not effects:
        return []
    adjusted = adjust_pvalues([e.p_value for e in effects], correction)  # type: ignore[arg-type]
    return [e.with_adjusted(p) for e, p in zip(effects, adjusted, strict=True)]
