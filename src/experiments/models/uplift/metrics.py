"""Qini and uplift curves, their normalised areas and uplift at k, as scikit-uplift 0.5 defines them.

Same definitions as ``sklift.metrics`` 0.5 (``qini_curve``, ``uplift_curve``, ``perfect_qini_curve``,
``perfect_uplift_curve``, ``qini_auc_score``, ``uplift_auc_score`` with their defaults and
``uplift_at_k(strategy="overall")``), tested against it to 1e-9 on random inputs with ties, equal
scores, unbalanced arms and continuous outcomes. What differs is the work done:

- customers are sorted once (an unstable sort: the curves are read at the ends of blocks of equal
  scores, where the order inside a block does not matter), and every curve and area reuses that order;
- the perfect curves of a binary outcome are computed from the counts of the four treatment × outcome
  cells (their scores take three or four values), without sorting;
- ``uplift_at_k`` takes the customers above the cut-off score whole and, when the cut falls inside a
  block of equal scores, the ones with the highest row numbers from that block, which is the order of
  scikit-uplift's ``argsort(kind="mergesort")[::-1]``.

Unlike scikit-uplift, continuous outcomes are accepted by every function (its formulas apply unchanged;
scikit-uplift 0.5 checks that the outcome is binary). Scores must be finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.errors import DataError, ParameterError
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

_F = np.float64


def check_arrays(
    y_true: Any, uplift: Any, treatment: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcome and score as float64, treatment as bool; raises :class:`DataError` on bad input.

    The three must have the same length; outcome and score must be finite; the treatment must hold
    only 0 and 1 (or booleans), and both.
    """
    y = np.asarray(y_true, dtype=_F).ravel()
    s = np.asarray(uplift, dtype=_F).ravel()
    t_raw = np.asarray(treatment).ravel()
    if not (y.size == s.size == t_raw.size):
        raise DataError(f"outcome, score and treatment differ in length: {y.size}, {s.size}, {t_raw.size}")
    if y.size == 0:
        raise DataError("no rows to evaluate")
    if t_raw.dtype == bool:
        t = t_raw
    else:
        t = t_raw == 1
        if not np.all(t | (t_raw == 0)):
            raise DataError("treatment must hold only 0 and 1 (or True and False)")
    n_t = int(np.count_nonzero(t))
    if n_t == 0 or n_t == t.size:
        raise DataError(f"both arms are needed: {n_t} treated and {t.size - n_t} control rows")
    bad = np.count_nonzero(~np.isfinite(s))
    if bad:
        raise DataError(f"score has {bad} missing or infinite values; every row needs a finite score")
    bad = np.count_nonzero(~np.isfinite(y))
    if bad:
        raise DataError(f"outcome has {bad} missing or infinite values")
    return y, s, t


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


@dataclass(frozen=True)
class _Sums:
    """Cumulative counts and outcome sums at the end of each block of equal scores (descending)."""

    num_all: np.ndarray  # int64 customers so far
    n_t: np.ndarray  # float64 treated so far
    y_t: np.ndarray  # float64 outcome sum of the treated so far
    y_c: np.ndarray  # float64 outcome sum of the controls so far

    @property
    def n_c(self) -> np.ndarray:
        return self.num_all - self.n_t


def _descending(score: np.ndarray) -> np.ndarray:
    """Positions in descending score order (unstable inside blocks of equal scores)."""
    return np.argsort(score)[::-1]


def _sorted_sums(score_sorted: np.ndarray, y_sorted: np.ndarray, t_sorted: np.ndarray) -> _Sums:
    n = score_sorted.size
    ends = np.flatnonzero(np.diff(score_sorted))
    ends = np.append(ends, n - 1)
    n_t = np.cumsum(t_sorted, dtype=_F)
    y_t = np.cumsum(np.where(t_sorted, y_sorted, 0.0))
    y_c = np.cumsum(np.where(t_sorted, 0.0, y_sorted))
    if ends.size != n:
        n_t, y_t, y_c = n_t[ends], y_t[ends], y_c[ends]
    return _Sums(ends + 1, n_t, y_t, y_c)


def _score_sums(y: np.ndarray, score: np.ndarray, t: np.ndarray, order: np.ndarray | None = None) -> _Sums:
    if order is None:
        order = _descending(score)
    return _sorted_sums(score[order], y[order], t[order])


def _group_sums(n_t: np.ndarray, n_c: np.ndarray, y_t: np.ndarray, y_c: np.ndarray) -> _Sums:
    """Sums of groups of equal score given in descending score order; empty groups have no point."""
    keep = (n_t + n_c) > 0
    n_t, n_c, y_t, y_c = n_t[keep], n_c[keep], y_t[keep], y_c[keep]
    c_t, c_c = np.cumsum(n_t, dtype=_F), np.cumsum(n_c, dtype=_F)
    return _Sums((c_t + c_c).astype(np.int64), c_t, np.cumsum(y_t, dtype=_F), np.cumsum(y_c, dtype=_F))


def _cells(y: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """Counts of the four treatment × outcome cells of a binary outcome."""
    y1 = y == 1
    return {"t1y1": float(np.count_nonzero(t & y1)), "t1y0": float(np.count_nonzero(t & ~y1)),
            "t0y1": float(np.count_nonzero(~t & y1)), "t0y0": float(np.count_nonzero(~t & ~y1))}


def _qini_values(s: _Sums) -> np.ndarray:
    n_c = s.n_c
    ratio = np.divide(s.n_t, n_c, out=np.zeros_like(s.n_t), where=n_c != 0)
    return s.y_t - s.y_c * ratio


def _uplift_values(s: _Sums) -> np.ndarray:
    n_c = s.n_c
    rate_t = np.divide(s.y_t, s.n_t, out=np.zeros_like(s.y_t), where=s.n_t != 0)
    rate_c = np.divide(s.y_c, n_c, out=np.zeros_like(s.y_c), where=n_c != 0)
    return (rate_t - rate_c) * s.num_all


def _with_origin(x: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # scikit-uplift prepends (0, 0) unless the first point is already there; it never is (x >= 1)
    return np.concatenate(([0], x)), np.concatenate(([0.0], values))


def _perfect_qini_sums(y: np.ndarray, t: np.ndarray, binary: bool) -> _Sums:
    if binary:
        c = _cells(y, t)
        # perfect score y*t - y*(1-t): 1 treated responders, 0 non-responders, -1 control responders
        return _group_sums(np.array([c["t1y1"], c["t1y0"], 0.0]), np.array([0.0, c["t0y0"], c["t0y1"]]),
                           np.array([c["t1y1"], 0.0, 0.0]), np.array([0.0, 0.0, c["t0y1"]]))
    tf = t.astype(_F)
    return _score_sums(y, y * tf - y * (1 - tf), t)


def _perfect_uplift_sums(y: np.ndarray, t: np.ndarray, binary: bool) -> _Sums:
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
        return _group_sums(n_t, n_c, np.array([c["t1y1"], 0.0, 0.0, 0.0]), y_c)
    tf = t.astype(_F)
    score = 2 * (y == tf) + (y if cr_num > tn_num else tf)
    return _score_sums(y, score, t)


def _normalised_area(actual: tuple[np.ndarray, np.ndarray], perfect: tuple[np.ndarray, np.ndarray]) -> float:
    x_perfect, y_perfect = perfect
    base = float(np.trapezoid(np.array([0.0, y_perfect[-1]]), np.array([0, x_perfect[-1]])))
    perfect_area = float(np.trapezoid(y_perfect, x_perfect)) - base
    actual_area = float(np.trapezoid(actual[1], actual[0])) - base
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(actual_area) / np.float64(perfect_area))


# ---------------------------------------------------------------------------------------- public API


def qini_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve: incremental outcomes among the first customers ranked by ``uplift`` (scikit-uplift's).

    Returns
    -------
    x, values
        Customers so far (0 first, then the end of each block of equal scores) and
        ``y_t - y_c * n_t / n_c`` there.
    """
    y, s, t = check_arrays(y_true, uplift, treatment)
    sums = _score_sums(y, s, t)
    return _with_origin(sums.num_all, _qini_values(sums))


def uplift_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve: ``(y_t / n_t - y_c / n_c) * n`` among the first customers (scikit-uplift's)."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    sums = _score_sums(y, s, t)
    return _with_origin(sums.num_all, _uplift_values(sums))


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
    sums = _perfect_qini_sums(y, t, _is_binary(y))
    return _with_origin(sums.num_all, _qini_values(sums))


def perfect_uplift_curve(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """The best possible uplift curve (scikit-uplift's ``perfect_uplift_curve``)."""
    y, t = _outcome_treatment(y_true, treatment)
    sums = _perfect_uplift_sums(y, t, _is_binary(y))
    return _with_origin(sums.num_all, _uplift_values(sums))


def _outcome_treatment(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=_F).ravel()
    y, _, t = check_arrays(y, np.zeros(y.size), treatment)
    return y, t


def qini_auc_score(y_true: Any, uplift: Any, treatment: Any, negative_effect: bool = True) -> float:
    """Qini coefficient: area between the Qini curve and the random line over that of the perfect curve."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    sums = _score_sums(y, s, t)
    return _normalised_area(_with_origin(sums.num_all, _qini_values(sums)),
                            perfect_qini_curve(y, t, negative_effect))


def uplift_auc_score(y_true: Any, uplift: Any, treatment: Any) -> float:
    """Area between the uplift curve and the random line over that of the perfect uplift curve."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    sums = _score_sums(y, s, t)
    perfect = _perfect_uplift_sums(y, t, _is_binary(y))
    return _normalised_area(_with_origin(sums.num_all, _uplift_values(sums)),
                            _with_origin(perfect.num_all, _uplift_values(perfect)))


def _top_size(k: float | int, n: int) -> int:
    kind = np.asarray(k).dtype.kind
    if kind not in ("i", "f") or isinstance(k, bool):
        raise ParameterError("k", k, "a share in (0, 1) or a whole number of customers in (0, n)")
    if (kind == "i" and (k >= n or k <= 0)) or (kind == "f" and (k <= 0 or k >= 1)):
        raise ParameterError("k", k, f"a share in (0, 1) or a whole number of customers in (0, {n})")
    return int(n * k) if kind == "f" else int(k)


def _uplift_at_top(y: np.ndarray, s: np.ndarray, t: np.ndarray, order: np.ndarray, size: int) -> float:
    if size == 0:
        return float("nan")
    top = order[:size]
    cut = s[order[size - 1]]
    if size < s.size and s[order[size]] == cut:  # the cut falls inside a block of equal scores
        above = top[s[top] > cut]
        tied = np.flatnonzero(s == cut)
        top = np.concatenate((above, tied[tied.size - (size - above.size):]))
    t_top, y_top = t[top], y[top]
    n_t = np.count_nonzero(t_top)
    n_c = t_top.size - n_t
    mean_t = float(y_top[t_top].sum() / n_t) if n_t else float("nan")
    mean_c = float(y_top[~t_top].sum() / n_c) if n_c else float("nan")
    return mean_t - mean_c


def uplift_at_k(y_true: Any, uplift: Any, treatment: Any, strategy: str = "overall", k: float = 0.3) -> float:
    """Mean outcome of the treated minus the controls among the first ``k`` customers by score.

    Only ``strategy="overall"`` (scikit-uplift's): the top ``int(n * k)`` customers of both arms
    together (``k`` a share in (0, 1)), or the top ``k`` when ``k`` is a whole number. ``nan`` when an
    arm has no customer in the top.
    """
    if strategy != "overall":
        raise ParameterError("strategy", strategy, "'overall'")
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _uplift_at_top(y, s, t, _descending(s), _top_size(k, y.size))


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
    if not (isinstance(n_points, int) and 2 <= n_points <= 10_001):
        raise ParameterError("n_points", n_points, "an integer from 2 to 10001")
    y, s, t = check_arrays(y_true, uplift, treatment)
    n = y.size
    size = _top_size(k, n)
    order = _descending(s)
    sums = _sorted_sums(s[order], y[order], t[order])
    qini = _with_origin(sums.num_all, _qini_values(sums))
    upl = _with_origin(sums.num_all, _uplift_values(sums))
    del sums
    binary = _is_binary(y)
    pq = _perfect_qini_sums(y, t, binary)
    pu = _perfect_uplift_sums(y, t, binary)
    qini_auc = _normalised_area(qini, _with_origin(pq.num_all, _qini_values(pq)))
    uplift_auc = _normalised_area(upl, _with_origin(pu.num_all, _uplift_values(pu)))
    at_k = _uplift_at_top(y, s, t, order, size)
    shares = np.linspace(0.0, 1.0, n_points)
    q_pts = np.interp(shares * n, qini[0], qini[1])
    u_pts = np.interp(shares * n, upl[0], upl[1])
    n_t = int(np.count_nonzero(t))
    return UpliftMetrics(
        n_rows=n, n_treatment=n_t, n_control=n - n_t, qini_auc=qini_auc, uplift_auc=uplift_auc,
        uplift_at_k=at_k, k=float(k),
        curve_share=tuple(float(x) for x in shares), curve_qini=tuple(float(x) for x in q_pts),
        curve_uplift=tuple(float(x) for x in u_pts),
        curve_qini_random=tuple(float(x) for x in shares * qini[1][-1]),
        curve_uplift_random=tuple(float(x) for x in shares * upl[1][-1]),
    )
