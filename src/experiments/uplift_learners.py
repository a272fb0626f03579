"""The uplift learners by name: the short names options and parameters take, and each learner's name in a
report's words (a leaf module: a scenario or the CLI reads the names without loading scikit-learn)."""

from __future__ import annotations

__all__ = ["LEARNERS", "LEARNER_NAMES"]

#: Short names of the uplift learners of :mod:`experiments.models.uplift.learners`.
LEARNERS: tuple[str, ...] = ("s", "t", "x", "transformed")
#: Each learner's name in a report's words.
LEARNER_NAMES: dict[str, str] = {"s": "S-learner", "t": "T-learner", "x": "X-learner",
                                 "transformed": "transformed outcome"}
