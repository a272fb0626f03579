"""Real Dask processes on 127.0.0.1 for the tests: a ``dask scheduler`` and ``dask worker``, and listeners
that are not Dask schedulers (a plain HTTP server, a socket that accepts and never answers).

Every address is on 127.0.0.1 at a free port the system hands out; every process and socket started here
is torn down when its context ends.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["dask_cluster", "free_port", "full_listener", "http_listener", "silent_listener"]

_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once by the system, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def dask_cluster(workers: int = 1, timeout: float = 60.0) -> Iterator[str]:
    """A ``dask scheduler`` and ``workers`` single-threaded ``dask worker`` processes on 127.0.0.1.

    Yields the scheduler's address (``tcp://127.0.0.1:PORT``) once every worker has joined.
    """
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}  # workers start kernels (processes)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # the scheduler's and workers' HTTP servers (health, metrics) also stay on 127.0.0.1, at a free port
    http = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    procs = [subprocess.Popen([str(_BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               *http], env=env, **quiet)]
    try:
        deadline = time.monotonic() + timeout
        while True:  # the scheduler listens
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if procs[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start on {address}")
            time.sleep(0.1)
        procs.append(subprocess.Popen([str(_BIN / "dask"), "worker", address, "--nworkers", str(workers),
                                       "--nthreads", "1", *http, "--host", "127.0.0.1"],
                                      env=env, **quiet))
        with Client(address, timeout=timeout) as client:
            client.wait_for_workers(workers, timeout=timeout)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


@contextlib.contextmanager
def http_listener() -> Iterator[int]:
    """A plain HTTP server (``http.server``) on 127.0.0.1; yields its port."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A socket on 127.0.0.1 that accepts connections and never sends a byte; yields its port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                conn, _ = server.accept()
                held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


@contextlib.contextmanager
def full_listener() -> Iterator[int]:
    """A socket on 127.0.0.1 whose queue of pending connections is full, so a new connection gets no
    answer at all (as from a host that drops it): yields its port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    waiting = []
    for _ in range(3):  # fill the queue; never accepted
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            c.connect(("127.0.0.1", port))
        waiting.append(c)
    time.sleep(0.2)
    try:
        yield port
    finally:
        for c in waiting:
            c.close()
        server.close()
