"""Loaders for the real experiment files shipped in ``data/real/`` (each verified by sha256).

- Hillstrom's MineThatData e-mail experiment (2008): 64,000 customers, three arms (``hillstrom.csv.gz``).
- The ASOS digital experiments dataset (Liu et al. 2021, CC BY 4.0): per-arm summary statistics look by look.

Sources, licences and checksums are in each folder's README.
"""

from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path

import polars as pl

from experiments import paths
from experiments.errors import DataError

__all__ = [
    "ASOS_COLUMNS",
    "ASOS_SHA256",
    "HILLSTROM_ARMS",
    "HILLSTROM_CSV_SHA256",
    "HILLSTROM_SHA256",
    "check_asos_format",
    "csv_header_names",
    "load_asos",
    "load_hillstrom",
    "scan_table",
    "sha256_of",
]

#: sha256 of the shipped ``hillstrom.csv.gz``.
HILLSTROM_SHA256 = "f9a270d0268d48a041e8e8134e8a27cc1dd69b4fda962def55de7b9081145bad"
#: sha256 of the published (uncompressed) CSV, accepted when a user passes that file instead.
HILLSTROM_CSV_SHA256 = "0e5893329d8b93cefecc571777672028290ab69865718020c78c7284f291aece"
#: Control first, as published.
HILLSTROM_ARMS: tuple[str, ...] = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
ASOS_SHA256 = "bdf88b27185d3f7e65912cbb421129a32ae347c2fb0d9442fe54d74266551524"
#: The ASOS table's columns and the kind of each: a user's own file in this format is read as well (checked
#: by its columns and types; the shipped file by its sha256).
ASOS_COLUMNS: dict[str, str] = {
    "experiment_id": "text", "variant_id": "integer", "metric_id": "integer", "time_since_start": "number",
    "count_c": "number", "count_t": "number", "mean_c": "number", "mean_t": "number",
    "variance_c": "number", "variance_t": "number",
}

_HILLSTROM_SCHEMA = {
    "recency": pl.Int64, "history_segment": pl.String, "history": pl.Float64, "mens": pl.Int64,
    "womens": pl.Int64, "zip_code": pl.String, "newbie": pl.Int64, "channel": pl.String,
    "segment": pl.String, "visit": pl.Int64, "conversion": pl.Int64, "spend": pl.Float64,
}


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, expected: str | tuple[str, ...], what: str) -> None:
    if not path.is_file():
        raise DataError(f"{what} not found at {path}")
    accepted = (expected,) if isinstance(expected, str) else expected
    got = sha256_of(path)
    if got not in accepted:
        raise DataError(f"{what} at {path} has sha256 {got}; expected {accepted[0]} (different or damaged)")


def load_hillstrom(path: str | Path | None = None) -> pl.DataFrame:
    """Hillstrom's e-mail experiment as a polars frame (64,000 rows), sha256-verified.

    Parameters
    ----------
    path
        The shipped ``hillstrom.csv.gz`` (default, :data:`experiments.paths.HILLSTROM_CSV`) or the
        published uncompressed CSV.
    """
    target = Path(path) if path is not None else paths.HILLSTROM_CSV
    _verify(target, (HILLSTROM_SHA256, HILLSTROM_CSV_SHA256), "Hillstrom file")
    return pl.read_csv(target, schema=_HILLSTROM_SCHEMA)


def _is_shipped(path: Path, shipped: Path) -> bool:
    try:
        return path.resolve() == shipped.resolve()
    except OSError:
        return False


def check_asos_format(path: str | Path) -> None:
    """Check that ``path`` is a parquet file in the ASOS table's format (:data:`ASOS_COLUMNS`).

    Raises
    ------
    DataError
        Not a readable parquet file, or the first column that is missing or of the wrong kind.
    """
    target = Path(path)
    if not target.is_file():
        raise DataError(f"no file at {str(target)!r}")
    try:
        schema = pl.scan_parquet(target).collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"not a readable parquet file ({why})") from None
    for name, kind in ASOS_COLUMNS.items():
        dtype = schema.get(name)
        if dtype is None:
            raise DataError(f"column {name!r} is missing (an ASOS-format file has "
                            + ", ".join(ASOS_COLUMNS) + ")")
        ok = (dtype == pl.String if kind == "text" else dtype.is_integer() if kind == "integer"
              else dtype.is_numeric())
        if not ok:
            raise DataError(f"column {name!r} is {dtype}, not {kind}")


def load_asos(path: str | Path | None = None) -> pl.DataFrame:
    """The ASOS digital experiments dataset (24,153 rows of per-arm summary statistics).

    The shipped file (``path`` None or that file) is verified by its sha256; any other file must be in the
    same format (:func:`check_asos_format`: the columns of :data:`ASOS_COLUMNS`, of their kinds).
    """
    target = Path(path) if path is not None else paths.ASOS_PARQUET
    if _is_shipped(target, paths.ASOS_PARQUET):
        _verify(target, ASOS_SHA256, "ASOS file")
    else:
        check_asos_format(target)
    return pl.read_parquet(target)


def _is_parquet(p: Path) -> bool:
    return p.suffix.lower() in {".parquet", ".pq"}


def scan_table(path: str | Path, *, infer_schema_length: int | None = 10_000) -> pl.LazyFrame:
    """A lazy scan of a CSV or parquet experiment file; a clear :class:`DataError` when unreadable.

    ``.parquet``/``.pq`` are scanned as parquet, anything else as CSV (gzip-compressed CSV included).
    A folder is scanned as one table made of its ``*.parquet`` parts; a glob pattern (``parts/*.parquet``)
    as one table made of the files it matches (all parquet, or all CSV).
    """
    p = Path(path)
    if not p.exists() and any(ch in str(path) for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(str(path)) if os.path.isfile(f))
        if not files:
            raise DataError(f"no file matches {str(path)!r}; give a CSV or parquet file, folder or pattern")
        kinds = {_is_parquet(f) for f in files}
        if len(kinds) > 1:
            raise DataError(f"{str(path)!r} matches both parquet and other files; match one kind")
        return _scan(files, str(path), "parquet" if kinds.pop() else "CSV", infer_schema_length)
    if not p.exists():
        raise DataError(f"file {str(p)!r} does not exist; give a CSV or parquet file")
    if p.is_dir():
        parts = sorted(f for f in p.glob("*") if f.is_file() and _is_parquet(f))
        if not parts:
            raise DataError(f"folder {str(p)!r} holds no .parquet file; give a CSV or parquet file, or a "
                            "folder of parquet parts")
        return _scan(parts, str(p), "parquet", infer_schema_length)
    if not p.is_file() or not os.access(p, os.R_OK):
        raise DataError(f"file {str(p)!r} is not a readable file; give a CSV or parquet file")
    return _scan([p], str(p), "parquet" if _is_parquet(p) else "CSV", infer_schema_length)


def csv_header_names(lf: pl.LazyFrame) -> pl.LazyFrame:
    """``lf`` with its CSV header names unescaped: polars keeps a quoted header's doubled quotes
    (``"a""b"`` is read as ``a""b``), while every data cell is read as ``a"b``."""
    names = lf.collect_schema().names()
    renames = {n: n.replace('""', '"') for n in names if '""' in n}
    return lf.rename(renames) if renames else lf


def _scan(files: list[Path], name: str, kind: str, infer_schema_length: int | None) -> pl.LazyFrame:
    source: Path | list[Path] = files[0] if len(files) == 1 else files
    try:
        if kind == "parquet":
            lf = pl.scan_parquet(source)
        else:
            lf = csv_header_names(pl.scan_csv(source, infer_schema_length=infer_schema_length))
        lf.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {name!r} as {kind}: {first}") from None
    return lf
