"""Results as plain, JSON-ready values: the one way a result becomes a dict (a leaf module)."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

__all__ = ["plain", "plain_fields"]


def plain(value: Any) -> Any:
    """A JSON-ready copy: floats that are not finite become ``None``, dicts, lists and tuples are copied
    item by item (tuples as lists), and a result with ``to_dict`` becomes its dict."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def plain_fields(result: Any) -> dict[str, Any]:
    """``{field: plain value}`` of a dataclass result, in field order."""
    return {f.name: plain(getattr(result, f.name)) for f in fields(result)}
