"""Report building blocks (verdict, tables) and rendering (papermill, nbconvert, index)."""

from __future__ import annotations

from experiments.report.display import RUN_DIR_ENV, assumptions, fmt, table, verdict

__all__ = ["RUN_DIR_ENV", "assumptions", "fmt", "table", "verdict"]
