"""Feature columns of a polars frame as one float64 matrix for scikit-learn.

Numbers become float64 (missing values become ``nan``, which histogram gradient boosting handles);
booleans 0/1; text (string, categorical, enum) is one-hot encoded, one column per level (a missing
value is a level of its own). Text with more than ``max_levels`` levels is refused with one line:
thousands of one-hot columns would swamp memory and the learners, and an identifier-like column
(customer id, e-mail) carries no transferable signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from experiments.errors import DataError, ParameterError

__all__ = ["MAX_LEVELS", "Design", "Encoding", "design_matrix"]

#: Most levels a text feature may have to be one-hot encoded.
MAX_LEVELS = 64
_NULL = "(missing)"


@dataclass(frozen=True)
class Encoding:
    """How one feature column became matrix columns."""

    column: str
    kind: Literal["number", "boolean", "one-hot"]
    n_columns: int
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Design:
    """The feature matrix, its column names and each feature's encoding."""

    X: np.ndarray
    names: tuple[str, ...]
    encodings: tuple[Encoding, ...]


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def design_matrix(
    frame: pl.DataFrame, features: Sequence[str], *, max_levels: int = MAX_LEVELS
) -> Design:
    """The float64 matrix (rows x encoded columns) of ``features``.

    Parameters
    ----------
    frame
        One row per customer.
    features
        Column names; numeric, boolean or text.
    max_levels
        Text features with more levels than this are refused.

    Raises
    ------
    DataError
        A column is missing, has another type, or is text with too many levels.
    """
    if isinstance(max_levels, bool) or not (isinstance(max_levels, int) and max_levels >= 2):
        raise ParameterError("max_levels", max_levels, "an integer >= 2")
    features = list(features)
    if not features:
        raise ParameterError("features", features, "at least one feature column")
    if len(set(features)) != len(features):
        raise ParameterError("features", features, "distinct column names")
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise DataError(f"unknown feature column(s) {', '.join(map(repr, missing))}")
    blocks: list[np.ndarray] = []
    names: list[str] = []
    encodings: list[Encoding] = []
    for col in features:
        series = frame.get_column(col)
        dtype = series.dtype
        if dtype == pl.Boolean:
            blocks.append(series.cast(pl.Float64).fill_null(float("nan")).to_numpy().reshape(-1, 1))
            names.append(col)
            encodings.append(Encoding(col, "boolean", 1))
        elif dtype.is_numeric():
            values = series.cast(pl.Float64).fill_null(float("nan")).to_numpy().reshape(-1, 1)
            if np.isinf(values).any():
                raise DataError(f"feature {col!r} has infinite values")
            blocks.append(values)
            names.append(col)
            encodings.append(Encoding(col, "number", 1))
        elif _is_text(dtype):
            text = series.cast(pl.String).fill_null(_NULL)
            n_levels = text.n_unique()
            if n_levels > max_levels:
                raise DataError(
                    f"feature {col!r} is text with {n_levels:,} levels (more than {max_levels}); refused: "
                    f"group its rare levels or give a numeric column instead")
            levels = text.unique().sort().to_list()
            codes = text.cast(pl.Enum(levels)).to_physical().to_numpy()
            blocks.append((codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float64))
            names.extend(f"{col}={level}" for level in levels)
            encodings.append(Encoding(col, "one-hot", len(levels), tuple(levels)))
        else:
            raise DataError(f"feature {col!r} has type {dtype}; give a numeric, boolean or text column")
    X = np.hstack(blocks) if len(blocks) > 1 else blocks[0]
    return Design(X=np.ascontiguousarray(X, dtype=np.float64), names=tuple(names),
                  encodings=tuple(encodings))
