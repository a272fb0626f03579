"""Replaying a real experiment look by look from per-arm summary statistics (the ASOS dataset)."""

from __future__ import annotations

import polars as pl

from experiments.errors import DataError
from experiments.stats.sequential import LOOK_COLUMNS, SequentialResult, naive_looks

__all__ = ["asos_looks", "replay_frame"]


def asos_looks(frame: pl.DataFrame, *, experiment: str, variant: int, metric: int) -> pl.DataFrame:
    """The looks of one ASOS experiment arm and metric, in time order, with complete variances.

    Parameters
    ----------
    frame
        The ASOS Digital Experiments table (``experiment_id, variant_id, metric_id,
        time_since_start, count_c, count_t, mean_c, mean_t, variance_c, variance_t``).
    experiment, variant, metric
        Which experiment, treatment arm and metric to replay.

    Raises
    ------
    DataError
        When the combination is absent (the message lists what exists for that experiment).
    """
    need = ["experiment_id", "variant_id", "metric_id", "time_since_start", *LOOK_COLUMNS]
    absent = [c for c in need if c not in frame.columns]
    if absent:
        raise DataError(f"ASOS table lacks columns {absent}")
    rows = frame.filter(
        (pl.col("experiment_id") == experiment) & (pl.col("variant_id") == variant)
        & (pl.col("metric_id") == metric)
    )
    if rows.height == 0:
        have = (frame.filter(pl.col("experiment_id") == experiment)
                .select("variant_id", "metric_id").unique().sort("variant_id", "metric_id").rows())
        raise DataError(
            f"no ASOS looks for experiment {experiment!r}, variant {variant}, metric {metric}; "
            + (f"that experiment has (variant, metric) {have}" if have else "no such experiment id")
        )
    rows = rows.drop_nulls(list(LOOK_COLUMNS)).sort("time_since_start")
    if rows.height == 0:
        raise DataError(f"ASOS experiment {experiment!r} has no look with variances for metric {metric}")
    return rows.select("time_since_start", *LOOK_COLUMNS)


def replay_frame(looks: pl.DataFrame, result: SequentialResult) -> pl.DataFrame:
    """Tidy look-by-look frame of a replay: day, method, difference, interval, p-value, significant.

    ``looks`` is :func:`asos_looks`' frame and ``result`` the :func:`~experiments.stats.sequential.msprt`
    run on it; the naive rows carry the fixed-horizon z interval and p-value of each look.
    """
    naive = naive_looks(looks, alpha=result.alpha)
    by_look = result.to_frame()
    day = looks["time_since_start"]
    common = {"look": by_look["look"] + 1, "day": day, "diff": by_look["estimate"]}
    naive_part = pl.DataFrame(common | {
        "method": "naive test at each look", "ci_low": naive["ci_low"], "ci_high": naive["ci_high"],
        "p_value": naive["p_value"]})
    av_part = pl.DataFrame(common | {
        "method": "always-valid (mSPRT)", "ci_low": by_look["ci_low"], "ci_high": by_look["ci_high"],
        "p_value": by_look["p_value"]})
    return pl.concat([naive_part, av_part]).with_columns(
        significant=pl.col("p_value") <= result.alpha
    )
