"""Multiple-testing corrections of a family of effects, as statsmodels ``multipletests`` computes them.

``holm`` controls the family-wise error rate (Holm–Bonferroni step-down); ``bh`` controls the false
discovery rate (Benjamini–Hochberg, independent or positively dependent tests). Effects without a
p-value (nan: nothing to test) are left out of the family and keep ``p_value_adjusted = nan``.

Both are a sort and a running extreme, written out with statsmodels' operations (equal bit for bit,
``tests/test_stats_references.py``): importing statsmodels would cost a command most of its start-up,
and its ``multipletests(method="holm")`` calls ``gc.collect()`` on every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from experiments.errors import ParameterError
from experiments.stats.results import Effect

__all__ = ["CORRECTIONS", "Correction", "adjust", "adjust_pvalues"]

Correction = Literal["holm", "bh", "none"]
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "none")


def adjust_pvalues(p_values: Sequence[float], method: Correction) -> list[float]:
    """Adjusted p-values (same order); nan entries stay nan and do not count in the family."""
    if method not in CORRECTIONS:
        raise ParameterError("correction", method, "one of " + ", ".join(CORRECTIONS))
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    ok = np.isfinite(p)
    if method != "none" and ok.any():
        out[ok] = _holm(p[ok]) if method == "holm" else _bh(p[ok])
    return [float(v) for v in out]


def _holm(p: np.ndarray) -> np.ndarray:
    """statsmodels ``multipletests(p, method="holm")[1]``, the same operations."""
    order = np.argsort(p)
    n = p.size
    adjusted = np.maximum.accumulate(p[order] * np.arange(n, 0, -1))
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1)
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    """statsmodels ``multipletests(p, method="fdr_bh")[1]``, the same operations."""
    order = np.argsort(p)
    n = p.size
    raw = p[order] / (np.arange(1, n + 1) / float(n))
    adjusted = np.minimum.accumulate(raw[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1)
    return out


def adjust(effects: Sequence[Effect], method: Correction) -> list[Effect]:
    """Copies of ``effects`` with ``p_value_adjusted`` filled by ``method`` over the whole family.

    ``method="none"`` copies the raw p-value. The order of ``effects`` is kept.
    """
    adjusted = adjust_pvalues([e.p_value for e in effects], method)
    return [e.with_adjusted(p) for e, p in zip(effects, adjusted, strict=True)]
