"""Writing ``<reports_dir>/index.html`` from the run registry.

The index is rebuilt from the run registry (:mod:`experiments.runs.run_registry`), synced with the
run folders first, so it always matches what is on disk (a failed run, which leaves no folder, never
appears; a folder deleted by hand drops out) and is written atomically; :mod:`experiments.render.index`
draws it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from experiments.render.index import render_index
from experiments.runs.run_registry import RunRegistry

__all__ = ["INDEX_TEMP", "collect_runs", "collect_sweeps", "write_index"]

#: Prefix of the temporary file the index is written to before it replaces ``index.html``; the suffix
#: is the writer's process id, so the next run can remove what a killed writer left.
INDEX_TEMP = ".index.html."


def collect_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """``run.json`` of every run under ``reports_dir``, newest first, with ``html`` relative to it.

    Read from the run registry after syncing it with the run folders.
    """
    registry = RunRegistry(reports_dir)
    registry.sync()
    return registry.runs()


def collect_sweeps(reports_dir: Path) -> list[dict[str, Any]]:
    """``sweep.json`` of every sweep under ``reports_dir``, newest first, with ``html`` relative to it."""
    return RunRegistry(reports_dir).sweeps()


def write_index(reports_dir: Path) -> Path:
    """(Re)write ``reports_dir/index.html`` atomically from the run registry and return its path."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    page = render_index(collect_runs(reports_dir), sweeps=collect_sweeps(reports_dir))
    target = reports_dir / "index.html"
    tmp = reports_dir / f"{INDEX_TEMP}{os.getpid()}.part"
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
