"""How long `experiments sweep --scheduler ADDRESS` takes to refuse an address where no scheduler answers.

    python benchmarks/bench_scheduler_refusals.py [--repeat 3]

Every address is on 127.0.0.1 (listeners started here, torn down after): a refused port, a plain HTTP
server, a socket that accepts and never answers (Dask's handshake times out), a listener whose queue is
full (the connection itself times out), and a malformed address. Prints, for each, the median wall time of
the whole command (Python start-up included) and of :func:`experiments.runs.sweeps.check_scheduler` alone,
with the one line the command printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.errors import ExperimentsError
from experiments.runs.sweeps import check_scheduler
from tests.dask_local import free_port, full_listener, http_listener, silent_listener

_EXE = Path(sys.executable).parent / "experiments"


def _cases() -> list[tuple[str, Callable[[], AbstractContextManager[int | None]]]]:
    return [("refused port", lambda: nullcontext(free_port())), ("HTTP server", http_listener),
            ("silent listener", silent_listener), ("full listen queue", full_listener),
            ("malformed address", lambda: nullcontext(None))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as reports:
        for name, listener in _cases():
            command, inner, line = [], [], ""
            for _ in range(args.repeat):
                with listener() as port:
                    address = f"tcp://127.0.0.1:{port}" if port is not None else "tcp://127.0.0.1"
                    start = time.monotonic()
                    try:
                        check_scheduler(address)
                    except ExperimentsError:
                        pass
                    inner.append(time.monotonic() - start)
                    start = time.monotonic()
                    done = subprocess.run([str(_EXE), "sweep", "remarketing", "-g", "frequency_cap=2,4",
                                           "--scheduler", address, "--reports-dir", reports],
                                          capture_output=True, text=True, timeout=60)
                    command.append(time.monotonic() - start)
                    line = done.stderr.strip()
                    assert done.returncode == 2 and len(line.splitlines()) == 1, done.stderr
            print(f"{name}: command {statistics.median(command):.2f} s, check alone "
                  f"{statistics.median(inner):.2f} s\n    {line}")


if __name__ == "__main__":
    main()
