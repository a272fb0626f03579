"""What ``--cap`` and ``--quantile`` cost ``experiments analyze`` on a large file, in paired runs.

Writes a parquet file of ``--rows`` rows (default 10 M; columns arm: three arms, conversion: 0/1 at
5-6%, revenue: 0 or a lognormal amount with a coefficient of variation near 10, Lewis & Rao 2015), then
times the whole process of::

    experiments analyze FILE --arm arm --control control --metric conversion --metric revenue --json -

alone ("plain") and with ``--cap revenue=p99 --quantile revenue=0.5 --quantile revenue=0.9`` ("tails"),
alternately (``--pairs`` pairs, order swapped each pair, after one warm-up run of each). Prints each
side's median wall time and peak RSS (``os.wait4``'s ``ru_maxrss`` of that process), and the ratio.

    .venv/bin/python benchmarks/bench_analyze_tails.py [--rows 10000000] [--pairs 5] [--keep FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ARGS = ["--arm", "arm", "--control", "control", "--metric", "conversion", "--metric", "revenue",
        "--json", "-"]
TAILS = ["--cap", "revenue=p99", "--quantile", "revenue=0.5", "--quantile", "revenue=0.9"]
_CHUNK = 1_000_000


def write_file(path: Path, rows: int, seed: int = 1) -> None:
    """``rows`` rows in chunks (flat memory), one parquet file."""
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, rows, _CHUNK):
        k = min(_CHUNK, rows - start)
        arm = rng.choice(np.array(["control", "A", "B"]), k)
        lift = np.where(arm == "control", 1.0, np.where(arm == "A", 1.1, 1.05))
        conversion = rng.random(k) < 0.05 * lift
        revenue = conversion * rng.lognormal(3.5, 1.27, k) * lift
        parts.append(pl.DataFrame({"arm": arm, "conversion": conversion.astype(np.int8), "revenue": revenue}))
    pl.concat(parts).write_parquet(path)


def _command() -> list[str]:
    exe = Path(sys.executable).with_name("experiments")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "experiments.cli"]


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of one run of ``cmd``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed: {err.strip()[-400:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the file (10,000,000)")
    parser.add_argument("--pairs", type=int, default=5, help="paired runs (5)")
    parser.add_argument("--keep", metavar="FILE", help="write the file here and keep it (reused if present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "tails.parquet"
        if not path.exists():
            t0 = time.perf_counter()
            write_file(path, args.rows)
            print(f"wrote {args.rows:,} rows to {path} ({path.stat().st_size / 2**20:.0f} MiB) in "
                  f"{time.perf_counter() - t0:.1f} s")
        sides = {"plain": [*_command(), "analyze", str(path), *ARGS],
                 "tails": [*_command(), "analyze", str(path), *ARGS, *TAILS]}
        for cmd in sides.values():
            timed(cmd)  # warm the file cache and byte-code once, not counted
        walls: dict[str, list[float]] = {k: [] for k in sides}
        rss: dict[str, list[float]] = {k: [] for k in sides}
        names = list(sides)
        for i in range(args.pairs):
            for name in names if i % 2 == 0 else names[::-1]:
                w, r = timed(sides[name])
                walls[name].append(w)
                rss[name].append(r)
    for name in names:
        print(f"{name:6s} median {statistics.median(walls[name]):.2f} s  (runs "
              f"{', '.join(f'{w:.2f}' for w in walls[name])})  peak RSS {max(rss[name]):.0f} MB")
    ratios = [a / b for a, b in zip(walls["tails"], walls["plain"], strict=True)]
    print(f"tails / plain: {statistics.median(walls['tails']) / statistics.median(walls['plain']):.2f} "
          f"(median of paired ratios {statistics.median(ratios):.2f}); cpus {os.cpu_count()}")


if __name__ == "__main__":
    main()
