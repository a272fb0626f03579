"""Report building blocks (verdict, tables) and rendering (papermill, nbconvert, index)."""

from __future__ import annotations

from experiments.formatting import fmt
from experiments.report.display import assumptions, table, verdict

__all__ = ["assumptions", "fmt", "table", "verdict"]
