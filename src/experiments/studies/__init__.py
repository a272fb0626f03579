"""Study orchestration: what each notebook computes, as tested package code.

A study module joins a simulator's table (with its truth) to the statistics and turns the results into
the verdict, tables and charts a report shows. It may import both :mod:`experiments.simulate` and
:mod:`experiments.stats`; those two never import each other.
"""
