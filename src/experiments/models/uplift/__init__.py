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

Import from the module itself (the package re-exports nothing, so ``experiments.models.uplift.metrics``
loads neither scikit-learn nor statsmodels).
"""
