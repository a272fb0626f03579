"""Customers ranked once by descending score, and the checks of what is ranked.

:func:`check_arrays` validates an outcome, a score and a treatment flag; :class:`Ranking` sorts the
customers once (a binary outcome by four sorted runs merged, any other by ``argsort``) and gives what
every curve, area and uplift at k of :mod:`experiments.models.uplift.metrics` reads from that order:
the cumulative counts and outcome sums at the end of each block of equal scores (:class:`BlockSums`), the
ranked customers chunk by chunk, and the uplift among the first customers in scikit-uplift's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.errors import DataError

__all__ = ["check_arrays"]

FLOAT = np.float64


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
        y = np.asarray(y_raw, dtype=FLOAT)
    s = np.asarray(uplift, dtype=FLOAT).ravel()
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


def is_binary(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


@dataclass(frozen=True)
class BlockSums:
    """Cumulative counts and outcome sums at the end of each block of equal scores (descending)."""

    num_all: np.ndarray  # customers so far (int64, or float64 when every score differs)
    n_t: np.ndarray  # float64 treated so far
    y_t: np.ndarray  # float64 outcome sum of the treated so far
    y_c: np.ndarray  # float64 outcome sum of the controls so far

    @property
    def n_c(self) -> np.ndarray:
        return self.num_all - self.n_t


def descending_order(score: np.ndarray) -> np.ndarray:
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
        return (np.arange(1, n + 1, dtype=FLOAT), *cums)
    return (ends + 1, *(c[ends] for c in cums))


def _sorted_sums(score_sorted: np.ndarray, y_sorted: np.ndarray, t_sorted: np.ndarray) -> BlockSums:
    n = score_sorted.size
    n_t = np.cumsum(t_sorted, dtype=FLOAT)
    y_t = np.multiply(y_sorted, t_sorted, dtype=FLOAT)
    y_c = y_sorted - y_t  # each row's outcome in one of the two, exactly
    np.cumsum(y_t, out=y_t)
    np.cumsum(y_c, out=y_c)
    num_all, n_t, y_t, y_c = _at_ends(_block_ends(score_sorted), n, n_t, y_t, y_c)
    return BlockSums(num_all, n_t, y_t, y_c)


def score_sums(y: np.ndarray, score: np.ndarray, t: np.ndarray, order: np.ndarray | None = None) -> BlockSums:
    if order is None:
        order = descending_order(score)
    return _sorted_sums(score[order], y[order], t[order])


def group_sums(n_t: np.ndarray, n_c: np.ndarray, y_t: np.ndarray, y_c: np.ndarray) -> BlockSums:
    """Sums of groups of equal score given in descending score order; empty groups have no point."""
    keep = (n_t + n_c) > 0
    n_t, n_c, y_t, y_c = n_t[keep], n_c[keep], y_t[keep], y_c[keep]
    c_t, c_c = np.cumsum(n_t, dtype=FLOAT), np.cumsum(n_c, dtype=FLOAT)
    return BlockSums((c_t + c_c).astype(np.int64), c_t, np.cumsum(y_t, dtype=FLOAT),
                     np.cumsum(y_c, dtype=FLOAT))


class Ranking:
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
        self.binary = is_binary(y)
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
            self.order = descending_order(s)

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

    def sums(self) -> BlockSums:
        """Cumulative counts and sums at the end of each block of equal scores (the full curves)."""
        if not self.binary:
            assert self.order is not None
            return _sorted_sums(self.s_sorted, self.y[self.order], self.t[self.order])
        c = self._cells(self.merged[::-1])
        n_t = np.cumsum(c >= 2, dtype=FLOAT)
        y_t = np.cumsum(c == 3, dtype=FLOAT)
        y_c = np.cumsum(c == 1, dtype=FLOAT)
        num_all, n_t, y_t, y_c = _at_ends(_block_ends(self.s_sorted), self.n, n_t, y_t, y_c)
        return BlockSums(num_all, n_t, y_t, y_c)

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
