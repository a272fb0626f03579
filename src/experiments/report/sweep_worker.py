"""What runs on a Dask worker during a sweep: warm kernels per worker, and one sweep point per task.

:class:`WarmKernelPlugin` is registered with the client; each worker (present or joining later) builds
its own :class:`~experiments.report.kernel.WarmKernels` in ``setup`` (the first kernel starts, and
imports the study, before the first task arrives) and shuts the spare kernel down in ``teardown``.
:func:`run_point` takes a kernel from it, so a worker never waits for a kernel to start, yet every
point runs in a fresh kernel. Without the plugin (a task submitted by hand) a per-process
:class:`WarmKernels` is made on first use.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from experiments.errors import ExperimentsError

__all__ = ["PLUGIN", "WarmKernelPlugin", "run_point"]

#: Name the plugin is registered under on every worker.
PLUGIN = "experiments-warm-kernels"
_LOCAL: dict[tuple[str, bool, tuple[str, ...]], Any] = {}
_LOCK = threading.Lock()


def _kernels(kernel: str, verbose: bool, preload: Sequence[str]) -> Any:
    from experiments.paths import NOTEBOOKS_DIR
    from experiments.report.kernel import WarmKernels

    return WarmKernels(kernel, verbose=verbose, preload=tuple(preload), cwd=NOTEBOOKS_DIR)


class WarmKernelPlugin(WorkerPlugin):
    """Gives each worker its own warm kernels for the sweep's study.

    Parameters
    ----------
    kernel, verbose
        Jupyter kernel name, and whether the kernels' stderr comes through.
    preload
        The modules each kernel imports while it starts (the study's).
    warm
        False: no kernel is started ahead (each point starts its own), for comparison.
    """

    def __init__(self, kernel: str, *, verbose: bool = False, preload: Sequence[str] = (), warm: bool = True):
        self.kernel, self.verbose, self.preload, self.warm = kernel, verbose, tuple(preload), warm
        self.kernels: Any = None

    def setup(self, worker: Any) -> None:
        """Start this worker's first kernel."""
        if self.warm:
            self.kernels = _kernels(self.kernel, self.verbose, self.preload)

    def teardown(self, worker: Any) -> None:
        """Shut down the kernel started ahead that no point took."""
        if self.kernels is not None:
            self.kernels.close()
            self.kernels = None


def _local_kernels(kernel: str, verbose: bool, preload: Sequence[str]) -> Any:
    key = (kernel, verbose, tuple(preload))
    with _LOCK:
        if key not in _LOCAL:
            _LOCAL[key] = _kernels(kernel, verbose, preload)
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
    from experiments.report.runner import run_study, study_modules

    km = None
    try:
        worker = get_worker()
        plugin = worker.plugins.get(PLUGIN)
    except ValueError:  # not on a worker (called directly)
        plugin = None
    if plugin is not None and not plugin.warm:
        kernels = None
    else:
        kernels = plugin.kernels if plugin is not None and plugin.kernels is not None else _local_kernels(
            kernel, verbose, study_modules(study))
    try:
        if kernels is not None:
            km = kernels.take()
        result = run_study(study, parameters, reports_dir=reports_dir, kernel=kernel, verbose=verbose, km=km,
                           sweep_id=sweep_id, index=False)
    except ExperimentsError as exc:
        return {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    return {
        "run_id": result.run_id,
        "html": f"{study}/{result.run_id}/{study}.html",
        "headline": {k: result.record.get(k) for k in ("headline", "tone", "details", "figures")},
        "seconds": result.seconds,
        "phases": result.phases,
    }
