"""Journeys as flat arrays: channel codes of every touch, cut into paths, with conversions and nulls.

Two inputs give the same structure:

- touchpoint rows (:func:`journeys_from_touches`): one row per touch with a journey id, a time, a channel,
  the journey's conversion flag and, optionally, its conversion value (both constant within a journey);
  each journey is one path with ``conversions`` 0 or 1 and ``nulls = 1 - conversions``;
- aggregated paths (:func:`journeys_from_paths`): channels joined by a separator, with conversion and
  null counts per path, as the R package ChannelAttribution takes them.

Every model works on these arrays without a Python loop over touches or journeys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from experiments.errors import DataError

__all__ = ["Journeys", "journeys_from_lists", "journeys_from_paths", "journeys_from_touches"]


@dataclass(frozen=True, eq=False)
class Journeys:
    """Paths of channel codes with their outcomes.

    Attributes
    ----------
    channels
        Channel names, sorted; ``codes`` index this tuple.
    codes
        Channel code of every touch, path after path, in time order within a path.
    offsets
        Path ``i`` holds ``codes[offsets[i]:offsets[i + 1]]``; every path has at least one touch.
    conversions, nulls
        Per path: journeys that converted, journeys that did not (counts; 0/1 for touchpoint input).
    value
        Per path: total conversion value, or ``None``.
    times
        Per touch: days since an arbitrary origin (touchpoint input only), or ``None``.
    """

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray | None = None
    times: np.ndarray | None = None

    @property
    def n_paths(self) -> int:
        """Paths (journeys for touchpoint input, rows for path input)."""
        return int(self.offsets.size - 1)

    @property
    def n_touches(self) -> int:
        """Touches over all paths."""
        return int(self.codes.size)

    @property
    def n_journeys(self) -> float:
        """Journeys: conversions plus nulls over all paths."""
        return float(self.conversions.sum() + self.nulls.sum())

    @property
    def n_conversions(self) -> float:
        """Conversions over all paths."""
        return float(self.conversions.sum())

    @cached_property
    def lengths(self) -> np.ndarray:
        """Touches per path."""
        return np.diff(self.offsets)

    @cached_property
    def path_of_touch(self) -> np.ndarray:
        """Path index of every touch."""
        return np.repeat(np.arange(self.n_paths, dtype=np.int64), self.lengths)

    @cached_property
    def touch_conversions(self) -> np.ndarray:
        """The conversions of every touch's path."""
        return self.conversions[self.path_of_touch]

    @cached_property
    def touch_value(self) -> np.ndarray | None:
        """The conversion value of every touch's path (None without a value)."""
        return None if self.value is None else self.value[self.path_of_touch]

    @cached_property
    def position(self) -> np.ndarray:
        """Position of every touch in its path (0 = first)."""
        return np.arange(self.n_touches, dtype=np.int64) - self.offsets[:-1][self.path_of_touch]

    @cached_property
    def touch_length(self) -> np.ndarray:
        """The length of every touch's path."""
        return self.lengths[self.path_of_touch]

    def select(self, paths: np.ndarray) -> Journeys:
        """The journeys of the paths where the boolean array ``paths`` is true (same channels)."""
        keep = paths[self.path_of_touch]
        lengths = self.lengths[paths]
        return Journeys(
            channels=self.channels, codes=self.codes[keep],
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            conversions=self.conversions[paths], nulls=self.nulls[paths],
            value=None if self.value is None else self.value[paths],
            times=None if self.times is None else self.times[keep],
        )

    def path_text(self, i: int, sep: str = " > ") -> str:
        """Path ``i`` as readable text (for messages and tests)."""
        return sep.join(self.channels[c] for c in self.codes[self.offsets[i]:self.offsets[i + 1]])


def _check_columns(lf: pl.LazyFrame, names: dict[str, str | None]) -> dict[str, pl.DataType]:
    schema = lf.collect_schema()
    for option, column in names.items():
        if column is not None and column not in schema:
            shown = ", ".join(list(schema)[:20])
            raise DataError(f"{option} column {column!r} is not in the file; columns: {shown}")
    return dict(schema)


def _channel_codes(series: pl.Series, what: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Channel code of every touch and the sorted vocabulary of stripped names.

    Refuses missing or empty names. Enum columns are coded through their categories, without turning
    every touch into text.
    """
    missing = series.null_count()
    if missing:
        raise DataError(f"{what}: {missing:,} touches have no channel name")
    if isinstance(series.dtype, pl.Enum):
        physical = series.to_physical().to_numpy().astype(np.int64)
        categories = [str(c).strip() for c in series.dtype.categories.to_list()]
        counts = np.bincount(physical, minlength=len(categories))
        used = np.flatnonzero(counts)
        empty = int(sum(counts[i] for i in used if not categories[i]))
        if empty:
            raise DataError(f"{what}: {empty:,} touches have an empty channel name")
        channels = tuple(sorted({categories[i] for i in used}))
        remap = np.zeros(len(categories), dtype=np.int32)
        remap[used] = [channels.index(categories[i]) for i in used]
        return remap[physical], channels
    text = series.cast(pl.String).str.strip_chars()
    empty = int((text.str.len_bytes() == 0).sum())
    if empty:
        raise DataError(f"{what}: {empty:,} touches have an empty channel name")
    channels = tuple(sorted(text.unique().to_list()))
    return text.cast(pl.Enum(channels)).to_physical().to_numpy().astype(np.int32), channels


def _distinct_roles(roles: dict[str, str | None]) -> None:
    """Refuse one column given for two options (``--channel j --journey j``)."""
    seen: dict[str, str] = {}
    for option, column in roles.items():
        if column is None:
            continue
        if column in seen:
            raise DataError(f"column {column!r} is given as both {seen[column]} and {option}; each option "
                            "needs its own column")
        seen[column] = option


def _numeric(frame: pl.DataFrame, alias: str, option: str, column: str, *, nonnegative: bool,
             what: str = "counts") -> np.ndarray:
    """The values of ``frame[alias]`` (the file's ``column``, given as ``option``) as float64: numbers,
    none missing, all finite and, with ``nonnegative``, none negative."""
    series = frame[alias]
    if not (series.dtype.is_numeric() or series.dtype == pl.Boolean):
        raise DataError(f"{option} column {column!r} must be numeric; got {series.dtype}")
    missing = series.null_count()
    if missing:
        raise DataError(f"{option} column {column!r} has {missing:,} missing values")
    values = series.cast(pl.Float64).to_numpy()
    if not np.isfinite(values).all():
        raise DataError(f"{option} column {column!r} has values that are not finite numbers")
    if nonnegative and (values < 0).any():
        bad = values[values < 0][0]
        raise DataError(f"{option} column {column!r} has negative {what} (e.g. {bad:g}); {what} must be "
                        ">= 0")
    return values


#: Spellings of dates and times read from text (a CSV file has no date type).
_TIME_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                                  "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f")


def _days(series: pl.Series, column: str) -> pl.Series:
    """Touch times as float days: numbers as given (days), dates and datetimes since the epoch; text
    is read as dates or datetimes (``YYYY-MM-DD``, optionally with a time), every value or none."""
    dtype = series.dtype
    if dtype == pl.String:
        text = series.str.strip_chars()
        parsed = pl.select(pl.coalesce([
            text.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for fmt in _TIME_FORMATS
        ])).to_series()
        bad = text.filter(parsed.is_null() & text.is_not_null()).head(1).to_list()
        if bad:
            raise DataError(f"--time column {column!r}: cannot read {bad[0]!r} as a time; allowed: numbers "
                            "(days), dates (YYYY-MM-DD) or dates and times (YYYY-MM-DD HH:MM:SS)")
        return _days(parsed, column)
    if dtype == pl.Date:
        return series.cast(pl.Int32).cast(pl.Float64)
    if isinstance(dtype, pl.Datetime):
        return series.dt.epoch("us").cast(pl.Float64) / 86_400e6
    if dtype.is_numeric():
        return series.cast(pl.Float64)
    raise DataError(f"--time column {column!r} must hold numbers (days), dates or datetimes; got {dtype}")


def journeys_from_touches(
    data: pl.DataFrame | pl.LazyFrame,
    *,
    journey: str,
    time: str,
    channel: str,
    converted: str,
    value: str | None = None,
) -> Journeys:
    """Journeys from touchpoint rows (one row per touch).

    Rows are put in time order within each journey (ties keep the file's order), so an unsorted file
    gives the same journeys as a sorted one; a file already grouped and sorted is not re-sorted.
    Channel names are stripped of surrounding spaces. Numeric times are days; dates and datetimes are
    turned into days.

    Raises
    ------
    DataError
        One column given for two options; a missing column; a journey id, time or channel that is
        missing; a time that is not a number, date or datetime; an empty channel name; ``converted``
        not 0/1 or not constant within a journey; ``value`` missing, not finite, negative or not
        constant within a journey.
    """
    lf = data.lazy()
    roles = {"--journey": journey, "--time": time, "--channel": channel, "--converted": converted,
             "--value": value}
    _distinct_roles(roles)
    _check_columns(lf, roles)
    cols = [pl.col(journey).alias("journey"), pl.col(time).alias("time"),
            pl.col(channel).alias("channel"), pl.col(converted).alias("converted")]
    if value is not None:
        cols.append(pl.col(value).alias("value"))
    frame = lf.select(cols).collect()
    if frame.height == 0:
        raise DataError("the file has no touchpoint rows")
    frame = frame.with_columns(_days(frame["time"], time).alias("time"))
    missing = frame["journey"].null_count()
    if missing:
        raise DataError(f"--journey column {journey!r} has {missing:,} missing journey ids")
    missing = frame["time"].null_count()
    if missing:
        raise DataError(f"--time column {time!r} has {missing:,} missing times")
    if frame["time"].is_nan().any():
        raise DataError(f"--time column {time!r} has values that are not numbers")
    starts = frame["journey"] != frame["journey"].shift(1)
    runs = int(starts.fill_null(True).sum())
    grouped = runs == frame["journey"].n_unique()
    ordered = grouped and not bool(((~starts.fill_null(True)) & (frame["time"].diff() < 0)).any())
    if not ordered:
        frame = frame.sort(["journey", "time"], maintain_order=True)
        starts = frame["journey"] != frame["journey"].shift(1)
    first = np.flatnonzero(starts.fill_null(True).to_numpy())
    offsets = np.append(first, frame.height).astype(np.int64)
    codes, channels = _channel_codes(frame["channel"], f"--channel column {channel!r}")
    flags = _numeric(frame, "converted", "--converted", converted, nonnegative=True, what="flags")
    if not np.isin(flags, (0.0, 1.0)).all():
        bad = flags[~np.isin(flags, (0.0, 1.0))][0]
        raise DataError(f"--converted column {converted!r} must be 0/1 or true/false; got {bad:g}")
    path = np.repeat(np.arange(first.size), np.diff(offsets))
    per_path = flags[first]
    if (flags != per_path[path]).any():
        j = frame["journey"][int(np.flatnonzero(flags != per_path[path])[0])]
        raise DataError(f"--converted column {converted!r} is not constant within journey {j!r}")
    path_value = None
    if value is not None:
        values = _numeric(frame, "value", "--value", value, nonnegative=True, what="values")
        path_value = values[first]
        if (values != path_value[path]).any():
            j = frame["journey"][int(np.flatnonzero(values != path_value[path])[0])]
            raise DataError(f"--value column {value!r} is not constant within journey {j!r}")
        path_value = path_value * per_path
    return Journeys(
        channels=channels, codes=codes, offsets=offsets, conversions=per_path,
        nulls=1.0 - per_path, value=path_value, times=frame["time"].to_numpy(),
    )


def journeys_from_paths(
    data: pl.DataFrame | pl.LazyFrame,
    *,
    path: str,
    conversions: str,
    nulls: str,
    value: str | None = None,
    sep: str = ">",
) -> Journeys:
    """Journeys from aggregated paths: channels joined by ``sep`` with conversion and null counts.

    Spaces around channel names are ignored (``"a > b"`` is ``"a>b"``). ``value`` is the total
    conversion value of the path's journeys. Paths with zero conversions and zero nulls carry no weight.

    Raises
    ------
    DataError
        One column given for two options; a missing column; an empty path; an empty channel name in a
        path; missing, non-numeric, non-finite or negative counts; a missing, non-finite or negative
        value.
    """
    if not sep:
        raise DataError("--sep: got an empty separator; give the text between channels (e.g. >)")
    lf = data.lazy()
    roles = {"--path": path, "--conversions": conversions, "--nulls": nulls, "--value": value}
    _distinct_roles(roles)
    schema = _check_columns(lf, roles)
    if schema[path] not in (pl.String, pl.Categorical) and not isinstance(schema[path], pl.Enum):
        raise DataError(f"--path column {path!r} must hold text; got {schema[path]}")
    cols = [pl.col(path).cast(pl.String).alias("path"), pl.col(conversions).alias("conversions"),
            pl.col(nulls).alias("nulls")]
    if value is not None:
        cols.append(pl.col(value).alias("value"))
    frame = lf.select(cols).collect()
    if frame.height == 0:
        raise DataError("the file has no paths")
    text = frame["path"]
    blank = text.is_null() | (text.str.strip_chars().str.len_bytes() == 0)
    if blank.any():
        row = int(blank.arg_max() or 0)
        raise DataError(f"--path column {path!r}: row {row + 1} has an empty path")
    conv = _numeric(frame, "conversions", "--conversions", conversions, nonnegative=True)
    null = _numeric(frame, "nulls", "--nulls", nulls, nonnegative=True)
    path_value = (_numeric(frame, "value", "--value", value, nonnegative=True, what="values")
                  if value is not None else None)
    parts = text.str.split(sep)
    lengths = parts.list.len().to_numpy().astype(np.int64)
    flat = parts.explode()
    names = flat.str.strip_chars()
    empty = names.str.len_bytes() == 0
    if empty.any():
        row = int(np.searchsorted(np.cumsum(lengths), int(empty.arg_max() or 0), side="right"))
        raise DataError(f"--path column {path!r}: row {row + 1} ({text[row]!r}) has an empty channel name")
    codes, channels = _channel_codes(names, f"--path column {path!r}")
    return Journeys(
        channels=channels, codes=codes,
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64), conversions=conv, nulls=null,
        value=path_value,
    )


def journeys_from_lists(
    paths: Sequence[Sequence[str]],
    conversions: Sequence[float],
    nulls: Sequence[float] | None = None,
    *,
    value: Sequence[float] | None = None,
    times: Sequence[Sequence[float]] | None = None,
) -> Journeys:
    """Journeys from Python lists (small inputs, tests): ``paths[i]`` is a list of channel names.

    ``nulls`` defaults to ``max(0, 1 - conversions)`` (one journey per path for 0/1 conversions).
    """
    if not paths:
        raise DataError("no paths given")
    if any(len(p) == 0 for p in paths):
        raise DataError("a path has no touch")
    flat = [str(c).strip() for p in paths for c in p]
    if any(not c for c in flat):
        raise DataError("a path has an empty channel name")
    channels = tuple(sorted(set(flat)))
    index = {c: i for i, c in enumerate(channels)}
    conv = np.asarray(conversions, dtype=float)
    null = np.maximum(1.0 - conv, 0.0) if nulls is None else np.asarray(nulls, dtype=float)
    if (conv < 0).any() or (null < 0).any():
        raise DataError("negative counts")
    return Journeys(
        channels=channels, codes=np.array([index[c] for c in flat], dtype=np.int32),
        offsets=np.concatenate([[0], np.cumsum([len(p) for p in paths])]).astype(np.int64),
        conversions=conv, nulls=null, value=None if value is None else np.asarray(value, dtype=float),
        times=None if times is None else np.asarray([t for ts in times for t in ts], dtype=float),
    )
