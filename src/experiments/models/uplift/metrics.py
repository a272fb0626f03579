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
    """Outcome, score as float64 and treatment as bool; raises :class:`DataError` on bad input.

    The three must have the same length; outcome and score must be finite; the treatment must hold
    only 0 and 1 (or booleans), and both. An integer or boolean outcome of zeros and ones is kept as
    int8 (no float copy of a large binary column); any other outcome becomes float64.
    """
    y_raw = np.asarray(y_true).ravel()
    y = _compact_binary(y_raw)
    if y is None:
        y = np.asarray(y_raw, dtype=_F)
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


def _compact_binary(y: np.ndarray) -> np.ndarray | None:
    """An integer or boolean array of zeros and ones as int8 (a view when possible), else ``None``."""
    if y.dtype == bool:
        return y.view(np.int8)
    if y.dtype.kind in "iu" and y.size and y.min() >= 0 and y.max() <= 1:
        return y if y.dtype == np.int8 else y.astype(np.int8)
    return None


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


@dataclass(frozen=True)
class _Sums:
    """Cumulative counts and outcome sums at the end of each block of equal scores (descending)."""

    num_all: np.ndarray  # customers so far (int64, or float64 when every score differs)
    n_t: np.ndarray  # float64 treated so far
    y_t: np.ndarray  # float64 outcome sum of the treated so far
    y_c: np.ndarray  # float64 outcome sum of the controls so far

    @property
    def n_c(self) -> np.ndarray:
        return self.num_all - self.n_t


def _descending(score: np.ndarray) -> np.ndarray:
    """Positions in descending score order (unstable inside blocks of equal scores)."""
    return np.argsort(score)[::-1]


def _block_ends(score_sorted: np.ndarray) -> np.ndarray | None:
    """Last position of each block of equal scores; ``None`` when every score differs."""
    ends = np.flatnonzero(np.diff(score_sorted))
    if ends.size == score_sorted.size - 1:
        return None
    return np.append(ends, score_sorted.size - 1)


def _at_ends(ends: np.ndarray | None, n: int, *cums: np.ndarray) -> tuple[np.ndarray, ...]:
    if ends is None:
        return (np.arange(1, n + 1, dtype=_F), *cums)
    return (ends + 1, *(c[ends] for c in cums))


def _sorted_sums(score_sorted: np.ndarray, y_sorted: np.ndarray, t_sorted: np.ndarray) -> _Sums:
    n = score_sorted.size
    n_t = np.cumsum(t_sorted, dtype=_F)
    y_t = np.multiply(y_sorted, t_sorted, dtype=_F)
    y_c = y_sorted - y_t  # each row's outcome in one of the two, exactly
    np.cumsum(y_t, out=y_t)
    np.cumsum(y_c, out=y_c)
    num_all, n_t, y_t, y_c = _at_ends(_block_ends(score_sorted), n, n_t, y_t, y_c)
    return _Sums(num_all, n_t, y_t, y_c)


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


class _Ranking:
    """Customers ranked once by descending score, with what every curve and uplift at k needs.

    A binary outcome takes the fast path: each customer is one of four cells (treatment x outcome);
    the scores of each cell are sorted on their own (values only, a vectorised sort) and the four
    sorted runs are merged by a stable sort that finds the runs; the cells and scores in rank order are
    then read chunk by chunk (:meth:`chunk`), and uplift at k by binary search in the runs. Any other
    outcome is ranked by ``argsort``.
    """

    def __init__(self, y: np.ndarray, s: np.ndarray, t: np.ndarray) -> None:
        self.y, self.s, self.t = y, s, t
        self.n = y.size
        self.binary = _is_binary(y)
        self.order: np.ndarray | None = None
        if self.binary:
            code = (t.astype(np.int8) << 1) | (y == 1).astype(np.int8)  # 0 c/no, 1 c/yes, 2 t/no, 3 t/yes
            self.code = code
            self.runs = np.empty(self.n)
            self.bounds = [0]
            for j in range(4):
                mask = code == j
                lo, hi = self.bounds[-1], self.bounds[-1] + int(np.count_nonzero(mask))
                np.compress(mask, s, out=self.runs[lo:hi])
                self.runs[lo:hi].sort()
                self.bounds.append(hi)
            self.merged = np.argsort(self.runs, kind="stable")  # a stable sort merges the sorted runs
        else:
            self.order = _descending(s)

    def _cells(self, m: np.ndarray) -> np.ndarray:
        cell = (m >= self.bounds[1]).astype(np.int8)
        cell += m >= self.bounds[2]
        cell += m >= self.bounds[3]
        return cell

    def chunk(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Ranks ``a`` to ``b - 1``: scores (and the next one, when there is one), then the cells
        (binary outcome) or the treatment flags and outcomes."""
        n, stop = self.n, min(self.n, b + 1)
        if self.binary:
            m = self.merged[n - stop:n - a][::-1]
            return self.runs[m], self._cells(m[:b - a]), None
        assert self.order is not None
        idx = self.order[a:stop]
        head = idx[:b - a]
        return self.s[idx], self.t[head], self.y[head]

    @property
    def s_sorted(self) -> np.ndarray:
        """Scores in rank order."""
        if self.binary:
            return self.runs[self.merged[::-1]]
        assert self.order is not None
        return self.s[self.order]

    def sums(self) -> _Sums:
        """Cumulative counts and sums at the end of each block of equal scores (the full curves)."""
        if not self.binary:
            assert self.order is not None
            return _sorted_sums(self.s_sorted, self.y[self.order], self.t[self.order])
        c = self._cells(self.merged[::-1])
        n_t = np.cumsum(c >= 2, dtype=_F)
        y_t = np.cumsum(c == 3, dtype=_F)
        y_c = np.cumsum(c == 1, dtype=_F)
        num_all, n_t, y_t, y_c = _at_ends(_block_ends(self.s_sorted), self.n, n_t, y_t, y_c)
        return _Sums(num_all, n_t, y_t, y_c)

    def uplift_at_top(self, size: int) -> float:
        """Uplift among the first ``size`` customers in scikit-uplift's order."""
        if size == 0:
            return float("nan")
        n, s = self.n, self.s
        if self.binary:
            cut = self.runs[self.merged[n - size]]
            inside = size < n and self.runs[self.merged[n - size - 1]] == cut
            runs = [self.runs[lo:hi] for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True)]
            # per cell, customers scored above the cut (inside a block) or at least the cut (at its end)
            side = "right" if inside else "left"
            cnt = np.array([r.size - np.searchsorted(r, cut, side=side) for r in runs])
            if inside:
                tied = np.flatnonzero(s == cut)[-(size - int(cnt.sum())):]
                cnt = cnt + np.bincount(self.code[tied], minlength=4)
            n_t, n_c = cnt[2] + cnt[3], cnt[0] + cnt[1]
            mean_t = float(cnt[3] / n_t) if n_t else float("nan")
            mean_c = float(cnt[1] / n_c) if n_c else float("nan")
            return mean_t - mean_c
        assert self.order is not None
        cut = s[self.order[size - 1]]
        inside = size < n and s[self.order[size]] == cut  # the cut falls inside a block of equal scores
        above = int(np.count_nonzero(s > cut)) if inside else size
        tied = np.flatnonzero(s == cut)[-(size - above):] if inside else np.empty(0, dtype=np.int64)
        top = np.concatenate((self.order[:above], tied))
        t_top, y_top = self.t[top], self.y[top]
        n_t = int(np.count_nonzero(t_top))
        n_c = t_top.size - n_t
        mean_t = float(y_top[t_top].sum() / n_t) if n_t else float("nan")
        mean_c = float(y_top[~t_top].sum() / n_c) if n_c else float("nan")
        return mean_t - mean_c


def _cells(y: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """Counts of the four treatment × outcome cells of a binary outcome."""
    y1 = y == 1
    return {"t1y1": float(np.count_nonzero(t & y1)), "t1y0": float(np.count_nonzero(t & ~y1)),
            "t0y1": float(np.count_nonzero(~t & y1)), "t0y0": float(np.count_nonzero(~t & ~y1))}


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


def _scan(r: _Ranking, grid: np.ndarray) -> _Scan:
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
            n_t = np.cumsum(c >= 2, dtype=_F)
            y_t = np.cumsum(c == 3, dtype=_F)
            y_c = np.cumsum(c == 1, dtype=_F)
        else:
            tt = c
            n_t = np.cumsum(tt, dtype=_F)
            y_t = yy * tt
            y_c = yy - y_t
            np.cumsum(y_t, out=y_t)
            np.cumsum(y_c, out=y_c)
        n_t += carry[0]
        y_t += carry[1]
        y_c += carry[2]
        carry[:] = n_t[-1], y_t[-1], y_c[-1]
        x = np.arange(a + 1, b + 1, dtype=_F)
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


def _qini_values(s: _Sums) -> np.ndarray:
    n_c = s.n_c
    out = np.zeros_like(s.n_t)
    np.divide(s.n_t, n_c, out=out, where=n_c != 0)
    out *= s.y_c
    np.subtract(s.y_t, out, out=out)
    return out


def _uplift_values(s: _Sums) -> np.ndarray:
    n_c = s.n_c
    rate_t = np.zeros_like(s.y_t)
    np.divide(s.y_t, s.n_t, out=rate_t, where=s.n_t != 0)
    rate_c = np.zeros_like(s.y_c)
    np.divide(s.y_c, n_c, out=rate_c, where=n_c != 0)
    rate_t -= rate_c
    rate_t *= s.num_all
    return rate_t


def _area(x: np.ndarray, v: np.ndarray) -> float:
    """Trapezoid area under ``(0, 0), (x[0], v[0]), ...``, summed like ``numpy.trapezoid``."""
    first = float(x[0]) * float(v[0]) / 2.0
    tail = v[1:] + v[:-1]
    if not (x.dtype == _F and x.size == x[-1] and x[0] == 1):  # not 1, 2, ..., n: widths differ
        tail *= np.diff(x)
    tail /= 2.0
    return first + float(tail.sum())


def _with_origin(x: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # scikit-uplift prepends (0, 0) unless the first point is already there; it never is (x >= 1)
    return np.concatenate(([0], x.astype(np.int64))), np.concatenate(([0.0], values))


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


def _qini_points(sums: _Sums) -> tuple[np.ndarray, np.ndarray]:
    return sums.num_all, _qini_values(sums)


def _uplift_points(sums: _Sums) -> tuple[np.ndarray, np.ndarray]:
    return sums.num_all, _uplift_values(sums)


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
    return _with_origin(*_qini_points(_Ranking(y, s, t).sums()))


def uplift_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve: ``(y_t / n_t - y_c / n_c) * n`` among the first customers (scikit-uplift's)."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _with_origin(*_uplift_points(_Ranking(y, s, t).sums()))


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
    return _with_origin(*_qini_points(_perfect_qini_sums(y, t, _is_binary(y))))


def perfect_uplift_curve(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """The best possible uplift curve (scikit-uplift's ``perfect_uplift_curve``)."""
    y, t = _outcome_treatment(y_true, treatment)
    return _with_origin(*_uplift_points(_perfect_uplift_sums(y, t, _is_binary(y))))


def _outcome_treatment(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=_F).ravel()
    y, _, t = check_arrays(y, np.zeros(y.size), treatment)
    return y, t


def _perfect_qini_points(
    y: np.ndarray, t: np.ndarray, negative_effect: bool
) -> tuple[np.ndarray, np.ndarray]:
    if negative_effect:
        return _qini_points(_perfect_qini_sums(y, t, _is_binary(y)))
    x, v = perfect_qini_curve(y, t, negative_effect=False)
    return x[1:], v[1:]


def qini_auc_score(y_true: Any, uplift: Any, treatment: Any, negative_effect: bool = True) -> float:
    """Qini coefficient: area between the Qini curve and the random line over that of the perfect curve.

    ``nan`` (or infinite) where scikit-uplift divides by zero (no effect to normalise by).
    """
    if not isinstance(negative_effect, bool):
        raise ParameterError("negative_effect", negative_effect, "True or False")
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _normalised(_scan(_Ranking(y, s, t), np.empty(0)).qini_area,
                       _perfect_qini_points(y, t, negative_effect))


def uplift_auc_score(y_true: Any, uplift: Any, treatment: Any) -> float:
    """Area between the uplift curve and the random line over that of the perfect uplift curve."""
    y, s, t = check_arrays(y_true, uplift, treatment)
    return _normalised(_scan(_Ranking(y, s, t), np.empty(0)).uplift_area,
                       _uplift_points(_perfect_uplift_sums(y, t, _is_binary(y))))


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
    return _Ranking(y, s, t).uplift_at_top(size)


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
    ranking = _Ranking(y, s, t)
    shares = np.linspace(0.0, 1.0, n_points)
    scan = _scan(ranking, shares * n)
    at_k = ranking.uplift_at_top(size)
    del ranking
    binary = _is_binary(y)
    qini_auc = _normalised(scan.qini_area, _perfect_qini_points(y, t, True))
    uplift_auc = _normalised(scan.uplift_area, _uplift_points(_perfect_uplift_sums(y, t, binary)))
    n_t = int(np.count_nonzero(t))
    return UpliftMetrics(
        n_rows=n, n_treatment=n_t, n_control=n - n_t, qini_auc=qini_auc, uplift_auc=uplift_auc,
        uplift_at_k=at_k, k=float(k),
        curve_share=tuple(float(x) for x in shares), curve_qini=tuple(float(x) for x in scan.qini_grid),
        curve_uplift=tuple(float(x) for x in scan.uplift_grid),
        curve_qini_random=tuple(float(x) for x in shares * scan.qini_end),
        curve_uplift_random=tuple(float(x) for x in shares * scan.uplift_end),
    )
