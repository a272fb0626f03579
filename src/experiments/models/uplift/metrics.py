"""Qini and uplift curves, their normalised areas and uplift at k, as scikit-uplift 0.5 defines them.

Same definitions as ``sklift.metrics`` 0.5 (``qini_curve``, ``uplift_curve``, ``perfect_qini_curve``,
``perfect_uplift_curve``, ``qini_auc_score``, ``uplift_auc_score`` with their defaults and
``uplift_at_k(strategy="overall")``), tested against it to 1e-9 on random inputs with ties, equal
scores, unbalanced arms and continuous outcomes. What differs is the work done:

- customers are ranked once and every curve and area reuses that ranking; the curves are read at the
  ends of blocks of equal scores, where the order inside a block does not matter, so the sort need not
  be stable. A binary outcome needs no full ``argsort``: the scores of each treatment × outcome cell
  are sorted on their own (values only, a vectorised sort) and the four sorted runs merged;
- areas and curve points come from one pass over the ranking in chunks that stay in the CPU cache
  (:func:`_scan`), never materialising the ten-million-point curves;
- the perfect curves of a binary outcome are computed from the counts of the four cells (their scores
  take three or four values), without sorting;
- ``uplift_at_k`` takes the customers above the cut-off score whole and, when the cut falls inside a
  block of equal scores, the ones with the highest row numbers from that block, which is the order of
  scikit-uplift's ``argsort(kind="mergesort")[::-1]``.

Unlike scikit-uplift, continuous outcomes are accepted by every function (its formulas apply unchanged;
scikit-uplift 0.5 checks that the outcome is binary). Scores must be finite.

The ranking and the input checks are in :mod:`experiments.models.uplift.ranking`, the curves and the
perfect curves in :mod:`experiments.models.uplift.curves`; this module holds the one-pass scan, the
areas, uplift at k and :func:`uplift_metrics`, and gathers the public names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.errors import ParameterError
from experiments.models.uplift.curves import (
    perfect_qini_curve,
    perfect_qini_points,
    perfect_uplift_curve,
    perfect_uplift_sums,
    qini_curve,
    uplift_curve,
    uplift_points,
)
from experiments.models.uplift.ranking import FLOAT, Ranking, check_arrays, is_binary
from experiments.models.uplift.results import UpliftMetrics

__all__ = [
    "check_arrays",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "qini_auc_score",
    "qini_curve",
    "uplift_at_k",
    "uplift_auc_score",
    "uplift_curve",
    "uplift_metrics",
]


_CHUNK = 1 << 16  # customers per step of the scan: every temporary stays in the CPU cache


@dataclass(frozen=True)
class _Scan:
    """Areas under the Qini and uplift curves (from the origin), their last values, values on a grid."""

    qini_area: float
    uplift_area: float
    qini_end: float
    uplift_end: float
    qini_grid: np.ndarray
    uplift_grid: np.ndarray


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b``, 0 where ``b`` is 0; ``b`` is a running count, so only its first entries can be 0."""
    if b[0] > 0:
        return a / b
    out = np.zeros_like(a)
    np.divide(a, b, out=out, where=b != 0)
    return out


def _segments(prev_x: float, prev_v: float, x: np.ndarray, v: np.ndarray, unit: bool) -> float:
    """Trapezoid area from ``(prev_x, prev_v)`` through the points; ``unit``: x steps by 1 throughout."""
    if unit:
        return prev_v / 2.0 + float(v[:-1].sum()) + float(v[-1]) / 2.0
    dx = np.diff(x, prepend=prev_x)
    vv = v + np.concatenate(([prev_v], v[:-1]))
    vv *= dx
    return float(vv.sum()) / 2.0


def _scan(r: Ranking, grid: np.ndarray) -> _Scan:
    """One pass over the ranked customers, chunk by chunk, with the same points as the full curves.

    ``grid`` holds increasing customer counts at which the piecewise-linear curves are read.
    """
    n = r.n
    carry = np.zeros(3)  # treated, treated outcome, control outcome so far
    px = pq = pu = 0.0  # the last point (the origin first)
    area_q = area_u = 0.0
    q_grid, u_grid = np.zeros(grid.size), np.zeros(grid.size)
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        ss, c, yy = r.chunk(a, b)
        if yy is None:
            n_t = np.cumsum(c >= 2, dtype=FLOAT)
            y_t = np.cumsum(c == 3, dtype=FLOAT)
            y_c = np.cumsum(c == 1, dtype=FLOAT)
        else:
            tt = c
            n_t = np.cumsum(tt, dtype=FLOAT)
            y_t = yy * tt
            y_c = yy - y_t
            np.cumsum(y_t, out=y_t)
            np.cumsum(y_c, out=y_c)
        n_t += carry[0]
        y_t += carry[1]
        y_c += carry[2]
        carry[:] = n_t[-1], y_t[-1], y_c[-1]
        x = np.arange(a + 1, b + 1, dtype=FLOAT)
        ends = ss[:-1] != ss[1:] if b < n else np.append(ss[:-1] != ss[1:], True)
        every = bool(ends.all())
        if not every:
            if not ends.any():
                continue
            x, n_t, y_t, y_c = x[ends], n_t[ends], y_t[ends], y_c[ends]
        n_c = x - n_t
        q = y_c * _divide(n_t, n_c)
        np.subtract(y_t, q, out=q)
        u = _divide(y_t, n_t)
        u -= _divide(y_c, n_c)
        u *= x
        unit = every and px == a
        area_q += _segments(px, pq, x, q, unit)
        area_u += _segments(px, pu, x, u, unit)
        lo, hi = np.searchsorted(grid, [px, x[-1]], side="right")
        if hi > lo:
            xx = np.concatenate(([px], x))
            q_grid[lo:hi] = np.interp(grid[lo:hi], xx, np.concatenate(([pq], q)))
            u_grid[lo:hi] = np.interp(grid[lo:hi], xx, np.concatenate(([pu], u)))
        px, pq, pu = float(x[-1]), float(q[-1]), float(u[-1])
    return _Scan(area_q, area_u, pq, pu, q_grid, u_grid)


def _normalised(actual_area: float, perfect: tuple[np.ndarray, np.ndarray]) -> float:
    """(actual area − random) / (perfect area − random), the random line ending where the perfect does."""
    x_perfect, y_perfect = perfect
    base = float(x_perfect[-1]) * float(y_perfect[-1]) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(actual_area - base) / np.float64(_area(x_perfect, y_perfect) - base))


def _area(x: np.ndarray, v: np.ndarray) -> float:
    """Trapezoid area under ``(0, 0), (x[0], v[0]), ...``, summed like ``numpy.trapezoid``."""
    first = float(x[0]) * float(v[0]) / 2.0
    tail = v[1:] + v[:-1]
    if not (x.dtype == FLOAT and x.size == x[-1] and x[0] == 1):  # not 1, 2, ..., n: widths differ
        tail *= np.diff(x)
    tail /= 2.0
    return first + float(tail.sum())


def qini_auc_score(y_true: Any, uplift: Any, treatment: Any, negative_effect: bool = True) -> float:
    """Qini coefficient: area between the Qini curve and the random line over that of the perfect curve.

    ``nan`` (or infinite) where scikit-uplift divides by zero (no effect to normalise by).
    """
    if not isinstance(negative_effect, bool):
        raise ParameterError("negative_effect", negative_effect, "True or False")
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _normalised(_scan(Ranking(y, s, t), np.empty(0)).qini_area,
                       perfect_qini_points(y, t, negative_effect))


def uplift_auc_score(y_true: Any, uplift: Any, treatment: Any) -> float:
    """Area between the uplift curve and the random line over that of the perfect uplift curve."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _normalised(_scan(Ranking(y, s, t), np.empty(0)).uplift_area,
                       uplift_points(perfect_uplift_sums(y, t, is_binary(y))))


def _top_size(k: float | int, n: int) -> int:
    kind = np.asarray(k).dtype.kind
    if kind not in ("i", "f") or isinstance(k, bool):
        raise ParameterError("k", k, "a share in (0, 1) or a whole number of customers in (0, n)")
    if (kind == "i" and (k >= n or k <= 0)) or (kind == "f" and (k <= 0 or k >= 1)):
        raise ParameterError("k", k, f"a share in (0, 1) or a whole number of customers in (0, {n})")
    return int(n * k) if kind == "f" else int(k)


def uplift_at_k(y_true: Any, uplift: Any, treatment: Any, strategy: str = "overall", k: float = 0.3) -> float:
    """Mean outcome of the treated minus the controls among the first ``k`` customers by score.

    Only ``strategy="overall"`` (scikit-uplift's): the top ``int(n * k)`` customers of both arms
    together (``k`` a share in (0, 1)), or the top ``k`` when ``k`` is a whole number. ``nan`` when an
    arm has no customer in the top.
    """
    if strategy != "overall":
        raise ParameterError("strategy", strategy, "'overall'")
    y, s, t = check_arrays(y_true, uplift, treatment)
    size = _top_size(k, y.size)
    return Ranking(y, s, t).uplift_at_top(size)


def uplift_metrics(
    y_true: Any, uplift: Any, treatment: Any, *, k: float = 0.3, n_points: int = 101
) -> UpliftMetrics:
    """Every metric of :mod:`experiments.models.uplift.metrics` from one sort of the customers.

    Parameters
    ----------
    y_true, uplift, treatment
        Outcome (binary or continuous), score (higher = treat first) and treatment (0/1) per customer.
    k
        Share (or whole number) of customers for :func:`uplift_at_k`.
    n_points
        Number of evenly spaced shares (0 to 1) at which the curves are reported.

    Returns
    -------
    UpliftMetrics
        Normalised Qini and uplift areas, uplift at ``k`` and the curves.
    """
    if isinstance(n_points, bool) or not (isinstance(n_points, int) and 2 <= n_points <= 10_001):
        raise ParameterError("n_points", n_points, "an integer from 2 to 10001")
    y, s, t = check_arrays(y_true, uplift, treatment)
    n = y.size
    size = _top_size(k, n)
    ranking = Ranking(y, s, t)
    shares = np.linspace(0.0, 1.0, n_points)
    scan = _scan(ranking, shares * n)
    at_k = ranking.uplift_at_top(size)
    del ranking
    binary = is_binary(y)
    qini_auc = _normalised(scan.qini_area, perfect_qini_points(y, t, True))
    uplift_auc = _normalised(scan.uplift_area, uplift_points(perfect_uplift_sums(y, t, binary)))
    n_t = int(np.count_nonzero(t))
    return UpliftMetrics(
        n_rows=n, n_treatment=n_t, n_control=n - n_t, qini_auc=qini_auc, uplift_auc=uplift_auc,
        uplift_at_k=at_k, k=float(k),
        curve_share=tuple(float(x) for x in shares), curve_qini=tuple(float(x) for x in scan.qini_grid),
        curve_uplift=tuple(float(x) for x in scan.uplift_grid),
        curve_qini_random=tuple(float(x) for x in shares * scan.qini_end),
        curve_uplift_random=tuple(float(x) for x in shares * scan.uplift_end),
    )
