"""Small binary counts: coverage and false-positive rate of Wald, and of Newcombe's interval and score test.

Run: ``.venv/bin/python benchmarks/calibrate_small_counts.py [--experiments 4000] [--seed 20261206]``.
For each scenario (customers per arm, control and arm conversion rates) it simulates ``--experiments``
experiments and prints, for the Wald interval and test (``proportion_effect(method="wald")``), for
Newcombe's hybrid score interval with the score test (``method="newcomb"``) and for what ``analyze``
uses (``method="auto"``: Newcombe when an arm has fewer than 10 successes or failures), the share of 95%
intervals of the difference that hold the true difference, and in A/A scenarios the share of p-values
below 0.05. Each distinct pair of counts is computed once and weighted by how often it was drawn. In A/A
rows a Wald interval of [0, 0] (no success in either arm) counts as holding the true difference 0,
which flatters Wald there; where the rates differ, an arm with no success leaves Wald's interval too
narrow.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from experiments.stats.effects import proportion_effect
from experiments.stats.sufficient import SampleStats

METHODS = ("wald", "newcomb", "auto")
SCENARIOS = (  # customers per arm, control rate, arm rate
    (60, 0.02, 0.02), (60, 0.05, 0.05), (100, 0.03, 0.03), (200, 0.01, 0.01), (200, 0.03, 0.03),
    (1000, 0.004, 0.004), (60, 0.02, 0.06), (60, 0.01, 0.05), (100, 0.002, 0.02), (100, 0.03, 0.08),
    (200, 0.01, 0.03), (500, 0.005, 0.01), (60, 0.9, 0.97),
)


def _figures(n: int, p0: float, p1: float, counts: np.ndarray) -> dict[str, tuple[float, float]]:
    """Coverage and share of p < 0.05 per method, over the drawn (arm, control) counts."""
    pairs, weight = np.unique(counts, axis=0, return_counts=True)
    truth = p1 - p0
    out = {}
    for method in METHODS:
        cover = reject = 0
        for (c1, c0), w in zip(pairs, weight, strict=True):
            e = proportion_effect(SampleStats(n, float(c1), float(c1)), SampleStats(n, float(c0), float(c0)),
                                  method=method)
            cover += w * (e.ci_low <= truth <= e.ci_high)
            reject += w * bool(e.p_value < 0.05)  # nan (no variation in either arm) is no rejection
        out[method] = (cover / weight.sum(), reject / weight.sum())
    return out


def main() -> None:
    """Simulate every scenario and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=20261206)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    print(f"{args.experiments:,} experiments per scenario; 95% intervals of the difference; "
          "'p<.05' is the false-positive rate in A/A rows (the power otherwise)")
    head = f"{'n/arm':>6} {'p0':>6} {'p1':>6} | " + " | ".join(f"{m:>7} cover  p<.05" for m in METHODS)
    print(head)
    print("-" * len(head))
    for n, p0, p1 in SCENARIOS:
        k = args.experiments
        counts = np.column_stack([rng.binomial(n, p1, k), rng.binomial(n, p0, k)])
        fig = _figures(n, p0, p1, counts)
        cells = " | ".join(f"{100 * c:13.1f}% {100 * r:5.1f}%" for c, r in fig.values())
        print(f"{n:>6} {p0:>6.3f} {p1:>6.3f} | {cells}")
    print(f"[{time.perf_counter() - t0:.1f} s]")


if __name__ == "__main__":
    main()
