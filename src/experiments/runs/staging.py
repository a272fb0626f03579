"""Staging folders of report runs and sweeps, and the clean-up of what killed runs left behind.

A run or sweep is built in ``<folder>/.staging-<id>-<pid>`` and renamed into place when it succeeded;
index files are written to ``<name><pid>.part`` first. A name whose process no longer exists is stale
(:func:`clean_stale_staging` removes them); :func:`process_alive` is the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from experiments.runs.index_file import INDEX_TEMP
from experiments.runs.run_registry import SWEEPS_DIR

__all__ = ["STAGING", "clean_stale_staging", "process_alive"]

#: Prefix of the staging folder of a run or a sweep.
STAGING = ".staging-"


def process_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (one that belongs to another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(name: str) -> bool:
    """Whether a staging or temporary name ending in ``-<pid>`` or ``.<pid>.part`` is a dead process's."""
    stem = name[:-5] if name.endswith(".part") else name
    try:
        pid = int(stem.replace(".", "-").rsplit("-", 1)[1])
    except (IndexError, ValueError):
        pid = -1
    return pid != os.getpid() and (pid < 0 or not process_alive(pid))


def clean_stale_staging(reports_dir: Path) -> list[Path]:
    """Remove what runs that were killed left: staging folders of runs and sweeps, and half-written index
    files, whose process no longer exists."""
    removed = []
    candidates = [*reports_dir.glob(f"*/{STAGING}*"), *reports_dir.glob(f"*/{SWEEPS_DIR}/{STAGING}*")]
    for folder in candidates:
        if _stale(folder.name):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for part in reports_dir.glob(f"{INDEX_TEMP}*.part"):
        if _stale(part.name):
            with contextlib.suppress(OSError):
                part.unlink()
                removed.append(part)
    return removed
