"""``experiments run``: execute a study's notebook with papermill and render its report.

Each run gets its own folder ``<reports_dir>/<study>/<run-id>/`` holding the executed notebook, the
HTML report (code hidden), ``params.json`` and ``run.json`` (seed, package versions, git revision,
timing, headline). The run is built in a hidden staging folder and renamed into place only when it
succeeded, so a failed run leaves nothing behind and no run ever overwrites another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata as md
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentsError, ParameterError
from experiments.paths import NOTEBOOKS_DIR, PROJECT_ROOT, REPORTS_DIR, notebook_path
from experiments.report.display import RUN_DIR_ENV
from experiments.report.index import write_index
from experiments.report.studies import available_studies, validate_params

__all__ = ["RunFailed", "RunResult", "package_versions", "run_study"]

_PACKAGES = ("experiments", "numpy", "scipy", "polars", "statsmodels", "altair", "papermill", "nbconvert")


class RunFailed(ExperimentsError):
    """The notebook raised while executing; nothing was written."""


@dataclass(frozen=True)
class RunResult:
    """Where a successful run landed."""

    study: str
    run_id: str
    run_dir: Path
    html: Path
    notebook: Path
    headline: str | None


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the numbers."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
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


def _run_id(params: Mapping[str, Any]) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return f"{stamp[:15]}{stamp[21:]}-{stamp[15:21]}-{digest}"


def run_study(
    study: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    reports_dir: Path | str | None = None,
    kernel: str = "python3",
    progress: bool = False,
) -> RunResult:
    """Execute ``notebooks/<study>.ipynb`` with parameters and render its report.

    Parameters
    ----------
    study
        Name of a notebook in ``notebooks/`` (e.g. ``"remarketing"``).
    overrides
        Parameter values replacing the notebook's defaults; validated before anything runs.
    reports_dir
        Root of all reports (default ``reports/``); the index is ``<reports_dir>/index.html``.
    kernel
        Jupyter kernel name.
    progress
        Show papermill's progress bar.

    Raises
    ------
    ParameterError
        Unknown study, unknown parameter or bad value (nothing is created).
    RunFailed
        The notebook raised; the staging folder is removed and the index is unchanged.
    """
    import papermill as pm

    from experiments.report.render import notebook_to_html

    studies = available_studies()
    if study not in studies:
        raise ParameterError("study", study, "one of " + ", ".join(studies))
    overrides = dict(overrides or {})
    source = notebook_path(study)
    params = validate_params(study, source, overrides)

    root = Path(reports_dir) if reports_dir is not None else REPORTS_DIR
    if root.exists() and not root.is_dir():
        raise ParameterError("reports-dir", str(root), "a folder (or a path where one can be made)")
    study_dir = root / study
    created = [d for d in (root, study_dir) if not d.exists()]
    study_dir.mkdir(parents=True, exist_ok=True)
    run_id = _run_id(params)
    staging = study_dir / f".staging-{run_id}"
    staging.mkdir()
    started = time.time()
    previous = os.environ.get(RUN_DIR_ENV)
    os.environ[RUN_DIR_ENV] = str(staging)
    try:
        executed = staging / f"{study}.ipynb"
        try:
            pm.execute_notebook(
                str(source), str(executed), parameters=overrides, kernel_name=kernel,
                cwd=str(NOTEBOOKS_DIR), progress_bar=progress, log_output=False,
            )
        except pm.PapermillExecutionError as exc:
            raise RunFailed(f"{study} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}") from None
        headline_file = staging / "headline.json"
        headline = json.loads(headline_file.read_text()) if headline_file.exists() else {}
        revision = git_revision()
        meta = {
            "study": study, "run_id": run_id,
            "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(time.time() - started, 2), "params": params, "overrides": overrides,
            "seed": params.get("seed"), "git_revision": revision, "versions": package_versions(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "headline": headline,
        }
        (staging / "params.json").write_text(json.dumps(params, indent=2, default=str) + "\n")
        footer = f"Run {run_id} · seed {params.get('seed', 'n/a')} · revision {revision[:12]}"
        page = notebook_to_html(executed, title=f"{study.replace('_', ' ').title()} report", footer=footer)
        (staging / f"{study}.html").write_text(page, encoding="utf-8")
        meta["seconds"] = round(time.time() - started, 2)
        (staging / "run.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        final = study_dir / run_id
        staging.rename(final)  # fails rather than overwrite: run ids are unique per microsecond
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):  # leave no empty folder made by this run
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    finally:
        if previous is None:
            os.environ.pop(RUN_DIR_ENV, None)
        else:
            os.environ[RUN_DIR_ENV] = previous
    write_index(root)
    return RunResult(study, run_id, final, final / f"{study}.html", final / f"{study}.ipynb",
                     headline.get("headline"))
