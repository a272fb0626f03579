"""Report building blocks (verdict, tables) and rendering (papermill, nbconvert, index).

Notebooks call ``report.verdict``, ``report.table``, ``report.assumptions`` and ``report.fmt``; they are
imported on first use, so the runner, the index and the CLI can import ``experiments.report.<module>``
without IPython.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from experiments.formatting import fmt
    from experiments.report.display import assumptions, table, verdict

__all__ = ["assumptions", "fmt", "table", "verdict"]

_LAZY = {"assumptions": "experiments.report.display", "table": "experiments.report.display",
         "verdict": "experiments.report.display", "fmt": "experiments.formatting"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'experiments.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
