"""Frozen results of uplift evaluation: plain numbers, ``to_dict()`` and a polars ``to_frame()``.

The vocabulary is the project's: ``estimate, ci_low, ci_high, p_value, method`` (and ``alpha``).
Non-finite numbers become ``None`` in ``to_dict()`` so that the dicts are JSON-ready.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import polars as pl

from experiments.plain import plain, plain_fields

__all__ = [
    "BinUplift",
    "LearnerComparison",
    "LearnerEvaluation",
    "PolicyComparison",
    "PolicyValue",
    "ProfitCurve",
    "QiniResult",
    "UpliftByBin",
    "UpliftMetrics",
]


class _FlatResult:
    """``to_dict`` and a one-row ``to_frame`` of a result whose fields are plain values."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return plain_fields(self)

    def to_frame(self) -> pl.DataFrame:
        """One-row frame."""
        return pl.DataFrame([self.to_dict()])


@dataclass(frozen=True)
class UpliftMetrics:
    """Qini and uplift areas, uplift at the top share ``k`` and the curves on an even grid of shares.

    ``qini_auc`` and ``uplift_auc`` are scikit-uplift's normalised areas (``qini_auc_score`` with
    ``negative_effect=True``, ``uplift_auc_score``); ``uplift_at_k`` is ``uplift_at_k(strategy="overall")``.
    The curves are in outcome units (incremental outcomes among the first ``share`` of customers ranked
    by score), read off scikit-uplift's piecewise-linear curves at ``share * n_rows``; ``*_random`` is the
    straight line of a random ranking.
    """

    n_rows: int
    n_treatment: int
    n_control: int
    qini_auc: float
    uplift_auc: float
    uplift_at_k: float
    k: float
    curve_share: tuple[float, ...]
    curve_qini: tuple[float, ...]
    curve_uplift: tuple[float, ...]
    curve_qini_random: tuple[float, ...]
    curve_uplift_random: tuple[float, ...]

    def curve(self) -> list[dict[str, float | None]]:
        """The curve as ``{share, qini, uplift, qini_random, uplift_random}`` points."""
        return [
            {"share": plain(s), "qini": plain(q), "uplift": plain(u), "qini_random": plain(qr),
             "uplift_random": plain(ur)}
            for s, q, u, qr, ur in zip(self.curve_share, self.curve_qini, self.curve_uplift,
                                       self.curve_qini_random, self.curve_uplift_random, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: the scalars and ``curve`` as a list of points."""
        keys = ("n_rows", "n_treatment", "n_control", "qini_auc", "uplift_auc", "uplift_at_k", "k")
        return {k: plain(getattr(self, k)) for k in keys} | {"curve": self.curve()}

    def to_frame(self) -> pl.DataFrame:
        """The curve, one row per share."""
        return pl.DataFrame(
            {"share": self.curve_share, "qini": self.curve_qini, "uplift": self.curve_uplift,
             "qini_random": self.curve_qini_random, "uplift_random": self.curve_uplift_random},
            schema={c: pl.Float64 for c in ("share", "qini", "uplift", "qini_random", "uplift_random")},
        )


@dataclass(frozen=True)
class QiniResult(_FlatResult):
    """Qini coefficient (scikit-uplift's ``qini_auc_score``) against random ranking, bootstrap interval.

    A random ranking has a Qini coefficient of 0 in expectation; ``p_value`` is the two-sided
    percentile-inversion p-value of that hypothesis, ``2 min(P*(q <= 0), P*(q >= 0))``.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    alpha: float
    n_rows: int
    n_resamples: int
    seed: int

    def conf_int(self) -> tuple[float, float]:
        """Percentile interval."""
        return self.ci_low, self.ci_high


@dataclass(frozen=True)
class BinUplift(_FlatResult):
    """Difference of mean outcome (treatment − control) in one bin of customers ranked by score.

    Bin 1 holds the highest scores; ``share_from``/``share_to`` are its place in the ranking.
    """

    bin: int
    share_from: float
    share_to: float
    n_treatment: int
    n_control: int
    mean_treatment: float
    mean_control: float
    mean_score: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    alpha: float


@dataclass(frozen=True)
class UpliftByBin:
    """Uplift by bin of the score ranking (deciles by default)."""

    rows: tuple[BinUplift, ...]
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with ``rows``."""
        return {"alpha": self.alpha, "rows": [r.to_dict() for r in self.rows]}

    def to_frame(self) -> pl.DataFrame:
        """One row per bin."""
        schema = {f.name: (pl.Int64 if f.name in {"bin", "n_treatment", "n_control"}
                           else pl.String if f.name == "method" else pl.Float64) for f in fields(BinUplift)}
        return pl.DataFrame([{f: getattr(r, f) for f in schema} for r in self.rows], schema=schema)


@dataclass(frozen=True)
class PolicyValue(_FlatResult):
    """Incremental profit per customer of treating the top ``share`` by score, against treating nobody.

    Estimated by inverse-propensity weighting on a randomised sample:
    ``mean(pi_i * (value * Z_i - cost))`` with ``Z_i = T_i Y_i / p - (1 - T_i) Y_i / (1 - p)`` and
    ``pi_i = 1`` for the targeted customers; the interval uses the analytic variance of that mean.
    """

    share: float
    n_rows: int
    n_targeted: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    alpha: float
    value_per_outcome: float
    cost_per_treated: float
    propensity: float


@dataclass(frozen=True)
class PolicyComparison(_FlatResult):
    """Two treat / don't-treat policies judged on the same randomised sample.

    ``estimate`` is the difference of their inverse-propensity profit per customer (policy ``a`` minus
    policy ``b``), with the analytic interval of that paired mean; ``ratio`` is ``a``'s profit as a
    share of ``b``'s, with a delta-method interval (undefined when ``b``'s estimate is zero).
    """

    n_rows: int
    share_a: float
    share_b: float
    value_a: float
    value_b: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    ratio: float
    ratio_se: float
    ratio_ci_low: float
    ratio_ci_high: float
    method: str
    alpha: float


@dataclass(frozen=True)
class ProfitCurve:
    """Policy value against the share treated, and the share that maximises the estimated profit.

    ``best`` is chosen on the same sample it is evaluated on, so its profit is optimistic (a maximum
    of noisy estimates); evaluate it on a fresh randomised sample to get an unbiased figure.
    """

    points: tuple[PolicyValue, ...]
    best_index: int

    @property
    def best(self) -> PolicyValue:
        """The point with the highest estimated profit (the smallest share among equals)."""
        return self.points[self.best_index]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: ``best`` and the ``points``."""
        return {"best": self.best.to_dict(), "points": [p.to_dict() for p in self.points]}

    def to_frame(self) -> pl.DataFrame:
        """One row per share."""
        return pl.DataFrame([p.to_dict() for p in self.points])


@dataclass(frozen=True)
class LearnerEvaluation:
    """Everything measured on one column of out-of-fold uplift scores."""

    learner: str
    metrics: UpliftMetrics
    qini: QiniResult
    bins: UpliftByBin
    profit: ProfitCurve

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict."""
        return {"learner": self.learner, "metrics": self.metrics.to_dict(), "qini": self.qini.to_dict(),
                "bins": self.bins.to_dict(), "profit": self.profit.to_dict()}

    def to_frame(self) -> pl.DataFrame:
        """The uplift by bin, with the learner's name."""
        return self.bins.to_frame().with_columns(pl.lit(self.learner).alias("learner"))


@dataclass(frozen=True)
class LearnerComparison:
    """Cross-fitted learners on one experiment table, each judged on its out-of-fold scores."""

    outcome: str
    binary: bool
    n_rows: int
    n_treatment: int
    n_control: int
    n_left_out: int
    features: tuple[str, ...]
    folds: int
    seed: int
    evaluations: tuple[LearnerEvaluation, ...]

    def __getitem__(self, learner: str) -> LearnerEvaluation:
        for e in self.evaluations:
            if e.learner == learner:
                return e
        raise KeyError(learner)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict."""
        head = {f.name: plain(getattr(self, f.name)) for f in fields(self) if f.name != "evaluations"}
        return head | {"evaluations": [e.to_dict() for e in self.evaluations]}

    def to_frame(self) -> pl.DataFrame:
        """One row per learner: Qini coefficient with interval, areas, uplift at k, best share and profit."""
        rows = []
        for e in self.evaluations:
            best = e.profit.best
            rows.append({
                "learner": e.learner, "qini": e.qini.estimate, "qini_ci_low": e.qini.ci_low,
                "qini_ci_high": e.qini.ci_high, "qini_p_value": e.qini.p_value,
                "uplift_auc": e.metrics.uplift_auc, "uplift_at_k": e.metrics.uplift_at_k, "k": e.metrics.k,
                "best_share": best.share, "best_profit": best.estimate, "best_profit_ci_low": best.ci_low,
                "best_profit_ci_high": best.ci_high,
            })
        return pl.DataFrame(rows)
