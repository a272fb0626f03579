"""Calibration figures at full size, with timings.

Run: ``.venv/bin/python benchmarks/bench_calibration.py [--replications 10000] [--seed 20261124]``.
Prints the false-positive rate, coverage, power, CUPED width ratio and bias, and daily peeking
(naive vs always-valid) over ``--replications`` simulated experiments, each with its Wilson interval,
and the wall time of each study.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from experiments.studies.calibration import numbers as cal


def main() -> None:
    """Run every study and print its figures and timing."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--looks", type=int, default=20)
    args = ap.parse_args()
    r, seed = args.replications, args.seed

    def timed(label: str, fn: Callable[..., Any], **kw: Any) -> Any:
        t = time.perf_counter()
        out = fn(**kw)
        print(f"\n== {label}  [{time.perf_counter() - t:.2f} s]\n{out.summary()}")
        return out

    t0 = time.perf_counter()
    timed("A/A conversion, Wald (5,000 per arm, 5%)", cal.binary_study, replications=r, n_per_arm=5000,
          base_rate=0.05, seed=seed)
    timed("A/A conversion, Wald (500 per arm, 2%)", cal.binary_study, replications=r, n_per_arm=500,
          base_rate=0.02, seed=seed + 1)
    timed("power at the planned MDE (80%)", cal.power_study, replications=r, n_per_arm=5000,
          base_rate=0.05, power=0.8, seed=seed + 2)
    timed("A/A spend: Welch and CUPED (2,000 per arm)", cal.cuped_study, replications=r,
          n_per_arm=2000, lift=0.0, seed=seed + 3)
    timed("A/B spend +5%: Welch and CUPED (2,000 per arm)", cal.cuped_study, replications=r,
          n_per_arm=2000, lift=0.05, seed=seed + 4)
    timed(f"daily peeking, {args.looks} looks of 500 per arm, A/A", cal.peeking_study, replications=r,
          looks=args.looks, n_per_look=500, base_rate=0.05, seed=seed + 5)
    print(f"\ntotal {time.perf_counter() - t0:.2f} s for {r:,} replications per study")


if __name__ == "__main__":
    main()
