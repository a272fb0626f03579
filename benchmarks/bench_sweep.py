"""A sweep on a local Dask cluster against the same runs one after another, whole process, paired.

    python benchmarks/bench_sweep.py [--repeat 2] [--workers 2] [--cold]
        [-g frequency_cap=2,4,6,8,10,12 -g discount=0.05,0.15] [-p NAME VALUE]...

Each repeat times, in alternating order so both see the same load: (A) one ``experiments run`` process
per grid point, one after another (what an analyst does by hand), and (B) one ``experiments sweep`` on a
local cluster of ``--workers`` processes. With ``--cold`` a third arm (C) runs the sweep with
``--fresh-kernels`` (a fresh kernel per point, started while the previous point runs) to show what
keeping one kernel per worker saves.
Prints the medians, the paired ratio B / A (target at most 0.65) and checks that the sweep's numbers
equal the single runs' numbers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _exe() -> str:
    return str(Path(sys.executable).with_name("experiments"))


def _points(grid: list[str]) -> list[dict[str, str]]:
    axes = [(g.split("=", 1)[0], g.split("=", 1)[1].split(",")) for g in grid]
    names = [a for a, _ in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*[v for _, v in axes])]


def _figures(root: Path) -> dict[tuple[tuple[str, str], ...], list[dict]]:
    """Headline figures of every run under ``root``, keyed by its changed parameters (as text)."""
    out = {}
    for meta_file in root.glob("*/*/run.json"):
        meta = json.loads(meta_file.read_text())
        key = tuple(sorted((k, str(v)) for k, v in meta["overrides"].items()))
        out[key] = meta["headline"]["figures"]
    return out


def sequential(points: list[dict[str, str]], fixed: list[str], reports: Path) -> float:
    """(A): one `experiments run` per point, one after another; wall seconds."""
    t0 = time.perf_counter()
    for point in points:
        args = [x for k, v in point.items() for x in ("-p", k, v)]
        done = subprocess.run([_exe(), "run", "remarketing", *args, *fixed, "--reports-dir", str(reports)],
                              capture_output=True, text=True, env={**os.environ, "CI": "true"})
        if done.returncode != 0:
            sys.exit(f"run failed: {done.stderr[-400:]}")
    return time.perf_counter() - t0


def sweep(grid: list[str], fixed: list[str], workers: int, reports: Path, *, warm: bool = True) -> float:
    """(B) or (C): one `experiments sweep` on a local cluster; wall seconds."""
    args = [x for g in grid for x in ("-g", g)]
    t0 = time.perf_counter()
    done = subprocess.run([_exe(), "sweep", "remarketing", *args, *fixed, "--workers", str(workers),
                           "--reports-dir", str(reports), *([] if warm else ["--fresh-kernels"])],
                          capture_output=True, text=True, env={**os.environ, "CI": "true"})
    if done.returncode != 0:
        sys.exit(f"sweep failed: {done.stderr[-400:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cold", action="store_true", help="also time the sweep with a fresh kernel per point")
    ap.add_argument("-g", "--grid", action="append", default=None)
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = ap.parse_args()
    grid = args.grid or ["frequency_cap=2,4,6,8,10,12", "discount=0.05,0.15"]
    fixed = [x for pair in args.parameter for x in ("-p", *pair)]
    points = _points(grid)
    seq: list[float] = []
    swp: list[float] = []
    cold: list[float] = []
    same = True
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, \
                tempfile.TemporaryDirectory() as c:
            arms = [("A", lambda a=a: seq.append(sequential(points, fixed, Path(a)))),
                    ("B", lambda b=b: swp.append(sweep(grid, fixed, args.workers, Path(b))))]
            if args.cold:
                arms.append(("C", lambda c=c: cold.append(sweep(grid, fixed, args.workers, Path(c),
                                                                warm=False))))
            for name, arm in arms if i % 2 == 0 else arms[::-1]:
                arm()
                last = (seq if name == "A" else swp if name == "B" else cold)[-1]
                print(f"repeat {i + 1} {name}: {last:.1f} s", flush=True)
            same = same and _figures(Path(a)) == _figures(Path(b))
    ratios = [s / q for s, q in zip(swp, seq, strict=True)]
    print(f"load average: {os.getloadavg()[0]:.1f}; {len(points)} points, {args.workers} workers")
    print(f"(A) {len(points)} runs one after another: median {statistics.median(seq):.1f} s "
          f"({', '.join(f'{x:.1f}' for x in seq)})")
    print(f"(B) sweep, one kernel per worker: median {statistics.median(swp):.1f} s "
          f"({', '.join(f'{x:.1f}' for x in swp)})")
    if cold:
        print(f"(C) sweep, a fresh kernel per point: median {statistics.median(cold):.1f} s "
              f"({', '.join(f'{x:.1f}' for x in cold)}); B / C paired median "
              f"{statistics.median(b / c for b, c in zip(swp, cold, strict=True)):.2f}")
    med = statistics.median(ratios)
    print(f"paired ratio B / A: median {med:.2f} ({', '.join(f'{r:.2f}' for r in ratios)}); "
          f"target <= 0.65: {'PASS' if med <= 0.65 else 'FAIL'}")
    print(f"sweep numbers equal the single runs' numbers: {same}")


if __name__ == "__main__":
    main()
