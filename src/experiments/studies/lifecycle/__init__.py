"""The lifecycle study: its scenario, numbers, words and result; ``STUDY`` is what the registry lists."""

from __future__ import annotations

from experiments.studies.lifecycle.result import STUDY, run

__all__ = ["STUDY", "run"]
