"""``experiments run``: execute a study's notebook with papermill and render its report.

Each run gets its own folder ``<reports_dir>/<study>/<run-id>/`` holding the executed notebook, the
HTML report (code hidden), ``params.json`` and ``run.json`` (parameters, seed, package versions, lock-file
hash, git revision, timing, headline). The run is built in a hidden staging folder and renamed into place
only when it succeeded, then recorded in the run registry, so a failed or interrupted run leaves nothing
behind and no run ever overwrites another; the staging folders of runs that were killed are removed by
the next run.

Parameters are validated once, by the scenario, in the notebook's validation cell; a bad value fails
that cell and comes back as one line. Parameter *names* are checked before the kernel starts, against
the scenario's declaration (its light module, without the numerical stack). The verdict and headline
figures come back in the executed notebook itself (the run record its verdict cell displays).

Where the time goes, and what overlaps: the kernel is launched first, with the study's modules to import
while it starts; meanwhile this process imports papermill, builds the HTML exporter and gathers the
run's metadata (git revision, package versions) in a background thread. The notebook is saved once, at
the end, not after every cell, and the executed notebook papermill returns is used as is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentsError, ParameterError
from experiments.outputs import check_folder
from experiments.paths import NOTEBOOKS_DIR, REPORTS_DIR
from experiments.runs.index_file import write_index
from experiments.runs.kernels import clean_stale_kernel_folders, shutdown, start_kernel
from experiments.runs.metadata import (
    git_revision,
    lock_hash,
    package_versions,
    study_modules,
    study_question,
)
from experiments.runs.run_registry import RunRegistry
from experiments.runs.staging import STAGING, clean_stale_staging
from experiments.studies import registry
from experiments.studies.base import RECORD_MIME
from experiments.validation import reject_unknown

__all__ = [
    "RunFailed",
    "RunResult",
    "clean_stale_staging",
    "lock_hash",
    "package_versions",
    "read_record",
    "run_study",
    "study_modules",
    "study_question",
]


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
    phases: dict[str, float] = field(default_factory=dict)


def _run_id(params: Mapping[str, Any]) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return f"{stamp[:15]}{stamp[21:]}-{stamp[15:21]}-{digest}"


def read_record(nb: Any) -> dict[str, Any]:
    """The run record an executed notebook's verdict cell displayed (empty when there is none)."""
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


class _Background:
    """One function run in a daemon thread meanwhile (while the kernel executes, or stops); :meth:`result`
    joins it."""

    def __init__(self, fn: Callable[[], dict[str, Any]]) -> None:
        self._out: dict[str, Any] = {}
        self._error: BaseException | None = None

        def target() -> None:
            try:
                self._out = fn()
            except BaseException as exc:  # handed to the caller in result()
                self._error = exc

        self._thread = threading.Thread(target=target, name="experiments-run-prepare", daemon=True)
        self._thread.start()

    def result(self) -> dict[str, Any]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._out


def _stop(km: Any) -> dict[str, Any]:
    shutdown(km)
    return {}


def _prepare(study: str) -> dict[str, Any]:
    """What the run needs besides the executed notebook: the HTML exporter ready, and the metadata."""
    # imported while the kernel starts, so that the import overlaps its start (module docstring)
    from experiments.render import notebook_html as render

    render.warm()
    return {"revision": git_revision(), "versions": package_versions(), "lock": lock_hash(),
            "question": study_question(study)}


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """Hold off Ctrl-C while cleaning up, so a second Ctrl-C cannot leave half the cleanup undone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _cell_times(nb: Any) -> tuple[float | None, float | None]:
    """Start of the first cell and end of the last, as epoch seconds, from papermill's cell metadata."""
    def stamp(text: Any) -> float | None:
        try:
            return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None

    starts = [c.metadata.get("papermill", {}).get("start_time") for c in nb.cells]
    ends = [c.metadata.get("papermill", {}).get("end_time") for c in nb.cells]
    first = next((stamp(s) for s in starts if s), None)
    last = next((stamp(e) for e in reversed(ends) if e), None)
    return first, last


def _record(root: Path, meta: Mapping[str, Any], index: bool) -> None:
    """Record a run whose folder is in place in the registry, and rewrite the index."""
    RunRegistry(root).add_run(meta)
    if index:
        write_index(root)


#: Loggers of the libraries that execute notebooks: their messages (a kernel that died while a Ctrl-C
#: stopped the run, retries, warnings) stay out of the user's terminal unless ``--verbose``.
_LIBRARY_LOGGERS = ("papermill", "nbclient", "traitlets", "jupyter_client", "asyncio")


def _quiet_libraries() -> None:
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@dataclass
class _Run:
    """What one run has made so far, for the cleanup when it fails: the kernel it holds, the folders it
    created, the staging folder and the kernel being stopped in the background."""

    km: Any = None
    created: list[Path] = field(default_factory=list)
    staging: Path | None = None
    stopping: _Background | None = None

    def clean_up(self) -> None:
        """Stop the kernel, remove the staging folder and any folder this run created."""
        with _no_interrupt():
            if self.km is not None:
                shutdown(self.km)
            if self.stopping is not None:
                with contextlib.suppress(BaseException):
                    self.stopping.result()
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
            for folder in reversed(self.created):  # leave no empty folder made by this run
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _open_kernel(study: str, kernel: str, *, verbose: bool, km: Any, kernels: Any) -> tuple[Any, str]:
    """The kernel to run on (given, taken from ``kernels`` or launched) and its name."""
    if km is None and kernels is None:
        clean_stale_kernel_folders()
        km = start_kernel(kernel, verbose=verbose, preload=study_modules(study), cwd=NOTEBOOKS_DIR)
    elif km is None:
        km = kernels.take()
        kernel = km.kernel_name
    return km, kernel


def _stage(run: _Run, root: Path, study: str, run_id: str) -> Path:
    """Create the study's folder (if needed) and the run's hidden staging folder in it."""
    study_dir = root / study
    run.created = [d for d in (root, study_dir) if not d.exists()]
    try:
        study_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError("reports-dir", str(root),
                             f"a folder that can be created ({exc.strerror})") from None
    clean_stale_staging(root)
    run.staging = study_dir / f"{STAGING}{run_id}-{os.getpid()}"
    run.staging.mkdir()
    return run.staging


def _execute(run: _Run, study: str, executed: Path, overrides: Mapping[str, Any], *, kernel: str,
             progress: bool, kernels: Any) -> Any:
    """Execute the notebook with papermill into ``executed``; hand the kernel back (or stop it meanwhile)."""
    # imported while the kernel starts, so that the import overlaps its start (module docstring)
    import papermill as pm

    try:
        return pm.execute_notebook(
            str(NOTEBOOKS_DIR / f"{study}.ipynb"), str(executed), parameters=dict(overrides),
            kernel_name=kernel, cwd=str(NOTEBOOKS_DIR), progress_bar=progress, log_output=False,
            request_save_on_cell_execute=False, km=run.km,
        )
    except pm.PapermillExecutionError as exc:
        raise _failure(study, exc) from None
    finally:
        used, run.km = run.km, None
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):
            shutdown(used)
        elif kernels is None:  # off the critical path: the kernel stops while the report renders
            run.stopping = _Background(lambda: _stop(used))
        else:
            kernels.give_back(used)  # reset for the next run (or shut down when it cannot be)


def _metadata(study: str, run_id: str, record: Mapping[str, Any], prepared: Mapping[str, Any], *,
              params: Mapping[str, Any], overrides: Mapping[str, Any], started: float,
              sweep_id: str | None) -> dict[str, Any]:
    """The run's ``run.json`` (without its timings)."""
    return {
        "study": study, "run_id": run_id,
        "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "seconds": 0.0, "params": dict(params), "overrides": dict(overrides),
        "changed": record.get("changed", {}), "seed": params.get("seed"),
        "git_revision": prepared["revision"], "versions": prepared["versions"], "lock": prepared["lock"],
        "sweep_id": sweep_id, "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "headline": {k: record.get(k) for k in ("headline", "tone", "details", "figures")},
        "question": prepared["question"],
    }


def _render(staging: Path, study: str, nb: Any, meta: Mapping[str, Any]) -> None:
    """Write the report (code hidden) and ``params.json`` into the staging folder."""
    # imported while the kernel starts, so that the import overlaps its start (module docstring)
    from experiments.render.notebook_html import notebook_to_html

    params = meta["params"]
    (staging / "params.json").write_text(json.dumps(params, indent=2, default=str) + "\n")
    footer = f"Run {meta['run_id']} · seed {params.get('seed', 'n/a')} · revision {meta['git_revision'][:12]}"
    page = notebook_to_html(nb, title=f"{study.replace('_', ' ').title()} report", footer=footer)
    (staging / f"{study}.html").write_text(page, encoding="utf-8")


def _phases(nb: Any, *, started: float, launched: float, executed: float,
            rendered: float) -> dict[str, float]:
    """Where the run's time went: start, kernel ready, cells, after the cells, render."""
    first_cell, last_cell = _cell_times(nb)
    return {
        "start": round(launched - started, 3),
        "kernel_ready": round((first_cell or launched) - launched, 3),
        "cells": round((last_cell or executed) - (first_cell or launched), 3),
        "after_cells": round(executed - (last_cell or executed), 3),
        "render": round(rendered - executed, 3),
    }


def _land(run: _Run, final: Path, root: Path, meta: Mapping[str, Any], *, index: bool) -> None:
    """Rename the complete run into place, record it and rewrite the index, uninterrupted."""
    with _no_interrupt():  # from here the run is complete: it lands, is recorded and indexed whole
        assert run.staging is not None
        run.staging.rename(final)  # fails rather than overwrite: run ids are unique per microsecond
        run.staging = None
        _record(root, meta, index)


def run_study(
    study: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    reports_dir: Path | str | None = None,
    kernel: str = "python3",
    progress: bool = False,
    verbose: bool = False,
    km: Any = None,
    kernels: Any = None,
    sweep_id: str | None = None,
    index: bool = True,
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
        Show papermill's progress bar (one tick per cell).
    verbose
        Let the kernel's own stderr through.
    km
        A started kernel manager to run on; it is shut down afterwards.
    kernels
        A :class:`~experiments.runs.kernels.WarmKernels` to take the kernel from and hand it back to
        (kept and reset for the next run, unless the run was interrupted). With neither ``km`` nor
        ``kernels``, a fresh kernel is launched first thing.
    sweep_id
        The sweep this run belongs to, recorded in ``run.json`` and the registry.
    index
        Rewrite ``index.html`` afterwards (a sweep rewrites it once, at its end).

    Raises
    ------
    ParameterError
        Unknown study, parameter name or kernel, or a bad value (nothing is created).
    RunFailed
        The notebook raised; the staging folder is removed and the index is unchanged.
    """
    if not verbose:
        _quiet_libraries()
    started = time.time()
    defaults = registry.defaults(study)
    overrides = dict(overrides or {})
    run = _Run(km=km)
    try:
        reject_unknown(overrides, defaults)
        root = check_folder(reports_dir if reports_dir is not None else REPORTS_DIR, option="--reports-dir")
        run.km, kernel = _open_kernel(study, kernel, verbose=verbose, km=km, kernels=kernels)
    except BaseException:
        run.clean_up()
        raise
    launched = time.time()
    try:
        background = _Background(lambda: _prepare(study))
        run_id = _run_id({"study": study, **overrides})
        staging = _stage(run, root, study, run_id)
        nb = _execute(run, study, staging / f"{study}.ipynb", overrides, kernel=kernel, progress=progress,
                      kernels=kernels)
        executed = time.time()
        record = read_record(nb)
        params = record.get("parameters") or {**defaults, **overrides}
        meta = _metadata(study, run_id, record, background.result(), params=params, overrides=overrides,
                         started=started, sweep_id=sweep_id)
        _render(staging, study, nb, meta)
        rendered = time.time()
        meta["seconds"] = round(rendered - started, 2)
        meta["phases"] = _phases(nb, started=started, launched=launched, executed=executed, rendered=rendered)
        (staging / "run.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        if run.stopping is not None:
            run.stopping.result()
        final = staging.parent / run_id
        _land(run, final, root, meta, index=index)
    except BaseException:
        run.clean_up()
        raise
    meta["phases"]["record"] = round(time.time() - rendered, 3)
    return RunResult(study, run_id, final, final / f"{study}.html", final / f"{study}.ipynb",
                     record.get("headline"), record, meta["seconds"], dict(meta["phases"]))
