"""Multiple-testing corrections of a family of effects (statsmodels ``multipletests``).

``holm`` controls the family-wise error rate (Holm–Bonferroni step-down); ``bh`` controls the false
discovery rate (Benjamini–Hochberg, independent or positively dependent tests). Effects without a
p-value (nan: nothing to test) are left out of the family and keep ``p_value_adjusted = nan``.
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
_STATSMODELS = {"holm": "holm", "bh": "fdr_bh"}


def adjust_pvalues(p_values: Sequence[float], method: Correction) -> list[float]:
    """Adjusted p-values (same order); nan entries stay nan and do not count in the family."""
    if method not in CORRECTIONS:
        raise ParameterError("correction", method, "one of " + ", ".join(CORRECTIONS))
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    ok = np.isfinite(p)
    if method != "none" and ok.any():
        from statsmodels.stats.multitest import multipletests

        out[ok] = multipletests(p[ok], method=_STATSMODELS[method])[1]
    return [float(v) for v in out]


def adjust(effects: Sequence[Effect], method: Correction) -> list[Effect]:
    """Copies of ``effects`` with ``p_value_adjusted`` filled by ``method`` over the whole family.

    ``method="none"`` copies the raw p-value. The order of ``effects`` is kept.
    """
    adjusted = adjust_pvalues([e.p_value for e in effects], method)
    return [e.with_adjusted(p) for e, p in zip(effects, adjusted, strict=True)]
