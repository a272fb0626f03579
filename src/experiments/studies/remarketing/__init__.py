"""The remarketing study: its numbers, its words and its result; ``STUDY`` is what the registry lists."""

from __future__ import annotations

from experiments.studies.remarketing.result import STUDY, run

__all__ = ["STUDY", "run"]
