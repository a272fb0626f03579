"""Progress bars for long commands: on a terminal only, never in CI logs or when output is piped."""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from tqdm import tqdm

__all__ = ["bar", "wanted"]


def wanted(stream: IO[str] | None = None) -> bool:
    """Whether to draw a progress bar on ``stream`` (standard error by default): it is a terminal and the
    environment is not CI (``CI`` unset or false)."""
    stream = sys.stderr if stream is None else stream
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def bar(total: int, desc: str, *, enabled: bool | None = None, unit: str = "run") -> Any:
    """A tqdm bar on standard error, disabled (draws nothing) unless :func:`wanted` or ``enabled``."""
    on = wanted() if enabled is None else enabled
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not on, dynamic_ncols=True,
                leave=False)
