"""Kernels for report runs: local sockets, quiet, started early, and ahead of time when several runs follow.

- The kernel talks over local (IPC) sockets in a private temporary folder, not TCP: nothing listens on
  the network, and ipykernel has no reason to warn that TCP traffic is unencrypted.
- The kernel's own stderr (warnings, shutdown tracebacks) goes to a log file, not the user's terminal,
  unless ``verbose``; the user sees one line per failure.
- A kernel can be launched with the modules its notebook imports (``preload``): an IPython kernel
  imports them while it starts, before it answers any request, and leaves no name in the user's
  namespace. The notebook then runs exactly as in a fresh kernel, only without waiting for the imports,
  which overlap with whatever the caller does meanwhile (its own imports, the previous run).
- :class:`WarmKernels` serves a series of runs (``run --all``, a sweep worker): by default one kernel is
  started once and kept, and between notebooks it is reset to a fresh kernel's state (user namespace,
  history, execution count), keeping only the modules already imported; or, with ``reuse=False``, each
  run gets a fresh kernel, the next one started while the current one executes.
- Clients made by the manager start no heartbeat thread (whether the kernel lives is asked of the
  manager, which watches the process) and are closed with the kernel, so no thread or socket outlives a
  run: a leftover heartbeat thread holds the process's exit for up to a second.
- Each private folder is named after the process that made it; :func:`clean_stale_kernel_folders`
  removes those of processes that no longer exist (a run killed with SIGKILL cannot clean up).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from experiments.errors import ParameterError
from experiments.runs.staging import process_alive

__all__ = [
    "RESET_CODE",
    "QuietKernelClient",
    "QuietKernelManager",
    "WarmKernels",
    "check_kernel",
    "clean_stale_kernel_folders",
    "reset",
    "shutdown",
    "start_kernel",
]

_PREFIX = "experiments-kernel-"
_KERNEL_RULE = "an installed Jupyter kernel name, e.g. python3"


class QuietKernelClient(AsyncKernelClient):
    """A kernel client whose channels start without the heartbeat thread."""

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = True, hb: bool = False,
                       control: bool = True) -> None:
        """Start the channels; the heartbeat only when asked for."""
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=hb, control=control)


class QuietKernelManager(AsyncKernelManager):
    """A kernel manager that uses IPC sockets in a private folder and keeps the kernel's stderr quiet.

    Set the class attributes ``verbose`` (pass the kernel's stderr through) before use; papermill
    instantiates the class itself when it is given as ``kernel_manager_class``.
    """

    verbose: bool = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
        self.transport = "ipc"
        self.ip = str(Path(self._folder) / "kernel")
        self.connection_file = str(Path(self._folder) / "kernel.json")
        self._log: IO[bytes] | None = None
        self._clients: list[AsyncKernelClient] = []
        self.client_factory = QuietKernelClient

    def client(self, **kwargs: Any) -> AsyncKernelClient:
        """A client of this kernel (no heartbeat thread), closed when the kernel is shut down."""
        kc = super().client(**kwargs)
        self._clients.append(kc)
        return kc

    async def _async_start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
        if not self.verbose:
            self._log = open(Path(self._folder) / "kernel.log", "wb")  # closed in release()
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

    def close_clients(self) -> None:
        """Close the clients made so far (papermill leaves its client open on a kernel it did not start)."""
        for kc in self._clients:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        self._clients.clear()

    def release(self) -> None:
        """Close the clients and the log, and remove the private folder (sockets, connection file, log)."""
        self.close_clients()
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


def check_kernel(kernel_name: str) -> None:
    """Raise a one-line :class:`ParameterError` unless ``kernel_name`` is an installed Jupyter kernel."""
    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ParameterError("kernel", kernel_name, _KERNEL_RULE) from None


def _is_ipykernel(km: AsyncKernelManager) -> bool:
    return any("ipykernel" in str(arg) for arg in km.kernel_spec.argv)


def _preload_line(modules: Sequence[str]) -> str:
    """One IPython line importing ``modules`` that evaluates to None: nothing shown, no name bound."""
    names = ", ".join(repr(m) for m in modules)
    return f"[__import__(m) for m in ({names},)] and None"


def start_kernel(
    kernel_name: str = "python3",
    *,
    verbose: bool = False,
    preload: Sequence[str] = (),
    cwd: str | Path | None = None,
) -> QuietKernelManager:
    """Launch a :class:`QuietKernelManager`'s kernel and return at once (the kernel finishes starting
    on its own; the first request waits for it).

    Parameters
    ----------
    kernel_name
        Jupyter kernel name.
    verbose
        Let the kernel's stderr through.
    preload
        Modules an IPython kernel imports while it starts (ignored by other kernels).
    cwd
        Working directory of the kernel (the notebooks' folder for report runs).

    Raises
    ------
    ParameterError
        ``kernel_name`` is not an installed kernel.
    """
    km = QuietKernelManager(kernel_name=kernel_name)
    km.verbose = verbose
    try:
        extra: list[str] = []
        if _is_ipykernel(km):
            # the same in-memory history nbclient gives the kernels it starts; no sqlite file shared
            extra.append("--HistoryManager.hist_file=:memory:")
            if preload:
                extra.append(f"--IPKernelApp.exec_lines={_preload_line(preload)}")
        kw: dict[str, Any] = {"extra_arguments": extra}
        if cwd is not None:
            kw["cwd"] = str(cwd)
        run_sync(km.start_kernel)(**kw)
    except NoSuchKernel:
        km.release()
        raise ParameterError("kernel", kernel_name, _KERNEL_RULE) from None
    except BaseException:
        km.release()
        raise
    return km


def shutdown(km: QuietKernelManager) -> None:
    """Shut a kernel down now and remove its folder; never raises."""
    try:
        run_sync(km.shutdown_kernel)(now=True)
    except BaseException:  # a kernel already gone: still release its folder
        km.release()


def clean_stale_kernel_folders(tmp: str | Path | None = None) -> list[Path]:
    """Remove the private kernel folders of processes that no longer exist; returns what was removed."""
    removed = []
    base = Path(tmp or tempfile.gettempdir())
    for folder in base.glob(f"{_PREFIX}*"):
        try:
            pid = int(folder.name[len(_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue  # a folder of an older version, without a pid: leave it
        if pid != os.getpid() and not process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


#: Run in a kept kernel after each notebook: a new session (user namespace, history and execution count
#: as in a fresh kernel; imported modules stay), then a garbage collection.
RESET_CODE = "get_ipython().reset(new_session=True, aggressive=False); __import__('gc').collect()"


def reset(km: QuietKernelManager, *, timeout: float = 60.0) -> bool:
    """Reset a kept kernel for the next notebook; False when it is dead or the reset failed."""
    km.close_clients()

    async def go() -> bool:
        if not await km.is_alive():
            return False
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=timeout)  # iopub subscribed: the reply's idle status is not lost
            reply = await kc.execute_interactive(RESET_CODE, silent=True, store_history=False,
                                                 timeout=timeout)
            return bool(reply["content"]["status"] == "ok")
        finally:
            km.close_clients()

    try:
        return bool(run_sync(go)())
    except Exception:  # a timeout, a dead kernel: the caller replaces it
        return False


class WarmKernels:
    """Kernels for a series of runs (``run --all``, a sweep worker), started ahead of need.

    Use as a context manager. :meth:`take` returns a started kernel manager; the caller runs one notebook on
    it and hands it back with :meth:`give_back`.

    - ``reuse=True`` (the default): the kernel is started once, in the background, and kept. After each
      notebook :meth:`give_back` resets it (:data:`RESET_CODE`: the user namespace, the history and the
      execution count are those of a fresh kernel, and a garbage collection runs), so the next notebook
      finds no variable of the last one, only the modules it imported already. Start-up and imports are
      paid once per series. A kernel that died, or whose reset failed, is shut down and replaced.
    - ``reuse=False``: every :meth:`take` gets a fresh kernel, the next one starting in the background
      while the current one runs; :meth:`give_back` shuts it down.

    Thread-safe: each :meth:`take` gets a kernel of its own.

    Parameters
    ----------
    kernel_name
        Jupyter kernel name.
    verbose
        Let the kernels' stderr through.
    preload
        The modules each kernel started imports while it starts: one sequence for every kernel, or an
        iterable of sequences, one per kernel started (``run --all``: each study's modules in turn);
        when such an iterable runs out, later kernels start with no preload (``reuse=True``) or no further
        kernel is started ahead (``reuse=False``).
    cwd
        Working directory of the kernels.
    reuse
        Keep and reset kernels between notebooks (True), or start a fresh one for each (False).
    """

    def __init__(
        self,
        kernel_name: str = "python3",
        *,
        verbose: bool = False,
        preload: Sequence[str] | Iterable[Sequence[str]] = (),
        cwd: str | Path | None = None,
        reuse: bool = True,
    ) -> None:
        self.kernel_name, self.verbose, self.cwd, self.reuse = kernel_name, verbose, cwd, reuse
        self._plan: Iterator[Sequence[str]] | None
        if isinstance(preload, Sequence) and all(isinstance(m, str) for m in preload):
            self._plan, self._same = None, tuple(preload)  # type: ignore[arg-type]
        else:
            self._plan, self._same = iter(preload), ()  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self._idle: list[QuietKernelManager] = []
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="experiments-kernel")
        self.started = 0
        self._next = self._start_next()

    def _start_next(self, *, always: bool = False) -> Any:
        if self._plan is None:
            modules: Sequence[str] = self._same
        else:
            try:
                modules = next(self._plan)
            except StopIteration:
                if not always:
                    return None
                modules = ()
        self.started += 1
        return self._pool.submit(start_kernel, self.kernel_name, verbose=self.verbose, preload=modules,
                                 cwd=self.cwd)

    def take(self) -> QuietKernelManager:
        """A started kernel, ready for one notebook (kept and reset, or fresh)."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            future = self._next
            if future is None and self.reuse:
                future = self._start_next(always=True)
            if future is None:
                raise RuntimeError("no kernel left to take: the preload plan ran out")
            self._next = None if self.reuse else self._start_next()
        return future.result()

    def give_back(self, km: QuietKernelManager) -> None:
        """Hand back a kernel after its notebook: reset and keep it, or shut it down."""
        if self.reuse and not self._closed and reset(km):
            with self._lock:
                if not self._closed:
                    self._idle.append(km)
                    return
        shutdown(km)

    def close(self) -> None:
        """Shut down the kept kernels and the one started ahead that nobody took."""
        with self._lock:
            self._closed = True
            future, self._next = self._next, None
            idle, self._idle = self._idle, []
        for km in idle:
            shutdown(km)
        if future is not None:
            with contextlib.suppress(BaseException):
                shutdown(future.result())
        self._pool.shutdown(wait=True)

    def __enter__(self) -> WarmKernels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
