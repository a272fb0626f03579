"""Coverage of the flat-prior credible interval of the relative lift (``analyze --bayesian``).

Run: ``.venv/bin/python benchmarks/calibrate_bayesian.py [--experiments 2000] [--seed 20261206]``.
Simulates experiments whose true relative lift is known, computes gbstats' Bayesian result on each
(:func:`experiments.stats.bayesian.bayesian_effect`, flat prior) and prints the share of 95% credible
intervals that hold the true lift (target 94–96%, with its Wilson 95% interval), and, in A/A
experiments, the shares with a chance to beat control above 95% and below 5%. The two are not equal:
gbstats' delta-method variance of the relative lift grows with the arm's mean (``v0 m1² / m0⁴``), so an
arm that happens to be ahead gets a wider posterior than one behind by as much; on a 2% conversion rate
with 40 conversions per arm the split is about 2% and 8.5%, evening out as counts grow.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from experiments.stats.bayesian import bayesian_effect
from experiments.stats.sufficient import SampleStats

Pairs = list[tuple[SampleStats, SampleStats]]


def _binary(rng: np.random.Generator, k: int, n: int, p0: float, lift: float) -> Pairs:
    """(control, arm) conversions of ``k`` experiments with ``n`` customers per arm."""
    c = rng.binomial(n, p0, k)
    t = rng.binomial(n, p0 * (1 + lift), k)
    return [(SampleStats(n, float(a), float(a)), SampleStats(n, float(b), float(b)))
            for a, b in zip(c, t, strict=True)]


def _revenue(rng: np.random.Generator, k: int, n: int, lift: float) -> Pairs:
    """Spend: 10% of customers buy, amounts lognormal(3, 1); the arm's amounts are scaled by 1 + lift."""
    out = []
    for _ in range(k):
        arms = []
        for scale in (1.0, 1 + lift):
            x = (rng.random(n) < 0.1) * rng.lognormal(3.0, 1.0, n) * scale
            arms.append(SampleStats(n, float(x.sum()), float((x * x).sum())))
        out.append((arms[0], arms[1]))
    return out


def _report(label: str, pairs: Pairs, *, binary: bool, lift: float) -> None:
    res = [bayesian_effect(t, c, binary=binary) for c, t in pairs]
    ok = np.array([np.isfinite(b.credible_low) for b in res])
    hit = np.array([b.credible_low <= lift <= b.credible_high for b in res])[ok]
    low, high = proportion_confint(int(hit.sum()), hit.size, method="wilson")
    line = f"{label}: coverage {hit.mean():.2%} (95% CI {low:.2%} to {high:.2%}), {hit.size:,} experiments"
    if lift == 0:
        chance = np.array([b.chance_to_beat_control for b in res])[ok]
        line += (f"; chance to beat control > 95% in {(chance > 0.95).mean():.2%}, "
                 f"< 5% in {(chance < 0.05).mean():.2%}")
    print(line)


def main() -> None:
    """Simulate and print the coverage of each scenario."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261206)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    k = args.experiments
    t0 = time.perf_counter()
    print("95% credible interval of the relative lift, flat prior (gbstats' default):")
    _report("conversion 5%, +10% lift, 5,000 per arm", _binary(rng, k, 5000, 0.05, 0.10), binary=True,
            lift=0.10)
    _report("conversion 5%, A/A, 5,000 per arm", _binary(rng, k, 5000, 0.05, 0.0), binary=True, lift=0.0)
    _report("conversion 2%, A/A, 2,000 per arm", _binary(rng, k, 2000, 0.02, 0.0), binary=True, lift=0.0)
    _report("conversion 30%, -5% lift, 1,000 per arm", _binary(rng, k, 1000, 0.30, -0.05), binary=True,
            lift=-0.05)
    _report("spend (10% buy, lognormal), +5% lift, 5,000 per arm", _revenue(rng, k, 5000, 0.05),
            binary=False, lift=0.05)
    _report("spend (10% buy, lognormal), A/A, 2,000 per arm", _revenue(rng, k, 2000, 0.0), binary=False,
            lift=0.0)
    print(f"[{time.perf_counter() - t0:.1f} s]")


if __name__ == "__main__":
    main()
