"""Customer lifetime value from a purchase model and the Gamma-Gamma order value, per customer and group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from experiments.errors import DataError
from experiments.exact_sums import group_sums
from experiments.models.clv._common import as_arrays
from experiments.models.clv.bg_nbd import BGNBDFit, fit_bgnbd
from experiments.models.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from experiments.models.clv.pareto_nbd import ParetoNBDFit

__all__ = ["GroupCLV", "clv", "clv_by_group", "clv_histogram", "holdout_by_frequency"]


def clv(
    purchases: BGNBDFit | ParetoNBDFit,
    spend: GammaGammaFit,
    frequency,
    recency,
    T,
    monetary_value,
    *,
    horizon: float,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    steps: int = 12,
) -> np.ndarray:
    """Expected discounted margin of each customer over the next ``horizon`` time units.

    The horizon is cut into ``steps`` equal steps; the expected purchases of each step (difference of
    the conditional expectation) are valued at the Gamma-Gamma expected order value times ``margin``
    and discounted at ``discount_rate`` per time unit, at the step's end.
    """
    x, tx, t = as_arrays(frequency, recency, T)
    value = spend.conditional_expected_value(x, monetary_value) * margin
    grid = np.linspace(0.0, float(horizon), int(steps) + 1)[1:]
    cum = np.stack([purchases.conditional_expected_purchases(g, x, tx, t) for g in grid])
    inc = np.diff(np.vstack([np.zeros_like(x), cum]), axis=0)
    disc = (1.0 + discount_rate) ** -grid
    return value * (disc @ inc)


# ----------------------------------------------------------------------------------- group summaries
@dataclass(frozen=True)
class GroupCLV:
    """BG/NBD and Gamma-Gamma fitted on one group's calibration period, checked on its holdout."""

    group: str
    purchases: BGNBDFit
    spend: GammaGammaFit
    n_customers: int
    predicted_holdout: float
    actual_holdout: float
    mean_clv: float
    clv_ci_low: float
    clv_ci_high: float

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            **{k: v for k, v in zip(("r", "alpha", "a", "b"), self.purchases.params, strict=True)},
            **{k: v for k, v in zip(("p", "q", "v"), self.spend.params, strict=True)},
            "n_customers": self.n_customers,
            "predicted_holdout_per_customer": self.predicted_holdout,
            "actual_holdout_per_customer": self.actual_holdout,
            "mean_clv": self.mean_clv,
            "clv_ci_low": self.clv_ci_low,
            "clv_ci_high": self.clv_ci_high,
        }

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([self.to_dict()])

    def summary(self) -> str:
        return (
            f"{self.group}: holdout purchases per customer predicted {self.predicted_holdout:.3f}, "
            f"actual {self.actual_holdout:.3f}; mean CLV {self.mean_clv:.2f} "
            f"(95% CI {self.clv_ci_low:.2f} to {self.clv_ci_high:.2f})"
        )


def clv_by_group(
    frame: pl.DataFrame,
    *,
    group: str,
    holdout_length: float,
    horizon: float,
    margin: float,
    discount_rate: float = 0.0,
    frequency: str = "frequency_cal",
    recency: str = "recency_cal",
    T: str = "T_cal",
    monetary_value: str = "monetary_cal",
    holdout: str = "purchases_holdout",
) -> tuple[list[GroupCLV], pl.DataFrame]:
    """Fit BG/NBD and Gamma-Gamma per group; return the fits and each customer's ``clv`` and group.

    CLV is the expected discounted margin over ``horizon`` time units after the calibration end.
    """
    for col in (group, frequency, recency, T, monetary_value, holdout):
        if col not in frame.columns:
            raise DataError(f"column {col!r} not found; available: {', '.join(frame.columns)}")
    results, parts = [], []
    for label in sorted(frame[group].unique().to_list()):
        sub = frame.filter(pl.col(group) == label)
        x, tx, t = (sub[c].to_numpy() for c in (frequency, recency, T))
        m = sub[monetary_value].to_numpy()
        bg = fit_bgnbd(x, tx, t)
        gg = fit_gamma_gamma(x, m)
        pred = bg.conditional_expected_purchases(holdout_length, x, tx, t)
        values = clv(bg, gg, x, tx, t, m, horizon=horizon, margin=margin, discount_rate=discount_rate)
        se = float(values.std(ddof=1) / np.sqrt(values.size))
        mean = float(values.mean())
        results.append(
            GroupCLV(
                group=str(label),
                purchases=bg,
                spend=gg,
                n_customers=int(x.size),
                predicted_holdout=float(pred.mean()),
                actual_holdout=float(sub[holdout].mean()),
                mean_clv=mean,
                clv_ci_low=mean - 1.96 * se,
                clv_ci_high=mean + 1.96 * se,
            )
        )
        parts.append(
            pl.DataFrame(
                {
                    "group": [str(label)] * x.size,
                    "frequency": x,
                    "clv": values,
                    "predicted": pred,
                    "actual": sub[holdout].to_numpy().astype(float),
                }
            )
        )
    return results, pl.concat(parts)


def holdout_by_frequency(customers: pl.DataFrame, *, max_frequency: int = 7) -> pl.DataFrame:
    """Mean predicted and actual holdout purchases by calibration frequency (top bin ``max+``), per group.

    ``customers`` is the second frame returned by :func:`clv_by_group`.
    """
    binned = customers.with_columns(
        pl.col("frequency").clip(upper_bound=max_frequency).cast(pl.Int64).alias("bin")
    )
    means = {c: pl.col(c).cast(pl.Float64) for c in ("predicted", "actual")}
    sums = group_sums(binned, ["group", "bin"], means, aggs=[pl.len().alias("n")])
    return (
        sums.with_columns(pl.col("predicted") / pl.col("n"), pl.col("actual") / pl.col("n"))
        .with_columns(
            pl.when(pl.col("bin") == max_frequency)
            .then(pl.lit(f"{max_frequency}+"))
            .otherwise(pl.col("bin").cast(pl.String))
            .alias("frequency")
        )
    )


def clv_histogram(customers: pl.DataFrame, *, bins: int = 40, upper_quantile: float = 0.99) -> pl.DataFrame:
    """Share of customers per CLV bin and group (values above the quantile go into the last bin)."""
    values = customers["clv"].to_numpy()
    top = float(np.quantile(values, upper_quantile)) if values.size else 1.0
    edges = np.linspace(0.0, max(top, 1e-9), bins + 1)
    width = edges[1] - edges[0]
    return (
        customers.with_columns((pl.col("clv") / width).floor().clip(0, bins - 1).cast(pl.Int64).alias("bin"))
        .group_by("group", "bin")
        .agg(pl.len().alias("n"))
        .with_columns(
            (pl.col("n") / pl.col("n").sum().over("group")).alias("share"),
            (pl.col("bin") * width).alias("clv_from"),
            ((pl.col("bin") + 1) * width).alias("clv_to"),
        )
        .sort("group", "bin")
    )
