"""Every path of the project, anchored in one place."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ASOS_PARQUET",
    "DATA_DIR",
    "HILLSTROM_CSV",
    "NOTEBOOKS_DIR",
    "PROJECT_ROOT",
    "REAL_DATA_DIR",
    "REPORTS_DIR",
    "notebook_path",
]

_PACKAGE_DIR = Path(__file__).resolve().parent


def _find_root() -> Path:
    """Project root: the folder holding ``pyproject.toml`` above the package, else the cwd."""
    for parent in _PACKAGE_DIR.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "notebooks").is_dir():
            return parent
    return Path.cwd()


PROJECT_ROOT: Path = Path(os.environ.get("EXPERIMENTS_ROOT", _find_root()))
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
DATA_DIR: Path = PROJECT_ROOT / "data"
REPORTS_DIR: Path = Path(os.environ.get("EXPERIMENTS_REPORTS_DIR", PROJECT_ROOT / "reports"))
#: Real data sets shipped with the project (each folder has a README with source, licence and sha256).
REAL_DATA_DIR: Path = DATA_DIR / "real"
HILLSTROM_CSV: Path = REAL_DATA_DIR / "hillstrom" / "hillstrom.csv.gz"
ASOS_PARQUET: Path = REAL_DATA_DIR / "asos" / "asos_digital_experiments_dataset.parquet"


def notebook_path(study: str) -> Path:
    """Path of the notebook of ``study`` (e.g. ``"remarketing"``)."""
    return NOTEBOOKS_DIR / f"{study}.ipynb"
