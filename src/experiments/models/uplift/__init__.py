"""Uplift models and their evaluation: whom to treat, judged on a randomised experiment.

- :mod:`~experiments.models.uplift.metrics`: Qini and uplift curves, their areas and uplift at k, with
  scikit-uplift 0.5's definitions, from one sort (numpy only; the sort in
  :mod:`~experiments.models.uplift.ranking`, the curves in :mod:`~experiments.models.uplift.curves`).
- :mod:`~experiments.models.uplift.evaluation`: Qini against random with a bootstrap interval, uplift
  by bin with Welch intervals, policy value and profit curve by inverse-propensity weighting.
- :mod:`~experiments.models.uplift.learners`: S-, T-, X-learners, class transformation and
  transformed outcome on scikit-learn estimators (fitted by :mod:`~experiments.models.uplift.fitting`);
  cross-fitting (:mod:`~experiments.models.uplift.cross_fitting`).
- :mod:`~experiments.models.uplift.features`, :mod:`~experiments.models.uplift.data`: polars tables
  to numpy arrays, with the checks.
- :mod:`~experiments.models.uplift.analysis`: learners cross-fitted and evaluated on a table.

Names are imported on first use, so ``import experiments.models.uplift`` loads neither
scikit-learn nor statsmodels.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "metrics": ("perfect_qini_curve", "perfect_uplift_curve", "qini_auc_score", "qini_curve", "uplift_at_k",
                "uplift_auc_score", "uplift_curve", "uplift_metrics"),
    "evaluation": ("compare_policies", "policy_value", "profit_curve", "qini_vs_random", "uplift_by_bin"),
    "learners": ("ClassTransformation", "CrossFit", "SLearner", "TLearner", "TransformedOutcome", "XLearner",
                 "cross_fit", "make_learner", "response_scores"),
    "results": ("LearnerComparison", "LearnerEvaluation", "PolicyComparison", "PolicyValue", "ProfitCurve",
                "QiniResult", "UpliftByBin", "UpliftMetrics"),
    "features": ("design_matrix",),
    "data": ("UpliftTable", "read_uplift_table"),
    "analysis": ("compare_learners", "evaluate_scores"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}
__all__ = sorted(_MODULE)


def __getattr__(name: str) -> Any:
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
