"""An experiment table (file, frame or lazy frame) as the numpy arrays the uplift code works on.

Only the needed columns are read; rows whose arm is neither the treatment nor the control label are
left out and counted. Every check raises one line (:class:`DataError` / :class:`ParameterError`):
one column in two roles (arm, outcome, score, features), unknown columns, equal labels, an absent label
(naming the labels present), a file without rows, an outcome that is not numeric or has missing or
non-finite values, a score with missing or non-finite values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from experiments.datasets import scan_table
from experiments.errors import DataError, ParameterError
from experiments.models.uplift.features import MAX_LEVELS, Design, design_matrix

__all__ = ["UpliftTable", "read_uplift_table"]

_T, _C, _ROW = "__uplift_t", "__uplift_c", "__uplift_row"
_SHOW = 20


@dataclass(frozen=True)
class UpliftTable:
    """Treatment and control rows of an experiment table as arrays.

    ``treatment`` is a boolean array; ``outcome`` keeps an integer column's type (int8 for booleans)
    and is float64 otherwise; ``score``, ``design`` and ``row`` (0-based row numbers in the source)
    are present when asked for.
    """

    outcome: np.ndarray
    treatment: np.ndarray
    score: np.ndarray | None
    design: Design | None
    n_left_out: int
    binary: bool
    row: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        """Rows of the two arms."""
        return int(self.outcome.size)

    @property
    def n_treatment(self) -> int:
        """Treated rows."""
        return int(np.count_nonzero(self.treatment))

    @property
    def n_control(self) -> int:
        """Control rows."""
        return self.n_rows - self.n_treatment


def _lazy(source: str | Path | pl.DataFrame | pl.LazyFrame, full_inference: bool = False) -> pl.LazyFrame:
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, pl.DataFrame):
        return source.lazy()

    return scan_table(source, infer_schema_length=None if full_inference else 10_000)


def _labels_present(lf: pl.LazyFrame, arm: str) -> str:
    values = (lf.select(pl.col(arm).cast(pl.String).unique()).collect().to_series()
              .drop_nulls().sort().to_list())
    shown = ", ".join(repr(v) for v in values[:_SHOW])
    more = f" and {len(values) - _SHOW} more" if len(values) > _SHOW else ""
    return shown + more if values else "none"


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean


def read_uplift_table(
    source: str | Path | pl.DataFrame | pl.LazyFrame,
    *,
    arm: str,
    treatment: str,
    control: str,
    outcome: str,
    score: str | None = None,
    features: Sequence[str] = (),
    max_levels: int = MAX_LEVELS,
    with_rows: bool = False,
) -> UpliftTable:
    """Read and check the columns of an uplift evaluation or fit.

    Parameters
    ----------
    source
        A CSV or parquet path (scanned lazily), or a polars frame.
    arm, treatment, control
        The arm column and the labels of the two arms compared (compared as text).
    outcome
        Numeric or boolean outcome column (0/1 for conversions, amounts for revenue).
    score
        Optional uplift score column (numeric, no missing values).
    features
        Optional feature columns (see :func:`experiments.models.uplift.features.design_matrix`).
    max_levels
        Most levels of a text feature.
    with_rows
        Also return each kept row's number in the source.
    """
    if str(treatment) == str(control):
        raise ParameterError("treatment", treatment, "a label different from the control label")
    features = list(features)
    roles: dict[str, str] = {}
    for option, column in [("--arm", arm), ("--outcome", outcome), ("--score", score),
                           *(("--feature", f) for f in features)]:
        if column is None:
            continue
        if column in roles:
            allowed = (f"a column other than the {roles[column]} column (each column has one role)"
                       if roles[column] != option else "each column once")
            raise ParameterError(option.lstrip("-"), column, allowed)
        roles[column] = option
    lf = _lazy(source)
    try:
        schema = lf.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"cannot read the table: {str(exc).strip().splitlines()[0]}") from None
    wanted = [arm, outcome, *([score] if score is not None else []), *features]
    unknown = [c for c in dict.fromkeys(wanted) if c not in schema]
    if unknown:
        names = list(schema)
        present = ", ".join(map(repr, names[:_SHOW])) + (f" and {len(names) - _SHOW} more"
                                                         if len(names) > _SHOW else "")
        raise DataError(f"unknown column(s) {', '.join(map(repr, unknown))}; columns present: {present}")
    if not _is_numeric(schema[outcome]) and lf.select(pl.len()).collect().item() == 0:
        raise DataError("the file has a header but no rows")
    if not _is_numeric(schema[outcome]):
        raise DataError(f"outcome column {outcome!r} is not numeric (type {schema[outcome]}); "
                        "give 0/1 conversions or amounts")
    if score is not None and not _is_numeric(schema[score]):
        raise DataError(f"score column {score!r} is not numeric (type {schema[score]})")
    label = pl.col(arm).cast(pl.String)
    keep = [c for c in dict.fromkeys([outcome, *([score] if score is not None else []), *features])]
    base = lf.with_row_index(_ROW) if with_rows else lf
    query = (base.select((label == str(treatment)).fill_null(False).alias(_T),
                         (label == str(control)).fill_null(False).alias(_C),
                         *[pl.col(c) for c in keep], *([pl.col(_ROW)] if with_rows else []))
             .filter(pl.col(_T) | pl.col(_C)))
    try:
        frame, total = pl.collect_all([query, lf.select(pl.len())])
    except pl.exceptions.ComputeError:
        if isinstance(source, pl.DataFrame | pl.LazyFrame):
            raise
        lf = _lazy(source, full_inference=True)  # a late value did not fit the type guessed from the top
        return read_uplift_table(lf, arm=arm, treatment=treatment, control=control, outcome=outcome,
                                 score=score, features=features, max_levels=max_levels, with_rows=with_rows)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"cannot read the table: {str(exc).strip().splitlines()[0]}") from None
    n_left_out = int(total.item()) - frame.height
    t = frame.get_column(_T).to_numpy()
    n_t = int(np.count_nonzero(t))
    for name, label_value, count in (("treatment", treatment, n_t), ("control", control, t.size - n_t)):
        if count == 0:
            raise DataError(f"{name} label {str(label_value)!r} not found in column {arm!r}; labels present: "
                            f"{_labels_present(lf, arm)}")
    y_col = frame.get_column(outcome)
    if y_col.dtype.is_integer() or y_col.dtype == pl.Boolean:
        bad = y_col.null_count()
        y = y_col.to_numpy() if not bad else np.empty(0)  # integers without nulls: no float copy
    else:
        y = y_col.cast(pl.Float64).to_numpy()
        bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise DataError(f"outcome column {outcome!r} has {bad:,} missing or non-finite values in the arms")
    s = None
    if score is not None:
        s = frame.get_column(score).cast(pl.Float64).to_numpy()
        bad = int(np.count_nonzero(~np.isfinite(s)))
        if bad:
            raise DataError(f"score column {score!r} has {bad:,} missing (NaN or empty) or infinite values; "
                            "every row needs a score")
    design = design_matrix(frame, features, max_levels=max_levels) if features else None
    binary = bool(np.all((y == 0) | (y == 1)))
    if y.dtype == bool:
        y = y.view(np.int8)
    row = frame.get_column(_ROW).to_numpy().astype(np.int64) if with_rows else None
    return UpliftTable(outcome=y, treatment=t, score=s, design=design, n_left_out=n_left_out, binary=binary,
                       row=row)
