"""Kernels for report runs: local sockets, quiet, and started ahead of time when several runs follow.

- The kernel talks over local (IPC) sockets in a private temporary folder, not TCP: nothing listens on
  the network, and ipykernel has no reason to warn that TCP traffic is unencrypted.
- The kernel's own stderr (warnings, shutdown tracebacks) goes to a log file, not the user's terminal,
  unless ``verbose``; the user sees one line per failure.
- :class:`WarmKernels` starts the next run's kernel while the current one executes, so a series of runs
  (``run --all``, a sweep worker) pays kernel start-up once. Every run still gets a fresh kernel: no
  state leaks from one notebook into the next.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

from jupyter_client.manager import AsyncKernelManager

__all__ = ["QuietKernelManager", "WarmKernels", "start_kernel"]


class QuietKernelManager(AsyncKernelManager):
    """A kernel manager that uses IPC sockets in a private folder and keeps the kernel's stderr quiet.

    Set the class attributes ``verbose`` (pass the kernel's stderr through) before use; papermill
    instantiates the class itself when it is given as ``kernel_manager_class``.
    """

    verbose: bool = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._folder = tempfile.mkdtemp(prefix="experiments-kernel-")
        self.transport = "ipc"
        self.ip = str(Path(self._folder) / "kernel")
        self._log: IO[bytes] | None = None

    async def _async_start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
        if not self.verbose:
            self._log = open(Path(self._folder) / "kernel.log", "wb")
            kw.setdefault("stderr", self._log)
            kw.setdefault("stdout", subprocess.DEVNULL)
        await super()._async_start_kernel(**kw)

    start_kernel = _async_start_kernel  # type: ignore[assignment]

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:  # type: ignore[override]
        try:
            await super()._async_shutdown_kernel(now=now, restart=restart)
        finally:
            if not restart:
                self.release()

    shutdown_kernel = _async_shutdown_kernel  # type: ignore[assignment]

    def release(self) -> None:
        """Close the log and remove the private folder (sockets, connection file, log)."""
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def kernel_log(self) -> str:
        """What the kernel wrote to stderr so far (empty when verbose or not started)."""
        try:
            return (Path(self._folder) / "kernel.log").read_text(errors="replace")
        except OSError:
            return ""


def start_kernel(kernel_name: str = "python3", *, verbose: bool = False) -> QuietKernelManager:
    """A started :class:`QuietKernelManager` (raises ``jupyter_client.kernelspec.NoSuchKernel``)."""
    from jupyter_core.utils import run_sync

    km = QuietKernelManager(kernel_name=kernel_name)
    km.verbose = verbose
    try:
        run_sync(km.start_kernel)()
    except BaseException:
        km.release()
        raise
    return km


class WarmKernels:
    """Hands out fresh, already started kernels, starting the next one in the background.

    Use as a context manager; :meth:`take` returns a started kernel manager whose kernel the caller
    runs one notebook on and then shuts down (papermill does not shut down a kernel it did not start).
    """

    def __init__(self, kernel_name: str = "python3", *, verbose: bool = False) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.kernel_name, self.verbose = kernel_name, verbose
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._next = self._pool.submit(start_kernel, kernel_name, verbose=verbose)

    def take(self) -> QuietKernelManager:
        """A started kernel; the next one starts in the background."""
        km = self._next.result()
        self._next = self._pool.submit(start_kernel, self.kernel_name, verbose=self.verbose)
        return km

    def close(self) -> None:
        """Shut down the kernel that was started ahead and nobody took."""
        from jupyter_core.utils import run_sync

        with contextlib.suppress(BaseException):
            km = self._next.result()
            run_sync(km.shutdown_kernel)(now=True)
        self._pool.shutdown(wait=True)

    def __enter__(self) -> WarmKernels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
