"""Whole-process time and peak memory of ``experiments analyze`` on 10 M rows: 3 covariates vs none.

Run: ``.venv/bin/python benchmarks/bench_analyze_covariates.py [--rows 10000000] [--pairs 3]
[--baseline SRC]``.

Writes a parquet file of ``--rows`` customers (the example file's world: arms holdout, display, email;
covariates history, recency, frequency; 0/1 exposed; metrics converted and spend) to a temporary folder,
then runs the console script on it, alternately (order swapped each pair): metrics only; with
``--covariate history`` (CUPED); with ``--covariate`` history, recency, frequency (Lin 2013: the third
and fourth moments from a second pass); the same with ``--exposed`` too; and with ``--cap spend=p99
--quantile spend=0.5 --quantile spend=0.9`` beside the 3 covariates (every heavy option at once).
Prints each side's median wall time, its runs and its peak RSS (``os.wait4``), and each side's median
over the plain side's. The file is written by a child process: on Linux a child's peak RSS starts at
its parent's size when forked, so the timing parent stays small. ``--baseline SRC`` adds a side: the 3
covariates run with another copy of the package first on ``PYTHONPATH`` (e.g. ``git archive OLD src |
tar -x -C /tmp/old`` then ``--baseline /tmp/old/src``), for paired before/after timings on one file.
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


def _command() -> list[str]:
    script = Path(sys.executable).with_name("experiments")
    return [str(script)] if script.exists() else [sys.executable, "-m", "experiments.cli"]


def timed(cmd: list[str], src: str | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one subprocess (``src`` first on its ``PYTHONPATH``); fails
    loudly on a non-zero exit."""
    env = {**os.environ, "PYTHONPATH": src} if src else None
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed: {err.strip()[-400:]}")
    return wall, usage.ru_maxrss / 1024


def write_rows(path: Path, n: int, seed: int = 1) -> None:
    """``n`` customers, made a million at a time, written in row groups of a million."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    frames = []
    for start in range(0, n, 1_000_000):
        m = min(1_000_000, n - start)
        history = rng.lognormal(5.0, 1.0, m)
        recency = rng.integers(1, 13, m)
        frequency = 1 + rng.poisson(2.0, m)
        arm = rng.choice(np.array(["holdout", "display", "email"]), m)
        exposed = (arm != "holdout") & (rng.random(m) < 0.62)
        logit = -5.0 + 0.45 * np.log(history) + 0.45 * frequency - 0.12 * recency
        converted = rng.random(m) < 1 / (1 + np.exp(-logit)) + exposed * 0.012
        spend = np.where(converted, 20.0 + 0.1 * history + rng.gamma(2.0, 10.0, m), 0.0)
        frames.append(pl.DataFrame({
            "arm": arm, "history": history, "recency": recency, "frequency": frequency,
            "exposed": exposed.astype(np.int8), "converted": converted.astype(np.int8), "spend": spend,
        }))
    pl.concat(frames).write_parquet(path, row_group_size=1_000_000)


def main() -> None:
    """Write the file, time the three sides in alternation, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--baseline", metavar="SRC", help="source folder of another version (its src/)")
    ap.add_argument("--write", metavar="PATH", help=argparse.SUPPRESS)  # the child that writes the file
    args = ap.parse_args()
    if args.write:
        write_rows(Path(args.write), args.rows)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.parquet"
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--write", str(path)], check=True)
        print(f"{args.rows:,} rows written in {time.perf_counter() - t:.1f} s "
              f"({path.stat().st_size / 2**20:.0f} MB parquet)")
        base = [*_command(), "analyze", str(path), "--arm", "arm", "--control", "holdout", "--metric",
                "converted", "--metric", "spend", "--json", "-"]
        covs = ["--covariate", "history", "--covariate", "recency", "--covariate", "frequency"]
        sides = {"no covariate": base, "1 covariate (CUPED)": [*base, *covs[:2]],
                 "3 covariates": [*base, *covs],
                 "3 covariates + exposed": [*base, *covs, "--exposed", "exposed"],
                 "caps, quantiles, 3 covariates": [*base, *covs, "--cap", "spend=p99", "--quantile",
                                                   "spend=0.5", "--quantile", "spend=0.9"]}
        source = {name: None for name in sides}
        if args.baseline:
            sides["3 covariates, baseline"] = sides["3 covariates"]
            source["3 covariates, baseline"] = str(Path(args.baseline).resolve())
        for name, cmd in sides.items():
            timed(cmd, source[name])  # warm the file cache and byte-code once, not counted
        walls: dict[str, list[float]] = {k: [] for k in sides}
        rss: dict[str, list[float]] = {k: [] for k in sides}
        names = list(sides)
        for i in range(args.pairs):
            for name in names if i % 2 == 0 else names[::-1]:
                w, r = timed(sides[name], source[name])
                walls[name].append(w)
                rss[name].append(r)
    plain = statistics.median(walls["no covariate"])
    for name in names:
        med = statistics.median(walls[name])
        print(f"{name:30s} median {med:.2f} s  (runs {', '.join(f'{w:.2f}' for w in walls[name])})  "
              f"peak RSS {max(rss[name]):.0f} MB  x{med / plain:.2f} of no covariate")


if __name__ == "__main__":
    main()
