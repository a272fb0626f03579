"""Qini and uplift curves, and the perfect ones, as scikit-uplift 0.5 defines them.

The curves are read at the end of each block of equal scores of one ranking
(:mod:`experiments.models.uplift.ranking`); the perfect curves of a binary outcome come from the counts
of the four treatment × outcome cells, without sorting. :mod:`experiments.models.uplift.metrics`
normalises areas by the perfect curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from experiments.errors import DataError, ParameterError
from experiments.models.uplift.ranking import (
    FLOAT,
    BlockSums,
    Ranking,
    check_arrays,
    group_sums,
    is_binary,
    score_sums,
)

__all__ = ["perfect_qini_curve", "perfect_uplift_curve", "qini_curve", "uplift_curve"]


def _cells(y: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """Counts of the four treatment × outcome cells of a binary outcome."""
    y1 = y == 1
    return {"t1y1": float(np.count_nonzero(t & y1)), "t1y0": float(np.count_nonzero(t & ~y1)),
            "t0y1": float(np.count_nonzero(~t & y1)), "t0y0": float(np.count_nonzero(~t & ~y1))}


def _qini_values(s: BlockSums) -> np.ndarray:
    n_c = s.n_c
    out = np.zeros_like(s.n_t)
    np.divide(s.n_t, n_c, out=out, where=n_c != 0)
    out *= s.y_c
    np.subtract(s.y_t, out, out=out)
    return out


def _uplift_values(s: BlockSums) -> np.ndarray:
    n_c = s.n_c
    rate_t = np.zeros_like(s.y_t)
    np.divide(s.y_t, s.n_t, out=rate_t, where=s.n_t != 0)
    rate_c = np.zeros_like(s.y_c)
    np.divide(s.y_c, n_c, out=rate_c, where=n_c != 0)
    rate_t -= rate_c
    rate_t *= s.num_all
    return rate_t


def _with_origin(x: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # scikit-uplift prepends (0, 0) unless the first point is already there; it never is (x >= 1)
    return np.concatenate(([0], x.astype(np.int64))), np.concatenate(([0.0], values))


def _perfect_qini_sums(y: np.ndarray, t: np.ndarray, binary: bool) -> BlockSums:
    if binary:
        c = _cells(y, t)
        # perfect score y*t - y*(1-t): 1 treated responders, 0 non-responders, -1 control responders
        return group_sums(np.array([c["t1y1"], c["t1y0"], 0.0]), np.array([0.0, c["t0y0"], c["t0y1"]]),
                           np.array([c["t1y1"], 0.0, 0.0]), np.array([0.0, 0.0, c["t0y1"]]))
    tf = t.astype(FLOAT)
    return score_sums(y, y * tf - y * (1 - tf), t)


def perfect_uplift_sums(y: np.ndarray, t: np.ndarray, binary: bool) -> BlockSums:
    cr_num = np.count_nonzero((y == 1) & ~t)  # control responders
    tn_num = np.count_nonzero((y == 0) & t)  # treated non-responders
    if binary:
        c = _cells(y, t)
        # perfect score 2*(y == t) + (y if cr > tn else t): 3 treated responders, 2 control non-responders,
        # then control responders and treated non-responders in the order set by the summand
        if cr_num > tn_num:
            n_t = np.array([c["t1y1"], 0.0, 0.0, c["t1y0"]])
            n_c = np.array([0.0, c["t0y0"], c["t0y1"], 0.0])
            y_c = np.array([0.0, 0.0, c["t0y1"], 0.0])
        else:
            n_t = np.array([c["t1y1"], 0.0, c["t1y0"], 0.0])
            n_c = np.array([0.0, c["t0y0"], 0.0, c["t0y1"]])
            y_c = np.array([0.0, 0.0, 0.0, c["t0y1"]])
        return group_sums(n_t, n_c, np.array([c["t1y1"], 0.0, 0.0, 0.0]), y_c)
    tf = t.astype(FLOAT)
    score = 2 * (y == tf) + (y if cr_num > tn_num else tf)
    return score_sums(y, score, t)


def _qini_points(sums: BlockSums) -> tuple[np.ndarray, np.ndarray]:
    return sums.num_all, _qini_values(sums)


def uplift_points(sums: BlockSums) -> tuple[np.ndarray, np.ndarray]:
    return sums.num_all, _uplift_values(sums)


def qini_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve: incremental outcomes among the first customers ranked by ``uplift`` (scikit-uplift's).

    Returns
    -------
    x, values
        Customers so far (0 first, then the end of each block of equal scores) and
        ``y_t - y_c * n_t / n_c`` there.
    """
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _with_origin(*_qini_points(Ranking(y, s, t).sums()))


def uplift_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve: ``(y_t / n_t - y_c / n_c) * n`` among the first customers (scikit-uplift's)."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _with_origin(*uplift_points(Ranking(y, s, t).sums()))


def perfect_qini_curve(
    y_true: Any, treatment: Any, negative_effect: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The best possible Qini curve (scikit-uplift's ``perfect_qini_curve``).

    With ``negative_effect=False`` it is scikit-uplift's three-point curve ``(0, 0), (r, r), (n, r)``,
    ``r`` the overall incremental outcomes.
    """
    if not isinstance(negative_effect, bool):
        raise ParameterError("negative_effect", negative_effect, "True or False")
    y, t = _outcome_treatment(y_true, treatment)
    if not negative_effect:
        r = float(y[t].sum() - np.count_nonzero(t) * y[~t].sum() / np.count_nonzero(~t))
        if r < 0:  # scikit-uplift fails here too (its area needs an increasing x)
            raise DataError(f"the perfect Qini curve without negative effects needs a non-negative "
                            f"overall effect; got {r:.6g} incremental outcomes")
        return np.array([0.0, r, float(y.size)]), np.array([0.0, r, r])
    return _with_origin(*_qini_points(_perfect_qini_sums(y, t, is_binary(y))))


def perfect_uplift_curve(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """The best possible uplift curve (scikit-uplift's ``perfect_uplift_curve``)."""
    y, t = _outcome_treatment(y_true, treatment)
    return _with_origin(*uplift_points(perfect_uplift_sums(y, t, is_binary(y))))


def _outcome_treatment(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=FLOAT).ravel()
    y, _, t = check_arrays(y, np.zeros(y.size), treatment)
    return y, t


def perfect_qini_points(
    y: np.ndarray, t: np.ndarray, negative_effect: bool
) -> tuple[np.ndarray, np.ndarray]:
    if negative_effect:
        return _qini_points(_perfect_qini_sums(y, t, is_binary(y)))
    x, v = perfect_qini_curve(y, t, negative_effect=False)
    return x[1:], v[1:]
