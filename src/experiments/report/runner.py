"""``experiments run``: execute a study's notebook with papermill and render its report.

Each run gets its own folder ``<reports_dir>/<study>/<run-id>/`` holding the executed notebook, the
HTML report (code hidden), ``params.json`` and ``run.json`` (parameters, seed, package versions, lock-file
hash, git revision, timing, headline). The run is built in a hidden staging folder and renamed into place
only when it succeeded, so a failed run leaves nothing behind and no run ever overwrites another; the
staging folders of runs that were killed are removed by the next run.

Parameters are validated once, by the scenario, in the notebook's validation cell; a bad value fails
that cell and comes back as one line. The verdict and headline figures come back in the executed
notebook itself (the run record its verdict cell displays).
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
from experiments.outputs import check_folder
from experiments.paths import NOTEBOOKS_DIR, PROJECT_ROOT, REPORTS_DIR

__all__ = ["RunFailed", "RunResult", "lock_hash", "package_versions", "read_record", "run_study"]

_PACKAGES = ("experiments", "numpy", "scipy", "polars", "statsmodels", "scikit-learn", "altair", "papermill",
             "nbconvert", "dask", "distributed")
#: Lock files whose hash each run records (what the README's commands install from).
LOCK_FILES: tuple[str, ...] = ("requirements/main.txt", "requirements/test.txt")
_STAGING = ".staging-"


class RunFailed(ExperimentsError):
    """The notebook raised while executing; nothing was written."""


@dataclass(frozen=True)
class RunResult:
    """Where a successful run landed, and what its verdict says."""

    study: str
    run_id: str
    run_dir: Path
    html: Path
    notebook: Path
    headline: str | None
    record: dict[str, Any]
    seconds: float


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


def _run_id(params: Mapping[str, Any]) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return f"{stamp[:15]}{stamp[21:]}-{stamp[15:21]}-{digest}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(reports_dir: Path) -> list[Path]:
    """Remove staging folders left by runs whose process no longer exists (killed runs)."""
    removed = []
    for folder in reports_dir.glob(f"*/{_STAGING}*"):
        try:
            pid = int(folder.name.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            pid = -1
        if pid != os.getpid() and (pid < 0 or not _alive(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def read_record(nb: Any) -> dict[str, Any]:
    """The run record an executed notebook's verdict cell displayed (empty when there is none)."""
    from experiments.studies.base import RECORD_MIME

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if RECORD_MIME in data:
                return dict(data[RECORD_MIME])
    return {}


def _failure(study: str, exc: Any) -> ExperimentsError:
    """One line for a notebook that raised: a bad parameter is a ParameterError, anything else RunFailed."""
    evalue = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
    if exc.ename in ("ParameterError", "DataError"):
        return ExperimentsError(evalue)
    return RunFailed(f"{study} failed in cell {exc.exec_count}: {exc.ename}: {evalue}")


def run_study(
    study: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    reports_dir: Path | str | None = None,
    kernel: str = "python3",
    progress: bool = False,
    verbose: bool = False,
    km: Any = None,
    sweep_id: str | None = None,
) -> RunResult:
    """Execute ``notebooks/<study>.ipynb`` with parameters and render its report.

    Parameters
    ----------
    study
        A study of the registry (e.g. ``"remarketing"``).
    overrides
        Parameter values replacing the defaults; validated once, by the notebook's validation cell.
    reports_dir
        Root of all reports (default ``reports/``); the index is ``<reports_dir>/index.html``.
    kernel
        Jupyter kernel name.
    progress
        Show papermill's progress bar.
    verbose
        Let the kernel's own stderr through.
    km
        A started kernel manager to run on (see :class:`~experiments.report.kernel.WarmKernels`); it is
        shut down afterwards. None starts a fresh kernel.
    sweep_id
        The sweep this run belongs to, recorded in ``run.json``.

    Raises
    ------
    ParameterError
        Unknown study or parameter name, or a bad value (nothing is created).
    RunFailed
        The notebook raised; the staging folder is removed and the index is unchanged.
    """
    import nbformat
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_core.utils import run_sync

    from experiments.report.index import write_index
    from experiments.report.kernel import QuietKernelManager
    from experiments.report.render import notebook_to_html
    from experiments.studies import registry
    from experiments.validation import reject_unknown

    spec = registry.get(study)
    overrides = dict(overrides or {})
    reject_unknown(overrides, spec.scenario.defaults)
    root = check_folder(reports_dir if reports_dir is not None else REPORTS_DIR, option="--reports-dir")
    started = time.time()
    study_dir = root / study
    created = [d for d in (root, study_dir) if not d.exists()]
    try:
        study_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError("reports-dir", str(root),
                             f"a folder that can be created ({exc.strerror})") from None
    clean_stale_staging(root)
    run_id = _run_id({"study": study, **overrides})
    staging = study_dir / f"{_STAGING}{run_id}-{os.getpid()}"
    staging.mkdir()
    QuietKernelManager.verbose = verbose
    try:
        executed = staging / f"{study}.ipynb"
        engine: dict[str, Any] = (
            {"km": km} if km is not None else {"kernel_manager_class": QuietKernelManager})
        try:
            pm.execute_notebook(
                str(PROJECT_ROOT / spec.notebook), str(executed), parameters=overrides, kernel_name=kernel,
                cwd=str(NOTEBOOKS_DIR), progress_bar=progress, log_output=False, **engine,
            )
        except pm.PapermillExecutionError as exc:
            raise _failure(study, exc) from None
        except NoSuchKernel:
            raise ParameterError("kernel", kernel, "an installed Jupyter kernel name, e.g. python3") from None
        finally:
            if km is not None:
                run_sync(km.shutdown_kernel)(now=True)
        nb = nbformat.read(str(executed), as_version=4)
        record = read_record(nb)
        params = record.get("parameters") or {**spec.scenario.defaults, **overrides}
        revision = git_revision()
        meta = {
            "study": study, "run_id": run_id,
            "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
            "seconds": 0.0, "params": params, "overrides": overrides, "changed": record.get("changed", {}),
            "seed": params.get("seed"), "git_revision": revision, "versions": package_versions(),
            "lock": lock_hash(), "sweep_id": sweep_id,
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "headline": {k: record.get(k) for k in ("headline", "tone", "details", "figures")},
            "question": spec.question,
        }
        (staging / "params.json").write_text(json.dumps(params, indent=2, default=str) + "\n")
        footer = f"Run {run_id} · seed {params.get('seed', 'n/a')} · revision {revision[:12]}"
        page = notebook_to_html(nb, title=f"{study.replace('_', ' ').title()} report", footer=footer)
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
    write_index(root)
    return RunResult(study, run_id, final, final / f"{study}.html", final / f"{study}.ipynb",
                     record.get("headline"), record, meta["seconds"])
