"""Loaders for the real experiment files (kept outside the project, never copied into it).

- Hillstrom's MineThatData e-mail experiment (2008): 64,000 customers, three arms.
- The ASOS digital experiments dataset (Liu et al. 2021): per-arm summary statistics look by look.

Both are verified against their published sha256 before use.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import polars as pl

from experiments import paths
from experiments.errors import DataError

__all__ = [
    "ASOS_SHA256",
    "HILLSTROM_ARMS",
    "HILLSTROM_SHA256",
    "HILLSTROM_URL",
    "load_asos",
    "load_hillstrom",
    "scan_table",
    "sha256_of",
]

HILLSTROM_SHA256 = "0e5893329d8b93cefecc571777672028290ab69865718020c78c7284f291aece"
HILLSTROM_URL = (
    "http://www.minethatdata.com/Kevin_Hillstrom_MineThatData_E-MailAnalytics_DataMiningChallenge_2008.03.20.csv"
)
#: Control first, as published.
HILLSTROM_ARMS: tuple[str, ...] = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
ASOS_SHA256 = "bdf88b27185d3f7e65912cbb421129a32ae347c2fb0d9442fe54d74266551524"

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


def _verify(path: Path, expected: str, what: str) -> None:
    if not path.is_file():
        raise DataError(f"{what} not found at {path}")
    got = sha256_of(path)
    if got != expected:
        raise DataError(f"{what} at {path} has sha256 {got}; expected {expected} (different or damaged)")


def _download(url: str, target: Path, expected: str, timeout: float = 30.0) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        got = sha256_of(tmp)
        if got != expected:
            raise DataError(f"download from {url} has sha256 {got}; expected {expected}")
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataError(f"could not download {url} ({exc}); get the file by hand and pass its path") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_hillstrom(path: str | Path | None = None, *, download: bool = False) -> pl.DataFrame:
    """Hillstrom's e-mail experiment as a polars frame (64,000 rows), sha256-verified.

    Parameters
    ----------
    path
        CSV file (default :data:`experiments.paths.HILLSTROM_CSV`, the shared copy).
    download
        When the file is absent, fetch it from the publisher into ``data/`` (atomic write, sha256
        checked); raises :class:`DataError` when the network does not allow it.
    """
    target = Path(path) if path is not None else paths.HILLSTROM_CSV
    if not target.is_file() and download:
        target = Path(path) if path is not None else paths.DATA_DIR / "hillstrom.csv"
        if not target.is_file():
            _download(HILLSTROM_URL, target, HILLSTROM_SHA256)
    _verify(target, HILLSTROM_SHA256, "Hillstrom file")
    return pl.read_csv(target, schema=_HILLSTROM_SCHEMA)


def load_asos(path: str | Path | None = None) -> pl.DataFrame:
    """The ASOS digital experiments dataset (24,153 rows of per-arm summary statistics), sha256-verified."""
    target = Path(path) if path is not None else paths.ASOS_PARQUET
    _verify(target, ASOS_SHA256, "ASOS file")
    return pl.read_parquet(target)


def scan_table(path: str | Path, *, infer_schema_length: int | None = 10_000) -> pl.LazyFrame:
    """A lazy scan of a CSV or parquet experiment file; a clear :class:`DataError` when unreadable.

    ``.parquet``/``.pq`` are scanned as parquet, anything else as CSV.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"file {str(p)!r} does not exist; give a CSV or parquet file")
    if not p.is_file() or not os.access(p, os.R_OK):
        raise DataError(f"file {str(p)!r} is not a readable file; give a CSV or parquet file")
    kind = "parquet" if p.suffix.lower() in {".parquet", ".pq"} else "CSV"
    try:
        if kind == "parquet":
            lf = pl.scan_parquet(p)
        else:
            lf = pl.scan_csv(p, infer_schema_length=infer_schema_length)
        lf.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {str(p)!r} as {kind}: {first}") from None
    return lf
