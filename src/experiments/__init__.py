"""Simulate and analyse remarketing and loyalty experiments.

Subpackages: :mod:`experiments.simulate` (synthetic customers whose true response is known),
:mod:`experiments.stats` (uplift tests on per-arm sufficient statistics), :mod:`experiments.charts`,
:mod:`experiments.render` (offline HTML reports) and :mod:`experiments.runs` (running studies).
``simulate`` and ``stats`` never import each other.
"""

from __future__ import annotations

from experiments.errors import DataError, ExperimentsError, FitError, ParameterError

__version__ = "0.1.0"
__all__ = ["DataError", "ExperimentsError", "FitError", "ParameterError", "__version__"]
