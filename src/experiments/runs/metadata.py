"""What a report run records about itself, read without running anything: versions, lock files, git
revision, the notebook's parameters, the study's question and the modules its notebook imports first.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import platform
import subprocess
from pathlib import Path

from experiments.paths import PROJECT_ROOT
from experiments.studies import registry
from experiments.studies.registry import STUDY_MODULES

__all__ = [
    "LOCK_FILES",
    "git_revision",
    "lock_hash",
    "package_versions",
    "study_modules",
    "study_question",
]

_PACKAGES = ("experiments", "numpy", "scipy", "polars", "statsmodels", "scikit-learn", "altair", "papermill",
             "nbconvert", "dask", "distributed")
#: Lock files whose hash each run records (what the README's commands install from).
LOCK_FILES: tuple[str, ...] = ("requirements/main.txt", "requirements/test.txt")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the numbers."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def lock_hash(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """sha256 of each lock file the environment was installed from (``missing`` when absent)."""
    out = {}
    for name in LOCK_FILES:
        try:
            out[name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
        except OSError:
            out[name] = "missing"
    return out


def git_revision(root: Path = PROJECT_ROOT) -> str:
    """``HEAD`` commit, with ``+dirty`` when the tree has changes; ``unknown`` outside git."""
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def study_question(study: str) -> str:
    """The study's question, from its declaration (which imports its scenario only)."""
    return registry.get(study).question


def study_modules(study: str) -> tuple[str, ...]:
    """The modules a study's notebook imports first (what its kernel can import while it starts)."""
    return ("experiments.render.display", "experiments.charts", STUDY_MODULES[study],
            f"{STUDY_MODULES[study]}.result")
