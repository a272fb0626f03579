"""Whole-process time of ``experiments --help`` and of ``experiments run STUDY`` at its defaults, this
tree against another checkout's ``src`` (paired: the two alternate, run after run, on the same machine).

    .venv/bin/python benchmarks/bench_startup.py --base-src /path/to/other/checkout/src --help-runs 20 \\
        --run-pairs 5 --study remarketing

The other checkout is put first on ``PYTHONPATH`` (its package, notebooks and paths are used, kernel
included); this tree runs as installed. Prints the median and quartiles of each, and the paired
differences of the runs.
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

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = [sys.executable, "-c", "import sys; from experiments.cli import main; sys.exit(main())"]


def _env(src: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _describe(name: str, xs: list[float]) -> str:
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return f"{name}: median {statistics.median(xs):.3f} s (quartiles {q[0]:.3f} to {q[2]:.3f}, n = {len(xs)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-src", type=Path, help="the other checkout's src (none: this tree only)")
    parser.add_argument("--help-runs", type=int, default=20)
    parser.add_argument("--run-pairs", type=int, default=5)
    parser.add_argument("--study", default="remarketing")
    args = parser.parse_args()
    sides = {"this tree": None} | ({"base": args.base_src} if args.base_src else {})
    envs = {k: _env(v) for k, v in sides.items()}
    helps: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(args.help_runs):
        for k in sides:
            helps[k].append(_time([*EXPERIMENTS, "--help"], envs[k]))
    for k in sides:
        print(_describe(f"experiments --help, {k}", helps[k]))
    runs: dict[str, list[float]] = {k: [] for k in sides}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.run_pairs):
            order = list(sides) if i % 2 == 0 else list(reversed(list(sides)))
            for k in order:
                out = Path(tmp) / f"{k.replace(' ', '_')}_{i}"
                runs[k].append(_time([*EXPERIMENTS, "run", args.study, "--reports-dir", str(out)], envs[k]))
    for k in sides:
        print(_describe(f"experiments run {args.study}, {k}", runs[k]))
    if args.base_src:
        diffs = [a - b for a, b in zip(runs["this tree"], runs["base"], strict=True)]
        print(f"paired difference (this tree - base): median {statistics.median(diffs):+.3f} s, "
              f"each {', '.join(f'{d:+.2f}' for d in diffs)}")


if __name__ == "__main__":
    main()
