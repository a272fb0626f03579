"""Confidence sequences against the mSPRT and naive peeking, and sequential sample sizes, at full size.

Run: ``.venv/bin/python benchmarks/bench_sequence.py [--replications 10000] [--seed 20261124]``.
Prints, for daily A/A monitoring over 20 and 100 looks (500 new customers per arm a day, 5% conversion,
alpha 5%), the false-positive rate of naive peeking, the mSPRT and the asymptotic confidence sequence
with Wilson intervals, the average width of the confidence sequence relative to the mSPRT's (and at the
planned size, and relative to a fixed-horizon interval); then ``experiments power --sequential`` plans
(maximum and expected units per arm) checked on simulated binary experiments tested look by look with
the package's confidence sequence.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from experiments.stats.power import sequential_sample_size
from experiments.stats.sequential import asymptotic_confidence_sequence, tuning_rho
from experiments.studies.calibration import numbers as cal


def _plan_check(looks: int, reps: int, seed: int) -> str:
    plan = sequential_sample_size(baseline=0.05, mde=0.1, relative=True, looks=looks)
    per = -(-plan.n_max_per_arm // looks)
    rng = np.random.default_rng(seed)
    n = per * np.arange(1, looks + 1)
    p1 = rng.binomial(per, 0.055, (reps, looks)).cumsum(axis=1) / n
    p0 = rng.binomial(per, 0.05, (reps, looks)).cumsum(axis=1) / n
    var = (p1 * (1 - p1) + p0 * (1 - p0)) / n
    low, high = asymptotic_confidence_sequence(p1 - p0, var, 2 * n, rho=tuning_rho(0.05, 2 * per * looks))
    hit = (low > 0) | (high < 0)
    stop = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, looks) / looks
    return (f"  {looks:>3} looks: fixed {plan.fixed.n_per_arm:,}, maximum {plan.n_max_per_arm:,} "
            f"({plan.inflation:.2f}x), expected {plan.expected_n_per_arm:,.0f} per arm; on {reps:,} "
            f"simulated experiments: power {hit[:, -1].mean():.1%} (plan {plan.fixed.power:.0%}), mean "
            f"stop at {stop.mean():.1%} of the maximum (plan {plan.expected_fraction:.1%})")


def main() -> None:
    """Print the figures and timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args()
    for k, looks in enumerate((20, 100)):
        t = time.perf_counter()
        s = cal.sequence_study(replications=args.replications, looks=looks, n_per_look=500, base_rate=0.05,
                               seed=args.seed + k)
        print(s.summary())
        print(f"  at the planned size: confidence sequence / mSPRT width {s.final_width_ratio:.4f}  "
              f"[{time.perf_counter() - t:.2f} s]")
    print("Sequential plans (+10% relative on a 5% rate, 80% power, alpha 5%):")
    for looks in (20, 100):
        t = time.perf_counter()
        print(_plan_check(looks, 4000, args.seed) + f"  [{time.perf_counter() - t:.2f} s]")


if __name__ == "__main__":
    main()
