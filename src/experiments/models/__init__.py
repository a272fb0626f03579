"""Customer-level models: lifetime value, survival, uplift learners and attribution.

Unlike :mod:`experiments.stats`, which works from per-arm sufficient statistics, these models need one
row per customer (or per touchpoint). They know nothing of how a table was made: they never import
:mod:`experiments.simulate`.
"""
