"""What runs on a Dask worker during a sweep: warm kernels per worker, and one sweep point per task.

:class:`WarmKernelPlugin` is registered with the client; each worker (present or joining later) builds
its own :class:`~experiments.runs.kernels.WarmKernels` in ``setup``: its kernel starts, and imports the
study, before the first task arrives, and is kept for every point the worker runs, reset between points
(the user namespace, history and execution count of a fresh kernel; the study's modules stay imported).
Kernel start-up and imports are thus paid once per worker. ``teardown`` shuts the kernel down. With
``reuse=False`` each point gets a fresh kernel instead, the next one started while the current point
runs. Without the plugin (a task submitted by hand) a per-process :class:`WarmKernels` is made on first
use.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from experiments.errors import ExperimentsError
from experiments.paths import NOTEBOOKS_DIR
from experiments.runs.kernels import WarmKernels
from experiments.runs.study_run import run_study, study_modules

__all__ = ["PLUGIN", "WarmKernelPlugin", "run_point"]

#: Name the plugin is registered under on every worker.
PLUGIN = "experiments-warm-kernels"
_LOCAL: dict[tuple[str, bool, tuple[str, ...], bool], Any] = {}
_LOCK = threading.Lock()


def _kernels(kernel: str, verbose: bool, preload: Sequence[str], reuse: bool) -> Any:
    return WarmKernels(kernel, verbose=verbose, preload=tuple(preload), cwd=NOTEBOOKS_DIR, reuse=reuse)


class WarmKernelPlugin(WorkerPlugin):
    """Gives each worker its own warm kernels for the sweep's study.

    Parameters
    ----------
    kernel, verbose
        Jupyter kernel name, and whether the kernels' stderr comes through.
    preload
        The modules each kernel imports while it starts (the study's).
    reuse
        Keep one kernel per worker and reset it between points (True), or a fresh kernel per point.
    """

    def __init__(self, kernel: str, *, verbose: bool = False, preload: Sequence[str] = (),
                 reuse: bool = True) -> None:
        self.kernel, self.verbose, self.preload, self.reuse = kernel, verbose, tuple(preload), reuse
        self.kernels: Any = None

    def setup(self, worker: Any) -> None:
        """Start this worker's kernel."""
        self.kernels = _kernels(self.kernel, self.verbose, self.preload, self.reuse)

    def teardown(self, worker: Any) -> None:
        """Shut down the kernel started ahead that no point took."""
        if self.kernels is not None:
            self.kernels.close()
            self.kernels = None


def _local_kernels(kernel: str, verbose: bool, preload: Sequence[str]) -> Any:
    key = (kernel, verbose, tuple(preload), True)
    with _LOCK:
        if key not in _LOCAL:
            _LOCAL[key] = _kernels(kernel, verbose, preload, True)
            atexit.register(_LOCAL[key].close)
        return _LOCAL[key]


def run_point(study: str, parameters: dict[str, Any], reports_dir: str, kernel: str, verbose: bool,
              sweep_id: str) -> dict[str, Any]:
    """Run one sweep point as a normal run (recorded in the registry; the index is left to the sweep).

    Returns
    -------
    dict
        ``{run_id, html, headline, seconds}`` (``html`` relative to the reports folder), or ``{error}``
        with the run's one-line failure (exceptions are returned as text: they travel back to the driver
        whatever their class).
    """
    try:
        plugin = get_worker().plugins.get(PLUGIN)
    except ValueError:  # not on a worker (called directly)
        plugin = None
    if plugin is not None and plugin.kernels is not None:
        kernels = plugin.kernels
    else:
        kernels = _local_kernels(kernel, verbose, study_modules(study))
    try:
        result = run_study(study, parameters, reports_dir=reports_dir, kernel=kernel, verbose=verbose,
                           kernels=kernels, sweep_id=sweep_id, index=False)
    except ExperimentsError as exc:
        return {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    return {
        "run_id": result.run_id,
        "html": f"{study}/{result.run_id}/{study}.html",
        "headline": {k: result.record.get(k) for k in ("headline", "tone", "details", "figures")},
        "seconds": result.seconds,
        "phases": result.phases,
    }
