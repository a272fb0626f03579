"""Attribution models: rule-based heuristics, Markov removal effects and Shapley values.

Journeys are flat arrays of channel codes cut into paths (:mod:`.journeys`); every model is vectorised over
touches or distinct channel sets, with no Python loop over journeys or touches, and the credits of a
model sum to the number of conversions.
"""

from __future__ import annotations

from experiments.models.attribution.heuristics import (
    DEFAULT_HALF_LIFE,
    HEURISTICS,
    heuristic_credit,
    touch_weights,
)
from experiments.models.attribution.journeys import (
    Journeys,
    journeys_from_lists,
    journeys_from_paths,
    journeys_from_touches,
)
from experiments.models.attribution.markov import MAX_ORDER, MarkovResult, markov_attribution
from experiments.models.attribution.result import MODELS, AttributionResult, attribute, available_models
from experiments.models.attribution.shapley import (
    MAX_SHAPLEY_CHANNELS,
    TooManyChannelsError,
    shapley_attribution,
)

__all__ = [
    "DEFAULT_HALF_LIFE",
    "HEURISTICS",
    "MAX_ORDER",
    "MAX_SHAPLEY_CHANNELS",
    "MODELS",
    "AttributionResult",
    "Journeys",
    "MarkovResult",
    "TooManyChannelsError",
    "attribute",
    "available_models",
    "heuristic_credit",
    "journeys_from_lists",
    "journeys_from_paths",
    "journeys_from_touches",
    "markov_attribution",
    "shapley_attribution",
    "touch_weights",
]
